"""fuse: connected elementwise ops, and the elementwise prologue and epilogue of one reduction,
become `graphc.Fused` nodes holding a sub-graph (DESIGN §4).

The rules, each tested:
- Members are single-output elementwise registry ops (never views, never anything else),
  plus at most one reduction (ReduceSum/Mean/Max/Min) per group.
- A group is built by merging a node into the groups of its producers, in topological order.
  Groups are tracked as a quotient DAG; merging A and B is illegal when a path A -> X -> B (or
  B -> X -> A) leaves them, since the fused node would then be on a cycle.
- A reduction joins its input's group only when that group has no reduction and nothing outside
  needs its values (the prologue then never has to be stored); later members of a reduction's
  group (the epilogue) read only the reduction's result, epilogue values and group inputs.
- A value another group or node needs becomes an output of its group (it is stored), except
  that a cheap elementwise op with one non-constant input no bigger than its result is
  recomputed inside each fused group that needs it (reading that input costs no more than
  reading the stored result, and the store is saved).
- A group of one node stays that node. Small constants (<= INLINE_CONST_NUMEL elements) are
  copied into the sub-graph; larger ones stay inputs of the fused node.
"""
from __future__ import annotations

from ..ir import Graph, Node
from ..ops.registry import REGISTRY
from .pipeline import graph_pass
from .rewrite import rebuild
from .simplify import dce

FUSED = "graphc.Fused"
REDUCTIONS = frozenset({"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin"})
CHEAP = frozenset({"Add", "Sub", "Mul", "Neg", "Abs", "Max", "Min", "Relu", "Cast", "Identity",
                   "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or",
                   "Xor", "Not", "Sign", "Clip", "LeakyRelu", "Where", "Floor", "Ceil"})
INLINE_CONST_NUMEL = 64


def is_elementwise(node: Node) -> bool:
    op = REGISTRY.get(node.op)
    return (op is not None and op.elementwise and not op.view and node.subgraph is None
            and len(node.outputs) == 1)


def is_reduction(node: Node) -> bool:
    return node.op in REDUCTIONS and node.subgraph is None


class _Groups:
    """A partition of the nodes, kept as a quotient DAG of groups (id = first member's name)."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.nodes = graph.nodes()
        self.index = {n.name: i for i, n in enumerate(self.nodes)}
        self.group_of = {n.name: n.name for n in self.nodes}
        self.members = {n.name: [n.name] for n in self.nodes}
        self.lo = dict(self.index)
        self.hi = dict(self.index)
        self.reduction: dict[str, str | None] = {n.name: n.name if is_reduction(n) else None
                                                 for n in self.nodes}
        # the reduction and its ancestors in the group: nothing else in the group may read their
        # values, or feed them
        self.pre: dict[str, set[str]] = {n.name: {n.name} if is_reduction(n) else set()
                                         for n in self.nodes}
        self.succ: dict[str, set[str]] = {n.name: set() for n in self.nodes}
        self.pred: dict[str, set[str]] = {n.name: set() for n in self.nodes}
        for a, b in graph.nx_graph.edges():
            self.succ[a].add(b)
            self.pred[b].add(a)

    def acyclic_after_merge(self, a: str, b: str) -> bool:
        """False when a path between a and b leaves them (merging would make a cycle)."""
        hi = max(self.hi[a], self.hi[b])
        todo = [g for g in self.succ[a] | self.succ[b] if g not in (a, b)]
        seen = set(todo)
        while todo:
            g = todo.pop()
            for s in self.succ[g]:
                if s in (a, b):
                    return False
                if s not in seen and self.lo[s] <= hi:  # a later-starting group cannot reach a or b
                    seen.add(s)
                    todo.append(s)
        return True

    def merge(self, a: str, b: str) -> str:
        if self.index[a] > self.index[b]:
            a, b = b, a
        for n in self.members[b]:
            self.group_of[n] = a
        self.members[a] += self.members.pop(b)
        self.lo[a], self.hi[a] = min(self.lo[a], self.lo.pop(b)), max(self.hi[a], self.hi.pop(b))
        self.reduction[a] = self.reduction[a] or self.reduction[b]
        self.pre[a] |= self.pre.pop(b)
        del self.reduction[b]
        for s in self.succ.pop(b):
            self.pred[s].discard(b)
            self.pred[s].add(a)
            self.succ[a].add(s)
        for p in self.pred.pop(b):
            self.succ[p].discard(b)
            self.succ[p].add(a)
            self.pred[a].add(p)
        self.succ[a].discard(a)
        self.pred[a].discard(a)
        return a

    def reads(self, g: str) -> set[str]:
        return {v for n in self.members[g] for v in self.graph.node(n).inputs}

    def values(self, g: str) -> set[str]:
        return {v for n in self.members[g] for v in self.graph.node(n).outputs}

    def try_merge_elementwise(self, a: str, b: str) -> str | None:
        ra, rb = self.reduction[a], self.reduction[b]
        if ra and rb:
            return None
        if ra and not self._epilogue_ok(a, b) or rb and not self._epilogue_ok(b, a):
            return None
        return self.merge(a, b) if self.acyclic_after_merge(a, b) else None

    def _epilogue_ok(self, red_group: str, other: str) -> bool:
        """`other` may join `red_group` after its reduction: it reads none of the prologue's
        values and feeds neither the prologue nor the reduction."""
        red = self.reduction[red_group]
        pre_values = {v for n in self.pre[red_group] if n != red for v in self.graph.node(n).outputs}
        pre_reads = {v for n in self.pre[red_group] for v in self.graph.node(n).inputs}
        return not (self.reads(other) & pre_values or self.values(other) & pre_reads)

    def try_absorb_prologue(self, red: str, p: str) -> str | None:
        """The reduction node `red` (a group of its own) takes group p as its prologue."""
        if self.reduction[p] is not None or len(self.members[red]) != 1:
            return None
        vals = self.values(p)
        for v in vals:
            if v in self.graph.outputs:
                return None
            if any(self.group_of[u.name] not in (p, red) for u in self.graph.users(v)):
                return None
        if not self.acyclic_after_merge(red, p):
            return None
        g = self.merge(red, p)
        self.pre[g] = set(self.members[g])
        return g


def _form_groups(graph: Graph) -> _Groups:
    groups = _Groups(graph)
    for node in groups.nodes:
        if not (is_elementwise(node) or is_reduction(node)):
            continue
        for v in node.inputs:
            p = graph.producer(v)
            if p is None or not (is_elementwise(p) or is_reduction(p)):
                continue
            gp, gn = groups.group_of[p.name], groups.group_of[node.name]
            if gp == gn:
                continue
            if is_reduction(node):
                if is_elementwise(p):
                    groups.try_absorb_prologue(gn, gp)
            else:
                groups.try_merge_elementwise(gp, gn)
    return groups


def _recomputable(graph: Graph, node: Node) -> str | None:
    """The one non-constant input of a cheap elementwise node worth recomputing, else None."""
    if node.op not in CHEAP or not is_elementwise(node):
        return None
    live = [v for v in node.inputs if v not in graph.initializers]
    if len(set(live)) != 1:
        return None
    if graph.type_of(live[0]).numel > graph.type_of(node.outputs[0]).numel:
        return None
    return live[0]


def _duplicate_cheap(graph: Graph, groups: _Groups, fused: list[str]) -> dict[str, list[str]]:
    """Copies of cheap nodes for each fused group that reads them from another group:
    {group: [node names to copy in]}. Only values defined outside the copying group are read."""
    extra: dict[str, list[str]] = {g: [] for g in fused}
    fused_set = set(fused)
    for g in fused:
        for name in groups.members[g]:
            node = graph.node(name)
            x = _recomputable(graph, node)
            if x is None or graph.producer(x) and groups.group_of[graph.producer(x).name] == g:
                continue
            v = node.outputs[0]
            for user in graph.users(v):
                h = groups.group_of[user.name]
                if h != g and h in fused_set and name not in extra[h]:
                    extra[h].append(name)
    return extra


def _subgraph(graph: Graph, name: str, members: list[Node], outside_needs: set[str]) -> tuple[Graph, list[str]]:
    """The fused node's sub-graph and its inputs (values the members read but do not define)."""
    defined = {v for n in members for v in n.outputs}
    sub = Graph(name)
    inputs: list[str] = []
    for n in members:
        for v in n.inputs:
            if v in defined or v in inputs or v in sub.initializers:
                continue
            data = graph.initializers.get(v)
            if data is not None and data.size <= INLINE_CONST_NUMEL:
                sub.add_initializer(v, data)
            else:
                inputs.append(v)
                sub.add_input(v, graph.type_of(v))
    for n in members:
        sub.add_node(n.op, n.inputs, [graph.type_of(v) for v in n.outputs], n.attrs, n.source,
                     n.outputs)
    sub.set_outputs([v for n in members for v in n.outputs if v in outside_needs])
    return sub, inputs


