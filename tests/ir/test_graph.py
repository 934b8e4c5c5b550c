"""Building and rewriting graphs through the Graph API; the networkx form stays in step."""
import numpy as np
import pytest

from graphc import dtypes
from graphc.ir import Graph, Node, TensorType

from .test_text import build_mlp

T = TensorType((2,), dtypes.float32)


def chain() -> Graph:
    """x -> a = Relu(x) -> b = Neg(a); c = Add(a, b)."""
    g = Graph("chain")
    g.add_input("x", T)
    a, = g.add_node("Relu", ["x"], [T], name="a", source="model.py:3")
    b, = g.add_node("Neg", [a], [T], name="b")
    c, = g.add_node("Add", [a, b], [T], name="c")
    g.set_outputs([c])
    return g


def test_fresh_names_are_deterministic_and_hints_are_uniquified():
    g = Graph()
    g.add_input("x", T)
    assert g.add_node("Relu", ["x"], [T]) == ["0"]
    assert g.add_node("Relu", ["x"], [T, T]) == ["1", "2"]
    assert g.add_node("Relu", ["x"], [T], name="x") == ["x_1"]
    assert g.add_node("Relu", ["x"], [T, T], name="h") == ["h", "h_1"]
    g.add_node("Relu", ["3"], [T], name=["y"])  # a use of %3 keeps the name from fresh values
    assert g.fresh_name() == "4" and g.fresh_name("y") == "y_1" and g.fresh_name("c") == "c"
    assert g.add_node("Relu", ["x"], [T]) == ["4"]


def test_node_view_and_networkx_form():
    g = chain()
    node = g.node("c")
    assert isinstance(node, Node)
    assert (node.name, node.op, node.inputs, node.outputs) == ("c", "Add", ("a", "b"), ("c",))
    assert g.node("a").source == "model.py:3" and node.subgraph is None
    with pytest.raises(TypeError):
        node.attrs["x"] = 1  # a read-only view
    edges = sorted((u, v, d["value"], d["slot"]) for u, v, d in g.nx_graph.edges(data=True))
    assert edges == [("a", "b", "a", 0), ("a", "c", "a", 0), ("b", "c", "b", 1)]
    assert g.type_of("c") == T and g.producer("c").name == "c" and g.producer("x") is None
    assert [n.name for n in g.users("a")] == ["b", "c"]


def test_topological_order_breaks_ties_by_insertion_order():
    g = Graph()
    g.add_input("x", T)
    for name in ["p", "q", "r"]:
        g.add_node("Relu", ["x"], [T], name=name)
    g.add_node("Neg", ["late"], [T], name="s")
    g.add_node("Relu", ["x"], [T], name=["late"])
    assert [n.name for n in g.nodes()] == ["p", "q", "r", "late", "s"]


def test_definitions_are_checked_when_made():
    g = chain()
    with pytest.raises(ValueError, match="%a is already defined"):
        g.add_node("Relu", ["x"], [T], name=["a"])
    with pytest.raises(ValueError, match="already defined"):
        g.add_input("b", T)
    with pytest.raises(ValueError, match="output names repeat"):
        g.add_node("Relu", ["x"], [T, T], name=["u", "u"])
    with pytest.raises(ValueError, match="needs at least one output"):
        g.add_node("Relu", ["x"], [])
    with pytest.raises(TypeError, match="Op.bad: an attribute is"):
        g.add_node("Op", ["x"], [T], attrs={"bad": object()})
    with pytest.raises(ValueError, match="bad op name"):
        g.add_node("not an op", ["x"], [T])
    assert [n.name for n in g.nodes()] == ["a", "b", "c"]  # failed calls changed nothing


def test_replace_all_uses_rewires_edges_and_outputs():
    g = chain()
    d, = g.add_node("Relu", ["x"], [T], name="d")
    g.replace_all_uses("a", d)
    assert g.node("b").inputs == ("d",) and g.node("c").inputs == ("d", "b")
    assert g.users("a") == [] and [n.name for n in g.users("d")] == ["b", "c"]
    g.replace_all_uses("c", "b")
    assert g.outputs == ("b",)
    with pytest.raises(ValueError, match="cannot replace"):
        g.replace_all_uses("b", g.add_input("z", TensorType((3,), dtypes.float32)))


def test_replace_node_keeps_outputs_and_source():
    g = chain()
    node = g.replace_node("a", op="Sigmoid", attrs={"k": [1]})
    assert (node.op, node.attrs["k"], node.source, node.outputs) == ("Sigmoid", (1,), "model.py:3", ("a",))
    g.replace_node("c", inputs=["b", "b"])
    assert [n.name for n in g.users("a")] == ["b"] and g.node("c").inputs == ("b", "b")


def test_remove_node_refuses_while_used_then_frees_the_name():
    g = chain()
    with pytest.raises(ValueError, match="%c is still used"):
        g.remove_node("c")
    g.set_outputs(["b"])
    g.remove_node("c")
    assert [n.name for n in g.nodes()] == ["a", "b"] and [n.name for n in g.users("b")] == []
    assert "c" not in g.nx_graph and g.add_node("Relu", ["x"], [T], name="c") == ["c"]


def test_copy_is_independent_and_prints_the_same():
    g = build_mlp()
    g.add_initializer("k", np.arange(3.0))
    c = g.copy()
    assert str(c) == str(g)
    c.add_node("Relu", ["y"], [TensorType((64, 10), dtypes.float32)])
    c.set_outputs(["0"])
    assert str(g) == str(build_mlp()).replace("{\n", "{\n  %k: f64[3] = initializer\n", 1)
    assert g.copy().add_node("Relu", ["x"], [T]) == g.add_node("Relu", ["x"], [T])


def test_initializers_are_read_only_copies():
    data = np.arange(4, dtype=np.int64)
    g = Graph()
    g.add_initializer("c", data)
    data[0] = 100
    assert g.initializers["c"][0] == 0 and not g.initializers["c"].flags.writeable
    assert g.type_of("c") == TensorType((4,), dtypes.int64)
    with pytest.raises(TypeError, match="no dtype"):
        g.add_initializer("s", np.array(["a"]))


def test_long_chains_sort_without_recursion():
    g = Graph()
    v = g.add_input("x", T)
    for _ in range(5000):
        v, = g.add_node("Relu", [v], [T])
    g.set_outputs([v])
    g.verify(ops={})
    assert g.nodes()[-1].name == v
