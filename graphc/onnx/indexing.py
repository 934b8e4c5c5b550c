"""Export of `x[idx]` (graphc.Index) and `x[idx] = v` (graphc.IndexPut) as ONNX ops.

An Index spec (see graphc/ops/index.py) applies in two stages, and so does its export: the
ints and slices are one Slice, and a Reshape then drops the ints' dims and adds the Nones'; the
tensor entries are then one Gather (a single index tensor, whose dims NumPy and ONNX both put in
its place) or a Transpose + GatherND (several: their broadcast dims go first, and move back to
the first entry's place when the entries are adjacent). IndexPut scatters into the flattened
input: the flat positions `x[idx]` selects are `iota[idx]` for iota = arange(x.numel) in x's
shape (a constant when idx has no tensors), and one ScatterND writes the broadcast value there.
Boolean masks select a data-dependent number of elements and are refused.
"""
from __future__ import annotations

import numpy as np

from ..ops.base import broadcast_shapes
from ..ops._indexing import _index_shape
from ..ops.index import _index_kernel, _strip_ones

INT64 = np.int64


def export_index(ctx, node, attrs):
    x, tensors = node.inputs[0], node.inputs[1:]
    shape = ctx.type_of(x).shape
    out = _emit_index(ctx, node, x, shape, attrs["spec"], tensors)
    _finish(ctx, out, node.outputs[0])


def export_index_put(ctx, node, attrs):
    x, v, tensors = node.inputs[0], node.inputs[1], node.inputs[2:]
    spec = attrs["spec"]
    _refuse_masks(ctx, node, spec)
    shape = tuple(ctx.type_of(x).shape)
    numel = int(np.prod(shape, dtype=np.int64))
    iota = np.arange(numel, dtype=INT64).reshape(shape)
    if tensors:
        target = _index_shape(shape, spec, [ctx.type_of(t) for t in tensors])
        positions = _emit_index(ctx, node, ctx.const(iota, "positions"), shape, spec, tensors)
        indices = _reshape(ctx, positions, target + (1,))
    else:
        flat = _index_kernel(iota, spec=spec)
        target = flat.shape
        indices = ctx.const(flat.reshape(target + (1,)), "indices")
    vshape = tuple(ctx.type_of(v).shape)
    stripped = _strip_ones(vshape, len(target))
    if stripped != vshape:
        v = _reshape(ctx, v, stripped)
    if stripped != tuple(target):
        v = ctx.emit("Expand", [v, ctx.const(np.asarray(target, INT64), "shape")])[0]
    data = _reshape(ctx, x, (numel,))
    scattered = ctx.emit("ScatterND", [data, indices, v])[0]
    ctx.emit("Reshape", [scattered, ctx.const(np.asarray(shape, INT64), "shape")], node.outputs)


def _refuse_masks(ctx, node, spec):
    if any(e[0] == "mask" for e in spec):
        raise ctx.error(node, "indexing with a boolean mask (x[mask]) selects a data-dependent number "
                              "of elements; graphc does not export it to ONNX (use torch.where or "
                              "an index tensor instead)")


def _emit_index(ctx, node, x: str, shape, spec, tensors) -> str:
    """The value of x[spec] (x of `shape`), built from Slice, Reshape, Gather/GatherND."""
    _refuse_masks(ctx, node, spec)
    shape = tuple(shape)
    starts, ends, axes, steps = [], [], [], []
    sliced = list(shape)      # x's shape after the Slice
    y_shape = []              # ... and after the Reshape (the basic stage's result)
    advanced = []             # (dim of y, index value, its shape)
    dim = 0
    for e in spec:
        kind = e[0]
        if kind in ("slice", "int"):
            start, stop, step = e[1:] if kind == "slice" else (e[1], e[1] + 1, 1)
            if (start, stop, step) != (0, shape[dim], 1):
                starts.append(start)
                ends.append(stop)
                axes.append(dim)
                steps.append(step)
                sliced[dim] = len(range(start, stop, step))
            if kind == "slice":
                y_shape.append(sliced[dim])
            dim += 1
        elif kind == "none":
            y_shape.append(1)
        elif kind == "bool":  # True: index [0] of a new size-1 dim; False: an empty index
            n = int(e[1])
            advanced.append((len(y_shape), ctx.const(np.zeros(n, INT64), "index"), (n,)))
            y_shape.append(1)
        else:
            t = tensors[e[1]]
            advanced.append((len(y_shape), t, tuple(ctx.type_of(t).shape)))
            y_shape.append(shape[dim])
            dim += 1
    y_shape += shape[dim:]
    y = x
    if axes:
        y = ctx.emit("Slice", [x, *(ctx.const(np.asarray(a, INT64), name) for a, name in
                                    ((starts, "starts"), (ends, "ends"), (axes, "axes"), (steps, "steps")))])[0]
    if tuple(y_shape) != tuple(sliced):
        y = _reshape(ctx, y, y_shape)
    if not advanced:
        return y
    if len(advanced) == 1:
        pos, index, _ = advanced[0]
        return ctx.emit("Gather", [y, index], axis=pos)[0]
    return _gather_nd(ctx, y, len(y_shape), advanced)


def _gather_nd(ctx, y: str, rank: int, advanced) -> str:
    """y[..., i1, ..., ik, ...] for several index tensors, NumPy's rule for where dims go."""
    dims = [pos for pos, _, _ in advanced]
    kept = [d for d in range(rank) if d not in dims]
    if dims + kept != list(range(rank)):
        y = ctx.emit("Transpose", [y], perm=tuple(dims + kept))[0]
    batch = broadcast_shapes(*(s for _, _, s in advanced))
    last = ctx.const(np.asarray([-1], INT64), "axes")
    columns = []
    for _, index, s in advanced:
        if tuple(s) != tuple(batch):
            index = ctx.emit("Expand", [index, ctx.const(np.asarray(batch, INT64), "shape")])[0]
        columns.append(ctx.emit("Unsqueeze", [index, last])[0])
    out = ctx.emit("GatherND", [y, ctx.emit("Concat", columns, axis=-1)[0]])[0]
    first, nb = dims[0], len(batch)
    if dims == list(range(first, first + len(dims))) and first > 0:  # adjacent: dims go in place
        perm = [nb + i for i in range(first)] + list(range(nb)) + [nb + i for i in range(first, len(kept))]
        out = ctx.emit("Transpose", [out], perm=tuple(perm))[0]
    return out


def _reshape(ctx, x: str, shape) -> str:
    return ctx.emit("Reshape", [x, ctx.const(np.asarray(shape, INT64), "shape")])[0]


def _finish(ctx, value: str, out: str) -> None:
    """Make `out` the name of `value`: rename the node that just made it, or copy the input."""
    last = ctx.nodes[-1] if ctx.nodes else None
    if last is not None and list(last.output) == [value]:
        last.output[0] = out
        last.name = out
    else:
        ctx.emit("Identity", [value], [out])
