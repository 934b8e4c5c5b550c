"""The one table between graphc ops and ONNX ops, in both directions.

A registry op whose name is an ONNX op_type maps one-to-one, attributes passed through, unless
`RULES` has a row for it. A row says which graphc attributes ONNX takes as (constant) inputs,
which ONNX defaults differ from graphc's, and, where one-to-one is not enough, an export or
import function. `IMPORT_ONLY` holds ONNX ops graphc has no op for but can express with its own
(Squeeze as a Reshape, Sum as a chain of Adds, Constant and Shape as initializers).

Export functions take (ctx, node, attrs) and import functions (ctx, node); the contexts are
`export.Emitter` and `load.Importer`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np

from .. import dtypes
from ..ops.base import broadcast_shapes, norm_axes, norm_axis
from .indexing import export_index, export_index_put

INT64 = "int64"
LIKE_INPUT = "like input 0"
INT_MAX = 2**63 - 1


@dataclass(frozen=True)
class AttrInput:
    """A graphc attribute that ONNX passes as the input at `slot` (a constant for graphc)."""

    attr: str
    slot: int
    dtype: str = INT64        # INT64, or LIKE_INPUT: the dtype of the op's first input
    scalar: bool = False      # one number (TopK's k, Clip's min/max), not a list
    since: int = 0            # the first opset that takes an input; earlier: an attribute


@dataclass(frozen=True)
class Rule:
    onnx: str | None = None                       # the ONNX op_type; None: the registry name
    inputs: tuple[AttrInput, ...] = ()
    onnx_defaults: dict[str, Any] = field(default_factory=dict)  # value, or fn(in_types) -> value
    export: Callable | None = None
    import_: Callable | None = None


# ---- export functions ---------------------------------------------------------------------

def _export_reduce(ctx, node, attrs):
    x = node.inputs[0]
    t = ctx.type_of(x)
    if node.op in ("ReduceSum", "ReduceProd") and not t.dtype.is_floating_point and t.dtype is not dtypes.int64:
        x = ctx.emit("Cast", [x], to=dtypes.int64)[0]  # graphc accumulates integers in int64
    axes = attrs["axes"]
    extra = {}
    if axes is None:
        ins = [x]
    elif not axes:
        ins, extra = [x], {"noop_with_empty_axes": 1}
    else:
        ins = [x, ctx.const(np.asarray(axes, np.int64), "axes")]
    ctx.emit(node.op, ins, node.outputs, keepdims=int(attrs["keepdims"]), **extra)


def _export_arg(ctx, node, attrs):
    x, axis, keep = node.inputs[0], attrs["axis"], int(attrs["keepdims"])
    if axis is None:  # graphc: the index into the flattened tensor, a 0-d result
        x = ctx.emit("Reshape", [x, ctx.const(np.asarray([-1], np.int64), "shape")])[0]
        axis, keep = 0, 0
    ctx.emit(node.op, [x], node.outputs, axis=axis, keepdims=keep,
             select_last_index=int(attrs["select_last_index"]))


def _export_flip(ctx, node, attrs):
    axes = np.asarray(attrs["axes"], np.int64)
    n = len(axes)
    ctx.emit("Slice", [node.inputs[0], ctx.const(np.full(n, -1, np.int64), "starts"),
                       ctx.const(np.full(n, -INT_MAX, np.int64), "ends"), ctx.const(axes, "axes"),
                       ctx.const(np.full(n, -1, np.int64), "steps")], node.outputs)


def _export_trunc(ctx, node, attrs):
    x = node.inputs[0]
    zero = ctx.const(np.zeros((), ctx.type_of(x).dtype.np), "zero")
    neg = ctx.emit("Less", [x, zero])[0]
    ctx.emit("Where", [neg, ctx.emit("Ceil", [x])[0], ctx.emit("Floor", [x])[0]], node.outputs)


# ---- import functions ---------------------------------------------------------------------

def _import_reduce(ctx, node):
    x = node.inputs[0]
    since = 13 if node.op_type == "ReduceSum" else 18
    if ctx.opset >= since:
        axes = ctx.const_input(node, 1, "axes", optional=True)
    else:
        axes = ctx.attr(node, "axes", None)
    noop = ctx.attr(node, "noop_with_empty_axes", 0)
    if axes is not None and len(np.ravel(axes)) == 0:
        axes = None
    if axes is None:
        axes = () if noop else None
    else:
        axes = tuple(int(a) for a in np.ravel(axes))
    keep = bool(ctx.attr(node, "keepdims", 1))
    t = ctx.type_of(x)
    widen = node.op_type in ("ReduceSum", "ReduceProd") and not t.dtype.is_floating_point
    out = ctx.add(node.op_type, [x], {"axes": axes, "keepdims": keep},
                  None if widen and t.dtype is not dtypes.int64 else node.outputs)
    if widen and t.dtype is not dtypes.int64:  # ONNX keeps the input's integer type
        ctx.add("Cast", out, {"to": t.dtype}, node.outputs)


def _import_arg(ctx, node):
    ctx.add(node.op_type, node.inputs[:1], {"axis": ctx.attr(node, "axis", 0),
                                            "keepdims": bool(ctx.attr(node, "keepdims", 1)),
                                            "select_last_index": bool(ctx.attr(node, "select_last_index", 0))},
            node.outputs)


def _import_gemm(ctx, node):
    ins = list(node.inputs)
    if len(ins) < 3 or not ins[2]:
        ins = ins[:2] + [ctx.add_const(np.zeros((), ctx.type_of(ins[0]).dtype.np), "c")]
    ctx.add("Gemm", ins, ctx.attrs_of(node, "Gemm"), node.outputs)


def _import_reshape(ctx, node):
    x = node.inputs[0]
    shape = [int(s) for s in ctx.const_input(node, 1, "shape")]
    in_shape = ctx.type_of(x).shape
    if not ctx.attr(node, "allowzero", 0):
        shape = [in_shape[i] if s == 0 else s for i, s in enumerate(shape)]
    if shape.count(-1) == 1:
        known = int(np.prod([s for s in shape if s != -1]))
        shape[shape.index(-1)] = int(np.prod(in_shape)) // known if known else 0
    ctx.add("Reshape", [x], {"shape": tuple(shape)}, node.outputs)


def _reshape_to(ctx, node, shape):
    ctx.add("Reshape", node.inputs[:1], {"shape": tuple(int(s) for s in shape)}, node.outputs)


def _import_squeeze(ctx, node):
    shape = ctx.type_of(node.inputs[0]).shape
    axes = ctx.const_input(node, 1, "axes", optional=True)
    if axes is None:
        axes = [i for i, d in enumerate(shape) if d == 1]
    axes = norm_axes([int(a) for a in np.ravel(axes)], len(shape), "Squeeze")
    for a in axes:
        if shape[a] != 1:
            raise ctx.error(node, f"cannot squeeze axis {a} of size {shape[a]}")
    _reshape_to(ctx, node, [d for i, d in enumerate(shape) if i not in axes])


def _import_unsqueeze(ctx, node):
    shape = list(ctx.type_of(node.inputs[0]).shape)
    axes = [int(a) for a in np.ravel(ctx.const_input(node, 1, "axes"))]
    rank = len(shape) + len(axes)
    for a in sorted(norm_axis(a, rank, "Unsqueeze") for a in axes):
        shape.insert(a, 1)
    _reshape_to(ctx, node, shape)


def _import_flatten(ctx, node):
    shape = ctx.type_of(node.inputs[0]).shape
    axis = ctx.attr(node, "axis", 1)
    axis = axis + len(shape) if axis < 0 else axis  # ONNX's range is [-rank, rank]
    _reshape_to(ctx, node, [int(np.prod(shape[:axis])), int(np.prod(shape[axis:]))])


def _import_expand(ctx, node):
    x = node.inputs[0]
    target = tuple(int(s) for s in ctx.const_input(node, 1, "shape"))
    try:  # ONNX broadcasts both ways: the result may be larger than `shape`
        shape = broadcast_shapes(ctx.type_of(x).shape, target)
    except ValueError as exc:
        raise ctx.error(node, str(exc)) from None
    ctx.add("Expand", [x], {"shape": shape}, node.outputs)


def _import_slice(ctx, node):
    x = node.inputs[0]
    rank = len(ctx.type_of(x).shape)
    starts = [int(v) for v in ctx.const_input(node, 1, "starts")]
    ends = [int(v) for v in ctx.const_input(node, 2, "ends")]
    axes = ctx.const_input(node, 3, "axes", optional=True)
    steps = ctx.const_input(node, 4, "steps", optional=True)
    axes = list(range(len(starts))) if axes is None else [norm_axis(int(a), rank, "Slice") for a in axes]
    steps = [1] * len(starts) if steps is None else [int(s) for s in steps]
    ctx.add("Slice", [x], {"starts": tuple(starts), "ends": tuple(ends), "axes": tuple(axes),
                           "steps": tuple(steps)}, node.outputs)


def _import_chain(op, mean=False):
    """ONNX's variadic Sum/Max/Min/Mean as a chain of graphc's binary ops."""

    def rule(ctx, node):
        ins = list(node.inputs)
        if len(ins) == 1 and not mean:
            ctx.add("Identity", ins, {}, node.outputs)
            return
        acc = ins[0]
        for i, v in enumerate(ins[1:], 2):
            last = i == len(ins) and not mean
            acc = ctx.add(op, [acc, v], {}, node.outputs if last else None)[0]
        if mean:
            n = ctx.add_const(np.asarray(len(ins), ctx.type_of(acc).dtype.np), "count")
            ctx.add("Div", [acc, n], {}, node.outputs)

    return rule


def _import_pow(ctx, node):
    x, y = node.inputs
    tx, ty = ctx.type_of(x), ctx.type_of(y)
    if tx.dtype is ty.dtype:
        ctx.add("Pow", [x, y], {}, node.outputs)
    elif tx.dtype.is_floating_point:
        ctx.add("Pow", [x, ctx.add("Cast", [y], {"to": tx.dtype})[0]], {}, node.outputs)
    else:  # integer base: compute in float64, the result keeps the base's type
        f = [ctx.add("Cast", [v], {"to": dtypes.float64})[0] for v in (x, y)]
        ctx.add("Cast", ctx.add("Pow", f, {}), {"to": tx.dtype}, node.outputs)


def _import_int64_index(op, slot):
    """Gather-like ops: ONNX allows int32 indices, graphc's take int64."""

    def rule(ctx, node):
        ins = list(node.inputs)
        if ctx.type_of(ins[slot]).dtype is not dtypes.int64:
            ins[slot] = ctx.add("Cast", [ins[slot]], {"to": dtypes.int64})[0]
        ctx.add(op, ins, ctx.attrs_of(node, op), node.outputs)

    return rule


