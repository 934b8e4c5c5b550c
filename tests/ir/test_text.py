"""The text form: deterministic printing, exact print -> parse -> print round trips, clear errors."""
import numpy as np
import pytest
from hypothesis import given, settings

from graphc import dtypes
from graphc.ir import Graph, ParseError, TensorType

from .strategies import graphs, same_initializers

f32, i64 = dtypes.float32, dtypes.int64
MLP = """\
graph mlp(%x: f32[64,1000], %w1: f32[1000,100], %w2: f32[100,10]) {
  %h: f32[64,100] = MatMul(%x, %w1)
  %r: f32[64,100] = Relu(%h)
  %y: f32[64,10] = MatMul(%r, %w2)
  return %y
}"""


def build_mlp() -> Graph:
    g = Graph("mlp")
    g.add_input("x", TensorType((64, 1000), f32))
    g.add_input("w1", TensorType((1000, 100), f32))
    g.add_input("w2", TensorType((100, 10), f32))
    h, = g.add_node("MatMul", ["x", "w1"], [TensorType((64, 100), f32)], name="h")
    r, = g.add_node("Relu", [h], [TensorType((64, 100), f32)], name="r")
    y, = g.add_node("MatMul", [r, "w2"], [TensorType((64, 10), f32)], name="y")
    g.set_outputs([y])
    return g


def test_prints_the_design_example():
    assert str(build_mlp()) == MLP


def test_printing_follows_topological_order_not_insertion_order():
    g = Graph("g")
    g.add_input("x", TensorType((2,), f32))
    g.add_node("Neg", ["a"], [TensorType((2,), f32)], name="b")  # reads %a before it exists
    g.add_node("Relu", ["x"], [TensorType((2,), f32)], name=["a"])  # exact name: defines it
    g.set_outputs(["b"])
    assert str(g).splitlines()[1:3] == ["  %a: f32[2] = Relu(%x)", "  %b: f32[2] = Neg(%a)"]


def test_attributes_sorted_and_typed():
    g = Graph("g")
    g.add_input("x", TensorType((2, 3), f32))
    g.add_node("Op", ["x"], [TensorType((3, 2), f32)], name="y", attrs={
        "perm": [1, 0], "axis": np.int64(1), "eps": 1e-05, "to": dtypes.int64, "mode": 'a "b"',
        "keep": True, "pad": None, "nested": [[1, 2], []], "big": float("-inf"), "nan": float("nan")})
    line = str(g).splitlines()[1]
    assert line == ('  %y: f32[3,2] = Op(%x) {axis=1, big=-inf, eps=1e-05, keep=True, mode="a \\"b\\"", '
                    'nan=nan, nested=[[1,2],[]], pad=None, perm=[1,0], to=dtype(i64)}')
    attrs = Graph.parse(str(g)).node("y").attrs
    assert attrs["to"] is dtypes.int64 and attrs["perm"] == (1, 0) and type(attrs["axis"]) is int
    assert np.isnan(attrs["nan"]) and attrs["big"] == float("-inf") and attrs["eps"] == 1e-05


def test_initializers_multi_outputs_quoted_names_and_fused_subgraphs():
    sub = Graph("fused_0")
    sub.add_input("a", TensorType((4,), f32))
    b, = sub.add_node("Relu", ["a"], [TensorType((4,), f32)], name="b")
    sub.set_outputs([b])
    g = Graph("my graph")
    g.add_input("in:0", TensorType((4,), f32))
    g.add_initializer("w", np.ones((4,), np.float32))
    v, i = g.add_node("MaxPool", ["in:0"], [TensorType((4,), f32), TensorType((4,), i64)],
                      attrs={"k": 2}, name=["v", "i"])
    f, = g.add_node("graphc.Fused", [v], [TensorType((4,), f32)], subgraph=sub)
    g.set_outputs([f, i, "w"])
    text = """\
graph "my graph"(%"in:0": f32[4]) {
  %w: f32[4] = initializer
  %v: f32[4], %i: i64[4] = MaxPool(%"in:0") {k=2}
  %0: f32[4] = graphc.Fused(%v) graph fused_0(%a: f32[4]) {
    %b: f32[4] = Relu(%a)
    return %b
  }
  return %0, %i, %w
}"""
    assert str(g) == text
    assert str(Graph.parse(text)) == text
    assert Graph.parse(text).initializers["w"].tolist() == [0, 0, 0, 0]
    assert Graph.parse(text, {"w": np.ones(4, np.float32)}).initializers["w"].tolist() == [1, 1, 1, 1]


def test_parse_ignores_comments_and_layout():
    text = "graph mlp(%x: f32[64,1000], %w1: f32[1000,100],\n  %w2: f32[100,10]) {  # the MLP\n" + \
        MLP.split("{\n", 1)[1].replace("= Relu", "=   Relu")
    assert str(Graph.parse(text)) == MLP


@settings(max_examples=200, deadline=None)
@given(graphs())
def test_print_parse_print_is_identity(g):
    text = str(g)
    parsed = Graph.parse(text, dict(g.initializers))
    assert str(parsed) == text
    assert same_initializers(parsed, g)
    assert str(Graph.parse(text)) == text  # without data: zeros of the declared types


@pytest.mark.parametrize("text, message", [
    ("graph g() {\n  return %y\n", "line 3: expected '}', found the end of the text"),
    ("graph g() {\n  %y: f33[2] = Relu()\n  return %y\n}", "line 2: unknown dtype 'f33'"),
    ("graph g(%x: f32[2]) {\n  %x: f32[2] = Relu(%x)\n  return %x\n}", "line 2: graph g: value %x is already defined"),
    ("graph g() {\n  %y: f32[2] = Op() {a=1, a=2}\n  return %y\n}", "line 2: an attribute is given twice"),
    ("graph g() {\n  %y: f32[2] = Op() {a=?}\n  return\n}", "line 2: unexpected character '?'"),
    ("graph g() {\n  %y: f32[-2] = Op()\n  return\n}", "line 2: expected a dimension"),
    ("graph g() {\n  %a: f32[2], %b: f32[2] = initializer\n  return\n}", "line 2: an initializer defines one value"),
    ("graph g() {\n  return\n} trailing", "line 3: expected the end of the text"),
])
def test_parse_errors_give_the_line(text, message):
    with pytest.raises(ParseError, match=message.replace("[", r"\[").replace("?", r"\?")):
        Graph.parse(text)


def test_parse_checks_supplied_initializer_data():
    text = "graph g() {\n  %w: f32[2] = initializer\n  return %w\n}"
    with pytest.raises(ParseError, match=r"data for initializer %w is float64\[2\]"):
        Graph.parse(text, {"w": np.zeros(2)})
    with pytest.raises(ParseError, match="does not declare: \\['v'\\]"):
        Graph.parse(text, {"v": np.zeros(2, np.float32)})
