"""plan_memory: the checker passes on random and traced graphs, the arena runtime computes the
same results, and a planned MLP forward allocates no large buffers on the hot path."""
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import graphc
from graphc.ir import Graph
from graphc.passes import PlanError, check_plan, fuse, plan_memory, simplify
from graphc.passes.memory import MemoryPlan
from graphc.runtimes.numpy_runtime import NumpyRuntime

from .helpers import assert_same_results, random_inputs
from .test_fuse import elementwise_dags


def mlp(x, w1, b1, w2, b2):
    h = graphc.relu(x @ w1 + b1)
    h = (h * 0.5).reshape(x.shape[0], -1).t().t()
    return graphc.tanh(h @ w2 + b2).sum(1)


def lenet_like(x, w1, w2, w3):
    h = graphc.relu(x.reshape(x.shape[0], -1) @ w1)
    h = graphc.sigmoid(h @ w2) * h[:, :w2.shape[1]]
    logits = h @ w3
    z = logits - logits.max(1, keepdim=True).values
    return z - graphc.log(graphc.exp(z).sum(1, keepdim=True))


def traced(name):
    g = np.random.default_rng(0)
    r = lambda *s: graphc.from_numpy(g.standard_normal(s).astype(np.float32))  # noqa: E731
    if name == "mlp":
        return graphc.trace(mlp, r(64, 100), r(100, 50), r(50), r(50, 10), r(10))
    return graphc.trace(lenet_like, r(8, 1, 12, 12), r(144, 64), r(64, 32), r(32, 10))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elementwise_dags())
def test_plans_of_random_graphs_check_and_run(g):
    for graph in (g, fuse(g)):
        plan = plan_memory(graph)
        check_plan(graph, plan)
        assert plan.lower_bound_bytes <= plan.arena_bytes <= plan.no_reuse_bytes
        assert_same_results(graph, graph, plan=plan)


@pytest.mark.parametrize("name", ["mlp", "lenet"])
@pytest.mark.parametrize("passes", ["none", "simplify+fuse"])
def test_plans_of_traced_models(name, passes):
    g = traced(name)
    out = fuse(simplify(g)) if passes != "none" else g
    plan = plan_memory(out)
    check_plan(out, plan)
    assert plan.arena_bytes <= plan.no_reuse_bytes
    assert_same_results(g, out, plan=plan)


def test_views_keep_their_base_alive_and_outputs_stay_out_of_the_arena():
    g = Graph.parse("""graph g(%x: f32[4,8]) {
      %a: f32[4,8] = Exp(%x)
      %t: f32[8,4] = Transpose(%a) {perm=[1,0]}
      %b: f32[4,8] = Tanh(%x)
      %c: f32[4,8] = Neg(%b)
      %d: f32[8,4] = Add(%t, %t)
      %e: f32[4,8] = Reshape(%c) {shape=[4,8]}
      return %d, %e
    }""")
    plan = plan_memory(g)
    check_plan(g, plan)
    assert "t" not in plan.offsets and "d" not in plan.offsets
    assert "c" not in plan.offsets  # an output views it
    assert plan.offsets["a"] != plan.offsets["b"]  # %a lives on through its view %t


def test_in_place_reuse_and_the_figures():
    g = Graph.parse("""graph g(%x: f32[256]) {
      %a: f32[256] = Exp(%x)
      %b: f32[256] = Tanh(%a)
      %c: f32[256] = Neg(%b)
      %d: f32[256] = Sigmoid(%c)
      return %d
    }""")
    plan = plan_memory(g)
    check_plan(g, plan)
    assert plan.in_place == {"b": "a", "c": "b"}
    assert plan.offsets["a"] == plan.offsets["b"] == plan.offsets["c"]
    assert (plan.arena_bytes, plan.lower_bound_bytes, plan.no_reuse_bytes) == (1024, 1024, 3072)


def test_the_checker_catches_overlapping_live_buffers():
    g = Graph.parse("""graph g(%x: f32[16]) {
      %a: f32[16] = Exp(%x)
      %b: f32[16] = Tanh(%x)
      %c: f32[16] = Add(%a, %b)
      return %c
    }""")
    plan = plan_memory(g)
    check_plan(g, plan)
    bad = MemoryPlan({"a": 0, "b": 0}, {}, 64, 128, 128)
    with pytest.raises(PlanError, match="live together"):
        check_plan(g, bad)


def test_planned_mlp_forward_allocates_no_large_buffers():
    g = graphc.trace(lambda x, w1, b1, w2: graphc.relu(x @ w1 + b1) @ w2,
                     graphc.randn(256, 512), graphc.randn(512, 512), graphc.randn(512), graphc.randn(512, 64))
    plan = plan_memory(g)
    check_plan(g, plan)
    run = NumpyRuntime().prepare(g, plan)
    inputs = random_inputs(g)
    run(*inputs)
    tracemalloc.start()
    run(*inputs)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # the only large buffer left is the output, which the caller owns
    assert peak < 256 * 64 * 4 + 65536, peak
