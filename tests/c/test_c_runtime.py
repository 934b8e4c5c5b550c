"""The native C runtime against the NumPy runtime: every op case unfused and fused, single ops
over dtypes, ragged sizes, and every example's training step."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import graphc
from graphc import runtimes
from graphc.passes import fuse
from graphc.runtimes.c import fallback_nodes, graph_code
from graphc.runtimes.hostbuild import HostBuildError, compiler

from ..cuda.graphs import (case_arrays, case_graph, elementwise_graphs, example_files, reduction_graphs,
                           training_step, variant_arrays)
from ..cuda.ragged import CASES as RAGGED
from ..cuda.test_numeric import CASES, _close, _example_inputs

try:
    compiler()
except HostBuildError:
    pytest.skip("no C++ compiler here", allow_module_level=True)


def _both(graph, arrays):
    ref = runtimes.get("numpy").prepare(graph)(*arrays)
    got = runtimes.get("c").prepare(graph)(*arrays)
    return ref, got


def _graph(case, fused):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = case_graph(case)
    return fuse(graph) if fused else graph


@pytest.mark.parametrize("case", CASES + RAGGED, ids=[c.id for c in CASES + RAGGED])
@pytest.mark.parametrize("fused", [False, True], ids=["nodes", "fused"])
def test_op_case_matches_numpy(case, fused):
    graph = _graph(case, fused)
    ref, got = _both(graph, case_arrays(case))
    _close(ref, got, case.id)


@pytest.mark.parametrize("graph", elementwise_graphs() + reduction_graphs(), ids=lambda g: g.name)
def test_dtype_variants_match_numpy(graph):
    arrays = variant_arrays(graph)
    with np.errstate(all="ignore"):
        ref, got = _both(graph, arrays)
    _close(ref, got, graph.name, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.stem)
def test_example_training_step_matches_numpy(path):
    graph, traced = training_step(path)
    ref, got = _both(graph, _example_inputs(path, traced))
    _close(ref, got, path.stem, rtol=1e-4, atol=1e-5)


def test_nodes_without_c_code_are_listed_with_why():
    graph = graphc.trace(lambda x: graphc.cumsum(x, 0).exp() + x.half().float(), graphc.randn(5, 3))
    names = {op: why for _, op, why in fallback_nodes(graph_code(graph))}
    assert names["CumSum"] == "no C code for this op yet" and "float16" in names["Cast"]
    assert "Exp" not in names and "Add" not in names


def test_a_graph_of_c_nodes_is_one_native_call():
    graph = fuse(graphc.trace(lambda a, b: (a @ b).relu() * 2 + 1, graphc.randn(8, 5), graphc.randn(5, 3)))
    exe = runtimes.get("c").prepare(graph)
    assert not exe.fallbacks and len(exe._steps) == 1


LARGE_GEMMS = {
    "matmul": (lambda a, b: a @ b, [(67, 300), (300, 70)]),
    "matmul-broadcast-batch": (lambda a, b: a @ b, [(1, 65, 200), (200, 90)]),
    "gemm-transposed-bias": (lambda a, w, b: graphc.nn.functional.linear(a, w, b), [(66, 250), (80, 250), (80,)]),
}


@pytest.mark.parametrize("name", LARGE_GEMMS)
def test_a_large_gemm_splits_its_rows_across_threads_and_matches_numpy(name, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # an uneven split of the rows, on any machine
    fn, shapes = LARGE_GEMMS[name]
    graph = graphc.trace(fn, *[graphc.randn(*s) for s in shapes])
    exe = runtimes.get("c").prepare(graph)
    assert "omp parallel for num_threads(3)" in exe.source
    arrays = [np.random.default_rng(i).standard_normal(s).astype(np.float32) for i, s in enumerate(shapes)]
    ref = runtimes.get("numpy").prepare(graph)(*arrays)
    _close(ref, exe(*arrays), name, rtol=1e-4, atol=1e-4)


def test_dropout_runs_in_c_with_a_fresh_mask_per_call_kept_and_scaled():
    x = np.random.default_rng(0).standard_normal((64, 500)).astype(np.float32)
    graph = graphc.trace(lambda t: graphc.nn.functional.dropout(t, 0.25, training=True), graphc.tensor(x))
    exe = runtimes.get("c").prepare(graph)
    assert not exe.fallbacks
    first, second = exe(x)[0], exe(x)[0]
    for y in (first, second):
        kept = y != 0
        assert 0.7 < kept.mean() < 0.8
        np.testing.assert_allclose(y[kept], x[kept] / 0.75, rtol=1e-6)
    assert ((first != 0) != (second != 0)).any()
