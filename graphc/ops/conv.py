"""Convolution: Conv and its two gradient ops, ConvGradInput (col2im of W^T dY) and ConvGradWeight.

The forward is im2col over strided windows (see _window.py) plus one GEMM per cache-sized batch
block. Each op's VJP is written with the other two, so gradients of any order stay graphc ops.
"""
from __future__ import annotations

import numpy as np

from ..dispatch import dispatch
from ..ir.types import TensorType
from ._window import _Windows, _axes_but_channel, _check_lengths, _chunks, _spatial_attrs, _windows
from .base import float_input, same_dtype
from .registry import REQUIRED, Op, register

__all__ = []


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
    float_input(x)
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


METHODS = {}
