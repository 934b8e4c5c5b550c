"""graphc.viz in-process: colours, edges, clusters, plan notes, grad_fn drawings, collapsing,
the memory SVG and atomic saving."""
from __future__ import annotations

import shutil
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import graphc
from graphc import viz
from graphc.ir import Graph, TensorType
from graphc.modelfile import load
from graphc.passes import DEFAULT_PIPELINE, plan_memory
from graphc.trace import trace_call
from graphc.viz.collapse import Run, find_runs, module_prefix

from ..cli import models

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` is not installed")
SVG = "{http://www.w3.org/2000/svg}"


def train_step_graph(tmp_path, source=models.MLP, name="m.py"):
    mf = load(models.write(tmp_path, name, source))
    step = mf.train_step(mf.make_optimizer())
    step(*mf.step_args())
    traced = trace_call(step, mf.step_args(), params_as_inputs=True)
    return traced.graph, [n for n, _ in traced.params]


def test_colour_table_is_stable():
    assert viz.kind_of("Gemm") == viz.kind_of("Conv") == "matmul"
    assert viz.kind_of("Relu") == viz.kind_of("Add") == "elementwise"
    assert viz.kind_of("ReduceSum") == viz.kind_of("LogSoftmax") == "reduction"
    assert viz.kind_of("Reshape") == viz.kind_of("Transpose") == "shape"
    assert viz.kind_of("MaxPool") == viz.kind_of("graphc.MaxPoolGrad") == "pool/norm"
    assert viz.kind_of("NegativeLogLikelihoodLoss") == "loss"
    assert viz.kind_of("graphc.Fused") == "fused" and viz.kind_of("NoSuchOp") == "other"
    assert viz.KIND_COLOURS["matmul"] == "#f4a582" and viz.KIND_COLOURS["elementwise"] == "#92c5de"


def test_draw_forward(tmp_path):
    mf = load(models.write(tmp_path, "m.py", models.MLP))
    src = viz.draw(graphc.trace(mf.model, *mf.example_inputs)).source
    assert 'label="f32[5,16]"' in src                       # edges: shape and dtype
    assert src.count(viz.KIND_COLOURS["matmul"]) >= 2       # two Gemms coloured alike
    assert "fc1.weight" in src and "doubleoctagon" in src   # parameters, outputs
    assert viz.draw(graphc.trace(mf.model, *mf.example_inputs)).source == src  # deterministic


def test_draw_fused_clusters_hold_member_ops(tmp_path):
    graph, params = train_step_graph(tmp_path)
    fused = DEFAULT_PIPELINE(graph)
    n_fused = sum(1 for n in fused.nodes() if n.subgraph is not None)
    src = viz.draw(fused, params=params).source
    assert n_fused >= 1 and src.count("subgraph cluster_") == n_fused
    assert "(graphc.Fused, " in src
    assert "model.fc1.weight" in src and "rounded" in src   # parameter inputs drawn as parameters


def test_draw_with_plan_notes_offsets(tmp_path):
    graph, _ = train_step_graph(tmp_path)
    graph = DEFAULT_PIPELINE(graph)
    plan = plan_memory(graph)
    src = viz.draw(graph, plan).source
    for v, off in plan.offsets.items():
        assert f"@{off} +" in src
    assert "arena" in src and "lower bound" in src


@needs_dot
def test_names_with_colons_render():
    g = Graph("odd")
    g.add_input("a:b", TensorType((2,), graphc.float32))
    g.add_node("Relu", ["a:b"], [TensorType((2,), graphc.float32)], name="c:d")
    g.set_outputs(["c:d"])
    svg = viz.draw(g).pipe(format="svg").decode()
    assert "a:b" in svg and "Relu" in svg


def test_grad_fn_saved_tensors_and_leaves():
    w = graphc.randn(3, 4, requires_grad=True)
    x = graphc.randn(2, 3)
    y = (x @ w).relu().sum()
    src = viz.draw_grad_fn(y, params={"w": w}).source
    assert "AccumulateGrad" in src and "MmBackward0" in src and "ReluBackward0" in src
    assert "w\n(3, 4)" in src                  # the leaf: its name and shape
    assert "48 B" in src and "24 B" in src      # w (3x4 f32) and x (2x3 f32) saved for MmBackward0
    assert "darkolivegreen1" in src


def test_grad_fn_custom_function_saved():
    class Square(graphc.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = graphc.randn(5, requires_grad=True)
    src = viz.draw_grad_fn(Square.apply(x).sum()).source
    assert "saved 0" in src and "20 B" in src and "Square" in src


def test_grad_fn_needs_a_graph():
    with pytest.raises(ValueError, match="no grad_fn"):
        viz.draw_grad_fn(graphc.randn(3))


def test_grad_fn_10000_chain_is_iterative_and_fast():
    x = graphc.randn(3, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.5
    t0 = time.perf_counter()
    src = viz.draw_grad_fn(y, collapse=None).source
    assert time.perf_counter() - t0 < 10
    assert src.count("MulBackward0") == 10_000
    collapsed = viz.draw_grad_fn(y).source
    assert "10000 × MulBackward0" in collapsed and collapsed.count("MulBackward0") == 1


def test_find_runs():
    assert find_runs(list("xABCABCABCy")) == [Run(1, 3, 3)]
    assert find_runs(list("AAAAAAAA")) == [Run(0, 1, 8)]
    assert find_runs(list("ABCDEFG")) == []
    assert find_runs(list("ABAB")) == []            # too small to be worth a box
    assert module_prefix(["model.layers.0.w", "model.layers.7.b", "x"]) == "model.layers[0..7]"


def test_deep_model_collapses_to_blocks(tmp_path):
    graph, params = train_step_graph(tmp_path, models.DEEP, "deep.py")
    fused = DEFAULT_PIPELINE(graph)
    src = viz.draw(fused, params=params).source
    assert "40 × block of" in src and "model.layers[0..39]" in src
    assert src.count("\n") < len(fused.nodes())      # far fewer statements than nodes
    full = viz.draw(fused, params=params, collapse=None).source
    assert "×" not in full and full.count("->") > 3 * src.count("->")


def test_memory_svg(tmp_path):
    graph, _ = train_step_graph(tmp_path)
    graph = DEFAULT_PIPELINE(graph)
    plan = plan_memory(graph)
    root = ET.fromstring(viz.draw_memory(plan, graph))
    rects = {e.get("data-value"): e for e in root.iter(f"{SVG}rect") if e.get("class") == "buffer"}
    assert set(rects) == set(plan.offsets)
    top = {v: float(r.get("y")) + float(r.get("height")) for v, r in rects.items()}
    lowest = min(plan.offsets.values())
    assert all(top[v] == max(top.values()) for v, off in plan.offsets.items() if off == lowest)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "execution step" in texts and "lower bound" in texts
    with pytest.raises(ValueError, match="needs the graph"):
        viz.draw_memory(plan)


def test_save_dot_and_svg_atomically(tmp_path, monkeypatch):
    g = Graph("tiny")
    g.add_input("x", TensorType((2,), graphc.float32))
    g.add_node("Relu", ["x"], [TensorType((2,), graphc.float32)], name="y")
    g.set_outputs(["y"])
    viz.save(viz.draw(g), str(tmp_path / "t.dot"))
    assert (tmp_path / "t.dot").read_text().startswith("digraph")
    (tmp_path / "t.svg").write_text("old")
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    with pytest.raises(viz.RenderError, match="apt-get install graphviz"):
        viz.save(viz.draw(g), str(tmp_path / "t.svg"))
    assert (tmp_path / "t.svg").read_text() == "old"
    with pytest.raises(viz.RenderError, match="unknown output format"):
        viz.save(viz.draw(g), str(tmp_path / "t.jpeg"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.dot", "t.svg"]


def test_scalar_and_small_constants_are_labelled():
    g = Graph("c")
    g.add_input("x", TensorType((3,), graphc.float32))
    g.add_initializer("k", np.array(2.5, dtype=np.float32))
    g.add_node("Mul", ["x", "k"], [TensorType((3,), graphc.float32)], name="y")
    g.set_outputs(["y"])
    src = viz.draw(g).source
    assert "label=2.5 " in src and "plaintext" in src
