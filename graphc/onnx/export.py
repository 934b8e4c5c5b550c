"""Export a graphc forward graph as an ONNX model that ONNX Runtime and other consumers run.

Nodes map through `mapping`: one-to-one where ONNX has the op (attributes that ONNX takes as
inputs become initializers), decomposed where a row says how, refused otherwise.
"""
from __future__ import annotations

import os

import numpy as np

from .. import dtypes
from ..ir import Graph
from ..ops.registry import REGISTRY
from . import mapping
from ._proto import OnnxError, onnx, to_onnx_dtype

OPSET = 18
IR_VERSION = 8


def export(target, *args, opset: int = OPSET, check: bool = True, f=None, input_names=None,
           output_names=None, dynamic_axes=None, opset_version: int | None = None, **unused):
    """Write (when a path is given) and return the ONNX ModelProto of `target`'s forward graph.

    graphc's form: ``export(target, path=None, *example_inputs)``; `target` is a Graph, a
    `graphc.compile` result (its graph, tracing it on the inputs if it has not run yet), or a
    function or module traced on them. PyTorch's form: ``export(model, args, f, input_names=,
    output_names=, dynamic_axes=, opset_version=)``, `args` a tensor or a tuple of them (other
    torch.onnx.export keywords are accepted and have no effect).

    `dynamic_axes` ({name: {axis: symbol}} or {name: [axes]}) exports those dimensions as
    symbols: the model is traced a second time with each such dimension one larger, and every
    constant that changed with it must be a Reshape's copy of that input dimension (exported
    as 0, "copy"); any other node that depends on the size pins it, and the export says which.
    Initializers no node reads (an unused BatchNorm counter) are left out.
    """
    if args and not (args[0] is None or isinstance(args[0], (str, os.PathLike))):
        example = tuple(args[0]) if isinstance(args[0], (tuple, list)) else (args[0],)
        path = args[1] if len(args) > 1 else f
    else:
        path = args[0] if args else f
        example = args[1:]
    opset = opset_version or opset
    graph = _graph_of(target, example)
    model = to_model(graph, opset)
    if dynamic_axes:
        if isinstance(target, Graph) or not example:
            raise ValueError("export: dynamic_axes needs the model and its example inputs, to trace it again")
        model = _make_dynamic(model, target, example, graph, dynamic_axes, input_names, output_names, opset)
    _drop_unused_initializers(model)
    _rename(model, graph, input_names, output_names)
    if check:
        onnx().checker.check_model(model, full_check=True)
    if path is not None:
        onnx().save(model, os.fspath(path))
    return model


def _rename(model, graph: Graph, input_names, output_names) -> None:
    """Graph inputs and outputs get the names asked for; unnamed outputs are 'output'/'output_K'."""
    g = model.graph
    outs = output_names or (["output"] if len(g.output) == 1 else [f"output_{k}" for k in range(len(g.output))])
    names = {}
    for values, wanted in ((g.input, input_names or []), (g.output, outs)):
        for v, new in zip(values, wanted):
            if v.name in graph.inputs and values is g.output:
                continue  # an input returned as is keeps its input name
            names[v.name] = new
    for v in (*g.input, *g.output, *g.value_info):
        v.name = names.get(v.name, v.name)
    for node in g.node:
        node.input[:] = [names.get(i, i) for i in node.input]
        node.output[:] = [names.get(o, o) for o in node.output]


def _drop_unused_initializers(model) -> None:
    g = model.graph
    used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
    keep = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)


def _axes_of(dynamic_axes, name: str) -> dict[int, str]:
    spec = dynamic_axes.get(name, {})
    return dict(spec) if isinstance(spec, dict) else {int(a): f"{name}_dynamic_axes_{k + 1}" for k, a in enumerate(spec)}


def _make_dynamic(model, target, example, graph, dynamic_axes, input_names, output_names, opset):
    """`model` with the dynamic axes as symbols, checked against a trace at other sizes."""
    from ..tensor import Tensor

    names = list(input_names or graph.inputs[:len(example)])
    unknown = set(dynamic_axes) - set(names) - set(output_names or ()) - {o.name for o in model.graph.output}
    if unknown:
        raise ValueError(f"export: dynamic_axes names {sorted(unknown)}, which are not inputs or outputs "
                         f"(inputs: {names}, outputs: {list(output_names or [])})")
    grown, symbols = [], {}
    for name, t in zip(names, example):
        a = t.numpy() if isinstance(t, Tensor) else np.asarray(t)
        for axis, sym in _axes_of(dynamic_axes, name).items():
            symbols.setdefault((a.shape[axis], a.shape[axis] + 1), sym)
            a = np.take(a, np.arange(a.shape[axis] + 1) % a.shape[axis], axis=axis)
        grown.append(Tensor._make(np.ascontiguousarray(a)))
    other = to_model(_graph_of(target, tuple(grown)), opset)
    _check_same_structure(model, other, symbols)
    for v_one, v_two in zip((*model.graph.input, *model.graph.output), (*other.graph.input, *other.graph.output)):
        for d_one, d_two in zip(v_one.type.tensor_type.shape.dim, v_two.type.tensor_type.shape.dim):
            if d_one.dim_value != d_two.dim_value:
                d_one.dim_param = symbols.get((d_one.dim_value, d_two.dim_value), f"{v_one.name}_dim")
    del model.graph.value_info[:]  # intermediate shapes hold at the traced sizes only
    return model


