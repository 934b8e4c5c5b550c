"""fuse on random elementwise DAGs: never a cycle, same results; and the chunked, threaded
Fused runtime (chunk sizes shrunk so small tensors take every path)."""
import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graphc
from graphc.ir import Graph, TensorType
from graphc.passes import FUSED, Pipeline, fuse, simplify
from graphc.runtimes import fused as fused_runtime

from .helpers import assert_same_results

F32 = graphc.float32
UNARY = ["Exp", "Tanh", "Sigmoid", "Neg", "Relu", "Abs"]
BINARY = ["Add", "Sub", "Mul", "Max"]
SHAPES = [(6, 5), (5,), (6, 1), ()]


@st.composite
def elementwise_dags(draw):
    g = Graph("rand")
    values = [g.add_input("x", TensorType((6, 5), F32)), g.add_input("b", TensorType((5,), F32))]
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["unary", "binary", "binary", "matmul", "transpose", "reduce"]))
        a = draw(st.sampled_from(values))
        ta = g.type_of(a)
        if kind == "unary":
            values += g.add_node(draw(st.sampled_from(UNARY)), [a], [ta])
        elif kind == "binary":
            b = draw(st.sampled_from(values))
            try:
                shape = tuple(np.broadcast_shapes(ta.shape, g.type_of(b).shape))
            except ValueError:
                continue
            values += g.add_node(draw(st.sampled_from(BINARY)), [a, b], [TensorType(shape, F32)])
        elif kind == "transpose" and ta.ndim == 2:
            values += g.add_node("Transpose", [a], [TensorType(ta.shape[::-1], F32)], {"perm": (1, 0)})
        elif kind == "matmul" and ta.ndim == 2 and ta.shape[1] == 5:
            w = g.add_initializer(g.fresh_name("w"), np.full((5, 5), 0.1, np.float32))
            values += g.add_node("MatMul", [a, w], [TensorType((ta.shape[0], 5), F32)])
        elif kind == "reduce" and ta.ndim == 2:
            keep = draw(st.booleans())
            shape = (ta.shape[0], 1) if keep else (ta.shape[0],)
            values += g.add_node(draw(st.sampled_from(["ReduceSum", "ReduceMax", "ReduceMean"])), [a],
                                 [TensorType(shape, F32)], {"axes": (1,), "keepdims": keep})
    outs = draw(st.lists(st.sampled_from(values[2:] or values), min_size=1, max_size=3, unique=True))
    g.set_outputs(outs)
    return g


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elementwise_dags())
def test_fuse_never_makes_a_cycle_and_keeps_results(g):
    g.verify()
    out = Pipeline([fuse], verify=True)(g)
    assert nx.is_directed_acyclic_graph(out.nx_graph)
    for node in out.nodes():
        if node.op == FUSED:
            reductions = [n for n in node.subgraph.nodes() if n.op.startswith("Reduce")]
            assert len(reductions) <= 1
            assert all(not graphc.ops.registry.REGISTRY[n.op].view for n in node.subgraph.nodes())
    assert_same_results(g, out)


@pytest.fixture
def tiny_chunks(monkeypatch):
    monkeypatch.setattr(fused_runtime, "CHUNK", 7)
    monkeypatch.setattr(fused_runtime, "SMALL", 1)
    monkeypatch.setattr(fused_runtime, "PARALLEL_MIN", 1)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(elementwise_dags())
def test_chunked_threaded_runtime_matches_whole_arrays(tiny_chunks, g):
    assert_same_results(g, fuse(g))


@pytest.mark.parametrize("shape,axes", [((64, 33), (1,)), ((64, 33), None), ((4, 8, 9), (1, 2)),
                                        ((4, 8, 9), (0,))])
@pytest.mark.parametrize("op", ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin"])
def test_fused_reduction_prologue_and_epilogue(tiny_chunks, shape, axes, op):
    g = Graph("red")
    x = g.add_input("x", TensorType(shape, F32))
    e = g.add_node("Exp", [x], [TensorType(shape, F32)])[0]
    t = g.add_node("Tanh", [e], [TensorType(shape, F32)])[0]
    red_shape = tuple(1 if axes is None or i in axes else d for i, d in enumerate(shape))
    r = g.add_node(op, [t], [TensorType(red_shape, F32)], {"axes": axes})[0]
    y = g.add_node("Neg", [r], [TensorType(red_shape, F32)])[0]
    g.set_outputs([y])
    out = fuse(g)
    assert [n.op for n in out.nodes()] == [FUSED]
    assert_same_results(g, out)


def test_the_fused_chain_writes_into_given_memory_and_uses_threads(tiny_chunks):
    x = graphc.randn(1000)
    fn = graphc.compile(lambda x: graphc.tanh(x * 1.7 + 0.3) * graphc.sigmoid(x) + x * x,
                        passes=Pipeline([simplify, fuse]))
    fn(x)
    (node,) = fn.graph.nodes()
    kernel = fused_runtime.FusedKernel(node.subgraph)
    out = np.empty(1000, np.float32)
    assert kernel(x.numpy(), out=(out,)) is out
    ref = np.tanh(x.numpy() * np.float32(1.7) + np.float32(0.3)) / (1 + np.exp(-x.numpy())) + x.numpy() ** 2
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
