"""Gather and scatter along an axis: GatherElements/ScatterElements (gather, scatter, scatter_add,
take_along_dim), Gather and its gradient GatherGrad (index_select, index_add), and one_hot.

Each differentiable op's VJP is written with its partner (gather with scatter-add, Gather with
GatherGrad), so gradients of any order stay graphc ops.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..dispatch import dispatch
from ..ir.types import TensorType
from ..tensor import Tensor, inplace_method
from ._indexing import _ALL, _index_add, _index_tensor
from .base import broadcast_shapes, norm_axis, same_dtype, scalar_tensor
from .registry import NOT_DIFFERENTIABLE, REQUIRED, Op, register

__all__ = ["gather", "scatter", "scatter_add", "index_select", "index_add", "take_along_dim"]


def _extent(shape, skip=None):
    """Slices that cut an array down to `shape` in every dim but `skip`."""
    return tuple(_ALL if d == skip else slice(0, n) for d, n in enumerate(shape))


def _check_elements(op, x, index, axis, src=None):
    if index.dtype is not dtypes.int64:
        raise ValueError(f"{op}(): Expected dtype int64 for index, got {index.dtype.name}")
    if not (len(x.shape) == len(index.shape) == len(index.shape if src is None else src.shape)):
        raise ValueError(f"Index tensor must have the same number of dimensions as input tensor "
                         f"({len(index.shape)} vs {len(x.shape)})")
    for d, (n, i) in enumerate(zip(x.shape, index.shape)):
        if (d != axis and i > n) or (src is not None and i > src.shape[d]):
            raise ValueError(f"Size does not match at dimension {d}: index {list(index.shape)}, "
                             f"input {list(x.shape)}" + ("" if src is None else f", src {list(src.shape)}"))


def _infer_gather_elements(types, axis):
    x, index = types
    _check_elements("gather", x, index, norm_axis(axis, len(x.shape)))
    return [TensorType(index.shape, x.dtype)]


def _fits(index, x, axis) -> None:
    """Kernels check what NumPy would broadcast silently; the shape rule then says why."""
    if index.ndim != x.ndim or any(i > n for d, (i, n) in enumerate(zip(index.shape, x.shape)) if d != axis):
        raise ValueError("index does not fit the input")


def _gather_elements_kernel(x, index, axis):
    axis %= max(x.ndim, 1)
    _fits(index, x, axis)
    return np.take_along_axis(x[_extent(index.shape, axis)], index, axis)


def _zeros(shape, dtype) -> Tensor:
    from .shape import expand

    return expand(scalar_tensor(0, dtype), tuple(shape))


def _gather_elements_vjp(ctx, g):
    x, index = ctx.in_types[0], ctx.inputs[1]
    return (dispatch(SCATTER_ELEMENTS, [_zeros(x.shape, g.dtype), index, g],
                     {"axis": ctx.attrs["axis"], "reduction": "add"}), None)


GATHER_ELEMENTS = register(Op(
    "GatherElements", _infer_gather_elements, _gather_elements_kernel, _gather_elements_vjp,
    attrs={"axis": 0}, saves=((1,), ()), grad_name="GatherBackward0"))


def _infer_scatter(types, axis, reduction):
    data, index, updates = types
    if reduction not in _SCATTER_REDUCE:
        raise ValueError(f"reduction must be one of {', '.join(_SCATTER_REDUCE)}, got {reduction!r}")
    _check_elements("scatter", data, index, norm_axis(axis, len(data.shape)), updates)
    return [TensorType(data.shape, same_dtype([data, updates]))]


def _scatter_kernel(data, index, updates, axis, reduction):
    out = data.copy()
    axis %= max(out.ndim, 1)
    _fits(index, data, axis)
    _fits(index, updates, None)
    updates = updates[_extent(index.shape)]
    ufunc = _SCATTER_REDUCE[reduction]
    if ufunc is not None:  # ufunc.at on flat positions: its fast path
        grid = list(np.indices(index.shape, sparse=True))
        grid[axis] = index
        ufunc.at(out.reshape(-1), np.ravel_multi_index(grid, out.shape).reshape(-1), updates.reshape(-1))
    else:
        np.put_along_axis(out[_extent(index.shape, axis)], index, updates, axis)
    return out


def _scatter_vjp(ctx, g):
    from .shape import SLICE_GRAD

    index = ctx.inputs[1]
    axis, reduction = ctx.attrs["axis"], ctx.attrs["reduction"]
    if reduction not in ("none", "add"):
        raise NotImplementedError(f"ScatterElements: the gradient of reduction={reduction!r} is not "
                                  "implemented (only 'none' and 'add')")
    gd = gu = None
    if ctx.needs_input_grad[0]:
        gd = g if reduction == "add" else dispatch(
            SCATTER_ELEMENTS, [g, index, _zeros(index.shape, g.dtype)], ctx.attrs)
    if ctx.needs_input_grad[2]:
        gu = dispatch(GATHER_ELEMENTS, [g, index], {"axis": axis})
        ushape = ctx.in_types[2].shape
        if tuple(ushape) != tuple(index.shape):  # updates beyond the index's extent get no gradient
            n = len(ushape)
            gu = dispatch(SLICE_GRAD, [gu], {"shape": tuple(ushape), "starts": (0,) * n,
                                             "ends": tuple(index.shape), "axes": tuple(range(n)),
                                             "steps": (1,) * n})
    return gd, None, gu


def _scatter_name(attrs, types):
    r = attrs["reduction"]
    return "ScatterAddBackward0" if r == "add" else "ScatterBackward0" if r == "none" else "ScatterReduceBackward0"


# ONNX's reductions: the ufunc that combines an update with the value already there
_SCATTER_REDUCE = {"none": None, "add": np.add, "mul": np.multiply, "max": np.maximum, "min": np.minimum}


SCATTER_ELEMENTS = register(Op(
    "ScatterElements", _infer_scatter, _scatter_kernel, _scatter_vjp,
    attrs={"axis": 0, "reduction": "none"}, saves=((1,), ()), grad_name=_scatter_name))


def _long(index) -> Tensor:
    t = _index_tensor(index)
    if t.dtype is not dtypes.int64:
        raise RuntimeError(f"expected an integer index tensor, got {t.dtype.name}")
    return t


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    return dispatch(GATHER_ELEMENTS, [input, _long(index)], {"axis": norm_axis(dim, input.ndim)})


def _scatter(input, dim, index, src, reduction):
    index = _long(index)
    if not isinstance(src, Tensor):
        from .shape import expand

        src = expand(scalar_tensor(src, input.dtype), tuple(index.shape))
    elif src.dtype is not input.dtype:
        src = src.to(input.dtype)
    return dispatch(SCATTER_ELEMENTS, [input, index, src],
                    {"axis": norm_axis(dim, input.ndim), "reduction": reduction})


def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce=None) -> Tensor:
    if reduce not in (None, "add"):
        raise NotImplementedError(f"scatter: reduce={reduce!r} is not supported (only 'add')")
    return _scatter(input, dim, index, value if src is None else src, "add" if reduce else "none")


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    return _scatter(input, dim, index, src, "add")


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    from .shape import expand, reshape

    if dim is None:
        return gather(reshape(input, (-1,)), 0, reshape(indices, (-1,)))
    d = norm_axis(dim, input.ndim)
    xs, js = list(input.shape), list(indices.shape)
    common = list(broadcast_shapes(xs[:d] + [1] + xs[d + 1:], js[:d] + [1] + js[d + 1:]))
    return gather(expand(input, tuple(common[:d] + [xs[d]] + common[d + 1:])), d,
                  expand(_long(indices), tuple(common[:d] + [js[d]] + common[d + 1:])))


def _infer_gather(types, axis):
    x, index = types
    if index.dtype is not dtypes.int64:
        raise ValueError(f"index_select(): Expected dtype int64 for index, got {index.dtype.name}")
    a = norm_axis(axis, len(x.shape))
    return [TensorType(x.shape[:a] + tuple(index.shape) + x.shape[a + 1:], x.dtype)]


def _gather_vjp(ctx, g):
    a = norm_axis(ctx.attrs["axis"], len(ctx.in_types[0].shape))
    return dispatch(GATHER_GRAD, [g, ctx.inputs[1]], {"axis": a, "size": ctx.in_types[0].shape[a]}), None


GATHER = register(Op("Gather", _infer_gather, lambda x, index, axis: np.take(x, index, axis), _gather_vjp,
                     attrs={"axis": 0}, saves=((1,), ()), grad_name="IndexSelectBackward0"))


def _infer_gather_grad(types, axis, size):
    g, index = types
    n = len(index.shape)
    if len(g.shape) < axis + n or tuple(g.shape[axis:axis + n]) != tuple(index.shape):
        raise ValueError(f"gradient shape {list(g.shape)} does not hold index shape "
                         f"{list(index.shape)} at dim {axis}")
    return [TensorType(g.shape[:axis] + (size,) + g.shape[axis + n:], g.dtype)]


def _gather_grad_kernel(g, index, axis, size):
    pre, post = g.shape[:axis], g.shape[axis + index.ndim:]
    out = np.zeros(pre + (size,) + post, g.dtype)
    _index_add(out, axis, index, g.reshape(pre + (index.size,) + post))
    return out


GATHER_GRAD = register(Op(
    "graphc.GatherGrad", _infer_gather_grad, _gather_grad_kernel,
    lambda ctx, g: (dispatch(GATHER, [g, ctx.inputs[1]], {"axis": ctx.attrs["axis"]}), None),
    attrs={"axis": REQUIRED, "size": REQUIRED}, saves=((1,), ()), grad_name="IndexAddBackward0"))


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    index = _long(index)
    if index.ndim > 1:
        raise RuntimeError("index_select(): Index is supposed to be a vector")
    return dispatch(GATHER, [input, index], {"axis": norm_axis(dim, input.ndim)})


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    from .elementwise import add, mul

    index = _long(index)
    d = norm_axis(dim, input.ndim)
    if alpha != 1:
        source = mul(source, alpha)
    added = dispatch(GATHER_GRAD, [source.to(input.dtype), index], {"axis": d, "size": input.shape[d]})
    return add(input, added)


def _infer_one_hot(types, num_classes):
    (x,) = types
    if x.dtype is not dtypes.int64:
        raise ValueError("one_hot is only applicable to index tensor of type LongTensor")
    return [TensorType(x.shape + (num_classes,), dtypes.int64)]


def _one_hot_kernel(x, num_classes):
    if x.size and x.min() < 0:
        raise ValueError("Class values must be non-negative.")
    if x.size and x.max() >= num_classes:
        raise ValueError("Class values must be smaller than num_classes.")
    out = np.zeros(x.shape + (num_classes,), np.int64)
    np.put_along_axis(out, x[..., None], 1, -1)
    return out


ONE_HOT = register(Op("graphc.OneHot", _infer_one_hot, _one_hot_kernel, NOT_DIFFERENTIABLE,
                      attrs={"num_classes": REQUIRED}))


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """F.one_hot: int64 with a trailing class dim (num_classes=-1: one more than the largest value)."""
    if num_classes == -1:
        v = tensor._concrete("one_hot")
        if v.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(v.max()) + 1
    return dispatch(ONE_HOT, [tensor], {"num_classes": int(num_classes)})


METHODS = {
    "gather": gather, "scatter": scatter, "scatter_": inplace_method(scatter),
    "scatter_add": scatter_add, "scatter_add_": inplace_method(scatter_add),
    "index_select": index_select, "index_add": index_add, "index_add_": inplace_method(index_add),
    "take_along_dim": take_along_dim,
}
