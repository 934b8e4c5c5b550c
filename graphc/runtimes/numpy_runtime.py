"""The NumPy interpreter: every node bound to its registry kernel once, at prepare time.

The run loop is a flat list of steps over a list of value slots (no per-run dictionary
walks); each value's slot is cleared after its last use, from the shared liveness analysis.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from ..errors import GraphcError, describe_location
from ..ir import Graph, liveness
from ..ops.registry import REGISTRY


class GraphRunError(GraphcError):
    """A node failed while the compiled graph ran."""


class NumpyRuntime:
    name = "numpy"

    def prepare(self, graph: Graph, plan=None) -> "NumpyExecutable":
        return NumpyExecutable(graph, plan)


def node_kernel(node):
    """The callable that computes `node` from its input arrays."""
    op = REGISTRY.get(node.op)
    if op is None:
        raise GraphcError(f"node {node.name!r}: the numpy runtime has no kernel for op {node.op}")
    attrs = op.complete_attrs(dict(node.attrs))
    return partial(op.kernel, **attrs) if attrs else op.kernel


class NumpyExecutable:
    def __init__(self, graph: Graph, plan=None):
        self.graph = graph
        live = liveness(graph)
        slot: dict[str, int] = {}
        for v in (*graph.inputs, *graph.initializers, *(o for n in graph.nodes() for o in n.outputs)):
            slot.setdefault(v, len(slot))
        self._n_slots = len(slot)
        self._input_slots = [slot[v] for v in graph.inputs]
        self._consts = [(slot[v], a) for v, a in graph.initializers.items()]
        self._output_slots = [slot[v] for v in graph.outputs]
        self._steps = []
        self._nodes = graph.nodes()
        for node, dead in zip(self._nodes, live.dies_at):
            kernel = node_kernel(node)
            ins = tuple(slot[v] for v in node.inputs)
            outs = tuple(slot[v] for v in node.outputs)
            free = tuple(slot[v] for v in dead if v not in graph.initializers)
            self._steps.append((kernel, ins, outs[0] if len(outs) == 1 else outs, free))

    def __call__(self, *arrays):
        if len(arrays) != len(self._input_slots):
            raise TypeError(f"graph {self.graph.name} takes {len(self._input_slots)} inputs, "
                            f"got {len(arrays)}")
        env = [None] * self._n_slots
        for s, a in zip(self._input_slots, arrays):
            env[s] = a
        for s, a in self._consts:
            env[s] = a
        step = 0
        try:
            for step, (kernel, ins, outs, free) in enumerate(self._steps):
                result = kernel(*[env[i] for i in ins])
                if type(outs) is int:
                    env[outs] = result
                else:
                    for o, r in zip(outs, result):
                        env[o] = r
                for f in free:
                    env[f] = None
        except Exception as exc:
            node = self._nodes[step]
            raise GraphRunError(f"node {node.name!r} ({node.op}) failed: {type(exc).__name__}: "
                                f"{exc}; it was recorded at {describe_location(node.source or '')}") from exc
        return [np.asarray(env[s]) for s in self._output_slots]
