"""The CUDA runtime against the NumPy runtime, op by op and example by example: on a GPU with
PyCUDA, or on the emulator (GRAPHC_CUDA_EMULATE=1 or check, as CI runs them); skipped elsewhere."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import graphc
from graphc import runtimes
from graphc.passes import fuse

from .graphs import (case_arrays, case_graph, elementwise_graphs, example_files, op_cases,
                     reduction_graphs, training_step, variant_arrays)

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not graphc.cuda.is_available(), reason="no CUDA GPU / PyCUDA here, and GRAPHC_CUDA_EMULATE is not set")]

RANDOM_OPS = {"Dropout"}


def _both(graph, arrays):
    ref = runtimes.get("numpy").prepare(graph)(*arrays)
    got = runtimes.get("cuda").prepare(graph)(*arrays)
    return ref, got


def _close(ref, got, what, rtol=1e-4, atol=1e-5):
    assert len(ref) == len(got)
    for i, (r, g) in enumerate(zip(ref, got)):
        assert r.shape == g.shape and r.dtype == g.dtype, (what, i, r.shape, g.shape, r.dtype, g.dtype)
        if r.dtype.kind == "f":
            tol = max(rtol, 2e-3) if r.dtype == np.float16 else rtol
            np.testing.assert_allclose(g, r, rtol=tol, atol=max(atol, tol), err_msg=f"{what}: output {i}")
        else:
            np.testing.assert_array_equal(g, r, err_msg=f"{what}: output {i}")


CASES = [c for c in op_cases() if not RANDOM_OPS & set(c.ops)]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
@pytest.mark.parametrize("fused", [False, True], ids=["nodes", "fused"])
def test_op_case_matches_numpy(case, fused):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = case_graph(case)
    graph = fuse(graph) if fused else graph
    ref, got = _both(graph, case_arrays(case))
    _close(ref, got, case.id)


@pytest.mark.parametrize("graph", elementwise_graphs() + reduction_graphs(), ids=lambda g: g.name)
def test_dtype_variants_match_numpy(graph):
    arrays = variant_arrays(graph)
    with np.errstate(all="ignore"):
        ref, got = _both(graph, arrays)
    # NumPy sums float16 in float16; the kernels accumulate in float, so they differ by more
    loose = graph.name.startswith("Reduce") and "float16" in graph.name
    _close(ref, got, graph.name, rtol=1e-2 if loose else 1e-3, atol=1e-2 if loose else 1e-4)


def test_dropout_keeps_and_scales_by_its_mask():
    def f(x):
        return graphc.nn.functional.dropout(x, 0.25, training=True)

    x = np.random.default_rng(0).standard_normal((64, 1000)).astype(np.float32)
    graph = graphc.trace(f, graphc.tensor(x))
    outs = runtimes.get("cuda").prepare(graph)(x)
    y = outs[0]
    mask = y != 0
    assert 0.7 < mask.mean() < 0.8
    np.testing.assert_allclose(y[mask], x[mask] / 0.75, rtol=1e-6)


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.stem)
def test_example_training_step_matches_numpy(path):
    graph, traced = training_step(path)
    values = _example_inputs(path, traced)
    ref, got = _both(graph, values)
    _close(ref, got, path.stem, rtol=2e-3, atol=1e-4)


def _example_inputs(path, traced):
    from .graphs import model_namespace

    ns = model_namespace(path)
    user = [t.numpy() for t in (*ns["example_inputs"], *ns.get("example_targets", ()))]
    return user + [t.detach().numpy().copy() for _, t in traced.params]
