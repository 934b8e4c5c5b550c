"""The graph's text form, one node a line in the spirit of MLIR and jaxprs (DESIGN §3).

    graph mlp(%x: f32[64,1000], %w: f32[1000,10]) {
      %b: f32[10] = initializer
      %h: f32[64,10] = MatMul(%x, %w)
      %y: f32[64,10] = Add(%h, %b) {broadcast=True}
      return %y
    }

Printing is deterministic (topological order, sorted attributes) and `parse` inverts it exactly,
so golden files compare as text. Names that are not plain words print quoted (`%"a:b"`);
attribute values are Python literals plus `[...]` for sequences and `dtype(f32)` for dtypes.
A fused node's subgraph follows its line as a nested, indented graph block. Initializer data
and source lines are not part of the text; `# comments` are ignored by the parser.
"""
from __future__ import annotations

import json
import re
from typing import Any, Mapping

import numpy as np

from .. import dtypes
from .errors import ParseError
from .types import TensorType

_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_.]+")
_PLAIN_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_TOKEN = re.compile(r"""
      (?P<skip>\s+|\#[^\n]*)
    | (?P<value>%(?:[A-Za-z0-9_.]+|"(?:[^"\\\n]|\\.)*"))
    | (?P<string>"(?:[^"\\\n]|\\.)*")
    | (?P<number>-inf(?![\w.])|-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)
    | (?P<ident>[A-Za-z_][A-Za-z0-9_.]*)
    | (?P<punct>[()\[\]{},:=])
""", re.X)
_WORDS = {"True": True, "False": False, "None": None, "inf": float("inf"), "nan": float("nan")}


# ---- printing ------------------------------------------------------------------------------

def format_graph(graph) -> str:
    return "\n".join(_graph_lines(graph))


def format_node(graph, node) -> str:
    """One node's line, without a fused node's subgraph block (for error messages)."""
    outs = ", ".join(f"{_value(v)}: {graph.type_of(v)}" for v in node.outputs)
    line = f"{outs} = {node.op}({', '.join(map(_value, node.inputs))})"
    if node.attrs:
        line += " {" + ", ".join(f"{k}={_attr(node.attrs[k])}" for k in sorted(node.attrs)) + "}"
    return line


def _graph_lines(graph) -> list[str]:
    params = ", ".join(f"{_value(v)}: {graph.type_of(v)}" for v in graph.inputs)
    lines = [f"graph {_graph_name(graph.name)}({params}) {{"]
    lines += [f"  {_value(v)}: {graph.type_of(v)} = initializer" for v in graph.initializers]
    for node in graph.nodes():
        line = "  " + format_node(graph, node)
        if node.subgraph is None:
            lines.append(line)
        else:
            sub = _graph_lines(node.subgraph)
            lines += [f"{line} {sub[0]}"] + ["  " + s for s in sub[1:]]
    lines.append(f"  return {', '.join(map(_value, graph.outputs))}".rstrip())
    lines.append("}")
    return lines


def _value(name: str) -> str:
    return "%" + (name if _PLAIN_VALUE.fullmatch(name) else json.dumps(name))


def _graph_name(name: str) -> str:
    return name if _PLAIN_IDENT.fullmatch(name) else json.dumps(name)


def _attr(v) -> str:
    if v is None or isinstance(v, (bool, float)):
        return repr(v)  # repr round-trips floats, inf and nan included
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, dtypes.dtype):
        return f"dtype({v.short})"
    return "[" + ",".join(map(_attr, v)) + "]"


# ---- parsing -------------------------------------------------------------------------------

def parse(text: str, graph_cls, initializers: Mapping[str, Any] | None = None):
    """Build a `graph_cls` from its text form; `initializers` gives data by name (else zeros)."""
    parser = _Parser(text)
    data = dict(initializers or {})
    graph = parser.graph(graph_cls, data)
    if parser.peek()[0] != "end":
        raise parser.error("expected the end of the text")
    if data:
        raise ParseError(f"initializer data given for values the text does not declare: {sorted(data)}")
    return graph


