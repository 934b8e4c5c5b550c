"""Indexing ops: ``x[idx]`` and ``x[idx] = v`` (Index, IndexGrad, IndexPut), masked_select,
index_fill and nonzero.

``x[idx]`` is one op, graphc.Index, whose ``spec`` attribute is the index normalised against the
input's shape (Ellipsis expanded, negative ints and slice bounds resolved), a tuple of entries

    ("slice", start, stop, step)   ("int", i)   ("none",)   ("bool", b)   (Python True/False)
    ("tensor", k)                  the k-th extra input: an int64 index tensor
    ("mask", k, count)             the k-th extra input: a bool mask with `count` true elements

applied as PyTorch applies it: the ints, slices and Nones first (a NumPy view), then all tensor
entries together as one NumPy advanced index, whose rule (index dims in place when the tensor
entries are adjacent, else first) PyTorch shares once the ints are gone.

A mask's count, like nonzero's, is a shape that depends on data: it is read when the op is called
and kept as an attribute, so shape rules stay functions of types and attributes, and a compiled
graph fails loudly if later data has a different count.
"""
from __future__ import annotations

import operator

import numpy as np

from .. import dtypes
from ..dispatch import STATE, dispatch, infer_types
from ..errors import op_error
from ..ir.types import TensorType
from ..tensor import Tensor, inplace_method
from ._indexing import (_ALL, _index_add, _index_shape, _index_tensor, _is_advanced, _numpy_index,
                        _step_name)
from .base import broadcast_shapes, norm_axis, same_dtype, scalar_tensor, unbroadcast
from .registry import NOT_DIFFERENTIABLE, REQUIRED, Op, register

__all__ = ["index_fill", "masked_select", "nonzero", "argwhere"]

_INDEX_INPUTS = range(1, 1 << 16)  # `saves` of Index/IndexGrad: the index tensors, not the data
_PUT_INDEX_INPUTS = range(2, 1 << 16)  # `saves` of IndexPut: the index tensors


def _index_kernel(x, *tensors, spec):
    basic, adv = _numpy_index(spec, tensors)
    y = x[basic]
    return y if adv is None else y[adv]


def _infer_index(types, spec):
    return [TensorType(_index_shape(types[0].shape, spec, types[1:]), types[0].dtype)]


def _index_vjp(ctx, g):
    index = ctx.inputs[1:]
    return (dispatch(INDEX_GRAD, [g, *index], {"spec": ctx.attrs["spec"], "shape": ctx.in_types[0].shape}),
            *[None] * len(index))


INDEX = register(Op("graphc.Index", _infer_index, _index_kernel, _index_vjp, attrs={"spec": REQUIRED},
                    saves=(_INDEX_INPUTS, ()), view=True,
                    grad_name=lambda attrs, types: _step_name(attrs["spec"], types[0].shape)))


def _infer_index_grad(types, spec, shape):
    g = types[0]
    expect = _index_shape(tuple(shape), spec, types[1:])
    if tuple(g.shape) != expect:
        raise ValueError(f"gradient shape {list(g.shape)} does not match the indexed shape {list(expect)}")
    return [TensorType(tuple(shape), g.dtype)]


def _index_grad_kernel(g, *tensors, spec, shape):
    out = np.zeros(shape, g.dtype)
    basic, adv = _numpy_index(spec, tensors)
    view = out[basic]
    if adv is None or all(isinstance(a, slice) or a.dtype == np.bool_ for a in adv):
        if adv is None:
            view[...] = g
        else:
            view[adv] = g  # masks select each element at most once
        return out
    arrays = [i for i, a in enumerate(adv) if not isinstance(a, slice)]
    if len(arrays) == 1:  # one index tensor: a segment sum along its axis (embedding-style)
        axis, index = arrays[0], adv[arrays[0]]
        _index_add(view, axis, index, g.reshape(view.shape[:axis] + (index.size,) + view.shape[axis + 1:]))
    else:
        np.add.at(view, adv, g)
    return out


def _index_grad_vjp(ctx, g):
    index = ctx.inputs[1:]
    return (dispatch(INDEX, [g, *index], {"spec": ctx.attrs["spec"]}), *[None] * len(index))


def _index_grad_name(attrs, types):
    return _step_name(attrs["spec"], attrs["shape"]).replace("Backward0", "BackwardBackward0")


INDEX_GRAD = register(Op(
    "graphc.IndexGrad", _infer_index_grad, _index_grad_kernel, _index_grad_vjp,
    attrs={"spec": REQUIRED, "shape": REQUIRED}, saves=(_INDEX_INPUTS, ()), grad_name=_index_grad_name))


def _assign(out, spec, tensors, value) -> None:
    basic, adv = _numpy_index(spec, tensors)
    if adv is None:
        out[basic] = value
    else:
        out[basic][adv] = value


