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


def export(target, path=None, *example_inputs, opset: int = OPSET, check: bool = True):
    """Write (when `path` is given) and return the ONNX ModelProto of `target`'s forward graph.

    `target` is a Graph, a `graphc.compile` result (its graph, tracing it on `example_inputs`
    if it has not run yet), or a function or module traced on `example_inputs`.
    """
    graph = _graph_of(target, example_inputs)
    model = to_model(graph, opset)
    if check:
        onnx().checker.check_model(model, full_check=True)
    if path is not None:
        onnx().save(model, os.fspath(path))
    return model


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
