"""plan_memory: where every intermediate value lives in one arena (DESIGN §4).

Lifetimes come from the shared liveness analysis over the execution order, extended for
aliasing: a view op's output shares its input's buffer, so that buffer lives until the last
read of any view of it. Graph inputs and outputs (and anything a graph output views) are never
placed: the caller owns them. An elementwise node may write its result over an input that dies
at that node (same bytes and dtype). Buffers are then packed greedily, each at the best-fitting
gap among the buffers whose lifetimes overlap it, at 64-byte alignment, in the best of a few
orders found by a short seeded search (see _pack).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Mapping

from ..ir import Graph, GraphError, liveness
from ..ops.registry import REGISTRY

ALIGN = 64


class PlanError(GraphError):
    """A memory plan is wrong for its graph (overlapping live buffers, a misplaced value)."""


def _aligned(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


@dataclass(frozen=True)
class MemoryPlan:
    """offsets[v]: byte offset of value v in the arena (values not in it are absent).
    in_place[v]: the input whose bytes v overwrites. Figures in bytes: arena_bytes (the arena's
    size), lower_bound_bytes (the most bytes live at any one step), no_reuse_bytes (every
    placed value kept for the whole run)."""

    offsets: Mapping[str, int]
    in_place: Mapping[str, str]
    arena_bytes: int
    lower_bound_bytes: int
    no_reuse_bytes: int
    alignment: int = ALIGN
    views: Mapping[str, str] = field(default_factory=dict)  # view value -> the value it views

    def report(self) -> dict:
        return {"arena_bytes": self.arena_bytes, "lower_bound_bytes": self.lower_bound_bytes,
                "no_reuse_bytes": self.no_reuse_bytes}


def _is_view(node) -> bool:
    op = REGISTRY.get(node.op)
    return op is not None and op.view and node.subgraph is None


def alias_roots(graph: Graph) -> dict[str, str]:
    """value -> the value owning its memory (itself unless a view op made it)."""
    root: dict[str, str] = {}
    for node in graph.nodes():
        for v in node.outputs:
            root[v] = root.get(node.inputs[0], node.inputs[0]) if _is_view(node) and node.inputs else v
    return root


def buffer_lifetimes(graph: Graph) -> tuple[dict[str, tuple[int, int]], dict[str, str], set[str]]:
    """(lifetime [first step, last step] of each placeable root, roots, unplaceable roots).
    Unplaceable: graph inputs, initializers, and roots some graph output views or is."""
    live = liveness(graph)
    root = alias_roots(graph)
    end = len(live.order)
    external = set(graph.inputs) | set(graph.initializers)
    external |= {root.get(v, v) for v in graph.outputs}
    span: dict[str, tuple[int, int]] = {}
    for v, r in root.items():
        if r in external:
            continue
        first, last = span.get(r, (live.defined[r], live.defined[r]))
        span[r] = (first, max(last, min(live.last_use[v], end - 1)))
    return span, root, external


def _in_place_sources(graph: Graph, span, root) -> dict[str, str]:
    """v -> input root u whose buffer v may take over: u dies at v's node, same bytes and dtype."""
    reuse: dict[str, str] = {}
    for step, node in enumerate(graph.nodes()):
        op = REGISTRY.get(node.op)
        if op is None or not op.elementwise or node.subgraph is not None or len(node.outputs) != 1:
            continue
        v = node.outputs[0]
        if v not in span:
            continue
        tv = graph.type_of(v)
        for u in node.inputs:
            r = root.get(u)
            if (r is not None and r == u and r in span and span[r][1] == step
                    and r not in reuse.values() and graph.type_of(u) == tv):
                reuse[v] = r
                break
    return reuse


def plan_memory(graph: Graph, redzone: int = 0) -> MemoryPlan:
    """The arena layout for a verified graph's intermediates (see the module docstring).
    `redzone` bytes after each buffer stay unused, so a checker can catch an overrun."""
    span, root, _ = buffer_lifetimes(graph)
    reuse = _in_place_sources(graph, span, root)
    owner = {}  # root value -> the buffer (chain head) holding it
    for v in span:
        owner[v] = owner[reuse[v]] if v in reuse else v
    buf_span: dict[str, tuple[int, int]] = {}
    buf_size: dict[str, int] = {}
    for v, (first, last) in span.items():
        b = owner[v]
        f0, l0 = buf_span.get(b, (first, last))
        buf_span[b] = (min(f0, first), max(l0, last))
        buf_size[b] = max(buf_size.get(b, 0), _aligned(graph.type_of(v).nbytes + redzone))
    steps = len(graph.nodes())
    live_bytes = [0] * max(steps, 1)
    for b, (first, last) in buf_span.items():
        for s in range(max(first, 0), last + 1):
            live_bytes[s] += buf_size[b]
    offsets = _pack(buf_span, buf_size, max(live_bytes, default=0))
    views = {v: r for v, r in root.items() if v != r}
    return MemoryPlan(
        offsets={v: offsets[owner[v]] for v in span},
        in_place=reuse,
        arena_bytes=max((offsets[b] + buf_size[b] for b in buf_size), default=0),
        lower_bound_bytes=max(live_bytes, default=0),
        no_reuse_bytes=sum(_aligned(graph.type_of(v).nbytes) for v in span),
        views=views)