def _check_same_structure(one, two, symbols) -> None:
    """The two traces must differ only in shape constants a Reshape can copy from its input;
    those are rewritten in `one` to 0. Anything else that changed pins a dimension."""
    numpy_helper = onnx().numpy_helper
    g1, g2 = one.graph, two.graph
    if [n.op_type for n in g1.node] != [n.op_type for n in g2.node]:
        raise OnnxError("export: the traced graph changes with the dynamic dimensions (Python control flow "
                        "on a size?); it cannot be exported with dynamic_axes")
    inits2 = {t.name: t for t in g2.initializer}
    shapes1, shapes2 = _shapes(one), _shapes(two)
    consumers = {}
    for n in g1.node:
        for k, i in enumerate(n.input):
            consumers.setdefault(i, []).append((n, k))
    for n1, n2 in zip(g1.node, g2.node):
        if list(n1.attribute) != list(n2.attribute):
            raise OnnxError(f"export: node {n1.name!r} ({n1.op_type}) pins a dynamic dimension: its "
                            f"attributes depend on the traced size")
    for k, t1 in enumerate(g1.initializer):
        t2 = inits2.get(t1.name)
        a1, a2 = numpy_helper.to_array(t1), numpy_helper.to_array(t2) if t2 is not None else None
        if a2 is not None and a1.shape == a2.shape and np.array_equal(a1, a2):
            continue
        fixed = None
        for node, slot in consumers.get(t1.name, []):
            if node.op_type == "Reshape" and slot == 1 and a2 is not None and a1.shape == a2.shape:
                fixed = _copy_dims(a1, a2, shapes1.get(node.input[0]), shapes2.get(node.input[0]))
            if fixed is None:
                sym = next(iter(symbols.values()), "the dynamic dimension")
                raise OnnxError(f"export: node {node.name!r} ({node.op_type}) pins {sym!r}: its input "
                                f"{t1.name!r} is {a1.tolist() if a1.size < 20 else a1.shape} at the traced size "
                                f"and {a2.tolist() if a2 is not None and a2.size < 20 else 'different'} at another")
        g1.initializer[k].CopyFrom(numpy_helper.from_array(fixed, t1.name))


def _copy_dims(shape1, shape2, in1, in2):
    """A Reshape target whose changed entries are its input's dimensions at the same place,
    with those entries 0 (ONNX: copy the input's dimension); None if it is not one."""
    if in1 is None or in2 is None:
        return None
    out = shape1.copy()
    for i, (s1, s2) in enumerate(zip(shape1, shape2)):
        if s1 != s2:
            if i >= len(in1) or in1[i] != s1 or in2[i] != s2:
                return None
            out[i] = 0
    return out


def _shapes(model) -> dict[str, list[int]]:
    return {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
            for v in (*model.graph.input, *model.graph.output, *model.graph.value_info)}


def _graph_of(target, example_inputs) -> Graph:
    from ..compile import Compiled
    from ..trace import trace

    if isinstance(target, Graph):
        return target
    if isinstance(target, Compiled):
        if target.graph is None:
            if not example_inputs:
                raise ValueError("export: the compiled function has not run yet; pass example inputs")
            target(*example_inputs)
        return target.graph
    if callable(target):
        return trace(target, *example_inputs)
    raise TypeError(f"export: expected a Graph, a compiled function or a function, got {type(target).__name__}")


def inline_fused(graph: Graph) -> Graph:
    """`graph` with every `graphc.Fused` node replaced by its sub-graph's nodes (recursively),
    whose inputs and outputs match the fused node's by position; inner values and constants get
    fresh names."""
    if all(n.subgraph is None for n in graph.nodes()):
        return graph
    flat = Graph(graph.name)
    for v in graph.inputs:
        flat.add_input(v, graph.type_of(v))
    for v, data in graph.initializers.items():
        flat.add_initializer(v, data)
    taken = set(graph.inputs) | set(graph.initializers) | {v for n in graph.nodes() for v in n.outputs}
    _Inliner(flat, taken).copy(graph, {})
    flat.set_outputs(graph.outputs)
    return flat


