"""Indexing ops: ``x[idx]`` and ``x[idx] = v``, gather/scatter, index_select, topk/sort, flip,
tril/triu, nonzero and one_hot.

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
graph fails loudly if later data has a different count. ONNX passes TopK's k and Trilu's k as
input tensors; here they are attributes for the same reason (the shape rule needs k).
"""
from __future__ import annotations

import operator

import numpy as np

from .. import dtypes
from ..dispatch import STATE, dispatch, infer_types
from ..errors import op_error
from ..ir.types import TensorType
from ..tensor import Tensor, inplace_method
from .base import broadcast_shapes, norm_axes, norm_axis, same_dtype, scalar_tensor, unbroadcast
from .reduce import values_indices
from .registry import NOT_DIFFERENTIABLE, REQUIRED, Op, register

__all__ = ["gather", "scatter", "scatter_add", "index_select", "index_add", "index_fill",
           "take_along_dim", "masked_select", "nonzero", "argwhere", "topk", "sort", "argsort",
           "flip", "fliplr", "flipud", "tril", "triu"]

_ALL = slice(None)
_INDEX_INPUTS = range(1, 1 << 16)  # `saves` of Index/IndexGrad: the index tensors, not the data
_PUT_INDEX_INPUTS = range(2, 1 << 16)  # `saves` of IndexPut: the index tensors


# ---- index specs: NumPy indices and shapes ---------------------------------------------------

def _is_advanced(entry) -> bool:
    return entry[0] in ("tensor", "mask", "bool")


def _numpy_index(spec, tensors):
    """(basic, advanced): x[basic] is a view; then y[advanced] (None: no tensor entries)."""
    basic, adv, has_adv = [], [], False
    for e in spec:
        kind = e[0]
        if kind == "slice":
            basic.append(slice(e[1], e[2], e[3]))
            adv.append(_ALL)
        elif kind == "int":
            basic.append(e[1])
        elif kind == "none":
            basic.append(None)
            adv.append(_ALL)
        elif kind == "bool":
            basic.append(None)
            adv.append(np.zeros(int(e[1]), np.int64))
            has_adv = True
        elif kind == "tensor":
            basic.append(_ALL)
            adv.append(tensors[e[1]])
            has_adv = True
        else:
            mask = tensors[e[1]]
            if e[2] is not None and np.count_nonzero(mask) != e[2]:
                raise ValueError(f"boolean mask has {np.count_nonzero(mask)} true elements, but the "
                                 f"graph was built for {e[2]}")
            basic.extend([_ALL] * mask.ndim)
            adv.append(mask)
            has_adv = True
    basic.append(Ellipsis)  # keeps a full integer index a 0-d view rather than a NumPy scalar
    return tuple(basic), tuple(adv) if has_adv else None