def _index_put_kernel(x, value, *tensors, spec):
    out = x.copy()
    _assign(out, spec, tensors, value)
    return out


def _infer_index_put(types, spec):
    x, v = types[0], types[1]
    target = _index_shape(x.shape, spec, types[2:])
    vshape = _strip_ones(v.shape, len(target))
    if len(vshape) > len(target) or any(a != b and a != 1 for a, b in zip(vshape[::-1], target[::-1])):
        raise ValueError(f"shape mismatch: value tensor of shape {list(v.shape)} cannot be broadcast "
                         f"to indexing result of shape {list(target)}")
    return [TensorType(x.shape, same_dtype([x, v]))]


def _strip_ones(shape, ndim):
    """NumPy lets an assigned value carry extra leading dims of size 1."""
    shape = tuple(shape)
    while len(shape) > ndim and shape[0] == 1:
        shape = shape[1:]
    return shape


def _index_put_vjp(ctx, g):
    spec = {"spec": ctx.attrs["spec"]}
    index = ctx.inputs[2:]
    gx = gv = None
    if ctx.needs_input_grad[0]:
        gx = dispatch(INDEX_PUT, [g, scalar_tensor(0, g.dtype), *index], spec)
    if ctx.needs_input_grad[1]:
        from .shape import reshape

        vshape = ctx.in_types[1].shape
        gv = unbroadcast(dispatch(INDEX, [g, *index], spec), _strip_ones(vshape, 0))
        gv = reshape(gv, vshape) if tuple(gv.shape) != tuple(vshape) else gv
    return (gx, gv, *[None] * len(index))


INDEX_PUT = register(Op(
    "graphc.IndexPut", _infer_index_put, _index_put_kernel, _index_put_vjp, attrs={"spec": REQUIRED},
    saves=(_PUT_INDEX_INPUTS, ()),
    grad_name=lambda attrs, types: ("IndexPutBackward0" if any(map(_is_advanced, attrs["spec"]))
                                    else "CopySlices")))


def _as_tuple(idx) -> tuple:
    """A list holding slices, Nones, Ellipsis or tensors is a tuple of indices (as in PyTorch);
    any other list is an index tensor."""
    if isinstance(idx, tuple):
        return idx
    if type(idx) is list and len(idx) < 32 and any(
            e is None or e is Ellipsis or isinstance(e, (slice, Tensor)) for e in idx):
        return tuple(idx)
    return (idx,)


def _items(idx):
    """The entries of an index as ints, slices, None, Ellipsis, bools and index tensors, and how
    many dims of the indexed tensor they use."""
    items, used = [], 0
    for e in _as_tuple(idx):
        kind = type(e)
        if kind is int or kind is slice:
            used += 1
        elif e is None or e is Ellipsis:
            pass
        elif kind is bool or kind is np.bool_:
            e = bool(e)
        elif isinstance(e, (Tensor, list, tuple, range, np.ndarray)):
            e = _index_tensor(e)
            if e.ndim == 0 and e._value is not None:  # a 0-d tensor acts as a Python scalar (as PyTorch)
                e = e._concrete("index").item()
                used += type(e) is not bool
            else:
                used += e.ndim if e.dtype is dtypes.bool_ else 1
        else:
            try:
                e = operator.index(e)
            except TypeError:
                raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                                 f"Variables are valid indices (got {kind.__name__})") from None
            used += 1
        items.append(e)
    return items, used


def _parse(x: Tensor, idx):
    """(spec, index tensors) for x[idx]."""
    shape = x._value.shape if x._value is not None else x._aval.shape
    if type(idx) is int and shape:  # the common x[i], without the general walk
        n = shape[0]
        if -n <= idx < n:
            return (("int", idx % n),), []
    items, used = _items(idx)
    if used > len(shape):
        if not shape:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python to convert "
                             "a 0-dim tensor to a number")
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    spec, tensors, dim, ellipsis = [], [], 0, False
    for e in items:
        kind = type(e)
        if kind is slice:
            spec.append(_slice_entry(e, shape[dim]))
            dim += 1
        elif kind is int:
            n = shape[dim]
            if not -n <= e < n:
                raise IndexError(f"index {e} is out of bounds for dimension {dim} with size {n}")
            spec.append(("int", e % n))
            dim += 1
        elif e is None:
            spec.append(("none",))
        elif e is Ellipsis:
            if ellipsis:
                raise IndexError("an index can only have a single ellipsis ('...')")
            ellipsis = True
            for n in shape[dim:dim + len(shape) - used]:
                spec.append(("slice", 0, n, 1))
            dim += len(shape) - used
        elif kind is bool:
            spec.append(("bool", e))
        elif e.dtype is dtypes.bool_:
            _check_mask(e, shape, dim)
            count = int(np.count_nonzero(e._concrete("boolean mask index"))) if e._value is not None else None
            spec.append(("mask", len(tensors), count))
            tensors.append(e)
            dim += e.ndim
        else:
            spec.append(("tensor", len(tensors)))
            tensors.append(e)
            dim += 1
    while spec and spec[-1][0] == "slice" and spec[-1][1:] == (0, shape[dim - 1], 1):
        spec.pop()  # trailing full slices change nothing
        dim -= 1
    return tuple(spec), tensors


