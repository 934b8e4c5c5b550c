"""Neural-network ops: convolution, pooling, softmax, dropout, batch norm, NLL loss and padding.

Convolution and pooling read their input through strided NumPy views of a padded copy (one view
per kernel tap, or all taps at once for im2col), so there are no index arrays and no Python loop
over elements or batch; the only loops are over kernel taps and over cache-sized batch blocks.
Each gradient op is paired with the op it differentiates (Conv with ConvGradInput/ConvGradWeight,
AveragePool with AveragePoolGrad, MaxPool with MaxPoolGrad, NLL with its grad), and each pair's
VJPs are written with the other member, so gradients of any order stay graphc ops.
"""
from __future__ import annotations

import functools
import itertools
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import dtypes
from ..dispatch import dispatch
from ..ir.types import TensorType
from ..random import rng
from ..tensor import Tensor
from .base import norm_axis, same_dtype, scalar_tensor
from .registry import REQUIRED, Op, register

__all__ = ["softmax", "log_softmax"]

_CHUNK_BYTES = 2 << 20  # im2col columns per batch block: the copy and its GEMM stay in cache


def _float_input(t: TensorType, what: str = "input") -> None:
    if not t.dtype.is_floating_point:
        raise ValueError(f"expected a floating-point {what}, got {t.dtype.name}")


def _const(array: np.ndarray) -> Tensor:
    return Tensor._make(array)


def _bshape(ndim: int) -> tuple[int, ...]:
    """Shape that broadcasts a per-channel (C,) vector against (N, C, *spatial)."""
    return (1, -1) + (1,) * (ndim - 2)


def _axes_but_channel(ndim: int) -> tuple[int, ...]:
    return (0,) + tuple(range(2, ndim))


# ---- window geometry ---------------------------------------------------------------------------