def _import_constant(ctx, node):
    a = node.attribute
    if len(a) != 1:
        raise ctx.error(node, "a Constant needs exactly one value attribute")
    value = ctx.attr(node, a[0].name, None)
    if a[0].name in ("sparse_value",):
        raise ctx.error(node, "sparse constants are not supported")
    dtype = {"value_float": np.float32, "value_floats": np.float32, "value_int": np.int64,
             "value_ints": np.int64}.get(a[0].name)
    if a[0].name in ("value_string", "value_strings"):
        raise ctx.error(node, "string constants are not supported")
    ctx.add_const(np.asarray(value, dtype), node.outputs[0], exact=True)


def _import_shape(ctx, node):
    shape = ctx.type_of(node.inputs[0]).shape
    start, end = ctx.attr(node, "start", 0), ctx.attr(node, "end", None)
    ctx.add_const(np.asarray(shape[slice(start, end)], np.int64), node.outputs[0], exact=True)


def _import_size(ctx, node):
    ctx.add_const(np.asarray(ctx.type_of(node.inputs[0]).numel, np.int64), node.outputs[0], exact=True)


def _import_constant_of_shape(ctx, node):
    shape = [int(s) for s in ctx.const_input(node, 0, "shape")]
    value = ctx.attr(node, "value", None)
    fill = np.zeros(1, np.float32) if value is None else np.asarray(value).reshape(-1)
    ctx.add_const(np.full(shape, fill[0], fill.dtype), node.outputs[0], exact=True)


