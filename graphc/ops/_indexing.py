"""What the indexing families (index.py, gather.py) share: index specs as NumPy sees them (the
NumPy index a spec selects, the shape it yields, the grad_fn name of one step; also used by the
ONNX exporter, graphc/onnx/indexing.py), indices given as lists or arrays as int64/bool tensors,
and `_index_add`, the vectorised segment sum behind IndexGrad and GatherGrad.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..tensor import Tensor
from .base import broadcast_shapes

_ALL = slice(None)


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
