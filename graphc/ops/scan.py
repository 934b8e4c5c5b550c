"""Scans along one axis: cumulative sum (ONNX CumSum) and cumulative product."""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..dispatch import dispatch
from ..tensor import Tensor, inplace_method
from .base import norm_axis
from .registry import REQUIRED, Op, register

__all__ = ["cumsum", "cumprod"]


def _infer_scan(types, axis, **_):
    (t,) = types
    norm_axis(axis, len(t.shape))
    return [t]


def _cumsum_kernel(x, axis, exclusive, reverse):
    if x.ndim == 0:
        return np.zeros_like(x) if exclusive else x.copy()
    y = np.flip(x, axis) if reverse else x
    out = np.cumsum(y, axis=axis, dtype=x.dtype)
    if exclusive:
        out = np.roll(out, 1, axis)
        out[(slice(None),) * (axis % x.ndim) + (0,)] = 0
    return np.ascontiguousarray(np.flip(out, axis)) if reverse else out


def _cumsum_vjp(ctx, g):
    """Each input feeds every later (earlier, when reversed) output: the scan the other way round."""
    a = ctx.attrs
    return (dispatch(CUMSUM, [g], {**a, "reverse": 1 - a["reverse"]}),)


CUMSUM = register(Op("CumSum", _infer_scan, _cumsum_kernel, _cumsum_vjp,
                     attrs={"axis": REQUIRED, "exclusive": 0, "reverse": 0}, saves=((), ())))


def _cumprod_kernel(x, axis):
    return x.copy() if x.ndim == 0 else np.cumprod(x, axis=axis, dtype=x.dtype)


_EXACT_CUMPROD_GRAD_MAX = 256  # longer scans use the division rule (exact for nonzero inputs)


def _cumprod_vjp(ctx, g):
    """d out_j / d x_i = prod_{k<i} x_k * prod_{i<k<=j} x_k for j >= i. Built from those two
    products (an n x n table per scan), so zeros in x are handled as PyTorch does; scans longer
    than _EXACT_CUMPROD_GRAD_MAX use out_j / x_i, a reversed cumulative sum over x."""
    from ..factories import tensor
    from .elementwise import div, mul, where
    from .reduce import prod, sum
    from .shape import movedim, unsqueeze

    (x,) = ctx.inputs
    axis = ctx.attrs["axis"]
    n = x.shape[axis]
    if n > _EXACT_CUMPROD_GRAD_MAX:
        (out,) = ctx.outputs
        acc = dispatch(CUMSUM, [mul(g, out)], {"axis": axis, "exclusive": 0, "reverse": 1})
        return (div(acc, x),)
    i, k = np.indices((n, n))
    after, before, from_i = tensor(k > i), tensor(k < i), tensor(k >= i)
    xk = unsqueeze(movedim(x, axis, -1), -2)                 # (..., 1, n): x_k for every row i
    tail = dispatch(CUMPROD, [where(after, xk, 1.0)], {"axis": xk.ndim - 1})  # prod_{i<k<=j} x_k
    head = prod(where(before, xk, 1.0), -1)                  # prod_{k<i} x_k
    gj = unsqueeze(movedim(g, axis, -1), -2)
    total = sum(where(from_i, mul(gj, tail), 0.0), -1)
    return (movedim(mul(head, total), -1, axis),)


CUMPROD = register(Op("graphc.CumProd", _infer_scan, _cumprod_kernel, _cumprod_vjp,
                      attrs={"axis": REQUIRED}, saves=((0,), (0,)), grad_name="CumprodBackward0"))


def _scan_input(x: Tensor, dtype) -> Tensor:
    """PyTorch accumulates integers and bools in int64 unless a dtype is given."""
    from .elementwise import cast

    if dtype is not None:
        return cast(x, dtype)
    return x if x.dtype.is_floating_point or x.dtype is dtypes.int64 else cast(x, dtypes.int64)


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    axis = norm_axis(dim, input.ndim, "cumsum")
    return dispatch(CUMSUM, [_scan_input(input, dtype)], {"axis": axis, "exclusive": 0, "reverse": 0})


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    return dispatch(CUMPROD, [_scan_input(input, dtype)], {"axis": norm_axis(dim, input.ndim, "cumprod")})


METHODS = {"cumsum": cumsum, "cumprod": cumprod, "cumsum_": inplace_method(cumsum),
           "cumprod_": inplace_method(cumprod)}
