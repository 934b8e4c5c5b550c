"""The NumPy interpreter: every node bound to its registry kernel once, at prepare time.

The run loop is a flat list of steps over a list of value slots (no per-run dictionary
walks); each value's slot is cleared after its last use, from the shared liveness analysis.
Given a memory plan, the executable allocates one arena and binds each node whose kernel can
write into given memory (ufunc kernels, MatMul, fused nodes) to its output's arena view, so
those nodes allocate nothing when the graph runs; other kernels keep the arrays they return.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from ..errors import GraphcError, describe_location
from ..ir import Graph, liveness
from ..ops.registry import REGISTRY
from .fused import OUT_FORMS, FusedKernel, out_ufunc

FUSED = "graphc.Fused"


class GraphRunError(GraphcError):
    """A node failed while the compiled graph ran."""


class NumpyRuntime:
    name = "numpy"

    def prepare(self, graph: Graph, plan=None) -> "NumpyExecutable":
        return NumpyExecutable(graph, plan)


def node_kernel(node, out=None):
    """The callable that computes `node` from its input arrays; `out` (arrays or None, one per
    output) is memory to write the outputs into, used where the kernel can."""
    if node.op == FUSED and node.subgraph is not None:
        kernel = FusedKernel(node.subgraph)
        return kernel if out is None or all(o is None for o in out) else partial(kernel, out=tuple(out))
    op = REGISTRY.get(node.op)
    if op is None:
        raise GraphcError(f"node {node.name!r}: the numpy runtime has no kernel for op {node.op}")
    attrs = op.complete_attrs(dict(node.attrs))
    ufunc = out_ufunc(op, node.attrs) or (None if attrs else OUT_FORMS.get(op.kernel))
    if out is not None and len(out) == 1 and out[0] is not None:
        if ufunc is not None:
            return partial(ufunc, out=out[0])
        if op.kernel in ATTR_OUT_FORMS:
            return partial(ATTR_OUT_FORMS[op.kernel], out=out[0], **attrs)
    return partial(op.kernel, **attrs) if attrs else op.kernel


def _gemm_out(a, b, c, *, alpha, beta, transA, transB, out):
    """Gemm writing into `out`, in the registry kernel's arithmetic."""
    np.matmul(a.T if transA else a, b.T if transB else b, out=out)
    if alpha != 1.0:
        out *= out.dtype.type(alpha)
    out += c if beta == 1.0 else c * c.dtype.type(beta)
    return out


# Kernels with attributes that have an `out=` form, keyed by the registry kernel.
ATTR_OUT_FORMS = {REGISTRY["Gemm"].kernel: _gemm_out}


def arena_views(graph: Graph, plan) -> dict:
    """value -> its typed view of a fresh arena (one allocation for the executable)."""
    arena = np.empty(plan.arena_bytes, np.uint8)
    views = {}
    for v, off in plan.offsets.items():
        t = graph.type_of(v)
        views[v] = arena[off:off + t.nbytes].view(t.dtype.np).reshape(t.shape)
    return views


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
        views = {} if plan is None else arena_views(graph, plan)
        for node, dead in zip(self._nodes, live.dies_at):
            kernel = node_kernel(node, [views.get(v) for v in node.outputs] if views else None)
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
        try:
            with np.errstate(all="ignore"):
                self._run(env)
        except _StepError as err:
            node, exc = self._nodes[err.step], err.__cause__
            raise GraphRunError(f"node {node.name!r} ({node.op}) failed: {type(exc).__name__}: "
                                f"{exc}; it was recorded at {describe_location(node.source or '')}") from exc
        return [np.asarray(env[s]) for s in self._output_slots]

    def _run(self, env) -> None:
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
            raise _StepError(step) from exc


class _StepError(Exception):
    def __init__(self, step: int):
        self.step = step
