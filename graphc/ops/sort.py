"""Sorting: TopK and the topk, sort and argsort built on it.

ONNX passes TopK's k as an input tensor; here it is an attribute, because the shape rule needs k.
The VJP scatters the gradient back to the chosen indices (ScatterElements, gather.py).
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..dispatch import dispatch
from ..ir.types import TensorType
from ..tensor import Tensor
from .base import norm_axis
from .gather import SCATTER_ELEMENTS, _zeros
from .reduce import values_indices
from .registry import REQUIRED, Op, register

__all__ = ["topk", "sort", "argsort"]


def _argsort(x, axis, descending):
    """Stable argsort; descending keeps equal elements in index order (and NaN first, as PyTorch)."""
    if not descending:
        return np.argsort(x, axis, kind="stable")
    n = x.shape[axis]
    return (n - 1) - np.flip(np.argsort(np.flip(x, axis), axis, kind="stable"), axis)


def _top_indices(x, k, axis, largest):
    """Indices of the k largest (smallest) elements along axis, in order; equal elements keep
    index order. Small k: k arg-max passes (argmax takes the first of equals, NaN as largest,
    as PyTorch), each pass masking its winner with a fill value the data does not hold."""
    n = x.shape[axis]
    if 0 < k <= 8 and k < n and x.dtype.kind in "fiu":
        if x.dtype.kind == "f":
            fill = -np.inf if largest else np.inf
        else:
            fill = np.iinfo(x.dtype).min if largest else np.iinfo(x.dtype).max
        if not (x == fill).any():
            work, pick, picks = x.copy(), np.argmax if largest else np.argmin, []
            for _ in range(k):
                picks.append(pick(work, axis, keepdims=True))
                np.put_along_axis(work, picks[-1], fill, axis)
            return np.concatenate(picks, axis)
    if x.dtype.kind == "f" and 4 * k < n:  # partial selection, then order only the k winners
        key = -x if largest else x
        part = np.take(np.argpartition(key, k - 1, axis), np.arange(k), axis)
        ranks = np.argsort(np.take_along_axis(key, part, axis), axis, kind="stable")
        return np.take_along_axis(part, ranks, axis)
    return np.take(_argsort(x, axis, largest), np.arange(k), axis)


def _topk_kernel(x, k, axis, largest, sorted):
    order = _top_indices(x, k, axis, largest).astype(np.int64, copy=False)
    return np.take_along_axis(x, order, axis), order


def _infer_topk(types, k, axis, largest, sorted):
    (x,) = types
    a = norm_axis(axis, len(x.shape))
    if not 0 <= k <= x.shape[a]:
        raise ValueError(f"selected index k={k} out of range for dimension {a} of size {x.shape[a]}")
    shape = x.shape[:a] + (k,) + x.shape[a + 1:]
    return [TensorType(shape, x.dtype), TensorType(shape, dtypes.int64)]


def _topk_vjp(ctx, g, _):
    x = ctx.in_types[0]
    return (dispatch(SCATTER_ELEMENTS, [_zeros(x.shape, g.dtype), ctx.outputs[1], g],
                     {"axis": norm_axis(ctx.attrs["axis"], len(x.shape)), "reduction": "none"}),)


def _topk_name(attrs, types):
    return "SortBackward0" if attrs["k"] == types[0].shape[attrs["axis"]] else "TopkBackward0"


TOPK = register(Op("TopK", _infer_topk, _topk_kernel, _topk_vjp,
                   attrs={"k": REQUIRED, "axis": -1, "largest": True, "sorted": True}, n_outputs=2,
                   saves=((), (1,)), grad_name=_topk_name))

topk_result = values_indices("topk")
sort_result = values_indices("sort")


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    x = input if input.ndim else input.reshape(1)
    values, indices = dispatch(TOPK, [x], {"k": int(k), "axis": norm_axis(dim, x.ndim),
                                           "largest": bool(largest), "sorted": bool(sorted)})
    if not input.ndim:
        values, indices = values.reshape(()), indices.reshape(())
    return topk_result(values, indices)


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """A full TopK; ties always keep index order, so every sort is stable."""
    x = input if input.ndim else input.reshape(1)
    d = norm_axis(dim, x.ndim)
    values, indices = dispatch(TOPK, [x], {"k": x.shape[d], "axis": d, "largest": bool(descending),
                                           "sorted": True})
    if not input.ndim:
        values, indices = values.reshape(()), indices.reshape(())
    return sort_result(values, indices)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    return sort(input, dim, descending).indices


METHODS = {"topk": topk, "sort": sort, "argsort": argsort}