def _index_shape(shape, spec, idx_types) -> tuple[int, ...]:
    """The shape of x[spec] for x of `shape`, with no data (PyTorch's two-stage rule)."""
    basic = []   # dims after the ints, slices and Nones
    entries = []  # stage-two entries over `basic`: None (keep one dim) or (dims used, index shape)
    dim = 0

    def take(n):
        nonlocal dim
        if dim + n > len(shape):
            raise ValueError(f"too many indices for tensor of dimension {len(shape)}")
        dim += n
        return shape[dim - n:dim]

    for e in spec:
        kind = e[0]
        if kind == "slice":
            (n,) = take(1)
            start, stop, step = e[1:]
            if not (0 <= start <= stop <= n and step >= 1):
                raise ValueError(f"slice {start}:{stop}:{step} does not fit dimension {dim - 1} of size {n}")
            basic.append(len(range(start, stop, step)))
            entries.append(None)
        elif kind == "int":
            (n,) = take(1)
            if not 0 <= e[1] < n:
                raise ValueError(f"index {e[1]} is out of bounds for dimension {dim - 1} with size {n}")
        elif kind == "none":
            basic.append(1)
            entries.append(None)
        elif kind == "bool":
            basic.append(1)
            entries.append((1, (int(e[1]),)))
        elif kind == "tensor":
            t = idx_types[e[1]]
            if t.dtype is not dtypes.int64:
                raise ValueError(f"index tensors must be int64 or bool, got {t.dtype.name}")
            basic.extend(take(1))
            entries.append((1, t.shape))
        else:
            t = idx_types[e[1]]
            got = take(len(t.shape))
            if t.dtype is not dtypes.bool_ or tuple(t.shape) != tuple(got):
                raise ValueError(f"the shape of the mask {list(t.shape)} does not match the shape "
                                 f"{list(got)} of the indexed dims")
            if e[2] is None:
                raise ValueError("indexing with a boolean mask gives a shape that depends on the "
                                 "mask's values, which are not known here (trace with example data)")
            basic.extend(got)
            entries.append((len(got), (e[2],)))
    rest = shape[dim:]
    basic.extend(rest)
    entries.extend([None] * len(rest))
    adv = [i for i, e in enumerate(entries) if e is not None]
    if not adv:
        return tuple(basic)
    index_shape = broadcast_shapes(*(entries[i][1] for i in adv))
    kept, pos, b = [], None, 0
    for i, e in enumerate(entries):
        if e is None:
            kept.append(basic[b])
            b += 1
        else:
            pos = len(kept) if pos is None else pos
            b += e[0]
    if adv[-1] - adv[0] != len(adv) - 1:  # tensor entries apart: their dims go first
        pos = 0
    return tuple(kept[:pos]) + index_shape + tuple(kept[pos:])


def _step_name(spec, shape) -> str:
    """PyTorch's grad_fn is that of the last step it applied (full slices are skipped)."""
    name, dim = "AliasBackward0", 0
    for e in spec:
        if _is_advanced(e):
            return "IndexBackward0"
        if e[0] == "int":
            name = "SelectBackward0"
        elif e[0] == "none":
            name = "UnsqueezeBackward0"
        elif tuple(e[1:]) != (0, shape[dim], 1):
            name = "SliceBackward0"
        dim += e[0] != "none"
    return name


# ---- Index, IndexGrad, IndexPut --------------------------------------------------------------

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


# ---- x[idx] and x[idx] = v -------------------------------------------------------------------

def _as_tuple(idx) -> tuple:
    """A list holding slices, Nones, Ellipsis or tensors is a tuple of indices (as in PyTorch);
    any other list is an index tensor."""
    if isinstance(idx, tuple):
        return idx
    if type(idx) is list and len(idx) < 32 and any(
            e is None or e is Ellipsis or isinstance(e, (slice, Tensor)) for e in idx):
        return tuple(idx)
    return (idx,)


def _index_tensor(e) -> Tensor:
    """An index given as a tensor, list or array, as an int64 or bool tensor."""
    if isinstance(e, Tensor):
        d = e.dtype
        if d is dtypes.int64 or d is dtypes.bool_:
            return e
        if not d.is_floating_point:
            from .elementwise import cast

            return cast(e, dtypes.bool_ if d is dtypes.uint8 else dtypes.int64)
    else:
        a = np.asarray(e)
        if a.dtype == np.bool_:
            return Tensor._make(a)
        if a.dtype.kind in "iu" or a.size == 0:
            return Tensor._make(a.astype(np.int64))
    raise IndexError("tensors used as indices must be long, int, byte or bool tensors")


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


# ---- gather / scatter (GatherElements, ScatterElements) --------------------------------------

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


# ---- index_select (Gather) and its gradient --------------------------------------------------

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


