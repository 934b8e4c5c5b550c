"""draw(graph): a graphc IR Graph as a graphviz Digraph.

Op nodes are coloured by kind (style.KIND_COLOURS), graph inputs, parameters (initializers),
scalar constants and outputs each have their own shape, edges carry the value's type, and a
`graphc.Fused` node is drawn as a cluster of its member ops, wired to the outside through its
sub-graph's inputs and outputs. With a memory plan each op shows where its results live in the
arena. Past `collapse` nodes, repeated blocks become one box with a count (see collapse.py).
"""
from __future__ import annotations

import html
import os

import graphviz

from .collapse import DEFAULT_THRESHOLD, block_title, group_of, module_prefix
from .style import (BLOCK, CONST, FUSED_CLUSTER, INPUT, KIND_COLOURS, OUTPUT, PARAM, human_bytes,
                    kind_of)


def draw(graph, plan=None, *, params=(), output_names=None, collapse: int | None = DEFAULT_THRESHOLD,
         title: str | None = None, legend: bool = True) -> graphviz.Digraph:
    """The drawing of `graph`; `plan` (a passes.MemoryPlan) adds arena offsets and sizes.

    params: graph inputs to draw as parameters (a compiled training step takes its parameters
    as inputs). output_names: output index -> what it is (e.g. the parameter it updates).
    collapse: node count above which repeated blocks are collapsed (None: never)."""
    drawer = _Drawer(graph, plan, collapse)
    drawer.params = set(params)
    drawer.output_names = dict(output_names or {})
    return drawer.run(title, legend)