def _slice_entry(s: slice, n: int):
    step = 1 if s.step is None else operator.index(s.step)
    if step <= 0:
        raise ValueError("step must be greater than zero")
    start, stop, step = slice(s.start, s.stop, step).indices(n)
    return ("slice", start, max(start, stop), step)


def _check_mask(mask: Tensor, shape, dim: int) -> None:
    for j, d in enumerate(mask.shape):
        if dim + j >= len(shape) or shape[dim + j] != d:
            raise IndexError(f"The shape of the mask {list(mask.shape)} at index {j} does not match the "
                             f"shape of the indexed tensor {list(shape)} at index {dim + j}")


def getitem(x: Tensor, idx) -> Tensor:
    spec, tensors = _parse(x, idx)
    out = dispatch(INDEX, [x, *tensors], {"spec": spec})
    if any(map(_is_advanced, spec)):
        out._version = [0]  # advanced indexing copies: the result has a version counter of its own
    else:
        out._base = x
    return out


def setitem(x: Tensor, idx, value) -> None:
    """``x[idx] = value`` in place: value is broadcast and cast to x's dtype."""
    spec, tensors = _parse(x, idx)
    v = value if isinstance(value, Tensor) else scalar_tensor(value, x.dtype) if np.ndim(value) == 0 \
        else Tensor._make(np.asarray(value, x.dtype.np))
    if (STATE.recorder is None and x._value is not None and v._value is not None
            and not (STATE.grad_enabled and (x.requires_grad or v.requires_grad))):
        try:
            _assign(x._value, spec, [t._value for t in tensors], v._value)
        except (ValueError, IndexError) as exc:
            abstract_v = Tensor._abstract(TensorType(tuple(v.shape), x.dtype))
            infer_types(INDEX_PUT, [x, abstract_v, *tensors], {"spec": spec})
            raise op_error(INDEX_PUT.name, [x._ir_type, v._ir_type], f"{type(exc).__name__}: {exc}") from exc
        x._version[0] += 1
        return
    x._check_inplace()
    if v.dtype is not x.dtype:
        from .elementwise import cast

        v = cast(v, x.dtype)
    if len(spec) == 1 and spec[0][0] == "mask" and tuple(tensors[0].shape) == tuple(x.shape) and v.ndim == 0:
        from .elementwise import where  # x[mask] = scalar has a static shape: no mask count needed

        x._set_from(where(tensors[0], v, x))
        return
    x._set_from(dispatch(INDEX_PUT, [x, v, *tensors], {"spec": spec}))


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    if mask.dtype is not dtypes.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {mask.dtype.name}")
    from .shape import expand

    shape = broadcast_shapes(tuple(input.shape), tuple(mask.shape))
    return getitem(expand(input, shape), expand(mask, shape))


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    d = norm_axis(dim, input.ndim)
    v = value if isinstance(value, Tensor) else scalar_tensor(value, input.dtype)
    spec = tuple(("slice", 0, n, 1) for n in input.shape[:d]) + (("tensor", 0),)
    return dispatch(INDEX_PUT, [input, v.to(input.dtype), _index_tensor(index)], {"spec": spec})


def _infer_nonzero(types, count):
    if count is None:
        raise ValueError("the output shape depends on the input's values (how many are nonzero), "
                         "which are not known here: nonzero needs concrete data")
    return [TensorType((count, len(types[0].shape)), dtypes.int64)]


def _nonzero_kernel(x, count):
    out = np.argwhere(x)
    if out.shape[0] != count:
        raise ValueError(f"input has {out.shape[0]} nonzero elements, but the graph was built for {count}")
    return out


NONZERO = register(Op("graphc.NonZero", _infer_nonzero, _nonzero_kernel, NOT_DIFFERENTIABLE,
                      attrs={"count": REQUIRED}))


def nonzero(input: Tensor, *, as_tuple: bool = False):
    if as_tuple and input.ndim == 0:
        input = input.reshape(1)
    count = int(np.count_nonzero(input._concrete("nonzero"))) if input._value is not None else None
    out = dispatch(NONZERO, [input], {"count": count})
    return tuple(getitem(out, (_ALL, i)) for i in range(input.ndim)) if as_tuple else out


def argwhere(input: Tensor) -> Tensor:
    return nonzero(input)


METHODS = {
    "__getitem__": getitem, "__setitem__": setitem,
    "index_fill": index_fill, "index_fill_": inplace_method(index_fill),
    "masked_select": masked_select, "nonzero": nonzero, "argwhere": argwhere,
}