class _Inliner:
    def __init__(self, dst: Graph, taken: set):
        self.dst = dst
        self.taken = taken

    def fresh(self, hint: str) -> str:
        name, k = hint, 0
        while name in self.taken:
            k += 1
            name = f"{hint}_{k}"
        self.taken.add(name)
        return name

    def copy(self, src: Graph, names: dict) -> None:
        """Add `src`'s nodes to the graph, reading value v as names.get(v, v)."""
        rename = lambda v: names.get(v, v)
        for n in src.nodes():
            if n.subgraph is None:
                self.dst.add_node(n.op, [rename(v) for v in n.inputs], [src.type_of(v) for v in n.outputs],
                                  n.attrs, n.source, [rename(v) for v in n.outputs])
            else:
                self.inline(n, n.subgraph, [rename(v) for v in n.inputs], [rename(v) for v in n.outputs])

    def inline(self, n, sub: Graph, inputs, outputs) -> None:
        inner = dict(zip(sub.inputs, inputs))
        for v, data in sub.initializers.items():
            inner[v] = self.dst.add_initializer(self.fresh(f"{n.name}.{v}"), data)
        produced = {v for m in sub.nodes() for v in m.outputs}
        for v in produced:
            inner[v] = self.fresh(f"{n.name}.{v}")
        copies = []  # outputs that are sub-graph inputs, constants or repeats: Identity nodes
        named = set()
        for v, out in zip(sub.outputs, outputs):
            if v in produced and v not in named:
                inner[v] = out
                named.add(v)
            else:
                copies.append((v, out))
        self.copy(sub, inner)
        for v, out in copies:
            self.dst.add_node("Identity", [inner[v]], [sub.type_of(v)], {}, n.source, [out])


def to_model(graph: Graph, opset: int = OPSET):
    mod = onnx()
    h = mod.helper
    graph = inline_fused(graph)
    em = Emitter(graph)
    for node in graph.nodes():
        em.export_node(node)
    info = lambda v: h.make_tensor_value_info(v, to_onnx_dtype(graph.type_of(v).dtype),
                                              list(graph.type_of(v).shape))
    ends = set(graph.inputs) | set(graph.outputs) | set(graph.initializers)
    value_info = [info(v) for n in graph.nodes() for v in n.outputs if v not in ends]
    inits = [mod.numpy_helper.from_array(np.ascontiguousarray(a), v) for v, a in graph.initializers.items()]
    g = h.make_graph(em.nodes, graph.name, [info(v) for v in graph.inputs],
                     [info(v) for v in graph.outputs], inits + em.initializers, value_info=value_info)
    return h.make_model(g, opset_imports=[h.make_opsetid("", opset)], producer_name="graphc",
                        ir_version=IR_VERSION)


class Emitter:
    """Collects ONNX nodes and constants; export rules in `mapping` call it (the `ctx`)."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.nodes: list = []
        self.initializers: list = []
        self._types: dict = {}
        self._taken = set(graph.inputs) | set(graph.initializers) | {
            v for n in graph.nodes() for v in (*n.inputs, *n.outputs)}
        self._n = 0

    def export_node(self, node) -> None:
        op = REGISTRY.get(node.op)
        onnx_op = mapping.onnx_name(node.op)
        if op is None or onnx_op is None:
            raise OnnxError(f"node {node.name!r} ({node.op}): graphc cannot export {node.op} to ONNX "
                            "(a graphc-only op with no ONNX decomposition)")
        attrs = op.complete_attrs(dict(node.attrs))
        rule = mapping.rule_for(node.op)
        if rule.export is not None:
            rule.export(self, node, attrs)
            return
        ins = list(node.inputs)
        for ai in sorted(rule.inputs, key=lambda a: a.slot):
            value = attrs.pop(ai.attr)
            ins += [""] * (ai.slot - len(ins))
            ins.insert(ai.slot, "" if value is None else self._attr_const(ai, value, node))
        while ins and not ins[-1]:
            ins.pop()
        self.emit(onnx_op, ins, node.outputs, **attrs)

    def _attr_const(self, ai: mapping.AttrInput, value, node) -> str:
        dtype = np.int64 if ai.dtype == mapping.INT64 else self.type_of(node.inputs[0]).dtype.np
        array = np.asarray(value, dtype)
        if ai.scalar and node.op == "TopK":
            array = array.reshape(1)  # ONNX's TopK takes k as a 1-element 1-D tensor
        return self.const(array, ai.attr)

    # ---- the interface export rules use ----------------------------------------------------

    def error(self, node, message: str) -> OnnxError:
        return OnnxError(f"node {node.name!r} ({node.op}): {message}")

    def type_of(self, value: str):
        return self._types.get(value) or self.graph.type_of(value)

    def fresh(self, hint: str) -> str:
        while True:
            self._n += 1
            name = f"{hint}__{self._n}"
            if name not in self._taken:
                self._taken.add(name)
                return name

    def const(self, array: np.ndarray, hint: str = "const") -> str:
        name = self.fresh(hint)
        self.initializers.append(onnx().numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def emit(self, op_type: str, inputs, outputs=None, **attrs) -> list[str]:
        outputs = list(outputs) if outputs is not None else [self.fresh(op_type.lower())]
        clean = {k: _onnx_attr(v) for k, v in attrs.items() if v is not None}
        self.nodes.append(onnx().helper.make_node(op_type, list(inputs), outputs,
                                                  name=outputs[0], **clean))
        return outputs


def _onnx_attr(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dtypes.dtype):
        return to_onnx_dtype(value)
    if isinstance(value, tuple):
        return [_onnx_attr(v) for v in value]
    return value