class _Drawer:
    def __init__(self, graph, plan, collapse):
        self.g = graph
        self.plan = plan
        self.nodes = graph.nodes()
        names = [n.name for n in self.nodes]
        size = len(names) + len(graph.inputs) + len(graph.initializers) + len(graph.outputs)
        self.block, self.runs = group_of(names, [_signature(n) for n in self.nodes], collapse, size)
        self.ids: dict[tuple, str] = {}
        self.where: dict[str, str] = {}   # value -> DOT id of what draws its definition
        self.edges: set[tuple] = set()
        self.kinds: set[str] = set()
        self.dot = graphviz.Digraph(
            graph.name, graph_attr={"rankdir": "TB", "fontname": "Helvetica", "labelloc": "t",
                                    "nodesep": "0.3", "ranksep": "0.35"},
            node_attr={"fontname": "Helvetica", "fontsize": "11", "shape": "box",
                       "style": "filled,rounded", "height": "0.3"},
            edge_attr={"fontname": "Helvetica", "fontsize": "9", "color": "#555555",
                       "fontcolor": "#333333", "arrowsize": "0.6"})

    def id(self, *key) -> str:
        """A DOT-safe id per drawn thing (graph names may hold ':' which DOT reads as a port)."""
        return self.ids.setdefault(key, f"n{len(self.ids)}")

    def run(self, title, legend) -> graphviz.Digraph:
        folded = self._folded_values()
        self._values(folded)
        for k, run in enumerate(self.runs):
            self._block(k, run, folded)
        for node in self.nodes:
            if node.name in self.block:
                continue
            if node.subgraph is not None:
                self._fused(node)
            else:
                self._op(self.dot, node, self.id("op", node.name), node.op)
        for node in self.nodes:
            self._in_edges(node)
        self._outputs()
        self.dot.attr(label=title or self._title())
        if legend and self.kinds:
            self._legend()
        return self.dot

    # ---- values --------------------------------------------------------------------------

    def _folded_values(self) -> dict[str, int]:
        """Inputs and parameters read only inside collapsed blocks: counted in the box of their
        first reader instead of drawn (a block's parameters would otherwise fill the picture)."""
        out = {}
        for v in (*self.g.inputs, *self.g.initializers):
            blocks = [self.block.get(u.name) for u in self.g.users(v)]
            if blocks and None not in blocks and v not in self.g.outputs:
                out[v] = blocks[0]
        return out

    def _values(self, folded) -> None:
        for v in self.g.inputs:
            if v not in folded:
                self.where[v] = self.id("value", v)
                self.dot.node(self.where[v], f"{v}\n{self.g.type_of(v)}",
                              **(PARAM if v in self.params else INPUT))
        for v, data in self.g.initializers.items():
            if v in folded or _is_scalar(data):
                continue  # scalars are drawn once per use, next to their reader
            self.where[v] = self.id("value", v)
            self.dot.node(self.where[v], f"{v}\n{self.g.type_of(v)}", **PARAM)

    # ---- ops -----------------------------------------------------------------------------

    def _op(self, dot, node, nid: str, op: str) -> None:
        kind = kind_of(op)
        self.kinds.add(kind)
        lines = [op, " ".join(f"%{v}" for v in node.outputs)]
        lines += self._plan_lines(node)
        tip = [_relative(node.source)] + [f"{k}={v}" for k, v in sorted(node.attrs.items())]
        dot.node(nid, "\n".join(lines), fillcolor=KIND_COLOURS[kind],
                 tooltip=html.escape("\n".join(t for t in tip if t)) or op)
        for v in node.outputs:
            self.where.setdefault(v, nid)

    def _plan_lines(self, node) -> list[str]:
        if self.plan is None:
            return []
        lines = []
        for v in node.outputs:
            if v in self.plan.offsets:
                size = human_bytes(self.g.type_of(v).nbytes)
                reuse = self.plan.in_place.get(v)
                lines.append(f"@{self.plan.offsets[v]} +{size}" + (f" (over %{reuse})" if reuse else ""))
            elif v in getattr(self.plan, "views", {}):
                lines.append(f"view of %{self.plan.views[v]}")
        return lines

    def _fused(self, node) -> None:
        sub = node.subgraph
        with self.dot.subgraph(name=f"cluster_{self.id('fused', node.name)}") as c:
            c.attr(label=f"{sub.name} ({node.op}, {len(sub.nodes())} ops)", fontname="Helvetica",
                   fontsize="10", **FUSED_CLUSTER)
            self.kinds.add("fused")
            for m in sub.nodes():
                self._op(c, m, self.id("member", node.name, m.name), m.op)
            for m in sub.nodes():
                for v in m.inputs:
                    tail = self.ids.get(("member", node.name, sub.producer(v).name)) if sub.producer(v) else None
                    head = self.id("member", node.name, m.name)
                    if tail is not None:
                        self._edge(tail, head, str(sub.type_of(v)))
                    elif v in sub.initializers:
                        self._const(sub.initializers[v], head, ("member", node.name, m.name, v))
        outer = dict(zip(sub.outputs, node.outputs))
        for v_sub, v in outer.items():
            producer = sub.producer(v_sub)
            if producer is not None:
                self.where[v] = self.id("member", node.name, producer.name)

    def _block(self, k: int, run, folded) -> None:
        members = self.nodes[run.start:run.start + run.period]
        ops = [n.op.rpartition(".")[2] for n in members]
        n_in = sum(1 for b in folded.values() if b == k)
        mods = module_prefix(v for v, b in folded.items() if b == k)
        lines = block_title(run, ops, "ops")
        lines += [mods] if mods else []
        lines += [f"+{n_in} inputs/parameters"] if n_in else []
        bid = self.id("block", k)
        self.dot.node(bid, "\n".join(lines), **BLOCK)
        for node in self.nodes[run.start:run.stop]:
            for v in node.outputs:
                self.where[v] = bid

    # ---- edges ---------------------------------------------------------------------------

    def _heads(self, node, slot: int) -> list[str]:
        if node.name in self.block:
            return [self.id("block", self.block[node.name])]
        if node.subgraph is None:
            return [self.id("op", node.name)]
        v_sub = node.subgraph.inputs[slot]
        return [self.id("member", node.name, m.name) for m in node.subgraph.users(v_sub)]

    def _in_edges(self, node) -> None:
        for slot, v in enumerate(node.inputs):
            data = self.g.initializers.get(v)
            for head in self._heads(node, slot):
                if data is not None and _is_scalar(data):
                    self._const(data, head, ("const", node.name, slot, head))
                elif v in self.where and self.where[v] != head:
                    self._edge(self.where[v], head, str(self.g.type_of(v)))

    def _edge(self, tail: str, head: str, label: str, **attrs) -> None:
        if (tail, head, label) not in self.edges:
            self.edges.add((tail, head, label))
            self.dot.edge(tail, head, label=label, **attrs)

    def _const(self, data, head: str, key: tuple) -> None:
        cid = self.id(*key)
        self.dot.node(cid, _scalar_text(data), **CONST)
        self._edge(cid, head, "", arrowsize="0.4", color="#aaaaaa")

    def _outputs(self) -> None:
        folded: dict[str, int] = {}
        blocks = {self.ids[("block", k)] for k in range(len(self.runs))}
        for k, v in enumerate(self.g.outputs):
            tail = self.where.get(v)
            if tail in blocks:
                folded[tail] = folded.get(tail, 0) + 1
                continue
            oid = self.id("output", k)
            what = self.output_names.get(k, f"output {k}")
            self.dot.node(oid, f"{what}\n%{v}\n{self.g.type_of(v)}", **OUTPUT)
            if tail is not None:
                self._edge(tail, oid, str(self.g.type_of(v)))
        for bid, count in folded.items():
            oid = self.id("outputs of", bid)
            self.dot.node(oid, f"{count} outputs", **OUTPUT)
            self._edge(bid, oid, "")

    # ---- text ----------------------------------------------------------------------------

    def _title(self) -> str:
        n_fused = sum(1 for n in self.nodes if n.subgraph is not None)
        title = f"{self.g.name}: {len(self.nodes)} nodes"
        title += f", {n_fused} fused" if n_fused else ""
        title += f", {sum(r.count * r.period for r in self.runs)} in collapsed blocks" if self.runs else ""
        if self.plan is not None:
            p = self.plan
            title += (f"\narena {human_bytes(p.arena_bytes)} (lower bound "
                      f"{human_bytes(p.lower_bound_bytes)}, no reuse {human_bytes(p.no_reuse_bytes)})")
        return title

    def _legend(self) -> None:
        rows = "".join(f'<TR><TD BGCOLOR="{KIND_COLOURS[k]}">{html.escape(k)}</TD></TR>'
                       for k in KIND_COLOURS if k in self.kinds)
        self.dot.node("legend", f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0">{rows}</TABLE>>',
                      shape="plaintext", style="", fontsize="9")


def _signature(node) -> tuple:
    inner = tuple(m.op for m in node.subgraph.nodes()) if node.subgraph is not None else ()
    return (node.op, node.source, inner)


def _is_scalar(data) -> bool:
    return data.size == 1 and data.ndim <= 1


def _scalar_text(data) -> str:
    """A constant's value when it is one number, else its type (constants fused in are small)."""
    if data.size != 1:
        return f"const {data.dtype}{list(data.shape)}"
    value = data.reshape(()).item()
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _relative(source: str | None) -> str:
    """'examples/lenet.py:22' rather than an absolute path, so drawings can be committed."""
    if not source:
        return ""
    path, _, line = source.rpartition(":")
    rel = os.path.relpath(path) if path and os.path.isabs(path) else path
    return f"{path if rel.startswith('..') else rel}:{line}"
