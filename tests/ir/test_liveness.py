"""liveness(): definition and last-use steps over the execution order, and what dies where."""
import numpy as np

from graphc import dtypes
from graphc.ir import Graph, TensorType, liveness

from .test_text import build_mlp

T = TensorType((2,), dtypes.float32)


def test_mlp_lifetimes():
    live = liveness(build_mlp())
    assert live.order == ("h", "r", "y")
    assert live.defined == {"x": -1, "w1": -1, "w2": -1, "h": 0, "r": 1, "y": 2}
    assert live.last_use == {"x": 0, "w1": 0, "w2": 2, "h": 1, "r": 2, "y": 3}
    assert live.dies_at == (("x", "w1"), ("h",), ("w2", "r"))


def test_outputs_live_to_the_end_and_unread_values_die_where_defined():
    g = Graph()
    g.add_input("x", T)
    g.add_input("unused", T)
    g.add_initializer("c", np.zeros(2, np.float32))
    v, idx = g.add_node("MaxPool", ["x"], [T, T], name=["v", "idx"])  # idx never read
    a, = g.add_node("Add", [v, "c"], [T], name="a")
    b, = g.add_node("Neg", [a], [T], name="b")
    g.set_outputs([a, b, "x"])
    live = liveness(g)
    assert live.last_use["a"] == live.last_use["b"] == live.last_use["x"] == 3
    assert live.last_use["idx"] == live.defined["idx"] == 0
    assert live.last_use["unused"] == -1  # in no step's list: nothing ever held it
    assert live.dies_at == (("idx",), ("c", "v"), ())


def test_values_read_twice_die_at_the_later_read():
    g = Graph()
    g.add_input("x", T)
    a, = g.add_node("Relu", ["x"], [T], name="a")
    b, = g.add_node("Neg", [a], [T], name="b")
    c, = g.add_node("Add", [a, b], [T], name="c")
    g.set_outputs([c])
    assert liveness(g).dies_at == (("x",), (), ("a", "b"))
