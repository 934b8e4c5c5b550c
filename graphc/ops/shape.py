"""Shape ops: reshape/view, transpose/permute, expand, (un)squeeze, concat, slice, tile.

Kernels return NumPy views where NumPy can, so ``view``, ``transpose`` and slicing share memory
with their input exactly as in PyTorch (``view=True`` tells the memory planner they alias).
"""
from __future__ import annotations

import numpy as np

from ..dispatch import dispatch
from ..ir.types import TensorType
from ..tensor import Tensor
from .base import norm_axes, norm_axis, same_dtype, unbroadcast
from .registry import REQUIRED, Op, register


__all__ = ["reshape", "flatten", "unflatten", "permute", "transpose", "t", "broadcast_to",
           "squeeze", "unsqueeze", "clone", "cat", "concat", "concatenate", "stack", "hstack",
           "vstack", "narrow", "split", "chunk", "unbind", "repeat", "movedim", "swapaxes"]


def _shape_of(types, shape):
    (t,) = types
    numel = t.numel
    if int(np.prod(shape)) != numel:
        raise ValueError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return [TensorType(tuple(shape), t.dtype)]


RESHAPE = register(Op(
    "Reshape", _shape_of, lambda x, shape: np.reshape(x, shape),
    lambda ctx, g: (reshape(g, ctx.in_types[0].shape),),
    attrs={"shape": REQUIRED}, saves=((), ()), view=True, grad_name="ViewBackward0"))


def _infer_transpose(types, perm):
    (t,) = types
    if sorted(perm) != list(range(len(t.shape))):
        raise ValueError(f"perm {list(perm)} is not a permutation of the {len(t.shape)} dims")
    return [TensorType(tuple(t.shape[p] for p in perm), t.dtype)]


TRANSPOSE = register(Op(
    "Transpose", _infer_transpose, lambda x, perm: np.transpose(x, perm),
    lambda ctx, g: (permute(g, tuple(np.argsort(ctx.attrs["perm"]).tolist())),),
    attrs={"perm": REQUIRED}, saves=((), ()), view=True, grad_name="PermuteBackward0"))


def _infer_expand(types, shape):
    from .base import broadcast_shapes

    (t,) = types
    out = broadcast_shapes(t.shape, tuple(shape))
    if out != tuple(shape):
        raise ValueError(f"the expanded size {list(shape)} must match the existing size {list(t.shape)}")
    return [TensorType(out, t.dtype)]


EXPAND = register(Op(
    "Expand", _infer_expand, lambda x, shape: np.broadcast_to(x, shape),
    lambda ctx, g: (unbroadcast(g, ctx.in_types[0].shape),),
    attrs={"shape": REQUIRED}, saves=((), ()), view=True, grad_name="ExpandBackward0"))


def _infer_concat(types, axis):
    d = same_dtype(types)
    ref = types[0].shape
    ax = norm_axis(axis, len(ref))
    for t in types[1:]:
        if len(t.shape) != len(ref) or any(a != b for i, (a, b) in enumerate(zip(ref, t.shape)) if i != ax):
            raise ValueError(f"Sizes of tensors must match except in dimension {ax}: "
                             f"{' vs '.join(str(list(x.shape)) for x in types)}")
    shape = list(ref)
    shape[ax] = sum(t.shape[ax] for t in types)
    return [TensorType(tuple(shape), d)]


def _concat_vjp(ctx, g):
    ax = norm_axis(ctx.attrs["axis"], len(ctx.in_types[0].shape))
    grads, start = [], 0
    for t, need in zip(ctx.in_types, ctx.needs_input_grad):
        n = t.shape[ax]
        grads.append(slice_(g, (start,), (start + n,), (ax,), (1,)) if need else None)
        start += n
    return tuple(grads)


CONCAT = register(Op(
    "Concat", _infer_concat, lambda *xs, axis: np.concatenate(xs, axis=axis), _concat_vjp,
    attrs={"axis": REQUIRED}, saves=((), ()), grad_name="CatBackward0"))


def _slices(ndim, starts, ends, axes, steps):
    idx = [slice(None)] * ndim
    for s, e, a, st in zip(starts, ends, axes, steps):
        idx[a] = slice(s, e, st)
    return tuple(idx)


def _infer_slice(types, starts, ends, axes, steps):
    (t,) = types
    shape = list(t.shape)
    for s, e, a, st in zip(starts, ends, axes, steps):
        if st == 0:
            raise ValueError("slice step cannot be zero")
        shape[norm_axis(a, len(shape))] = len(range(*slice(s, e, st).indices(shape[a])))
    return [TensorType(tuple(shape), t.dtype)]


def _slice_kernel(x, starts, ends, axes, steps):
    return x[_slices(x.ndim, starts, ends, axes, steps)]