@graph_pass
def fuse(graph: Graph) -> Graph:
    """Group elementwise ops (and one reduction's prologue/epilogue) into graphc.Fused nodes."""
    groups = _form_groups(graph)
    fused = [g for g in sorted(groups.members, key=groups.index.__getitem__)
             if len(groups.members[g]) > 1]
    if not fused:
        return graph
    extra = _duplicate_cheap(graph, groups, fused)
    copied_into = {}  # (group, value) pairs whose reads are served by a copy inside the group
    for h, names in extra.items():
        for name in names:
            copied_into[(h, graph.node(name).outputs[0])] = True
    order = groups.index
    fused_nodes: dict[str, Node] = {}
    for k, g in enumerate(fused):
        member_names = sorted(groups.members[g], key=order.__getitem__)
        needs = set(graph.outputs)
        for name in member_names:
            for v in graph.node(name).outputs:
                for user in graph.users(v):
                    h = groups.group_of[user.name]
                    if h != g and (h, v) not in copied_into:
                        needs.add(v)
        copies = {n for n in extra[g] if n not in member_names}
        members = [graph.node(n) for n in sorted(copies, key=order.__getitem__)]
        members += [graph.node(n) for n in member_names]
        needs &= {v for n in member_names for v in graph.node(n).outputs}  # copies' values stay outside
        members = _live_members(members, needs)
        if not members:
            continue
        if len(members) == 1:
            fused_nodes[g] = members[0]
            continue
        sub, inputs = _subgraph(graph, f"fused{k}", members, needs)
        fused_nodes[g] = Node(sub.outputs[0], FUSED, tuple(inputs), sub.outputs, {},
                              members[-1].source, sub)
    nodes = []
    for node in groups.nodes:
        g = groups.group_of[node.name]
        if g not in fused_nodes and len(groups.members[g]) == 1:
            nodes.append(node)
        elif g == node.name and g in fused_nodes:
            nodes.append(fused_nodes[g])
    return dce(rebuild(graph, nodes))


def _live_members(members: list[Node], needs: set[str]) -> list[Node]:
    """Drop members whose results no member and nothing outside reads (copied away)."""
    keep = list(members)
    changed = True
    while changed:
        read = {v for n in keep for v in n.inputs}
        alive = [n for n in keep if any(v in needs or v in read for v in n.outputs)]
        changed = len(alive) != len(keep)
        keep = alive
    return keep
