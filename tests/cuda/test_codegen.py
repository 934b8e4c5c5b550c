"""The CUDA code generator without a GPU: every op of the registry, fused groups, and every
example's training step generate kernels that nvcc compiles (to PTX, for sm_90). Kernels are
deduplicated and compiled a few modules at a time, in parallel."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import graphc
from graphc.ir import Graph, TensorType
from graphc.ops.registry import REGISTRY
from graphc.passes import fuse, plan_memory
from graphc.runtimes.cuda import graph_code
from graphc.runtimes.cuda.compiler import CudaCompileError, Module, compile_module, nvcc_path
from graphc.runtimes.cuda.emit import emit_cuda
from graphc.runtimes.cuda.kernel import NodeCode, make_kernel
from graphc.runtimes.cuda.kernels import HOST
from graphc.runtimes.cuda.runtime import Layout

from .graphs import (case_graph, elementwise_graphs, example_files, op_cases, reduction_graphs,
                     training_step)

ARCH = "sm_90"
needs_nvcc = pytest.mark.skipif(nvcc_path() is None, reason="nvcc is not installed")


def _compile_all(codes, chunks: int = 4):
    """Compile the distinct kernels of `codes` in `chunks` modules on two threads."""
    unique, seen = [], set()
    for c in codes:
        kept = [k for k in c.kernels if k.name not in seen]
        seen.update(k.name for k in kept)
        if kept:
            unique.append(NodeCode(c.node, c.op, kept))
    parts = [unique[i::chunks] for i in range(chunks)]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda p: compile_module(Module(p), ARCH, "ptx", use_cache=False), parts))
    return len(seen)


def _quiet_trace(case):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return case_graph(case)


@needs_nvcc
def test_every_registry_op_generates_kernels_that_compile():
    codes = []
    for case in op_cases():
        g = _quiet_trace(case)
        codes += graph_code(g) + graph_code(fuse(g))
    for g in elementwise_graphs() + reduction_graphs():
        codes += graph_code(g)
    covered = {c.op for c in codes if c.kernels or c.host}
    assert set(REGISTRY) <= covered, f"ops without CUDA code: {sorted(set(REGISTRY) - covered)}"
    assert "graphc.Fused" in covered
    on_device = {c.op for c in codes if c.kernels}
    assert set(REGISTRY) - on_device <= HOST
    n = _compile_all(codes)
    assert n > 500


@needs_nvcc
@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.stem)
def test_example_training_step_compiles(path):
    graph, _ = training_step(path)
    codes = graph_code(graph)
    assert any(c.op == "graphc.Fused" for c in codes)
    compile_module(Module(codes), ARCH, "ptx", use_cache=False)


def _small_graph():
    def f(x, w, b):
        h = graphc.relu(x @ w + b)
        return (h * h).sum(1).softmax(0), h.t()

    return fuse(graphc.trace(f, graphc.randn(8, 5), graphc.randn(5, 3), graphc.randn(3)))


@needs_nvcc
def test_emit_cuda_writes_compilable_files(tmp_path):
    paths = emit_cuda(_small_graph(), tmp_path)
    names = {p.name for p in paths}
    assert {"graph.cu", "kernels.txt"} <= names
    cu = [p for p in paths if p.suffix == ".cu" and p.name != "graph.cu"]
    assert len(cu) >= 3
    listing = (tmp_path / "kernels.txt").read_text()
    assert "graphc.Fused" in listing and "MatMul" in listing
    import subprocess

    for p in cu[:2]:
        subprocess.run([nvcc_path(), "-ptx", f"-arch={ARCH}", "-o", str(p.with_suffix(".ptx")), str(p)], check=True)


@needs_nvcc
def test_compile_error_names_the_node_and_shows_the_source():
    bad = make_kernel("broken", [], ["int x = undefined_thing + 1;", "if (x) return;"], 1)
    good = make_kernel("fine", [], ["int y = 1; (void)y;"], 1)
    codes = [NodeCode("relu_7", "Relu", [good]), NodeCode("mm_3", "MatMul", [bad])]
    with pytest.raises(CudaCompileError) as info:
        compile_module(Module(codes), ARCH, "ptx", use_cache=False)
    msg = str(info.value)
    assert "mm_3 (MatMul)" in msg and "undefined_thing" in msg and ">>" in msg
    assert "relu_7" not in msg.split("nvcc said")[0]


def test_kernels_are_named_by_their_source():
    a = graph_code(_small_graph())
    b = graph_code(_small_graph())
    assert [k.name for c in a for k in c.kernels] == [k.name for c in b for k in c.kernels]
    assert all(k.name in k.source for c in a for k in c.kernels)


def test_fused_chain_is_one_kernel_with_flat_indexing():
    def f(x, y):
        return graphc.sigmoid(x * 2 + y) - 1

    g = fuse(graphc.trace(f, graphc.randn(64, 32), graphc.randn(64, 32)))
    (code,) = graph_code(g)
    (k,) = code.kernels
    assert code.op == "graphc.Fused"
    assert "in0[i]" in k.source and "/" not in k.source.split("for (")[1].split("{", 1)[1].replace("(1 / (1 + exp", "")


def test_reduction_epilogue_of_full_size_is_a_second_kernel():
    def f(x):
        return x - x.amax(1, keepdim=True)

    g = fuse(graphc.trace(f, graphc.randn(16, 300)))
    (code,) = graph_code(g)
    assert len(code.kernels) == 2 and code.scratch


def test_layout_gives_every_value_memory_without_overlap():
    graph = _small_graph()
    codes = graph_code(graph)
    plan = plan_memory(graph)
    lay = Layout(graph, codes, plan)
    values = [v for n in graph.nodes() for v in n.outputs] + list(graph.inputs)
    assert set(values) <= set(lay.offsets)
    outside = [v for v in values if v not in plan.offsets]
    spans = sorted((lay.offsets[v], lay.offsets[v] + graph.type_of(v).nbytes) for v in outside)
    for (a0, a1), (b0, b1) in zip(spans, spans[1:]):
        assert a1 <= b0 or a0 == b0
    assert all(o >= plan.arena_bytes for o, _ in spans) and lay.total >= spans[-1][1]


def test_runtime_without_a_gpu_says_why():
    if graphc.cuda.is_available():
        pytest.skip("a GPU is present")
    from graphc import runtimes

    with pytest.raises(RuntimeError, match="CUDA is not available"):
        runtimes.get("cuda").prepare(_small_graph())


def test_host_ops_are_listed_and_generate_no_kernels():
    g = Graph("idx")
    x = g.add_input("x", TensorType((4, 5), graphc.float32))
    spec = (("slice", 1, 3, 1),)
    op = REGISTRY["graphc.Index"]
    g.set_outputs(g.add_node("graphc.Index", [x], op.infer([g.type_of(x)], spec=spec), {"spec": spec}))
    (code,) = graph_code(g)
    assert code.host is not None and not code.kernels
    np.testing.assert_array_equal(code.host(np.arange(20.0).reshape(4, 5)), np.arange(20.0).reshape(4, 5)[1:3])
