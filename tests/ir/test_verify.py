"""verify(): each invariant violation is caught and the message names the offending node."""
import numpy as np
import pytest

from graphc import dtypes
from graphc.ir import Graph, GraphError, TensorType
from graphc.ops.registry import NOT_DIFFERENTIABLE, Op

f32 = dtypes.float32
T = TensorType((2,), f32)


def _infer_add(types, alpha):
    if types[0] != types[1]:
        raise ValueError(f"shapes differ: {types[0]} vs {types[1]}")
    return [types[0]]


# A local registry: nothing is registered globally.
OPS = {"test.Add": Op("test.Add", _infer_add, np.add, NOT_DIFFERENTIABLE, attrs={"alpha": 1.0})}


def graph() -> Graph:
    g = Graph("g")
    g.add_input("x", T)
    g.add_input("z", T)
    a, = g.add_node("test.Add", ["x", "z"], [T], name="a", source="model.py:7")
    b, = g.add_node("Unknown", [a], [TensorType((5, 5), dtypes.int64)], name="b")
    g.set_outputs([b])
    return g


def test_a_good_graph_verifies_and_unknown_ops_are_not_type_checked():
    graph().verify(OPS)


def test_cycle():
    g = graph()
    c, = g.add_node("test.Add", ["a", "a"], [T], name="c")
    g.replace_all_uses("a", c)  # c now reads itself through a: a buggy rewrite
    with pytest.raises(GraphError, match=r"node 'c' \(%c: f32\[2\] = test.Add\(%c, %c\)\): is on a cycle"):
        g.verify(OPS)


def test_two_node_cycle_names_both():
    g = Graph("g")
    g.add_node("Relu", ["q"], [T], name=["p"])
    g.add_node("Relu", ["p"], [T], name=["q"])
    with pytest.raises(GraphError, match="is on a cycle 'p' -> 'q' -> 'p'"):
        g.verify(OPS)


def test_use_without_a_producer():
    g = graph()
    g.add_node("Relu", ["ghost"], [T], name="r")
    with pytest.raises(GraphError, match=r"node 'r' \(%r: f32\[2\] = Relu\(%ghost\)\): uses %ghost, which nothing defines"):
        g.verify(OPS)


def test_value_defined_twice_by_a_pass_editing_networkx_directly():
    g = graph()
    g.nx_graph.nodes["b"]["outputs"] = ("a",)
    with pytest.raises(GraphError, match="node 'b' .*: redefines %a, already defined by node 'a'"):
        g.verify(OPS)


def test_output_not_defined():
    g = graph()
    g.set_outputs(["b", "missing"])
    with pytest.raises(GraphError, match="graph g: output %missing is not defined"):
        g.verify(OPS)


def test_declared_type_disagrees_with_the_shape_rule():
    g = graph()
    g.add_node("test.Add", ["x", "x"], [TensorType((2,), dtypes.float64)], name="d")
    with pytest.raises(GraphError, match=r"node 'd' .*: declares \(f64\[2\]\), but test.Add gives \(f32\[2\]\)"):
        g.verify(OPS)


def test_shape_rule_rejects_inputs_and_message_has_the_source_line():
    g = graph()
    g.replace_node("a", inputs=["x", g.add_input("m", TensorType((5, 5), f32))])
    with pytest.raises(GraphError, match=r"node 'a' .* at model.py:7: test.Add rejects inputs "
                                         r"\(f32\[2\], f32\[5,5\]\): shapes differ"):
        g.verify(OPS)


def test_attributes_outside_the_schema():
    g = graph()
    g.replace_node("a", attrs={"beta": 2})
    with pytest.raises(GraphError, match=r"node 'a' .*unknown attributes \['beta'\]"):
        g.verify(OPS)


def fused(sub: Graph) -> Graph:
    g = Graph("outer")
    g.add_input("x", T)
    f, = g.add_node("graphc.Fused", ["x", "x"], [T], name="f", subgraph=sub)
    g.set_outputs([f])
    return g


def subgraph(out_type=T) -> Graph:
    sub = Graph("fused_0")
    sub.add_input("a", T)
    sub.add_input("b", T)
    s, = sub.add_node("test.Add", ["a", "b"], [out_type], name="s")
    sub.set_outputs([s])
    return sub


def test_fused_subgraphs_are_verified_with_their_interface():
    fused(subgraph()).verify(OPS)
    with pytest.raises(GraphError, match=r"node 'f' .*: in its subgraph: node 's' .*declares \(f64\[2\]\)"):
        fused(subgraph(TensorType((2,), dtypes.float64))).verify(OPS)
    with pytest.raises(GraphError, match=r"node 'f' .*: its subgraph takes \(f32\[2\], f32\[2\]\) -> "
                                         r"\(f64\[2\]\), the node \(f32\[2\], f32\[2\]\) -> \(f32\[2\]\)"):
        fused(subgraph(TensorType((2,), dtypes.float64))).verify({})
