"""Pooling: MaxPool, AveragePool (each with its gradient op), GlobalAveragePool and AdaptiveAvgPool.

Max and average pooling read strided windows of a padded input (see _window.py), one kernel tap
at a time. MaxPool pairs with MaxPoolGrad and AveragePool with AveragePoolGrad, each pair's VJPs
written with the other member; adaptive pooling is one averaging matrix per spatial dim.
"""
from __future__ import annotations

import functools

import numpy as np

from .. import dtypes
from ..dispatch import dispatch
from ..ir.types import TensorType
from ..tensor import Tensor
from ._window import _Windows, _check_lengths, _spatial_attrs, _windows
from .base import float_input
from .registry import REQUIRED, Op, register

__all__ = []


def _const(array: np.ndarray) -> Tensor:
    return Tensor._make(array)


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
    float_input(x)
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
    from .gather import GATHER
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
    float_input(x)
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
    float_input(x)
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
    float_input(x)
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


METHODS = {}