_SEARCH_WORK = 2_000_000  # bound on (tries * buffers^2) for the packing search


def _pack(spans: dict[str, tuple[int, int]], sizes: dict[str, int], floor: int = 0) -> dict[str, int]:
    """Best-fit packing in the best of a few orders: by size, then by lifetime length (the
    first leaves long-lived buffers scattered over the top when similar sizes tie). The best
    order is then improved by swapping pairs of buffers in it (seeded, so plans are
    reproducible), for a bounded amount of work, until the arena reaches `floor` (the most
    bytes live at one step, which no packing beats)."""
    orders = [sorted(sizes, key=lambda b: (-sizes[b], spans[b][0], b)),
              sorted(sizes, key=lambda b: (spans[b][0] - spans[b][1], -sizes[b], spans[b][0], b))]
    tried = []
    for order in orders:
        offsets = _place(order, spans, sizes)
        tried.append((_arena(offsets, sizes), offsets, order))
    best = min(tried, key=lambda r: r[0])
    rng = random.Random(0)
    n = len(sizes)
    for _ in range(min(1000, _SEARCH_WORK // max(n * n, 1)) if n > 1 and best[0] > floor else 0):
        order = list(best[2])
        i, j = rng.randrange(n), rng.randrange(n)
        order[i], order[j] = order[j], order[i]
        offsets = _place(order, spans, sizes)
        arena = _arena(offsets, sizes)
        if arena <= best[0]:
            best = (arena, offsets, order)
            if arena <= floor:
                break
    return best[1]


def _arena(offsets: dict[str, int], sizes: dict[str, int]) -> int:
    return max((offsets[b] + sizes[b] for b in sizes), default=0)


def _place(order, spans: dict[str, tuple[int, int]], sizes: dict[str, int]) -> dict[str, int]:
    """Each buffer in turn goes into the smallest gap between the already placed buffers whose
    lifetimes overlap its own (or on top of them)."""
    placed: list[tuple[int, int, int, int]] = []  # (offset, size, first, last)
    offsets = {}
    for b in order:
        first, last, size = spans[b][0], spans[b][1], sizes[b]
        busy = sorted((o, o + s) for o, s, f, l in placed if f <= last and first <= l)
        best, best_gap, top = None, None, 0
        for lo, hi in busy:
            gap = lo - top
            if gap >= size and (best_gap is None or gap < best_gap):
                best, best_gap = top, gap
            top = max(top, hi)
        offsets[b] = top if best is None else best
        placed.append((offsets[b], size, first, last))
    return offsets


def check_plan(graph: Graph, plan: MemoryPlan) -> None:
    """Simulate the plan: raise PlanError if two buffers live at the same step share bytes (an
    in-place pair may share them at the step where one dies and the other is born), if a graph
    input or output is placed, or a value is misaligned or outside the arena."""
    span, root, external = buffer_lifetimes(graph)
    for v, off in plan.offsets.items():
        if v in external or v not in span:
            raise PlanError(f"plan places %{v}, which is a graph input/output, a view or unknown")
        if off % plan.alignment or off < 0 or off + graph.type_of(v).nbytes > plan.arena_bytes:
            raise PlanError(f"%{v} at offset {off} is misaligned or outside the {plan.arena_bytes}-byte arena")
    missing = set(span) - set(plan.offsets)
    if missing:
        raise PlanError(f"plan places no memory for {sorted(missing)}")
    nodes = graph.nodes()
    for v, u in plan.in_place.items():
        step = span[v][0]
        op = REGISTRY.get(nodes[step].op)
        if (u not in nodes[step].inputs or span[u][1] != step or op is None or not op.elementwise
                or graph.type_of(u) != graph.type_of(v) or plan.offsets[u] != plan.offsets[v]):
            raise PlanError(f"%{v} cannot overwrite %{u} in place")
    items = sorted(plan.offsets.items(), key=lambda kv: kv[1])
    for i, (a, oa) in enumerate(items):
        ea = oa + graph.type_of(a).nbytes
        for b, ob in items[i + 1:]:
            if ob >= ea:
                break
            if ob + graph.type_of(b).nbytes <= oa:
                continue
            (fa, la), (fb, lb) = span[a], span[b]
            handoff = (plan.in_place.get(b) == a and la == fb) or (plan.in_place.get(a) == b and lb == fa)
            if fa <= lb and fb <= la and not handoff:
                raise PlanError(f"%{a} (steps {fa}..{la}) and %{b} (steps {fb}..{lb}) are live "
                                f"together and share arena bytes [{max(oa, ob)}, {min(ea, ob + graph.type_of(b).nbytes)})")