_SLICE_ATTRS = {"starts": REQUIRED, "ends": REQUIRED, "axes": REQUIRED, "steps": REQUIRED}

SLICE = register(Op(
    "Slice", _infer_slice, _slice_kernel,
    lambda ctx, g: (dispatch(SLICE_GRAD, [g], {"shape": ctx.in_types[0].shape, **ctx.attrs}),),
    attrs=dict(_SLICE_ATTRS), saves=((), ()), view=True, grad_name="SliceBackward0"))


def _infer_slice_grad(types, shape, starts, ends, axes, steps):
    (g,) = types
    expect = _infer_slice([TensorType(tuple(shape), g.dtype)], starts, ends, axes, steps)[0]
    if expect.shape != g.shape:
        raise ValueError(f"gradient shape {list(g.shape)} does not match the slice {list(expect.shape)}")
    return [TensorType(tuple(shape), g.dtype)]


def _slice_grad_kernel(g, shape, starts, ends, axes, steps):
    out = np.zeros(shape, g.dtype)
    out[_slices(len(shape), starts, ends, axes, steps)] = g
    return out


SLICE_GRAD = register(Op(
    "graphc.SliceGrad", _infer_slice_grad, _slice_grad_kernel,
    lambda ctx, g: (dispatch(SLICE, [g], {k: ctx.attrs[k] for k in _SLICE_ATTRS}),),
    attrs={"shape": REQUIRED, **_SLICE_ATTRS}, saves=((), ()), grad_name="SliceBackwardBackward0"))


def _infer_tile(types, repeats):
    (t,) = types
    if len(repeats) != len(t.shape):
        raise ValueError(f"repeats {list(repeats)} must have one entry per dim of {list(t.shape)}")
    return [TensorType(tuple(d * r for d, r in zip(t.shape, repeats)), t.dtype)]


def _tile_vjp(ctx, g):
    from .reduce import sum as reduce_sum

    shape = ctx.in_types[0].shape
    reps = ctx.attrs["repeats"]
    split = reshape(g, tuple(x for r, d in zip(reps, shape) for x in (r, d)))
    return (reduce_sum(split, dim=tuple(range(0, 2 * len(shape), 2))),)


TILE = register(Op("Tile", _infer_tile, lambda x, repeats: np.tile(x, repeats), _tile_vjp,
                   attrs={"repeats": REQUIRED}, saves=((), ()), grad_name="RepeatBackward0"))


# ---- front-end functions ---------------------------------------------------------------------

def _size_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _resolve(shape, numel: int) -> tuple[int, ...]:
    """Replace a single -1 by the size that keeps the element count (as PyTorch)."""
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1]))
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    return shape


def reshape(x: Tensor, *shape) -> Tensor:
    return dispatch(RESHAPE, [x], {"shape": _resolve(_size_arg(shape), x.numel())})


def view(x: Tensor, *shape) -> Tensor:
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)):
        return x.to(shape[0])
    shape = _resolve(_size_arg(shape), x.numel())
    v = x._value
    if v is not None and not v.flags.c_contiguous and v.size:
        try:
            np.reshape(v, shape, copy=False)
        except ValueError:
            raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                               "least one dimension spans across two contiguous subspaces). Use "
                               ".reshape(...) instead.") from None
    return dispatch(RESHAPE, [x], {"shape": shape})


def view_as(x: Tensor, other: Tensor) -> Tensor:
    return view(x, tuple(other.shape))


def reshape_as(x: Tensor, other: Tensor) -> Tensor:
    return reshape(x, tuple(other.shape))


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    shape = tuple(x.shape)
    if not shape:
        return reshape(x, (1,))
    s, e = norm_axis(start_dim, len(shape)), norm_axis(end_dim, len(shape))
    return reshape(x, shape[:s] + (int(np.prod(shape[s:e + 1])),) + shape[e + 1:])


def unflatten(x: Tensor, dim: int, sizes) -> Tensor:
    shape = tuple(x.shape)
    d = norm_axis(dim, len(shape))
    return reshape(x, shape[:d] + _resolve(sizes, shape[d]) + shape[d + 1:])


def permute(x: Tensor, *dims) -> Tensor:
    dims = _size_arg(dims)
    return dispatch(TRANSPOSE, [x], {"perm": tuple(norm_axis(d, x.ndim) for d in dims)})


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    n = x.ndim
    perm = list(range(n))
    a, b = norm_axis(dim0, n), norm_axis(dim1, n)
    perm[a], perm[b] = perm[b], perm[a]
    return dispatch(TRANSPOSE, [x], {"perm": tuple(perm)})


def t(x: Tensor) -> Tensor:
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return transpose(x, 0, 1) if x.ndim == 2 else x


