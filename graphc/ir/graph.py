"""The graph IR: an ONNX GraphProto in networkx form (DESIGN §3).

One networkx node per op node, one edge per tensor use (producer -> user, labelled with the
value name and the user's input slot). Values are named strings with a `TensorType`; the graph
has ordered inputs, ordered outputs and initializers (constants and parameters, with data).

Definitions are checked when they are made (a value is defined once); uses are not, so a graph
can be built in any order and `verify()` judges the result. Node names are the name of their
first output, so they are as stable as the printed value names.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping, Sequence

import networkx as nx
import numpy as np

from .. import dtypes
from . import text as _text
from .errors import GraphError
from .types import TensorType

_OP_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_ATTR_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, eq=False)
class Node:
    """A read-only snapshot of one op node; change the graph through `Graph`'s methods."""

    name: str
    op: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attrs: Mapping[str, Any]
    source: str | None = None
    subgraph: Graph | None = None


class Graph:
    """A static dataflow graph of named, typed values. See the module docstring."""

    def __init__(self, name: str = "graph"):
        self.name = name
        self._g = nx.MultiDiGraph()
        self._inputs: list[str] = []
        self._outputs: list[str] = []
        self._init: dict[str, np.ndarray] = {}
        self._types: dict[str, TensorType] = {}
        self._producer: dict[str, str] = {}  # value -> node
        self._uses: dict[str, list[tuple[str, int]]] = {}  # value -> [(node, slot)]
        self._seq: dict[str, int] = {}  # node -> insertion number: breaks topological ties
        self._next_seq = 0
        self._next_value = 0
        self._order: list[str] | None = None  # cached topological order

    # ---- reading -------------------------------------------------------------------------

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(self._inputs)

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(self._outputs)

    @property
    def initializers(self) -> Mapping[str, np.ndarray]:
        return MappingProxyType(self._init)

    @property
    def nx_graph(self) -> nx.MultiDiGraph:
        """The underlying networkx graph, for algorithms and drawing; do not mutate it."""
        return self._g

    def type_of(self, value: str) -> TensorType:
        try:
            return self._types[value]
        except KeyError:
            raise KeyError(f"graph {self.name}: no value %{value}") from None

    def node(self, name: str) -> Node:
        if name not in self._g:
            raise KeyError(f"graph {self.name}: no node {name!r}")
        d = self._g.nodes[name]
        return Node(name, d["op"], d["inputs"], d["outputs"], MappingProxyType(d["attrs"]),
                    d["source"], d["subgraph"])

    def nodes(self) -> list[Node]:
        """Every node in topological order, ties broken by insertion order (so it is stable);
        GraphError on a cycle."""
        if self._order is None:
            if not nx.is_directed_acyclic_graph(self._g):
                raise GraphError(self._cycle_message())
            self._order = list(nx.lexicographical_topological_sort(self._g, key=self._seq.__getitem__))
        return [self.node(n) for n in self._order]

    def producer(self, value: str) -> Node | None:
        """The node defining `value`, or None for inputs, initializers and undefined names."""
        name = self._producer.get(value)
        return None if name is None else self.node(name)

    def users(self, value: str) -> list[Node]:
        """The nodes reading `value`, each once, in insertion order."""
        names = {n for n, _ in self._uses.get(value, ())}
        return [self.node(n) for n in sorted(names, key=self._seq.__getitem__)]

    # ---- building ------------------------------------------------------------------------

    def add_input(self, name: str, type: TensorType) -> str:
        self._types[self._claim(name)] = _as_type(type)
        self._inputs.append(name)
        return name

    def add_initializer(self, name: str, array) -> str:
        """Add a constant; the graph keeps a read-only copy, so copies of the graph can share it."""
        data = np.array(array)
        data.flags.writeable = False
        self._types[self._claim(name)] = TensorType(data.shape, dtypes.from_numpy(data.dtype))
        self._init[name] = data
        return name

    def add_node(self, op: str, inputs: Sequence[str], output_types: Sequence[TensorType],
                 attrs: Mapping[str, Any] | None = None, source: str | None = None,
                 name: str | Sequence[str] | None = None, subgraph: Graph | None = None) -> list[str]:
        """Append a node; returns its output value names.

        `name` is None (fresh names "0", "1", ...), a str hint ("h", "h_1", ...), or the exact
        output names. Inputs may name values defined later; `verify()` checks they exist.
        """
        if not _OP_NAME.fullmatch(op):
            raise ValueError(f"bad op name {op!r}")
        types = [_as_type(t) for t in output_types]
        if not types:
            raise ValueError(f"{op}: a node needs at least one output")
        canon = _canonical_attrs(op, attrs or {})
        if subgraph is not None and not isinstance(subgraph, Graph):
            raise TypeError(f"{op}: subgraph must be a Graph, got {type(subgraph).__name__}")
        inputs = tuple(_as_value_name(v) for v in inputs)
        if name is None or isinstance(name, str):
            outs = []
            for t in types:
                outs.append(self.fresh_name(name))
                self._types[outs[-1]] = t
        else:
            outs = [_as_value_name(v) for v in name]
            if len(outs) != len(types):
                raise ValueError(f"{op}: {len(outs)} output names for {len(types)} outputs")
            if len(set(outs)) != len(outs):
                raise ValueError(f"{op}: output names repeat: {outs}")
            for v in outs:
                self._claim(v)
            self._types.update(zip(outs, types))
        node = outs[0]
        self._g.add_node(node, op=op, attrs=canon, inputs=inputs, outputs=tuple(outs),
                         source=source, subgraph=subgraph)
        self._seq[node] = self._next_seq
        self._next_seq += 1
        for v in outs:
            self._producer[v] = node
            for user, slot in self._uses.get(v, ()):
                self._g.add_edge(node, user, key=slot, value=v, slot=slot)
        for slot, v in enumerate(inputs):
            self._add_use(node, slot, v)
        self._order = None
        return outs

    def fresh_name(self, hint: str | None = None) -> str:
        """A value name nothing defines or reads: `hint`, `hint_1`, ... or "0", "1", ...
        (what add_node picks; also for naming new initializers)."""
        if hint is None:
            while self._taken(str(self._next_value)):  # the counter only skips taken names
                self._next_value += 1
            return str(self._next_value)
        name, k = _as_value_name(hint), 0
        while self._taken(name):
            k += 1
            name = f"{hint}_{k}"
        return name

    def set_outputs(self, names: Sequence[str]) -> None:
        self._outputs = [_as_value_name(v) for v in names]

    # ---- rewriting -----------------------------------------------------------------------

    def replace_all_uses(self, old: str, new: str) -> None:
        """Make every reader of `old` (graph outputs included) read `new`, of the same type."""
        if self.type_of(old) != self.type_of(new):
            raise ValueError(f"cannot replace %{old}: {self.type_of(old)} by %{new}: {self.type_of(new)}")
        for node, slot in list(self._uses.get(old, ())):
            self._drop_use(node, slot, old)
            data = self._g.nodes[node]
            data["inputs"] = data["inputs"][:slot] + (new,) + data["inputs"][slot + 1:]
            self._add_use(node, slot, new)
        self._outputs = [new if v == old else v for v in self._outputs]
        self._order = None

    def replace_node(self, name: str, op: str | None = None, inputs: Sequence[str] | None = None,
                     attrs: Mapping[str, Any] | None = None) -> Node:
        """Rewrite a node in place (None keeps a field); outputs, types and source are kept, so
        a rewrite never loses where the node came from."""
        data = self._g.nodes[name]
        if op is not None:
            if not _OP_NAME.fullmatch(op):
                raise ValueError(f"bad op name {op!r}")
            data["op"] = op
        if attrs is not None:
            data["attrs"] = _canonical_attrs(data["op"], attrs)
        if inputs is not None:
            for slot, v in enumerate(data["inputs"]):
                self._drop_use(name, slot, v)
            data["inputs"] = tuple(_as_value_name(v) for v in inputs)
            for slot, v in enumerate(data["inputs"]):
                self._add_use(name, slot, v)
            self._order = None
        return self.node(name)

    def remove_node(self, name: str) -> None:
        """Remove a node whose outputs nothing reads (remove users first)."""
        data = self._g.nodes[name]
        for v in data["outputs"]:
            if self._uses.get(v) or v in self._outputs:
                raise ValueError(f"cannot remove node {name!r}: %{v} is still used")
        for slot, v in enumerate(data["inputs"]):
            self._drop_use(name, slot, v)
        for v in data["outputs"]:
            del self._types[v], self._producer[v]
        self._g.remove_node(name)
        del self._seq[name]
        self._order = None

    def copy(self) -> Graph:
        """An independent copy (subgraphs copied too; read-only initializer data shared)."""
        g = Graph(self.name)
        for v in self._inputs:
            g.add_input(v, self._types[v])
        for v, data in self._init.items():
            g._init[g._claim(v)] = data
            g._types[v] = self._types[v]
        for n, d in self._g.nodes(data=True):  # insertion order, so ties break the same way
            g.add_node(d["op"], d["inputs"], [self._types[v] for v in d["outputs"]], d["attrs"],
                       d["source"], d["outputs"], None if d["subgraph"] is None else d["subgraph"].copy())
        g.set_outputs(self._outputs)
        g._next_value = self._next_value
        return g

    # ---- checking and text ---------------------------------------------------------------

    def verify(self, ops: Mapping[str, Any] | None = None) -> None:
        """Raise GraphError unless the invariants hold: values defined once, acyclic, every use
        defined, graph outputs defined, and output types equal to each op's shape rule.

        `ops` maps op names to registry `Op`s (default: the global registry); ops not in it
        are not type-checked.
        """
        if ops is None:
            from ..ops.registry import REGISTRY as ops
        defined: dict[str, str] = {}
        for where, values in (("graph input", self._inputs), ("initializer", self._init)):
            for v in values:
                if v in defined:
                    raise GraphError(f"graph {self.name}: {where} %{v} is already {defined[v]}")
                defined[v] = f"a {where}"
        for n, d in self._g.nodes(data=True):  # the raw data, in case the indexes are stale
            for v in d["outputs"]:
                if v in defined:
                    raise GraphError(f"{self._describe(n)}: redefines %{v}, already {defined[v]}")
                defined[v] = f"defined by node {n!r}"
        for node in self.nodes():
            for v in node.inputs:
                if v not in defined:
                    raise GraphError(f"{self._describe(node.name)}: uses %{v}, which nothing defines")
            self._check_types(node, ops)
        for v in self._outputs:
            if v not in defined:
                raise GraphError(f"graph {self.name}: output %{v} is not defined")

    def __str__(self) -> str:
        return _text.format_graph(self)

    def __repr__(self) -> str:
        return (f"<Graph {self.name}: {len(self._inputs)} inputs, {len(self._init)} initializers, "
                f"{self._g.number_of_nodes()} nodes, {len(self._outputs)} outputs>")

    @classmethod
    def parse(cls, text: str, initializers: Mapping[str, Any] | None = None) -> Graph:
        """The graph `str(graph)` printed. Initializers are zeros unless `initializers` gives data."""
        return _text.parse(text, cls, initializers)

    # ---- internals -----------------------------------------------------------------------

    def _claim(self, name: str) -> str:
        name = _as_value_name(name)
        if name in self._types:
            raise ValueError(f"graph {self.name}: value %{name} is already defined")
        return name

    def _taken(self, name: str) -> bool:
        return name in self._types or name in self._uses

    def _add_use(self, node: str, slot: int, value: str) -> None:
        self._uses.setdefault(value, []).append((node, slot))
        if value in self._producer:
            self._g.add_edge(self._producer[value], node, key=slot, value=value, slot=slot)

    def _drop_use(self, node: str, slot: int, value: str) -> None:
        uses = self._uses[value]
        uses.remove((node, slot))
        if not uses:
            del self._uses[value]
        if value in self._producer:
            self._g.remove_edge(self._producer[value], node, key=slot)

    def _describe(self, name: str) -> str:
        d = self._g.nodes[name]
        where = f" at {d['source']}" if d["source"] else ""
        return f"node {name!r} ({_text.format_node(self, self.node(name))}){where}"

    def _cycle_message(self) -> str:
        cycle = [u for u, _, _ in nx.find_cycle(self._g)]
        path = " -> ".join(repr(n) for n in cycle + cycle[:1])
        return f"{self._describe(cycle[0])}: is on a cycle {path}"

    def _check_types(self, node: Node, ops: Mapping[str, Any]) -> None:
        declared = [self._types[v] for v in node.outputs]
        in_types = [self._types[v] for v in node.inputs]
        if node.subgraph is not None:
            self._check_subgraph(node, in_types, declared, ops)
            return
        op = ops.get(node.op)
        if op is None:
            return
        try:
            attrs = op.complete_attrs(dict(node.attrs))
        except TypeError as exc:
            raise GraphError(f"{self._describe(node.name)}: {exc}") from None
        try:
            expected = [_as_type(t) for t in op.infer(in_types, **attrs)]
        except Exception as exc:  # a shape rule may reject bad input with any exception
            raise GraphError(f"{self._describe(node.name)}: {node.op} rejects inputs "
                             f"{_types_str(in_types)}: {exc}") from exc
        if expected != declared:
            raise GraphError(f"{self._describe(node.name)}: declares "
                             f"{_types_str(declared)}, but {node.op} gives {_types_str(expected)}")

    def _check_subgraph(self, node: Node, in_types, declared, ops) -> None:
        sub = node.subgraph
        try:
            sub.verify(ops)
        except GraphError as exc:
            raise GraphError(f"{self._describe(node.name)}: in its subgraph: {exc}") from exc
        sub_in = [sub.type_of(v) for v in sub.inputs]
        sub_out = [sub.type_of(v) for v in sub.outputs]
        if sub_in != in_types or sub_out != declared:
            raise GraphError(
                f"{self._describe(node.name)}: its subgraph takes {_types_str(sub_in)} -> "
                f"{_types_str(sub_out)}, the node {_types_str(in_types)} -> {_types_str(declared)}")


def _types_str(types) -> str:
    return "(" + ", ".join(map(str, types)) + ")"


def _as_type(t) -> TensorType:
    if not isinstance(t, TensorType) or not isinstance(t.dtype, dtypes.dtype):
        raise TypeError(f"expected a TensorType, got {t!r}")
    return TensorType(tuple(int(d) for d in t.shape), t.dtype)


def _as_value_name(name) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"a value name is a non-empty str, got {name!r}")
    return name


def _canonical_attrs(op: str, attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Attributes as immutable plain values (lists become tuples, NumPy scalars Python ones), so
    they print, save and compare (CSE) the same way however they were written."""
    out = {}
    for key, value in attrs.items():
        if not isinstance(key, str) or not _ATTR_KEY.fullmatch(key):
            raise ValueError(f"{op}: bad attribute name {key!r}")
        out[key] = _canonical_value(value, f"{op}.{key}")
    return out


def _canonical_value(value, where: str):
    if value is None or isinstance(value, (bool, str, dtypes.dtype)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, (list, tuple)):
        return tuple(_canonical_value(v, where) for v in value)
    raise TypeError(f"{where}: an attribute is None, bool, int, float, str, a graphc dtype or a "
                    f"list of those; got {type(value).__name__}")