def _index_add(out: np.ndarray, axis: int, index: np.ndarray, src: np.ndarray) -> None:
    """out[..., index, ...] += src along `axis`, repeated indices summed, vectorised throughout.

    np.add.at is slow for rows, and np.add.reduceat pays per segment; so after sorting the index,
    indices that repeat at most _ROUNDS times are added in rounds (the r-th occurrence of every
    index in round r: each round a plain fancy-index add without clashes), and the rest, heavy
    repeats such as a padding token, with one segment sum each."""
    index = index.reshape(-1)
    n = index.size
    if n == 0:
        return
    lead = (_ALL,) * axis
    if src.size <= 4096:  # small: np.add.at's per-element cost beats the fixed cost of sorting
        np.add.at(out, lead + (index,), src)
        return
    index = np.where(index < 0, index + out.shape[axis], index)
    order = np.argsort(index, kind="stable")
    ordered = index[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    lens = np.diff(np.append(starts, n))
    heavy = lens > _ROUNDS
    short = np.ones(n, bool)
    if heavy.any():
        short = np.repeat(~heavy, lens)
        seg = np.concatenate(([0], np.cumsum(lens[heavy])[:-1]))
        out[lead + (ordered[starts[heavy]],)] += np.add.reduceat(np.take(src, order[~short], axis), seg, axis)
    rank = np.arange(n) - np.repeat(starts, lens)
    for r in range(min(int(lens[~heavy].max(initial=0)), _ROUNDS)):
        rows = np.flatnonzero(short & (rank == r))
        out[lead + (ordered[rows],)] += np.take(src, order[rows], axis)


_ROUNDS = 8


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


# ---- sorting (TopK) --------------------------------------------------------------------------

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


# ---- flip, tril/triu -------------------------------------------------------------------------

FLIP = register(Op(
    "graphc.Flip", lambda types, axes: [types[0]],
    lambda x, axes: np.ascontiguousarray(np.flip(x, axes)),
    lambda ctx, g: (dispatch(FLIP, [g], ctx.attrs),),
    attrs={"axes": REQUIRED}, saves=((), ()), grad_name="FlipBackward0"))


def flip(input: Tensor, *dims) -> Tensor:
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = dims[0]
    return dispatch(FLIP, [input], {"axes": norm_axes(tuple(dims), input.ndim, "flip")})


def fliplr(input: Tensor) -> Tensor:
    return flip(input, 1)


def flipud(input: Tensor) -> Tensor:
    return flip(input, 0)


def _infer_trilu(types, upper, k):
    (x,) = types
    if len(x.shape) < 2:
        raise ValueError(f"{'triu' if upper else 'tril'}: input tensor must have at least 2 dimensions")
    return [x]


def _trilu_kernel(x, upper, k):
    if x.ndim < 2:
        raise ValueError("expected at least 2 dimensions")  # NumPy would make a matrix of a vector
    return np.triu(x, k) if upper else np.tril(x, k)


TRILU = register(Op(
    "Trilu", _infer_trilu, _trilu_kernel,
    lambda ctx, g: (dispatch(TRILU, [g], ctx.attrs),), attrs={"upper": 1, "k": 0}, saves=((), ()),
    grad_name=lambda attrs, types: "TriuBackward0" if attrs["upper"] else "TrilBackward0"))


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    return dispatch(TRILU, [input], {"upper": 0, "k": int(diagonal)})


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    return dispatch(TRILU, [input], {"upper": 1, "k": int(diagonal)})


# ---- nonzero, one_hot (integer outputs) ------------------------------------------------------

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


# ---- methods ---------------------------------------------------------------------------------

METHODS = {
    "__getitem__": getitem, "__setitem__": setitem,
    "gather": gather, "scatter": scatter, "scatter_": inplace_method(scatter),
    "scatter_add": scatter_add, "scatter_add_": inplace_method(scatter_add),
    "index_select": index_select, "index_add": index_add, "index_add_": inplace_method(index_add),
    "index_fill": index_fill, "index_fill_": inplace_method(index_fill),
    "take_along_dim": take_along_dim, "masked_select": masked_select, "nonzero": nonzero,
    "argwhere": argwhere, "topk": topk, "sort": sort, "argsort": argsort, "flip": flip,
    "fliplr": fliplr, "flipud": flipud, "tril": tril, "triu": triu,
    "tril_": inplace_method(tril), "triu_": inplace_method(triu),
}