def _import_pad(ctx, node):
    x = node.inputs[0]
    rank = len(ctx.type_of(x).shape)
    pads = [int(p) for p in ctx.const_input(node, 1, "pads")]
    value = ctx.const_input(node, 2, "constant_value", optional=True)
    axes = ctx.const_input(node, 3, "axes", optional=True)
    if axes is not None:  # pads for the listed axes only: spread them over every axis
        full = [0] * (2 * rank)
        for i, a in enumerate(norm_axis(int(a), rank, "Pad") for a in axes):
            full[a], full[a + rank] = pads[i], pads[i + len(axes)]
        pads = full
    attrs = {"pads": tuple(pads), "mode": ctx.attr(node, "mode", "constant")}
    if value is not None:
        attrs["value"] = np.ravel(value)[0].item()
    ctx.add("Pad", [x], attrs, node.outputs)


def _without(node, *names):
    """The node with attributes `names` removed (an import rule has dealt with them)."""
    return replace(node, attribute=[a for a in node.attribute if a.name not in names])


def _explicit_pads(ctx, node, spatial, kernel, strides, dilations):
    """ONNX's auto_pad as explicit pads for the static input size, or None for NOTSET (then the
    `pads` attribute holds). SAME_UPPER puts an odd pad's extra element at the end."""
    mode = ctx.attr(node, "auto_pad", "NOTSET")
    nd = len(spatial)
    if mode == "NOTSET":
        return None
    if mode == "VALID":
        return (0,) * (2 * nd)
    if mode not in ("SAME_UPPER", "SAME_LOWER"):
        raise ctx.error(node, f"auto_pad={mode!r} is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID")
    begin, end = [], []
    for n, k, s, d in zip(spatial, kernel, strides, dilations):
        total = max(0, (-(-n // s) - 1) * s + (k - 1) * d + 1 - n)
        small, big = total // 2, total - total // 2
        begin.append(small if mode == "SAME_UPPER" else big)
        end.append(big if mode == "SAME_UPPER" else small)
    return tuple(begin + end)


def _window_attrs(ctx, node, kernel):
    """(spatial size, kernel, strides, dilations, pads) of a Conv or pooling node."""
    spatial = tuple(ctx.type_of(node.inputs[0]).shape[2:])
    nd = len(kernel)
    strides = tuple(ctx.attr(node, "strides", None) or (1,) * nd)
    dilations = tuple(ctx.attr(node, "dilations", None) or (1,) * nd)
    pads = _explicit_pads(ctx, node, spatial, kernel, strides, dilations)
    if pads is None:
        pads = tuple(ctx.attr(node, "pads", None) or (0,) * (2 * nd))
    return spatial, tuple(kernel), strides, dilations, pads


def _import_conv(ctx, node):
    kernel = ctx.type_of(node.inputs[1]).shape[2:]
    *_, pads = _window_attrs(ctx, node, kernel)
    attrs = ctx.attrs_of(_without(node, "auto_pad"), "Conv")
    attrs["pads"] = pads
    ctx.add("Conv", [v for v in node.inputs if v], attrs, node.outputs)


def _import_max_pool(ctx, node):
    """Integer inputs pool in float64 (exact for ONNX's int8/uint8); storage_order=1 (column-major
    Indices) maps graphc's row-major Indices through a constant table."""
    kernel = ctx.attr(node, "kernel_shape", None)
    if kernel is None:
        raise ctx.error(node, "missing attribute 'kernel_shape'")
    *_, pads = _window_attrs(ctx, node, kernel)
    attrs = ctx.attrs_of(_without(node, "auto_pad", "storage_order"), "MaxPool")
    attrs["pads"] = pads
    x = node.inputs[0]
    t = ctx.type_of(x)
    outs = list(node.outputs) + [""] * (2 - len(node.outputs))
    column_major = bool(ctx.attr(node, "storage_order", 0)) and outs[1]
    if t.dtype.is_floating_point:
        y, idx = ctx.add("MaxPool", [x], attrs, [outs[0], "" if column_major else outs[1]])
    else:
        y, idx = ctx.add("MaxPool", ctx.add("Cast", [x], {"to": dtypes.float64}), attrs,
                         ["", "" if column_major else outs[1]])
        ctx.add("Cast", [y], {"to": t.dtype}, outs[:1])
    if column_major:
        plane = int(np.prod(t.shape[2:], dtype=np.int64))
        within = np.arange(plane, dtype=np.int64).reshape(t.shape[2:]).reshape(-1, order="F")
        order = np.empty(plane, np.int64)
        order[within] = np.arange(plane)  # row-major position -> column-major position
        table = (np.arange(t.shape[0] * t.shape[1], dtype=np.int64)[:, None] * plane + order).reshape(-1)
        ctx.add("Gather", [ctx.add_const(table, "storage_order"), idx], {"axis": 0}, outs[1:])


def _import_average_pool(ctx, node):
    """Dilated windows become a depthwise Conv with a ones kernel (the ceil_mode overhang as
    extra end padding) divided by each window's count: graphc's AveragePool has no dilations."""
    kernel = ctx.attr(node, "kernel_shape", None)
    if kernel is None:
        raise ctx.error(node, "missing attribute 'kernel_shape'")
    spatial, kernel, strides, dilations, pads = _window_attrs(ctx, node, kernel)
    if set(dilations) == {1}:
        attrs = ctx.attrs_of(_without(node, "auto_pad", "dilations"), "AveragePool")
        attrs["pads"] = pads
        ctx.add("AveragePool", node.inputs[:1], attrs, node.outputs)
        return
    from ..ops._window import _out_len

    x = node.inputs[0]
    t = ctx.type_of(x)
    nd, ceil = len(kernel), bool(ctx.attr(node, "ceil_mode", 0))
    include_pad = bool(ctx.attr(node, "count_include_pad", 0))
    begin, end = pads[:nd], pads[nd:]
    out = [_out_len(n, k, s, b, e, d, ceil) for n, k, s, b, e, d in zip(spatial, kernel, strides, begin, end, dilations)]
    extra = [max(0, (o - 1) * s + (k - 1) * d + 1 - (n + b + e))
             for o, s, k, d, n, b, e in zip(out, strides, kernel, dilations, spatial, begin, end)]
    divisor = np.ones((), np.int64)
    for o, s, k, d, n, b, e in zip(out, strides, kernel, dilations, spatial, begin, end):
        taps = np.arange(o)[:, None] * s - b + np.arange(k) * d
        lo, hi = (-b, n + e) if include_pad else (0, n)
        divisor = divisor[..., None] * ((taps >= lo) & (taps < hi)).sum(1)
    weight = ctx.add_const(np.ones((t.shape[1], 1) + kernel, t.dtype.np), "ones")
    total = ctx.add("Conv", [x, weight], {"kernel_shape": kernel, "strides": strides, "dilations": dilations,
                                         "pads": tuple(begin) + tuple(e + x_ for e, x_ in zip(end, extra)),
                                         "group": t.shape[1]})
    count = ctx.add_const(np.maximum(divisor, 1).astype(t.dtype.np), "count")
    ctx.add("Div", [total[0], count], {}, node.outputs)


def _export_batch_norm(ctx, node, attrs):
    """ONNX's inference BatchNormalization has one output; graphc's eval mode passes the
    statistics through, so those become Identities. Training mode differs (graphc returns the
    batch statistics, ONNX the updated running ones) and is refused."""
    if attrs["training_mode"]:
        raise ctx.error(node, "training-mode BatchNormalization exports only as part of a training "
                              "graph; export the model in eval mode")
    ctx.emit("BatchNormalization", node.inputs, node.outputs[:1], epsilon=attrs["epsilon"])
    for src, out in zip(node.inputs[3:5], node.outputs[1:]):
        ctx.emit("Identity", [src], [out])


def _import_batch_norm(ctx, node):
    training = bool(ctx.attr(node, "training_mode", 0))
    eps = ctx.attr(node, "epsilon", 1e-5)
    outs = list(node.outputs)
    if not training:
        ctx.add("BatchNormalization", node.inputs, {"epsilon": eps, "training_mode": 0}, outs[:1])
        return
    # ONNX returns running stats: input * momentum + batch * (1 - momentum), biased variance
    y, mean, var = ctx.add("BatchNormalization", node.inputs, {"epsilon": eps, "training_mode": 1},
                           outs[:1])
    x = ctx.type_of(node.inputs[0])
    count = x.numel // max(x.shape[1], 1)
    m = ctx.attr(node, "momentum", 0.9)
    d = x.dtype.np
    for stat, running, out, k in ((mean, node.inputs[3], outs[1:2], 1.0),
                                  (var, node.inputs[4], outs[2:3], (count - 1) / count)):
        if out and out[0]:
            kept = ctx.add("Mul", [running, ctx.add_const(np.asarray(m, d), "momentum")], {})[0]
            new = ctx.add("Mul", [stat, ctx.add_const(np.asarray((1 - m) * k, d), "k")], {})[0]
            ctx.add("Add", [kept, new], {}, out)


def _import_cast_like(ctx, node):
    ctx.add("Cast", node.inputs[:1], {"to": ctx.type_of(node.inputs[1]).dtype}, node.outputs)


def _import_cast(ctx, node):
    to = ctx.dtype_attr(node, "to")
    ctx.add("Cast", node.inputs[:1], {"to": to}, node.outputs)


def _import_dropout(ctx, node):
    """Inference-mode Dropout (the default) is the identity, and its mask all true."""
    training = ctx.const_input(node, 2, "training_mode", optional=True)
    if training is not None and bool(np.ravel(training)[0]):
        raise ctx.error(node, "training-mode Dropout (random) is not supported on import")
    ctx.add("Identity", node.inputs[:1], {}, node.outputs[:1])
    if len(node.outputs) > 1 and node.outputs[1]:
        t = ctx.type_of(node.inputs[0])
        ctx.add_const(np.ones(t.shape, np.bool_), node.outputs[1], exact=True)


_REDUCE = Rule(export=_export_reduce, import_=_import_reduce)
_ARG = Rule(export=_export_arg, import_=_import_arg)

RULES: dict[str, Rule] = {
    "Reshape": Rule(inputs=(AttrInput("shape", 1),), import_=_import_reshape),
    "Expand": Rule(inputs=(AttrInput("shape", 1),), import_=_import_expand),
    "Tile": Rule(inputs=(AttrInput("repeats", 1),)),
    "CumSum": Rule(inputs=(AttrInput("axis", 1, scalar=True),)),
    "Slice": Rule(inputs=(AttrInput("starts", 1), AttrInput("ends", 2), AttrInput("axes", 3),
                          AttrInput("steps", 4)), import_=_import_slice),
    "Clip": Rule(inputs=(AttrInput("min", 1, LIKE_INPUT, scalar=True),
                         AttrInput("max", 2, LIKE_INPUT, scalar=True))),
    "TopK": Rule(inputs=(AttrInput("k", 1, scalar=True),)),
    "Trilu": Rule(inputs=(AttrInput("k", 1, scalar=True),)),
    "Transpose": Rule(onnx_defaults={"perm": lambda types: tuple(reversed(range(len(types[0].shape))))}),
    "Gemm": Rule(import_=_import_gemm),
    "Pow": Rule(import_=_import_pow),
    "Cast": Rule(import_=_import_cast),
    "Gather": Rule(import_=_import_int64_index("Gather", 1)),
    "GatherElements": Rule(import_=_import_int64_index("GatherElements", 1)),
    "ScatterElements": Rule(import_=_import_int64_index("ScatterElements", 1)),
    "Max": Rule(import_=_import_chain("Max")),
    "Min": Rule(import_=_import_chain("Min")),
    "ReduceSum": _REDUCE, "ReduceMean": _REDUCE, "ReduceMax": _REDUCE, "ReduceMin": _REDUCE,
    "ReduceProd": _REDUCE,
    "ArgMax": _ARG, "ArgMin": _ARG,
    "Pad": Rule(inputs=(AttrInput("pads", 1), AttrInput("value", 2, LIKE_INPUT, scalar=True)),
                import_=_import_pad),
    "BatchNormalization": Rule(export=_export_batch_norm, import_=_import_batch_norm),
    "Conv": Rule(import_=_import_conv),
    "MaxPool": Rule(import_=_import_max_pool),
    "AveragePool": Rule(import_=_import_average_pool),
    "graphc.Flip": Rule(export=_export_flip),
    "graphc.Trunc": Rule(export=_export_trunc),
    "graphc.Index": Rule(export=export_index),
    "graphc.IndexPut": Rule(export=export_index_put),
}

# ONNX ops imported as other graphc ops; these win over a registry op of the same name (an
# inference-mode Dropout is the identity whatever graphc's training Dropout does).
IMPORT_ONLY: dict[str, Callable] = {
    "Squeeze": _import_squeeze,
    "Unsqueeze": _import_unsqueeze,
    "Flatten": _import_flatten,
    "Sum": _import_chain("Add"),
    "Mean": _import_chain("Add", mean=True),
    "Constant": _import_constant,
    "Shape": _import_shape,
    "Size": _import_size,
    "ConstantOfShape": _import_constant_of_shape,
    "CastLike": _import_cast_like,
    "Dropout": _import_dropout,
}


# ONNX ops whose import rule reads every version since opset 7 as well (an inference Dropout is the
# identity whatever its ratio attribute or input says), so older models with them are accepted
ANY_VERSION = frozenset({"Dropout"})


def rule_for(op: str) -> Rule:
    """The row for a graphc op (the one-to-one default when the table has none)."""
    return RULES.get(op) or _DEFAULT


_DEFAULT = Rule()


def onnx_name(op: str) -> str | None:
    """The ONNX op_type a graphc op exports as (None: graphc-only, no export rule)."""
    rule = rule_for(op)
    if rule.onnx:
        return rule.onnx
    return None if op.startswith("graphc.") and rule.export is None else op


def import_table(registry) -> dict[str, tuple[str | None, Rule | Callable]]:
    """ONNX op_type -> (graphc op name, its Rule) or (None, import function)."""
    table: dict[str, Any] = {}
    for name in registry:
        if name.startswith("graphc."):
            continue
        rule = rule_for(name)
        table[rule.onnx or name] = (name, rule)
    table.update((op_type, (None, fn)) for op_type, fn in IMPORT_ONLY.items())
    return table