def _T(x: Tensor) -> Tensor:
    return permute(x, tuple(range(x.ndim - 1, -1, -1)))


def _mT(x: Tensor) -> Tensor:
    return transpose(x, -2, -1)


def expand(x: Tensor, *sizes) -> Tensor:
    sizes = _size_arg(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or "
                           f"equal to the number of dimensions in the tensor ({x.ndim})")
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    if shape == tuple(x.shape):
        return x
    return dispatch(EXPAND, [x], {"shape": shape})


def expand_as(x: Tensor, other: Tensor) -> Tensor:
    return expand(x, tuple(other.shape))


def broadcast_to(x: Tensor, shape) -> Tensor:
    return expand(x, tuple(shape))


def squeeze(x: Tensor, dim=None) -> Tensor:
    shape = tuple(x.shape)
    axes = norm_axes(dim, len(shape)) if shape else ()
    keep = tuple(d for i, d in enumerate(shape) if not (i in axes and d == 1))
    return reshape(x, keep)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    shape = list(x.shape)
    d = norm_axis(dim, len(shape) + 1)
    shape.insert(d, 1)
    return dispatch(RESHAPE, [x], {"shape": tuple(shape)})


def contiguous(x: Tensor, memory_format=None) -> Tensor:
    v = x._value
    return x if v is None or v.flags.c_contiguous else dispatch(IDENTITY, [x], {})


IDENTITY = register(Op("Identity", lambda types: [types[0]], lambda x: x.copy(), lambda ctx, g: (g,),
                       saves=((), ()), grad_name="CloneBackward0", elementwise=True, expr="{0}"))


def clone(x: Tensor, memory_format=None) -> Tensor:
    return dispatch(IDENTITY, [x], {})


def cat(tensors, dim: int = 0) -> Tensor:
    tensors = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or list(tensors)[:1]
    from .base import as_tensors

    return dispatch(CONCAT, as_tensors(*tensors), {"axis": norm_axis(dim, tensors[0].ndim)})


concat = cat
concatenate = cat


def stack(tensors, dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    d = norm_axis(dim, tensors[0].ndim + 1)
    return cat([unsqueeze(t, d) for t in tensors], d)


def hstack(tensors) -> Tensor:
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    return cat([t if t.ndim > 1 else unsqueeze(t, 0) for t in tensors], 0)


def slice_(x: Tensor, starts, ends, axes, steps) -> Tensor:
    return dispatch(SLICE, [x], {"starts": tuple(starts), "ends": tuple(ends), "axes": tuple(axes),
                                 "steps": tuple(steps)})


def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    d = norm_axis(dim, x.ndim)
    start = start % x.shape[d] if start < 0 else start
    return slice_(x, (start,), (start + length,), (d,), (1,))


def split(x: Tensor, split_size_or_sections, dim: int = 0):
    d = norm_axis(dim, x.ndim)
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        sizes = [min(step, n - s) for s in range(0, n, step)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {d}), but got split_sizes={sizes}")
    out, start = [], 0
    for size in sizes:
        out.append(slice_(x, (start,), (start + size,), (d,), (1,)))
        start += size
    return tuple(out)


def chunk(x: Tensor, chunks: int, dim: int = 0):
    n = x.shape[norm_axis(dim, x.ndim)]
    return split(x, max(1, -(-n // chunks)), dim)


def unbind(x: Tensor, dim: int = 0):
    d = norm_axis(dim, x.ndim)
    return tuple(squeeze(s, d) for s in split(x, 1, d))


def repeat(x: Tensor, *sizes) -> Tensor:
    sizes = _size_arg(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                           "dimensions of tensor")
    x = reshape(x, (1,) * (len(sizes) - x.ndim) + tuple(x.shape))
    return dispatch(TILE, [x], {"repeats": sizes})


def movedim(x: Tensor, source: int, destination: int) -> Tensor:
    n = x.ndim
    perm = [d for d in range(n) if d != norm_axis(source, n)]
    perm.insert(norm_axis(destination, n), norm_axis(source, n))
    return permute(x, perm)


def swapaxes(x: Tensor, a: int, b: int) -> Tensor:
    return transpose(x, a, b)


METHODS = {
    "reshape": reshape, "view": view, "view_as": view_as, "reshape_as": reshape_as,
    "flatten": flatten, "unflatten": unflatten, "permute": permute, "transpose": transpose,
    "t": t, "T": property(_T), "mT": property(_mT), "expand": expand, "expand_as": expand_as,
    "squeeze": squeeze, "unsqueeze": unsqueeze, "contiguous": contiguous, "clone": clone,
    "split": split, "chunk": chunk, "unbind": unbind, "narrow": narrow, "repeat": repeat,
    "movedim": movedim, "swapaxes": swapaxes,
    "broadcast_to": broadcast_to,
}
