"""Softmax and LogSoftmax over one axis, with the front-end softmax/log_softmax functions.

Kernels subtract the max before exponentiating; both VJPs read only the op's output.
"""
from __future__ import annotations

import numpy as np

from ..dispatch import dispatch
from ..tensor import Tensor
from .base import float_input, norm_axis
from .registry import Op, register

__all__ = ["softmax", "log_softmax"]


def _infer_softmax(types, axis):
    (x,) = types
    float_input(x)
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
