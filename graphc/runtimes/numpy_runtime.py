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
    donates = True  # prepare() takes `donate`

    def prepare(self, graph: Graph, plan=None, donate=None) -> "NumpyExecutable":
        """`donate` (graph input name -> graph output index) lets the executable write that
        output straight into the array passed for that input, where that is safe (see
        _donations): the caller means to overwrite the input with it anyway (an optimizer's
        in-place update), so the copy back is saved."""
        return NumpyExecutable(graph, plan, donate)


def out_kernel(node):
    """The node's kernel as f(*arrays, out=...) writing into given memory (`out` a tuple with
    one array or None per output for a fused node, else one array), or None if it cannot."""
    if node.op == FUSED and node.subgraph is not None:
        return FusedKernel(node.subgraph)
    op = REGISTRY.get(node.op)
    if op is None or len(node.outputs) != 1:
        return None
    attrs = op.complete_attrs(dict(node.attrs))
    ufunc = out_ufunc(op, node.attrs) or (None if attrs else OUT_FORMS.get(op.kernel))
    if ufunc is not None:
        return ufunc
    form = ATTR_OUT_FORMS.get(op.kernel)
    return None if form is None else partial(form, **attrs)


def node_kernel(node, out=None):
    """The callable that computes `node` from its input arrays; `out` (arrays or None, one per
    output) is memory to write the outputs into, used where the kernel can."""
    fused = node.op == FUSED and node.subgraph is not None
    if out is not None and any(o is not None for o in out):
        kernel = out_kernel(node)
        if kernel is not None:
            return partial(kernel, out=tuple(out) if fused else out[0])
    if fused:
        return FusedKernel(node.subgraph)
    op = REGISTRY.get(node.op)
    if op is None:
        raise GraphcError(f"node {node.name!r}: the numpy runtime has no kernel for op {node.op}")
    attrs = op.complete_attrs(dict(node.attrs))
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


def _donations(graph: Graph, live, donate) -> dict[int, dict[int, str]]:
    """step -> {output position: donated graph input} for outputs written straight into an
    input's array: the producer writes given memory, the value is a graph output once, and no
    later node reads the input. The producer itself may read it only where writing over it is
    safe: an elementwise ufunc (NumPy handles overlap), or a fused member no later member reads
    it after."""
    nodes = graph.nodes()
    step_of = {v: k for k, n in enumerate(nodes) for v in n.outputs}
    gifts: dict[int, dict[int, str]] = {}
    for u, index in (donate or {}).items():
        v = graph.outputs[index]
        k = step_of.get(v)
        if (k is None or u not in graph.inputs or graph.outputs.count(v) != 1
                or graph.type_of(u) != graph.type_of(v) or live.last_use[u] > k):
            continue
        node = nodes[k]
        if out_kernel(node) is None or (live.last_use[u] == k and not _overwrites_safely(node, v, u)):
            continue
        gifts.setdefault(k, {})[node.outputs.index(v)] = u
    return gifts


def _overwrites_safely(node, v, u) -> bool:
    """Whether node may write output v into the memory of its input u."""
    if node.op != FUSED:
        op = REGISTRY[node.op]
        return op.elementwise and out_ufunc(op, node.attrs) is not None
    sub = node.subgraph
    members = sub.nodes()
    made = sub.outputs[node.outputs.index(v)]
    producer = next((i for i, n in enumerate(members) if made in n.outputs), None)
    inner = {sub.inputs[i] for i, x in enumerate(node.inputs) if x == u}
    return producer is not None and all(i <= producer for i, n in enumerate(members) if inner & set(n.inputs))


class _Donating:
    """A node kernel called with its inputs and then the donated input arrays; the outputs at
    `gift` positions go into those arrays (when C-contiguous and writeable, which chunked
    evaluation needs), the others into `out`."""

    def __init__(self, node, n_in: int, out: list, gift: list[tuple[int, int]]):
        self.kernel, self.plain = out_kernel(node), node_kernel(node)
        self.n_in, self.out, self.gift, self.fused = n_in, out, gift, node.op == FUSED

    def __call__(self, *args):
        out = list(self.out)
        for pos, k in self.gift:
            a = args[self.n_in + k]
            if a.flags.c_contiguous and a.flags.writeable:
                out[pos] = a
        args = args[:self.n_in]
        if self.fused:
            return self.kernel(*args, out=tuple(out))
        return self.plain(*args) if out[0] is None else self.kernel(*args, out=out[0])


def arena_views(graph: Graph, plan) -> dict:
    """value -> its typed view of a fresh arena (one allocation for the executable)."""
    arena = np.empty(plan.arena_bytes, np.uint8)
    views = {}
    for v, off in plan.offsets.items():
        t = graph.type_of(v)
        views[v] = arena[off:off + t.nbytes].view(t.dtype.np).reshape(t.shape)
    return views


class NumpyExecutable:
    def __init__(self, graph: Graph, plan=None, donate=None):
        self.graph = graph
        live = liveness(graph)
        gifts = _donations(graph, live, donate)
        donated = {u for g in gifts.values() for u in g.values()}
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
        for k, (node, dead) in enumerate(zip(self._nodes, live.dies_at)):
            out = [views.get(v) for v in node.outputs]
            ins = tuple(slot[v] for v in node.inputs)
            if k in gifts:
                given = sorted(gifts[k].items())
                kernel = _Donating(node, len(ins), out, [(p, i) for i, (p, _) in enumerate(given)])
                ins += tuple(slot[u] for _, u in given)
            else:
                kernel = node_kernel(node, out if views else None)
            outs = tuple(slot[v] for v in node.outputs)
            free = tuple(slot[v] for v in dead if v not in graph.initializers and v not in donated)
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