def _out_len(size, k, s, pb, pe, d, ceil):
    """PyTorch's pooling_output_shape (a convolution is the case ceil=False)."""
    span = d * (k - 1) + 1
    out = (size + pb + pe - span + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= size + pb:
        out -= 1
    return out


class _Windows:
    """Where every kernel tap reads in a padded (N, C, *spatial) array, as strided views.

    Positions are the output locations in the padded input's flat index space. With unit strides
    they are one flat run per tap ("wide" columns, which also cover the padding columns between
    rows): the im2col copy then moves long contiguous runs, and the results at the padding
    columns are dropped (forward) or multiplied by zeros (gradients).
    """

    def __init__(self, spatial, kernel, strides, pads, dilations, ceil=False, wide=False):
        nd = len(kernel)
        self.spatial, self.kernel, self.strides = tuple(spatial), tuple(kernel), tuple(strides)
        self.dilations, self.begin, self.end = tuple(dilations), tuple(pads[:nd]), tuple(pads[nd:])
        self.out = tuple(_out_len(*a, ceil) for a in zip(spatial, kernel, strides, self.begin, self.end,
                                                         dilations))
        if any(o < 1 for o in self.out):
            raise ValueError(f"kernel {list(kernel)} (dilation {list(dilations)}) does not fit the "
                             f"padded input {list(spatial)} + pads {list(pads)}")
        self.padded = tuple(max(n + b + e, (o - 1) * s + d * (k - 1) + 1) for n, b, e, o, s, d, k in
                            zip(spatial, self.begin, self.end, self.out, strides, dilations, kernel))
        rows = tuple(int(np.prod(self.padded[i + 1:])) for i in range(nd))
        self.tap_step = tuple(d * r for d, r in zip(dilations, rows))
        self.wide = wide and all(s == 1 for s in strides)
        if self.wide:
            self.positions = (sum((o - 1) * r for o, r in zip(self.out, rows)) + 1,)
            self.pos_step, self.out_step = (1,), rows
        else:
            self.positions = self.out
            self.pos_step = tuple(s * r for s, r in zip(strides, rows))
        self.npos = int(np.prod(self.positions))
        self.taps = tuple(itertools.product(*map(range, kernel)))
        self.interior = (slice(None),) * 2 + tuple(slice(b, b + n) for b, n in zip(self.begin, spatial))

    def pad(self, x: np.ndarray, fill=0) -> np.ndarray:
        if self.padded == x.shape[2:]:
            return np.ascontiguousarray(x)
        xp = np.full(x.shape[:2] + self.padded, fill, x.dtype)
        xp[self.interior] = x
        return xp

    def zeros(self, lead, dtype) -> np.ndarray:
        return np.zeros(tuple(lead) + self.padded, dtype)

    def unpad(self, xp: np.ndarray) -> np.ndarray:
        return xp if self.padded == self.spatial else np.ascontiguousarray(xp[self.interior])

    @staticmethod
    def _strided(a, shape, steps, writeable=True):
        return as_strided(a, a.shape[:2] + tuple(shape), a.strides[:2] + tuple(s * a.itemsize for s in steps),
                          writeable=writeable)

    def columns(self, xp: np.ndarray) -> np.ndarray:
        """Every tap at every position, (n, C, *kernel, *positions), read-only (for im2col)."""
        return self._strided(xp, self.kernel + self.positions, self.tap_step + self.pos_step, False)

    def tap(self, xp: np.ndarray, idx) -> np.ndarray:
        """One tap at every position, (n, C, *positions), by basic slicing; writing it writes xp."""
        if self.wide:
            off = sum(i * t for i, t in zip(idx, self.tap_step))
            return xp.reshape(xp.shape[:2] + (-1,))[:, :, off:off + self.npos]
        return xp[(slice(None),) * 2 + tuple(slice(i * d, i * d + s * (o - 1) + 1, s) for i, d, s, o in
                                             zip(idx, self.dilations, self.strides, self.out))]

    def to_out(self, pos: np.ndarray) -> np.ndarray:
        """(n, C, *positions) -> (n, C, *out): the view that drops wide padding columns."""
        return self._strided(pos, self.out, self.out_step) if self.wide else pos

    def to_positions(self, g: np.ndarray) -> np.ndarray:
        """(n, C, *out) -> (n, C, *positions), zero at the padding columns."""
        if not self.wide:
            return g
        pos = np.zeros(g.shape[:2] + self.positions, g.dtype)
        self.to_out(pos)[...] = g
        return pos

    def shifted(self, rows: np.ndarray) -> np.ndarray:
        """col2im for wide windows as one strided view: rows (n, C * taps, P), P the padded flat
        size, holds each tap's columns at [P - npos:] after zeros; returns the read-only
        (n, C, *kernel, P) view whose [..., tap, q] is that tap's column at padded index q (or
        zero), so its sum over the kernel axes is the padded input gradient. A shifted row
        reads the next row's leading zeros past its end (unit strides: P - npos is the
        largest tap offset)."""
        n, rows_per_item, size = rows.shape
        k, it = len(self.taps), rows.itemsize
        steps = tuple((int(np.prod(self.kernel[a + 1:])) * size - self.tap_step[a]) * it
                      for a in range(len(self.kernel)))
        return as_strided(rows[:, :, size - self.npos:], (n, rows_per_item // k) + self.kernel + (size,),
                          (rows.strides[0], k * size * it) + steps + (it,), writeable=False)

    def scatter(self, out: np.ndarray, cols: np.ndarray) -> None:
        """out[tap positions] += cols[:, :, *tap] for every tap (col2im); out is padded."""
        lead = (slice(None),) * 2
        for idx in self.taps:
            target = self.tap(out, idx)
            np.add(target, cols[lead + idx].reshape(target.shape), out=target)


@functools.lru_cache(maxsize=512)
def _windows(spatial, kernel, strides, pads, dilations, ceil, wide) -> _Windows:
    """_Windows per geometry, built once: its set-up costs as much as a small kernel."""
    return _Windows(spatial, kernel, strides, pads, dilations, ceil, wide)


def _chunks(n: int, bytes_per_item: int):
    step = max(1, _CHUNK_BYTES // max(bytes_per_item, 1))
    return [slice(i, min(n, i + step)) for i in range(0, n, step)]


def _spatial_attrs(nd, strides, pads, dilations):
    return (tuple(strides) if strides else (1,) * nd, tuple(pads) if pads else (0,) * (2 * nd),
            tuple(dilations) if dilations else (1,) * nd)


def _check_lengths(op, nd, kernel, strides, pads, dilations):
    if len(kernel) != nd or len(strides) != nd or len(dilations) != nd or len(pads) != 2 * nd:
        raise ValueError(f"{op} on {nd} spatial dims needs {nd} kernel sizes, strides and dilations "
                         f"and {2 * nd} pads, got kernel_shape={list(kernel)}, strides={list(strides)}, "
                         f"dilations={list(dilations)}, pads={list(pads)}")
    if min(strides) < 1 or min(dilations) < 1 or min(kernel) < 1 or min(pads, default=0) < 0:
        raise ValueError(f"{op}: kernel sizes, strides and dilations must be positive and pads "
                         "non-negative")


# ---- convolution ------------------------------------------------------------------------------

_CONV_ATTRS = {"kernel_shape": None, "strides": None, "pads": None, "dilations": None, "group": 1}


def _conv_windows(x_shape, w_shape, attrs) -> _Windows:
    nd = len(w_shape) - 2
    strides, pads, dilations = _spatial_attrs(nd, attrs["strides"], attrs["pads"], attrs["dilations"])
    return _windows(tuple(x_shape[2:]), tuple(w_shape[2:]), strides, pads, dilations, False, True)


def _check_conv(x_shape, w_shape, attrs) -> _Windows:
    nd = len(w_shape) - 2
    group = attrs["group"]
    if nd < 1 or len(x_shape) != nd + 2:
        raise ValueError(f"expected a {len(w_shape)}-D input (batched) for a {len(w_shape)}-D weight, got "
                         f"input {list(x_shape)}")
    kernel = attrs["kernel_shape"]
    if kernel is not None and tuple(kernel) != tuple(w_shape[2:]):
        raise ValueError(f"kernel_shape {list(kernel)} does not match weight {list(w_shape)}")
    strides, pads, dilations = _spatial_attrs(nd, attrs["strides"], attrs["pads"], attrs["dilations"])
    _check_lengths("Conv", nd, w_shape[2:], strides, pads, dilations)
    if group < 1 or w_shape[0] % group:
        raise ValueError(f"out_channels {w_shape[0]} must be divisible by groups {group}")
    if x_shape[1] != w_shape[1] * group:
        raise ValueError(f"weight of size {list(w_shape)}, expected input {list(x_shape)} to have "
                         f"{w_shape[1] * group} channels, but got {x_shape[1]} channels instead")
    return _conv_windows(x_shape, w_shape, attrs)


def _infer_conv(types, **attrs):
    x, w = types[0], types[1]
    _float_input(x)
    same_dtype(types)
    win = _check_conv(x.shape, w.shape, attrs)
    if len(types) == 3 and tuple(types[2].shape) != (w.shape[0],):
        raise ValueError(f"bias of shape {list(types[2].shape)} does not match {w.shape[0]} out channels")
    return [TensorType((x.shape[0], w.shape[0]) + win.out, x.dtype)]


def _im2col(win: _Windows, xp: np.ndarray, group: int) -> np.ndarray:
    """(n, group, C/group * prod(kernel), positions), contiguous."""
    return np.ascontiguousarray(win.columns(xp)).reshape(xp.shape[0], group, -1, win.npos)


def _conv_kernel(x, w, b=None, **attrs):
    win, group = _conv_windows(x.shape, w.shape, attrs), attrs["group"]
    n, o = x.shape[0], w.shape[0]
    xp = win.pad(x)
    wg = w.reshape(group, o // group, -1)
    y = np.empty((n, o) + win.out, x.dtype)
    for part in _chunks(n, w[0].size * group * win.npos * x.itemsize):
        cols = _im2col(win, xp[part], group)
        if win.wide:
            y[part] = win.to_out(np.matmul(wg, cols).reshape((-1, o, win.npos)))
        else:
            np.matmul(wg, cols, out=y[part].reshape(cols.shape[:2] + (o // group, win.npos)))
    if b is not None:
        y += b.reshape((o,) + (1,) * len(win.out))
    return y


def _conv_attrs(attrs) -> dict:
    return {k: attrs[k] for k in _CONV_ATTRS}


def _conv_vjp(ctx, g):
    x, w = ctx.inputs[0], ctx.inputs[1]
    attrs = _conv_attrs(ctx.attrs)
    need = ctx.needs_input_grad
    gx = dispatch(CONV_GRAD_INPUT, [g, w], {**attrs, "input_shape": tuple(x.shape)}) if need[0] else None
    gw = dispatch(CONV_GRAD_WEIGHT, [x, g], {**attrs, "weight_shape": tuple(w.shape)}) if need[1] else None
    if len(need) == 2:
        return gx, gw
    from .reduce import sum as reduce_sum

    return gx, gw, reduce_sum(g, _axes_but_channel(g.ndim)) if need[2] else None


CONV = register(Op("Conv", _infer_conv, _conv_kernel, _conv_vjp, attrs=dict(_CONV_ATTRS),
                   saves=((0, 1), ()), grad_name="ConvolutionBackward0",
                   doc="ONNX Conv (X, W[, B]) on 1-3 spatial dims; pads are [begins..., ends...]."))


def _infer_conv_grad_input(types, input_shape, **attrs):
    g, w = types
    same_dtype(types)
    win = _check_conv(tuple(input_shape), w.shape, attrs)
    expect = (input_shape[0], w.shape[0]) + win.out
    if tuple(g.shape) != expect:
        raise ValueError(f"gradient {list(g.shape)} does not match the convolution output {list(expect)}")
    return [TensorType(tuple(input_shape), g.dtype)]


def _conv_grad_input_kernel(g, w, input_shape, **attrs):
    """col2im of W^T g: each tap's columns are added into a padded buffer, then cropped."""
    win, group = _conv_windows(input_shape, w.shape, attrs), attrs["group"]
    n, c, o = input_shape[0], input_shape[1], w.shape[0]
    wt = w.reshape(group, o // group, -1).swapaxes(1, 2)
    if win.wide:
        return _conv_grad_input_wide(g, wt, win, n, c, group)
    out = win.zeros((n, c), g.dtype)
    for part in _chunks(n, w[0].size * group * win.npos * g.itemsize):
        gp = win.to_positions(g[part])
        m = gp.shape[0]
        cols = np.matmul(wt, gp.reshape(m, group, o // group, win.npos))
        win.scatter(out[part], cols.reshape((m, c) + win.kernel + (win.npos,)))
    return win.unpad(out)


def _conv_grad_input_wide(g, wt, win: _Windows, n, c, group):
    """Unit strides: the GEMM writes each tap's columns into rows padded with leading zeros, and
    one reduction over _Windows.shifted sums the taps (no add per tap)."""
    k, o = len(win.taps), g.shape[1]
    out = np.empty((n, c) + win.padded, g.dtype)
    flat = out.reshape(n, c, -1)
    size = flat.shape[-1]
    lead = size - win.npos
    for part in _chunks(n, c * k * size * g.itemsize):
        gp = win.to_positions(g[part])
        m = gp.shape[0]
        rows = np.empty((m, c * k, size), g.dtype)
        rows[:, :, :lead] = 0
        np.matmul(wt, gp.reshape(m, group, o // group, win.npos),
                  out=rows.reshape(m, group, c // group * k, size)[..., lead:])
        np.sum(win.shifted(rows), axis=tuple(range(2, 2 + len(win.kernel))), out=flat[part])
    return win.unpad(out)


def _conv_grad_input_vjp(ctx, u):
    g, w = ctx.inputs
    attrs = _conv_attrs(ctx.attrs)
    need = ctx.needs_input_grad
    gg = dispatch(CONV, [u, w], attrs) if need[0] else None
    gw = dispatch(CONV_GRAD_WEIGHT, [u, g], {**attrs, "weight_shape": tuple(w.shape)}) if need[1] else None
    return gg, gw


CONV_GRAD_INPUT = register(Op(
    "graphc.ConvGradInput", _infer_conv_grad_input, _conv_grad_input_kernel, _conv_grad_input_vjp,
    attrs={**_CONV_ATTRS, "input_shape": REQUIRED}, grad_name="ConvolutionBackwardBackward0",
    doc="Gradient of Conv with respect to X: (dY, W) -> dX (a transposed convolution)."))


def _infer_conv_grad_weight(types, weight_shape, **attrs):
    x, g = types
    same_dtype(types)
    win = _check_conv(x.shape, tuple(weight_shape), attrs)
    expect = (x.shape[0], weight_shape[0]) + win.out
    if tuple(g.shape) != expect:
        raise ValueError(f"gradient {list(g.shape)} does not match the convolution output {list(expect)}")
    return [TensorType(tuple(weight_shape), x.dtype)]


def _conv_grad_weight_kernel(x, g, weight_shape, **attrs):
    win, group = _conv_windows(x.shape, weight_shape, attrs), attrs["group"]
    n, o = x.shape[0], weight_shape[0]
    xp = win.pad(x)
    acc = np.zeros((group, int(np.prod(weight_shape[1:])), o // group), x.dtype)
    for part in _chunks(n, acc.shape[1] * group * win.npos * x.itemsize):
        cols = _im2col(win, xp[part], group)
        gp = win.to_positions(g[part]).reshape(cols.shape[:2] + (o // group, win.npos))
        acc += np.matmul(cols, gp.swapaxes(-1, -2)).sum(0)  # faster in OpenBLAS than gp @ cols^T
    return np.ascontiguousarray(acc.swapaxes(1, 2)).reshape(weight_shape)


def _conv_grad_weight_vjp(ctx, v):
    x, g = ctx.inputs
    attrs = _conv_attrs(ctx.attrs)
    need = ctx.needs_input_grad
    return (dispatch(CONV_GRAD_INPUT, [g, v], {**attrs, "input_shape": tuple(x.shape)}) if need[0] else None,
            dispatch(CONV, [x, v], attrs) if need[1] else None)


CONV_GRAD_WEIGHT = register(Op(
    "graphc.ConvGradWeight", _infer_conv_grad_weight, _conv_grad_weight_kernel, _conv_grad_weight_vjp,
    attrs={**_CONV_ATTRS, "weight_shape": REQUIRED}, grad_name="ConvolutionBackwardBackward0",
    doc="Gradient of Conv with respect to W: (X, dY) -> dW."))


# ---- pooling ------------------------------------------------------------------------------------

def _pool_windows(x_shape, attrs, dilations=None) -> _Windows:
    nd = len(attrs["kernel_shape"])
    if len(x_shape) != nd + 2:
        raise ValueError(f"expected a {nd + 2}-D input for a {nd}-D kernel, got {list(x_shape)}")
    strides, pads, dils = _spatial_attrs(nd, attrs["strides"], attrs["pads"], dilations)
    _check_lengths("pooling", nd, attrs["kernel_shape"], strides, pads, dils)
    return _windows(tuple(x_shape[2:]), tuple(attrs["kernel_shape"]), strides, pads, dils, bool(attrs["ceil_mode"]),
                    False)


_POOL_ATTRS = {"kernel_shape": REQUIRED, "strides": None, "pads": None, "ceil_mode": 0}


def _infer_max_pool(types, dilations, **attrs):
    (x,) = types
    _float_input(x)
    win = _pool_windows(x.shape, attrs, dilations)
    shape = x.shape[:2] + win.out
    return [TensorType(shape, x.dtype), TensorType(shape, dtypes.int64)]


@functools.lru_cache(maxsize=256)
def _first_real_tap(win: _Windows) -> np.ndarray:
    """Per output position, the flat index of the first tap inside the unpadded input (PyTorch
    starts its search there, so an all -inf window reports that element)."""
    first = 0
    for i, (o, s, b, d, k) in enumerate(zip(win.out, win.strides, win.begin, win.dilations, win.kernel)):
        start = np.arange(o) * s - b
        tap = np.minimum(np.maximum(0, -(start // d)), k - 1)
        first = first * k + tap.reshape((o,) + (1,) * (len(win.out) - i - 1))
    first = np.asarray(first, np.uint8 if len(win.taps) < 256 else np.int64)
    first.flags.writeable = False
    return first


def _flat_input_index(win: _Windows, tap: np.ndarray, x_shape) -> np.ndarray:
    """ONNX MaxPool Indices, flat into the whole input: (n, c) plane + window start + tap offset."""
    index, offsets = _index_parts(win, tuple(x_shape))
    return index + np.take(offsets, tap)


@functools.lru_cache(maxsize=256)
def _index_parts(win: _Windows, x_shape) -> tuple[np.ndarray, np.ndarray]:
    """(flat index of each window's origin, offset of each tap), read-only: they depend on the
    geometry only, and computing them costs more than pooling a small batch."""
    nd = len(win.out)
    rows = [int(np.prod(win.spatial[i + 1:])) for i in range(nd)]
    index = np.arange(x_shape[0] * x_shape[1], dtype=np.int64).reshape(x_shape[:2] + (1,) * nd) * int(
        np.prod(win.spatial))
    for i, (o, s, b, r) in enumerate(zip(win.out, win.strides, win.begin, rows)):
        index = index + ((np.arange(o, dtype=np.int64) * s - b) * r).reshape((o,) + (1,) * (nd - i - 1))
    steps = [d * r for d, r in zip(win.dilations, rows)]
    offsets = np.array([sum(k * s for k, s in zip(t, steps)) for t in win.taps], np.int64)
    index.flags.writeable = offsets.flags.writeable = False
    return index, offsets


def _max_pool_kernel(x, dilations, **attrs):
    """Running max over the taps. The winning tap is tracked with integer arithmetic on a small
    dtype (tap += take * (t - tap)): NumPy's masked copies would cost several times more. NaN
    wins, as in PyTorch (the last NaN of a window); that costs two more ufuncs per tap, so it is
    done only when the NaN-blind pass found one."""
    win = _pool_windows(x.shape, attrs, dilations)
    xp = win.pad(x, -np.inf)
    best, tap = _max_pool_taps(win, xp, xp is not x, nan=False)
    if np.isnan(best).any():
        best, tap = _max_pool_taps(win, xp, xp is not x, nan=True)
    return best, _flat_input_index(win, tap, x.shape)


def _max_pool_taps(win: _Windows, xp: np.ndarray, padded: bool, nan: bool):
    """(max, winning tap) per window of the padded input. Each strided tap is first copied into
    a contiguous buffer: NumPy's strided copy is fast, its strided arithmetic is not (no SIMD)."""
    first = _first_real_tap(win)
    small = first.dtype.type
    best = win.tap(xp, win.taps[0]).copy()  # a padding tap reads -inf, which never wins below
    tap = np.empty(best.shape, small)
    tap[...] = first if padded else 0
    take, step, buf = np.empty(best.shape, bool), np.empty(best.shape, small), np.empty_like(best)
    if nan:
        np.isnan(best, out=take)
        tap[take] = 0
    for t, idx in enumerate(win.taps[1:], 1):
        v = win.tap(xp, idx)
        if not v.flags.c_contiguous:
            np.copyto(buf, v)
            v = buf
        np.greater(v, best, out=take)
        if nan:
            take |= np.isnan(v)
        np.maximum(best, v, out=best)
        np.subtract(small(t), tap, out=step)
        step *= take
        tap += step
    return best, tap


def _max_pool_vjp(ctx, g, _):
    return (dispatch(MAX_POOL_GRAD, [g, ctx.outputs[1]], {"input_shape": tuple(ctx.in_types[0].shape)}),)


MAX_POOL = register(Op(
    "MaxPool", _infer_max_pool, _max_pool_kernel, _max_pool_vjp, n_outputs=2,
    attrs={**_POOL_ATTRS, "dilations": None}, saves=((), (1,)),
    grad_name=lambda a, t: f"MaxPool{3 if len(a['kernel_shape']) == 3 else 2}DWithIndicesBackward0",
    doc="ONNX MaxPool: (Y, Indices), Indices flat into the whole input; padding reads as -inf."))


def _infer_max_pool_grad(types, input_shape):
    g, idx = types
    if idx.dtype is not dtypes.int64 or tuple(idx.shape) != tuple(g.shape):
        raise ValueError(f"indices must be int64 of the gradient's shape {list(g.shape)}, got "
                         f"{idx.dtype.name}{list(idx.shape)}")
    return [TensorType(tuple(input_shape), g.dtype)]


def _max_pool_grad_kernel(g, indices, input_shape):
    """Scatter-add g to the winning inputs (windows may overlap, so duplicates add up)."""
    total = np.zeros(int(np.prod(input_shape)), g.dtype)
    np.add.at(total, indices.reshape(-1), g.reshape(-1))
    return total.reshape(input_shape)


def _max_pool_grad_vjp(ctx, u):
    from .index import GATHER
    from .shape import reshape

    return dispatch(GATHER, [reshape(u, (-1,)), ctx.inputs[1]], {"axis": 0}), None


MAX_POOL_GRAD = register(Op(
    "graphc.MaxPoolGrad", _infer_max_pool_grad, _max_pool_grad_kernel, _max_pool_grad_vjp,
    attrs={"input_shape": REQUIRED}, saves=((1,), ()),
    grad_name=lambda a, t: f"MaxPool{3 if len(a['input_shape']) == 5 else 2}DWithIndicesBackwardBackward0",
    doc="Gradient of MaxPool: (dY, Indices) -> dX by scatter-add."))


def _avg_divisor(win: _Windows, count_include_pad, dtype) -> np.ndarray:
    """PyTorch's divisor per output position: the window clipped to the padded input (count pads)
    or to the input itself, separable per spatial dim."""
    div = np.ones((), np.int64)
    for o, s, b, e, k, n in zip(win.out, win.strides, win.begin, win.end, win.kernel, win.spatial):
        start = np.arange(o) * s - b
        stop = np.minimum(start + k, n + e)
        count = stop - start if count_include_pad else np.minimum(stop, n) - np.maximum(start, 0)
        div = div[..., None] * count
    return np.maximum(div, 1).astype(dtype)


def avg_pool_divisor(x_shape, attrs, dtype) -> np.ndarray:
    """AveragePool's divisor at each output position (window sum = output * divisor)."""
    return _avg_divisor(_pool_windows(tuple(x_shape), attrs), attrs["count_include_pad"], dtype)


def _infer_avg_pool(types, **attrs):
    (x,) = types
    _float_input(x)
    return [TensorType(x.shape[:2] + _pool_windows(x.shape, attrs).out, x.dtype)]


_AVG_ATTRS = {**_POOL_ATTRS, "count_include_pad": 0}


def _pool_only(attrs) -> dict:
    return {k: attrs[k] for k in _AVG_ATTRS}


def _avg_pool_kernel(x, count_include_pad, **attrs):
    win = _pool_windows(x.shape, attrs)
    xp = win.pad(x)
    acc = np.zeros(x.shape[:2] + win.out, x.dtype)
    for idx in win.taps:
        acc += win.tap(xp, idx)
    acc /= _avg_divisor(win, count_include_pad, x.dtype)
    return acc


def _avg_pool_vjp(ctx, g):
    return (dispatch(AVG_POOL_GRAD, [g], {**ctx.attrs, "input_shape": tuple(ctx.in_types[0].shape)}),)


AVG_POOL = register(Op(
    "AveragePool", _infer_avg_pool, _avg_pool_kernel, _avg_pool_vjp, attrs=dict(_AVG_ATTRS), saves=((), ()),
    grad_name=lambda a, t: f"AvgPool{3 if len(a['kernel_shape']) == 3 else 2}DBackward0",
    doc="ONNX AveragePool with PyTorch's divisor (count_include_pad counts pads, never the "
        "ceil_mode overhang)."))


def _infer_avg_pool_grad(types, input_shape, **attrs):
    (g,) = types
    expect = tuple(input_shape[:2]) + _pool_windows(tuple(input_shape), attrs).out
    if tuple(g.shape) != expect:
        raise ValueError(f"gradient {list(g.shape)} does not match the pooled shape {list(expect)}")
    return [TensorType(tuple(input_shape), g.dtype)]


def _avg_pool_grad_kernel(g, input_shape, count_include_pad, **attrs):
    win = _pool_windows(tuple(input_shape), attrs)
    share = g / _avg_divisor(win, count_include_pad, g.dtype)
    out = win.zeros(input_shape[:2], g.dtype)
    for idx in win.taps:
        target = win.tap(out, idx)
        np.add(target, share, out=target)
    return win.unpad(out)


AVG_POOL_GRAD = register(Op(
    "graphc.AveragePoolGrad", _infer_avg_pool_grad, _avg_pool_grad_kernel,
    lambda ctx, u: (dispatch(AVG_POOL, [u], _pool_only(ctx.attrs)),),
    attrs={**_AVG_ATTRS, "input_shape": REQUIRED}, saves=((), ()),
    grad_name=lambda a, t: f"AvgPool{3 if len(a['kernel_shape']) == 3 else 2}DBackwardBackward0",
    doc="Gradient of AveragePool: dY -> dX (each output's share spread over its window)."))


def _infer_global_pool(types):
    (x,) = types
    _float_input(x)
    if len(x.shape) < 3:
        raise ValueError(f"expected (N, C, *spatial), got {list(x.shape)}")
    return [TensorType(x.shape[:2] + (1,) * (len(x.shape) - 2), x.dtype)]


def _global_pool_vjp(ctx, g):
    from .elementwise import div
    from .shape import expand

    shape = ctx.in_types[0].shape
    return (expand(div(g, int(np.prod(shape[2:]))), tuple(shape)),)


GLOBAL_AVG_POOL = register(Op(
    "GlobalAveragePool", _infer_global_pool,
    lambda x: x.mean(axis=tuple(range(2, x.ndim)), keepdims=True, dtype=x.dtype), _global_pool_vjp,
    saves=((), ()), grad_name="MeanBackward1"))


def _bins(size: int, out: int, dtype) -> np.ndarray:
    """(out, size) averaging matrix of PyTorch's adaptive bins [floor(i*n/o), ceil((i+1)*n/o))."""
    i = np.arange(out)
    start, stop = (i * size) // out, -((-(i + 1) * size) // out)
    cols = np.arange(size)
    inside = (cols >= start[:, None]) & (cols < stop[:, None])
    return (inside / (stop - start)[:, None]).astype(dtype)


def _infer_adaptive(types, output_size):
    (x,) = types
    _float_input(x)
    if len(x.shape) != len(output_size) + 2 or min(output_size, default=1) < 1:
        raise ValueError(f"output_size {list(output_size)} does not fit input {list(x.shape)}")
    return [TensorType(x.shape[:2] + tuple(output_size), x.dtype)]


def _adaptive_kernel(x, output_size):
    y = x
    for axis, o in enumerate(output_size, 2):
        y = np.moveaxis(np.matmul(_bins(x.shape[axis], o, x.dtype), np.moveaxis(y, axis, -2)), -2, axis)
    return np.ascontiguousarray(y)


def _adaptive_vjp(ctx, g):
    from .linalg import matmul
    from .shape import movedim

    shape = ctx.in_types[0].shape
    for axis, o in enumerate(ctx.attrs["output_size"], 2):
        g = movedim(matmul(_const(_bins(shape[axis], o, g.dtype.np).T), movedim(g, axis, -2)), -2, axis)
    return (g,)


ADAPTIVE_AVG_POOL = register(Op(
    "graphc.AdaptiveAvgPool", _infer_adaptive, _adaptive_kernel, _adaptive_vjp,
    attrs={"output_size": REQUIRED}, saves=((), ()),
    grad_name=lambda a, t: f"AdaptiveAvgPool{3 if len(a['output_size']) == 3 else 2}DBackward0",
    doc="Adaptive average pooling for bins of unequal size: one averaging matrix per spatial dim."))


# ---- softmax ------------------------------------------------------------------------------------

def _infer_softmax(types, axis):
    (x,) = types
    _float_input(x)
    norm_axis(axis, len(x.shape))
    return [x]


def _softmax_kernel(x, axis):
    ax = None if x.ndim == 0 else axis
    with np.errstate(invalid="ignore", over="ignore"):
        e = np.exp(x - x.max(axis=ax, keepdims=True))
        e /= e.sum(axis=ax, keepdims=True)
    return e


def _log_softmax_kernel(x, axis):
    ax = None if x.ndim == 0 else axis
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        s = x - x.max(axis=ax, keepdims=True)
        s -= np.log(np.exp(s).sum(axis=ax, keepdims=True))
    return s


def _softmax_vjp(ctx, g):
    from .elementwise import mul, sub
    from .reduce import sum as reduce_sum

    (y,) = ctx.outputs
    axis = ctx.attrs["axis"] if y.ndim else None
    return (mul(y, sub(g, reduce_sum(mul(g, y), axis, keepdim=True))),)


def _log_softmax_vjp(ctx, g):
    from .elementwise import exp, mul, sub
    from .reduce import sum as reduce_sum

    (y,) = ctx.outputs
    axis = ctx.attrs["axis"] if y.ndim else None
    return (sub(g, mul(exp(y), reduce_sum(g, axis, keepdim=True))),)


SOFTMAX = register(Op("Softmax", _infer_softmax, _softmax_kernel, _softmax_vjp, attrs={"axis": -1},
                      saves=((), (0,)), grad_name="SoftmaxBackward0"))
LOG_SOFTMAX = register(Op("LogSoftmax", _infer_softmax, _log_softmax_kernel, _log_softmax_vjp,
                          attrs={"axis": -1}, saves=((), (0,)), grad_name="LogSoftmaxBackward0"))


# ---- dropout ------------------------------------------------------------------------------------

def _infer_dropout(types, ratio, training_mode, seed):
    (x,) = types
    _float_input(x)
    if not 0 <= ratio <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {ratio}")
    return [x, TensorType(x.shape, dtypes.bool_)]


def _dropout_scale(ratio: float) -> float:
    return 1.0 / (1.0 - ratio) if ratio < 1 else 0.0


def _dropout_kernel(x, ratio, training_mode, seed):
    if not training_mode or ratio == 0:
        return x.copy(), np.ones(x.shape, bool)
    gen = np.random.default_rng(seed) if seed is not None else rng()
    mask = gen.random(x.shape, dtype=np.float32 if x.dtype == np.float32 else np.float64) >= ratio
    y = np.multiply(x, mask)
    y *= x.dtype.type(_dropout_scale(ratio))
    return y, mask


def _dropout_vjp(ctx, g, _):
    from .elementwise import cast, mul

    scale = _dropout_scale(ctx.attrs["ratio"]) if ctx.attrs["training_mode"] else 1.0
    return (mul(mul(g, cast(ctx.outputs[1], g.dtype)), scale),)


DROPOUT = register(Op(
    "Dropout", _infer_dropout, _dropout_kernel, _dropout_vjp, n_outputs=2, random=True,
    attrs={"ratio": 0.5, "training_mode": 0, "seed": None}, saves=((), (1,)), grad_name="MulBackward0",
    doc="ONNX Dropout (ratio and training_mode as attributes): (output, mask). Draws from "
        "graphc.random's default generator unless seeded; scales kept values by 1/(1-ratio)."))


# ---- batch normalization ------------------------------------------------------------------------

def _infer_batch_norm(types, epsilon, training_mode):
    x = types[0]
    _float_input(x)
    if len(x.shape) < 2:
        raise ValueError(f"expected (N, C, ...) input, got {list(x.shape)}")
    c = x.shape[1]
    for name, t in zip(("scale", "B", "input_mean", "input_var"), types[1:]):
        if tuple(t.shape) != (c,) or t.dtype is not x.dtype:
            raise ValueError(f"{name} must be {x.dtype.name}[{c}], got {t.dtype.name}{list(t.shape)}")
    stat = TensorType((c,), x.dtype)
    return [x, stat, stat]


def _batch_norm_kernel(x, scale, bias, mean, var, epsilon, training_mode):
    axes, shape = _axes_but_channel(x.ndim), _bshape(x.ndim)
    if training_mode:
        mean = x.mean(axis=axes, dtype=x.dtype)
        centered = x - mean.reshape(shape)
        var = np.square(centered).mean(axis=axes, dtype=x.dtype)
        count = x.size // max(x.shape[1], 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            stats = (mean, var * x.dtype.type(count / (count - 1) if count > 1 else np.nan))
    else:
        centered = x - mean.reshape(shape)
        stats = (mean.copy(), var.copy())
    k = scale / np.sqrt(var + x.dtype.type(epsilon))
    y = centered * k.reshape(shape)
    y += bias.reshape(shape)
    return y, stats[0], stats[1]


def _batch_norm_vjp(ctx, g, g_mean, g_var):
    """Closed forms: training mode is native_batch_norm's fused backward (plus the paths through
    the returned batch statistics); eval mode is an affine map of x and the running stats."""
    from .elementwise import add, div, mul, neg, rsqrt, sub
    from .reduce import sum as reduce_sum
    from .shape import expand, reshape

    x, w = ctx.inputs[0], ctx.inputs[1]
    mean, var = ctx.outputs[1], ctx.outputs[2]
    training = ctx.attrs["training_mode"]
    axes, shape = _axes_but_channel(x.ndim), _bshape(x.ndim)
    count = x.numel() // x.shape[1]
    need = ctx.needs_input_grad

    def per(t):
        return reshape(t, shape)

    centered = sub(x, per(mean))
    invstd = rsqrt(add(mul(var, (count - 1) / count) if training else var, ctx.attrs["epsilon"]))
    scale = mul(w, invstd)
    gx = gw = gb = gm = gv = None
    if g is not None:  # few full-size temporaries: centered, g * centered and the three terms of gx
        gb = reduce_sum(g, axes)
        g_centered = reduce_sum(mul(g, centered), axes)
        gw = mul(g_centered, invstd)
        if training:  # scale * (g - (gb + xhat * gw) / count), xhat = centered * invstd
            slope = div(mul(scale, mul(invstd, gw)), count)
            gx = sub(mul(g, per(scale)), add(mul(centered, per(slope)), per(div(mul(scale, gb), count))))
        else:
            gx = mul(g, per(scale))
            gm = mul(gb, neg(scale)) if need[3] else None
            gv = mul(g_centered, mul(scale, mul(mul(invstd, invstd), -0.5))) if need[4] else None
    if training:
        if g_mean is not None:
            gx = _acc(gx, expand(div(per(g_mean), count), tuple(x.shape)))
        if g_var is not None:
            gx = _acc(gx, mul(centered, per(mul(g_var, 2.0 / (count - 1) if count > 1 else math.nan))))
    else:
        gm, gv = _acc(gm, g_mean), _acc(gv, g_var)
    return tuple(grad if n else None for grad, n in zip((gx, gw, gb, gm, gv), need))


def _acc(total, g):
    if g is None:
        return total
    return g if total is None else total + g


BATCH_NORM = register(Op(
    "BatchNormalization", _infer_batch_norm, _batch_norm_kernel, _batch_norm_vjp, n_outputs=3,
    attrs={"epsilon": 1e-5, "training_mode": 0}, saves=((0, 1), (1, 2)),
    grad_name="NativeBatchNormBackward0",
    doc="BatchNormalization(X, scale, B, input_mean, input_var) -> (Y, mean, var). Training mode "
        "normalises with the batch statistics (biased variance) and returns the batch mean and the "
        "*unbiased* batch variance, so the caller updates running stats as PyTorch does, "
        "running = (1 - momentum) * running + momentum * stat (the op stays pure; ONNX instead "
        "returns the updated running stats). Eval mode uses input_mean/input_var and returns "
        "copies of them."))


# ---- negative log-likelihood --------------------------------------------------------------------

_REDUCTIONS = ("mean", "sum", "none")


def _infer_nll(types, reduction, ignore_index):
    x, t = types[0], types[1]
    _float_input(x)
    if len(x.shape) < 2:
        raise ValueError(f"expected input (N, C, ...), got {list(x.shape)}")
    if t.dtype.is_floating_point or t.dtype is dtypes.bool_:
        raise ValueError(f"expected an integer target, got {t.dtype.name}")
    if tuple(t.shape) != x.shape[:1] + x.shape[2:]:
        raise ValueError(f"Expected target size {list(x.shape[:1] + x.shape[2:])}, got {list(t.shape)}")
    if len(types) == 3 and (tuple(types[2].shape) != (x.shape[1],) or types[2].dtype is not x.dtype):
        raise ValueError(f"weight must be {x.dtype.name}[{x.shape[1]}], got {list(types[2].shape)}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return [TensorType(tuple(t.shape) if reduction == "none" else (), x.dtype)]


def _nll_terms(target, weight, n_classes, ignore_index, dtype):
    """(class index per element with ignored ones at 0, per-element weight or None when every
    weight is 1, total weight). The all-ones case is the common one and skips its arrays."""
    t = target.astype(np.int64, copy=False)
    keep = None if ignore_index is None else t != ignore_index
    if keep is not None and keep.all():
        keep = None
    if keep is not None:
        t = np.where(keep, t, 0)
    if t.size and (t.min() < 0 or t.max() >= n_classes):
        bad = (t < 0) | (t >= n_classes)
        raise IndexError(f"Target {int(t[bad].reshape(-1)[0])} is out of bounds.")
    if weight is None and keep is None:
        return t, None, dtype.type(t.size)
    w = weight[t] if weight is not None else np.ones(t.shape, dtype)
    if keep is not None:
        w = np.where(keep, w, dtype.type(0))
    return t, w, w.sum(dtype=dtype)


def _class_index(t: np.ndarray):
    """Index of x[n, t[n, ...], ...] for targets t: plain fancy indexing in the (N, C) case."""
    if t.ndim == 1:
        return np.arange(t.shape[0]), t
    return None


def _nll_kernel(x, target, weight=None, *, reduction, ignore_index):
    t, w, total = _nll_terms(target, weight, x.shape[1], ignore_index, x.dtype)
    index = _class_index(t)
    picked = x[index] if index is not None else np.take_along_axis(x, t[:, None], 1)[:, 0]
    loss = -picked if w is None else -picked * w
    if reduction == "none":
        return loss
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(loss.sum(dtype=x.dtype) / (total if reduction == "mean" else 1), x.dtype)


def _nll_vjp(ctx, g):
    rest = list(ctx.inputs[1:])
    attrs = {**ctx.attrs, "n_classes": ctx.in_types[0].shape[1]}
    return (dispatch(NLL_GRAD, [g, *rest], attrs),) + (None,) * len(rest)


def _nll_name(attrs, types):
    return "NllLoss2DBackward0" if len(types[0].shape) > 2 else "NllLossBackward0"


NLL = register(Op(
    "NegativeLogLikelihoodLoss", _infer_nll, _nll_kernel, _nll_vjp,
    attrs={"reduction": "mean", "ignore_index": None}, saves=((1, 2), ()), grad_name=_nll_name,
    doc="ONNX NegativeLogLikelihoodLoss (input, target[, weight]); 'mean' divides by the total "
        "weight of the non-ignored targets."))


def _infer_nll_grad(types, reduction, ignore_index, n_classes):
    g, t = types[0], types[1]
    shape = t.shape[:1] + (n_classes,) + t.shape[1:]
    _infer_nll([TensorType(shape, g.dtype), *types[1:]], reduction, ignore_index)
    if tuple(g.shape) != (tuple(t.shape) if reduction == "none" else ()):
        raise ValueError(f"gradient {list(g.shape)} does not match the loss of target {list(t.shape)}")
    return [TensorType(shape, g.dtype)]


def _nll_grad_kernel(g, target, weight=None, *, reduction, ignore_index, n_classes):
    t, w, total = _nll_terms(target, weight, n_classes, ignore_index, g.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        # no counted target at all: PyTorch's loss is NaN but its gradient is zero
        coef = -(g / total if total else np.zeros_like(g)) if reduction == "mean" else -g
        coef = np.broadcast_to(coef, t.shape) if w is None else coef * w + 0.0  # ignored: +0, not -0
    out = np.zeros(t.shape[:1] + (n_classes,) + t.shape[1:], g.dtype)
    index = _class_index(t)
    if index is not None:
        out[index] = coef
    else:
        np.put_along_axis(out, t[:, None], coef[:, None].astype(g.dtype, copy=False), 1)
    return out


def _nll_grad_vjp(ctx, u):
    rest = list(ctx.inputs[1:])
    attrs = {k: ctx.attrs[k] for k in ("reduction", "ignore_index")}
    return (dispatch(NLL, [u, *rest], attrs),) + (None,) * len(rest)


NLL_GRAD = register(Op(
    "graphc.NllLossGrad", _infer_nll_grad, _nll_grad_kernel, _nll_grad_vjp,
    attrs={"reduction": "mean", "ignore_index": None, "n_classes": REQUIRED}, saves=((1, 2), ()),
    grad_name="NllLossBackwardBackward0",
    doc="Gradient of NegativeLogLikelihoodLoss: dLoss -> dInput (one entry per target)."))


# ---- padding ------------------------------------------------------------------------------------

# ONNX's modes, as np.pad names them; "constant" fills with the value
_PAD_MODES = {"constant": "constant", "edge": "edge", "reflect": "reflect", "wrap": "wrap"}


def _infer_pad(types, pads, mode, value):
    (x,) = types
    nd = len(x.shape)
    if mode not in _PAD_MODES:
        raise ValueError(f"mode must be one of {', '.join(_PAD_MODES)}, got {mode!r}")
    if len(pads) != 2 * nd:
        raise ValueError(f"pads {list(pads)} must hold a begin and an end for each of {nd} dims")
    shape = tuple(n + b + e for n, b, e in zip(x.shape, pads[:nd], pads[nd:]))
    if min(shape, default=0) < 0:
        raise ValueError(f"padding {list(pads)} makes input {list(x.shape)} negative in size")
    if mode != "constant":
        for d, (n, b, e) in enumerate(zip(x.shape, pads[:nd], pads[nd:])):
            kept = n - max(-b, 0) - max(-e, 0)
            if (b > 0 or e > 0) and (kept < 1 or (mode == "reflect" and max(b, e) >= kept)):
                raise ValueError(f"{mode} padding of {max(b, e)} does not fit dimension {d} of size {kept}")
    return [TensorType(shape, x.dtype)]


def _pad_kernel(x, pads, mode, value):
    """Negative pads crop (as in PyTorch), so the constant VJP is the same op with pads negated."""
    nd = x.ndim
    begin, end = pads[:nd], pads[nd:]
    x = x[tuple(slice(max(-b, 0), n - max(-e, 0)) for n, b, e in zip(x.shape, begin, end))]
    if mode != "constant":
        return np.pad(x, [(max(b, 0), max(e, 0)) for b, e in zip(begin, end)], _PAD_MODES[mode])
    out = np.full(tuple(n + max(b, 0) + max(e, 0) for n, b, e in zip(x.shape, begin, end)), value, x.dtype)
    out[tuple(slice(max(b, 0), max(b, 0) + n) for n, b in zip(x.shape, begin))] = x
    return out


def _pad_vjp(ctx, g):
    """Constant: crop g back (Pad with pads negated). Edge/reflect/wrap: every output reads one
    input element, so dX is g scatter-added to the input positions the outputs read (their map
    is the op applied to arange(numel))."""
    pads, mode = ctx.attrs["pads"], ctx.attrs["mode"]
    if mode == "constant":
        return (dispatch(PAD, [g], {"pads": tuple(-p for p in pads), "mode": "constant", "value": 0.0}),)
    from .index import SCATTER_ELEMENTS
    from .shape import expand, reshape

    shape = tuple(ctx.in_types[0].shape)
    numel = int(np.prod(shape, dtype=np.int64))
    source = _pad_kernel(np.arange(numel, dtype=np.int64).reshape(shape), pads, mode, 0)
    zeros = expand(scalar_tensor(0, g.dtype), (numel,))
    flat = dispatch(SCATTER_ELEMENTS, [zeros, _const(source.reshape(-1)), reshape(g, (-1,))],
                    {"axis": 0, "reduction": "add"})
    return (reshape(flat, shape),)


def _pad_name(attrs, types):
    k = max(1, len(types[0].shape) - 2)
    return {"constant": "ConstantPadNdBackward0", "edge": f"ReplicationPad{k}DBackward0",
            "reflect": f"ReflectionPad{k}DBackward0", "wrap": "CopySlices"}[attrs["mode"]]


PAD = register(Op(
    "Pad", _infer_pad, _pad_kernel, _pad_vjp,
    attrs={"pads": REQUIRED, "mode": "constant", "value": 0.0}, saves=((), ()), grad_name=_pad_name,
    doc="ONNX Pad (opset-2 attribute form): modes constant, edge, reflect, wrap; pads are "
        "[begins..., ends...]."))


# ---- front-end functions --------------------------------------------------------------------------

def _cast_dtype(x: Tensor, dtype) -> Tensor:
    from .elementwise import cast

    return cast(x, dtype) if dtype is not None else x


def softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    x = _cast_dtype(input, dtype)
    return dispatch(SOFTMAX, [x], {"axis": norm_axis(dim, x.ndim)})


def log_softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    x = _cast_dtype(input, dtype)
    return dispatch(LOG_SOFTMAX, [x], {"axis": norm_axis(dim, x.ndim)})


METHODS = {"softmax": softmax, "log_softmax": log_softmax}
