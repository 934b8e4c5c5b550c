"""Rearranging and order statistics written with graphc ops: roll, tile, repeat_interleave,
meshgrid, median, mode, unique.

roll/tile/repeat_interleave/meshgrid/median are compositions (slices, concat, expand, sort), so
they differentiate and trace. unique and the index choice of mode depend on the data: they run
eagerly on the concrete values (as PyTorch's own unique, whose output size is data-dependent).
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import dtypes
from ..tensor import Tensor
from .base import norm_axis, scalar_tensor
from .gather import gather, index_select
from .sort import sort
from .reduce import values_indices
from .shape import cat, expand, narrow, repeat, reshape, squeeze, unsqueeze

__all__ = ["roll", "tile", "repeat_interleave", "meshgrid", "median", "mode", "unique",
           "unique_consecutive", "cartesian_prod"]


def _ints(value) -> tuple[int, ...]:
    if isinstance(value, Tensor):
        value = value.tolist()
    return (int(value),) if isinstance(value, (int, np.integer)) else tuple(int(v) for v in value)


def _const(array: np.ndarray) -> Tensor:
    return scalar_tensor(array, dtypes.from_numpy(array.dtype))


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    if dims is None:
        return reshape(roll(reshape(input, (-1,)), shifts, 0), tuple(input.shape))
    shifts, dims = _ints(shifts), _ints(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    x = input
    for s, d in zip(shifts, dims):
        d = norm_axis(d, x.ndim, "roll")
        n = x.shape[d]
        s = s % n if n else 0
        if s:
            x = cat([narrow(x, d, n - s, s), narrow(x, d, 0, n - s)], d)
    return x


def tile(input: Tensor, dims) -> Tensor:
    dims = _ints(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None) -> Tensor:
    """Each element (slice along dim) repeated; repeats is an int or one count per element."""
    if repeats is None:  # repeat_interleave(counts): 0, 1, ... each repeated counts[i] times
        counts = input._concrete("repeat_interleave").astype(np.int64)
        return _const(np.repeat(np.arange(len(counts), dtype=np.int64), counts))
    x = input
    if dim is None:
        x, dim = reshape(x, (-1,)), 0
    d = norm_axis(dim, x.ndim, "repeat_interleave")
    if isinstance(repeats, Tensor) and repeats.numel() != 1:
        counts = repeats._concrete("repeat_interleave").astype(np.int64)
        if counts.shape != (x.shape[d],):
            raise RuntimeError("repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {counts.size} and input.size({d}) = {x.shape[d]}")
        return index_select(x, d, _const(np.repeat(np.arange(x.shape[d], dtype=np.int64), counts)))
    r = int(repeats.item() if isinstance(repeats, Tensor) else repeats)
    shape = tuple(x.shape)
    wide = expand(unsqueeze(x, d + 1), shape[:d + 1] + (r,) + shape[d + 1:])
    return reshape(wide, shape[:d] + (shape[d] * r,) + shape[d + 1:])


def meshgrid(*tensors, indexing: str | None = None):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
                      "argument.", stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    flat = [reshape(t, (-1,)) for t in tensors]
    swap = indexing == "xy" and len(flat) >= 2
    if swap:
        flat[0], flat[1] = flat[1], flat[0]
    shape = tuple(t.shape[0] for t in flat)
    grids = []
    for i, t in enumerate(flat):
        view = reshape(t, tuple(n if j == i else 1 for j, n in enumerate(shape)))
        grids.append(expand(view, shape))
    if swap:  # 'xy': the first two inputs swap roles, the outputs keep the inputs' order
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors) -> Tensor:
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return cat([reshape(g, (-1, 1)) for g in grids], 1)


median_result = values_indices("median")
mode_result = values_indices("mode")


def median(input: Tensor, dim=None, keepdim: bool = False):
    """The lower of the two middle values (no averaging), as PyTorch; a sort, so it differentiates."""
    if dim is None:
        flat = reshape(input, (-1,))
        return squeeze(narrow(sort(flat).values, 0, (flat.shape[0] - 1) // 2, 1), 0)
    d = norm_axis(dim, input.ndim, "median")
    values, indices = sort(input, d)
    k = (input.shape[d] - 1) // 2 if input.ndim else 0
    values, indices = narrow(values, d, k, 1), narrow(indices, d, k, 1)
    if not keepdim:
        values, indices = squeeze(values, d), squeeze(indices, d)
    return median_result(values, indices)


def _mode_index(v: np.ndarray) -> np.ndarray:
    """Along the last axis: the last position of the most frequent value (the smallest of equally
    frequent ones), which is PyTorch's choice."""
    counts = (v[..., :, None] == v[..., None, :]).sum(-1)
    candidates = counts == counts.max(-1, keepdims=True)
    top = np.iinfo(v.dtype).max if v.dtype.kind in "iu" else (True if v.dtype.kind == "b" else np.inf)
    value = np.min(v, axis=-1, keepdims=True, where=candidates, initial=top)
    n = v.shape[-1]
    return (n - 1 - np.argmax(np.flip(v == value, -1), -1, keepdims=True)).astype(np.int64)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False):
    x = input if input.ndim else reshape(input, (1,))
    d = norm_axis(dim, x.ndim, "mode")
    v = np.moveaxis(x._concrete("mode"), d, -1)
    index = _const(np.ascontiguousarray(np.moveaxis(_mode_index(v), -1, d)))
    values = gather(x, d, index)
    if not keepdim or not input.ndim:
        values, index = squeeze(values, d), squeeze(index, d)
    return mode_result(values, index)


def _unique_outputs(values, inverse, counts, return_inverse, return_counts, shape):
    out = [_const(values)]
    if return_inverse:
        out.append(_const(inverse.reshape(shape).astype(np.int64)))
    if return_counts:
        out.append(_const(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
           dim: int | None = None):
    """Sorted distinct values (or slices along dim), with the inverse map and counts; eager only."""
    v = input._concrete("unique")
    if dim is None:
        values, inverse, counts = np.unique(v, return_inverse=True, return_counts=True)
        return _unique_outputs(values, inverse, counts, return_inverse, return_counts, v.shape)
    d = norm_axis(dim, input.ndim, "unique")
    values, inverse, counts = np.unique(v, return_inverse=True, return_counts=True, axis=d)
    return _unique_outputs(values, inverse, counts, return_inverse, return_counts, (v.shape[d],))


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None):
    v = input._concrete("unique_consecutive")
    d = 0 if dim is None else norm_axis(dim, input.ndim, "unique_consecutive")
    w = v.reshape(-1) if dim is None else np.moveaxis(v, d, 0)
    if w.shape[0] == 0:
        starts = np.zeros(0, dtype=bool)
    else:
        change = (w[1:] != w[:-1]).reshape(w.shape[0] - 1, -1).any(1)
        starts = np.concatenate([[True], change])
    values = w[starts] if dim is None else np.moveaxis(w[starts], 0, d)
    inverse = np.cumsum(starts) - 1
    counts = np.diff(np.append(np.flatnonzero(starts), w.shape[0]))
    shape = v.shape if dim is None else (v.shape[d],)
    return _unique_outputs(np.ascontiguousarray(values), inverse, counts, return_inverse, return_counts, shape)


METHODS = {
    "roll": roll, "tile": tile, "repeat_interleave": repeat_interleave, "median": median,
    "mode": mode, "unique": unique, "unique_consecutive": unique_consecutive,
}