class _Parser:
    """Recursive descent over tokens; errors give the line and the token found."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None:
                raise ParseError(f"line {self._line(pos)}: unexpected character {text[pos]!r}")
            if m.lastgroup != "skip":
                self.tokens.append((m.lastgroup, m.group(), pos))
            pos = m.end()
        self.i = 0

    def _line(self, pos: int) -> int:
        return self.text.count("\n", 0, pos) + 1

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", "", len(self.text))

    def error(self, message: str, token=None) -> ParseError:
        kind, text, pos = token or self.peek()
        found = "the end of the text" if kind == "end" else repr(text)
        return ParseError(f"line {self._line(pos)}: {message}, found {found}")

    def at(self, kind: str, text: str | None = None) -> bool:
        k, t, _ = self.peek()
        return k == kind and (text is None or t == text)

    def accept(self, kind: str, text: str | None = None) -> bool:
        if self.at(kind, text):
            self.i += 1
            return True
        return False

    def expect(self, kind: str, text: str | None = None) -> str:
        if not self.at(kind, text):
            raise self.error(f"expected {text!r}" if text else f"expected a {kind}")
        self.i += 1
        return self.tokens[self.i - 1][1]

    def items(self, item, close: str) -> list:
        """`item (, item)* close`, possibly empty."""
        out = []
        if self.accept("punct", close):
            return out
        while True:
            out.append(item())
            if self.accept("punct", close):
                return out
            self.expect("punct", ",")

    def graph(self, graph_cls, data: dict):
        self.expect("ident", "graph")
        if self.at("string"):
            graph = graph_cls(json.loads(self.expect("string")))
        else:
            graph = graph_cls(self.expect("ident"))
        self.expect("punct", "(")
        for token, (name, ty) in self.items(self.typed_value, ")"):
            self.build(token, graph.add_input, name, ty)
        self.expect("punct", "{")
        while not self.at("ident", "return"):
            self.statement(graph, data)
        self.expect("ident", "return")
        outputs = [] if self.at("punct", "}") else [self.value()]
        while self.accept("punct", ","):
            outputs.append(self.value())
        self.expect("punct", "}")
        graph.set_outputs(outputs)
        return graph

    def statement(self, graph, data: dict) -> None:
        """`defs = initializer` or `defs = Op(inputs) {attrs} graph ...`."""
        token = self.peek()
        defs = [self.typed_value()[1]]
        while self.accept("punct", ","):
            defs.append(self.typed_value()[1])
        self.expect("punct", "=")
        op = self.expect("ident")
        names, types = [n for n, _ in defs], [t for _, t in defs]
        if op == "initializer" and not self.at("punct", "("):
            if len(defs) != 1:
                raise self.error("an initializer defines one value", token)
            self.build(token, graph.add_initializer, names[0], _initializer_data(data, *defs[0]))
            return
        self.expect("punct", "(")
        inputs = self.items(self.value, ")")
        attrs = self.attrs() if self.at("punct", "{") else {}
        sub = self.graph(type(graph), {}) if self.at("ident", "graph") else None
        self.build(token, graph.add_node, op, inputs, types, attrs, name=names, subgraph=sub)

    def build(self, token, method, *args, **kwargs):
        """Call a Graph builder, turning its complaint into a ParseError at the statement."""
        try:
            return method(*args, **kwargs)
        except (ValueError, TypeError) as exc:
            raise ParseError(f"line {self._line(token[2])}: {exc}") from None

    def typed_value(self):
        token = self.peek()
        name = self.value()
        self.expect("punct", ":")
        return token, (name, self.type())

    def value(self) -> str:
        text = self.expect("value")[1:]
        return json.loads(text) if text.startswith('"') else text

    def type(self) -> TensorType:
        dtype = self.type_name()
        self.expect("punct", "[")
        return TensorType(tuple(self.items(self.dim, "]")), dtype)

    def dim(self) -> int:
        text = self.expect("number")
        if not text.isdigit():
            raise self.error("expected a dimension (a non-negative integer)", self.tokens[self.i - 1])
        return int(text)

    def attrs(self) -> dict:
        self.expect("punct", "{")
        start = self.i
        pairs = self.items(self.attr, "}")
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise self.error("an attribute is given twice", self.tokens[start])
        return dict(pairs)

    def attr(self):
        key = self.expect("ident")
        self.expect("punct", "=")
        return key, self.attr_value()

    def attr_value(self):
        token = self.peek()
        kind, text, _ = token
        if kind != "end":
            self.i += 1
        if kind == "number":
            return float(text) if any(c in text for c in ".eEn") else int(text)
        if kind == "string":
            return json.loads(text)
        if kind == "punct" and text == "[":
            return tuple(self.items(self.attr_value, "]"))
        if kind == "ident" and text in _WORDS:
            return _WORDS[text]
        if kind == "ident" and text == "dtype":
            self.expect("punct", "(")
            dtype = self.type_name()
            self.expect("punct", ")")
            return dtype
        raise self.error("expected an attribute value", token)

    def type_name(self) -> dtypes.dtype:
        token = self.peek()
        try:
            return dtypes.from_short(self.expect("ident"))
        except ValueError as exc:
            raise self.error(str(exc), token) from None


def _initializer_data(data: dict, name: str, ty: TensorType) -> np.ndarray:
    if name not in data:
        return np.zeros(ty.shape, ty.dtype.np)
    array = np.asarray(data.pop(name))
    if array.shape != ty.shape or array.dtype != ty.dtype.np:
        raise ParseError(f"data for initializer %{name} is {array.dtype}{list(array.shape)}, "
                         f"the text declares {ty}")
    return array
