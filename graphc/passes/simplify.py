"""simplify: dead-code elimination, common-subexpression elimination, constant folding and
algebraic identities, each a pass of its own, iterated to a fixed point (DESIGN §4).

Every rewrite keeps each value's type: an identity is applied only when the result has the
type of the value it replaces (x + 0 where the 0 broadcasts x to a bigger shape is not one).
A graph output is never replaced by a graph input or initializer, so a compiled function
never hands back its argument (or a read-only constant) where it computed a fresh tensor.
"""
from __future__ import annotations

import numpy as np

from ..ir import Graph
from ..ops.registry import REGISTRY
from .pipeline import graph_pass
from .rewrite import rebuild

FOLD_LIMIT_BYTES = 1 << 20  # larger constant results stay computed: they would bloat the graph


@graph_pass
def dce(graph: Graph) -> Graph:
    """Remove nodes whose outputs nothing reads and initializers no node reads."""
    needed = set(graph.outputs)
    keep = []
    for node in reversed(graph.nodes()):
        if any(v in needed for v in node.outputs):
            keep.append(node)
            needed.update(node.inputs)
    if len(keep) == len(graph.nodes()) and all(v in needed for v in graph.initializers):
        return graph
    dead = {v for v in graph.initializers if v not in needed}
    order = {n.name: i for i, n in enumerate(graph.nodes())}
    return rebuild(graph, sorted(keep, key=lambda n: order[n.name]), dead)


def _fresh_nodes(graph: Graph):
    """The nodes in topological order, each read when reached: earlier rewrites in the same
    sweep may have changed its inputs."""
    for name in [n.name for n in graph.nodes()]:
        yield graph.node(name)


def _is_pure(op_name: str) -> bool:
    op = REGISTRY.get(op_name)
    return op is None or not op.random


@graph_pass
def cse(graph: Graph) -> Graph:
    """Merge nodes that compute the same op with the same attributes on the same inputs, and
    initializers holding identical data."""
    seen_data: dict[tuple, str] = {}
    for v, data in graph.initializers.items():
        key = (data.dtype.str, data.shape, data.tobytes())
        if key in seen_data and v not in graph.outputs:
            graph.replace_all_uses(v, seen_data[key])
        else:
            seen_data.setdefault(key, v)
    seen: dict[tuple, tuple[str, ...]] = {}
    for node in _fresh_nodes(graph):
        if not _is_pure(node.op):
            continue
        key = (node.op, node.inputs, tuple(sorted(node.attrs.items(), key=lambda kv: kv[0])),
               None if node.subgraph is None else str(node.subgraph),
               tuple(graph.type_of(v) for v in node.outputs))
        first = seen.setdefault(key, node.outputs)
        if first is not node.outputs and not any(v in graph.outputs for v in node.outputs):
            for old, new in zip(node.outputs, first):
                graph.replace_all_uses(old, new)
    return dce(graph)


@graph_pass
def fold_constants(graph: Graph) -> Graph:
    """Evaluate nodes whose inputs are all initializers with the registry kernel, replacing them
    by initializers (results over FOLD_LIMIT_BYTES, and graph outputs, stay computed)."""
    for node in _fresh_nodes(graph):
        op = REGISTRY.get(node.op)
        if (op is None or node.subgraph is not None or not node.inputs or not _is_pure(node.op)
                or not all(v in graph.initializers for v in node.inputs)
                or any(v in graph.outputs for v in node.outputs)
                or sum(graph.type_of(v).nbytes for v in node.outputs) > FOLD_LIMIT_BYTES):
            continue
        with np.errstate(all="ignore"):
            result = op.kernel(*(graph.initializers[v] for v in node.inputs),
                               **op.complete_attrs(dict(node.attrs)))
        results = (result,) if len(node.outputs) == 1 else tuple(result)
        for v, data in zip(node.outputs, results):
            new = graph.add_initializer(graph.fresh_name(v), np.asarray(data))
            graph.replace_all_uses(v, new)
        graph.remove_node(node.name)
    return dce(graph)


def _all_equal(graph: Graph, v: str, value) -> bool:
    data = graph.initializers.get(v)
    return data is not None and data.size > 0 and bool(np.all(data == value))


def _identity_of(graph: Graph, node) -> str | None:
    """The value `node`'s output equals by an algebraic identity, or None."""
    ins = node.inputs
    if node.op == "Mul":
        x = ins[0] if _all_equal(graph, ins[1], 1) else ins[1] if _all_equal(graph, ins[0], 1) else None
    elif node.op == "Add":
        x = ins[0] if _all_equal(graph, ins[1], 0) else ins[1] if _all_equal(graph, ins[0], 0) else None
    elif node.op == "Sub":
        x = ins[0] if _all_equal(graph, ins[1], 0) else None
    elif node.op == "Div":
        x = ins[0] if _all_equal(graph, ins[1], 1) else None
    elif node.op in ("Identity", "Cast", "Reshape"):
        x = ins[0]
    elif node.op == "Transpose":
        perm = node.attrs["perm"]
        x = ins[0] if tuple(perm) == tuple(range(len(perm))) else None
    else:
        return None
    if x is None or len(node.outputs) != 1 or graph.type_of(x) != graph.type_of(node.outputs[0]):
        return None
    if node.outputs[0] in graph.outputs and (x in graph.inputs or x in graph.initializers):
        return None
    return x


def _compose_views(graph: Graph, node) -> bool:
    """Reshape of a Reshape reads the inner input; Transpose of a Transpose composes the perms."""
    inner = graph.producer(node.inputs[0])
    if inner is None or inner.op != node.op:
        return False
    if node.op == "Reshape":
        graph.replace_node(node.name, inputs=[inner.inputs[0]])
        return True
    if node.op == "Transpose":
        outer_perm, inner_perm = node.attrs["perm"], inner.attrs["perm"]
        perm = tuple(inner_perm[p] for p in outer_perm)
        graph.replace_node(node.name, inputs=[inner.inputs[0]], attrs={"perm": perm})
        return True
    return False


@graph_pass
def algebraic(graph: Graph) -> Graph:
    """x*1, 1*x, x+0, 0+x, x-0, x/1, Identity, Cast to the same dtype, Reshape to the same shape
    and identity Transposes become x; Reshape∘Reshape and Transpose∘Transpose compose."""
    for node in _fresh_nodes(graph):
        if node.op in ("Reshape", "Transpose"):
            _compose_views(graph, node)
            node = graph.node(node.name)
        x = _identity_of(graph, node)
        if x is not None:
            graph.replace_all_uses(node.outputs[0], x)
    return dce(graph)


SIMPLIFY_PASSES = (algebraic, fold_constants, cse, dce)
MAX_ROUNDS = 10


@graph_pass
def simplify(graph: Graph) -> Graph:
    """algebraic, fold_constants, cse and dce repeated until the graph text stops changing."""
    text = str(graph)
    for _ in range(MAX_ROUNDS):
        for p in SIMPLIFY_PASSES:
            graph = p(graph)
        new_text = str(graph)
        if new_text == text:
            break
        text = new_text
    return graph
