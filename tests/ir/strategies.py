"""Hypothesis strategies for random small graphs: every feature of the text and file forms."""
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from graphc import dtypes
from graphc.ir import Graph, TensorType

OPS = ["MatMul", "Relu", "Add", "Transpose", "MaxPool", "graphc.Cast", "initializer", "graph"]
names = st.one_of(st.sampled_from(["x", "h", "0", "a.b", "w1"]), st.text(min_size=1, max_size=4))
types = st.builds(TensorType, st.lists(st.integers(0, 4), max_size=3).map(tuple),
                  st.sampled_from(dtypes.ALL))
attr_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4)
    | st.sampled_from(dtypes.ALL),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner), max_leaves=6)
attrs = st.dictionaries(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,4}", fullmatch=True), attr_values,
                        max_size=3)


@st.composite
def graphs(draw, depth: int = 0) -> Graph:
    g = Graph(draw(st.sampled_from(["g", "mlp", "fused"]) | st.text(max_size=4)))
    defined = []
    for name in draw(st.lists(names, unique=True, max_size=3)):
        defined.append(g.add_input(name, draw(types)))
    for name in draw(st.lists(names.filter(lambda n: n not in defined), unique=True, max_size=2)):
        ty = draw(types)
        defined.append(g.add_initializer(name, draw(hnp.arrays(ty.dtype.np, ty.shape))))
    for _ in range(draw(st.integers(0, 6))):
        pool = st.sampled_from(defined) | st.just("undefined") if defined else st.just("undefined")
        inputs = draw(st.lists(pool, max_size=3))
        sub = draw(st.none() | graphs(depth + 1)) if depth == 0 else None
        defined += g.add_node(draw(st.sampled_from(OPS)), inputs,
                              draw(st.lists(types, min_size=1, max_size=2)), draw(attrs),
                              source=draw(st.none() | st.just("model.py:12")),
                              name=draw(st.none() | names), subgraph=sub)
    g.set_outputs(draw(st.lists(st.sampled_from(defined), max_size=3)) if defined else [])
    return g


def same_initializers(a: Graph, b: Graph) -> bool:
    return list(a.initializers) == list(b.initializers) and all(
        x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()
        for x, y in zip(a.initializers.values(), b.initializers.values()))
