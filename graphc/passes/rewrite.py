"""Rebuilding a graph around changed nodes, for rewrites the in-place Graph API cannot express
(dropping initializers, replacing a group of nodes by one that keeps their output names)."""
from __future__ import annotations

from typing import Iterable

from ..ir import Graph, Node


def rebuild(graph: Graph, nodes: Iterable[Node], drop_initializers=frozenset()) -> Graph:
    """A graph with `graph`'s name, inputs, outputs and initializers (less `drop_initializers`)
    and exactly `nodes` (in this insertion order), each output typed as in `graph` unless the
    node is new and carries a subgraph whose outputs give the types."""
    g = Graph(graph.name)
    for v in graph.inputs:
        g.add_input(v, graph.type_of(v))
    for v, data in graph.initializers.items():
        if v not in drop_initializers:
            g.add_initializer(v, data)
    for n in nodes:
        g.add_node(n.op, n.inputs, [graph.type_of(v) for v in n.outputs], n.attrs, n.source,
                   n.outputs, n.subgraph)
    g.set_outputs(graph.outputs)
    return g
