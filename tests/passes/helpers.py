"""Running graphs on random inputs, to check that a pass preserves what a graph computes."""
from __future__ import annotations

import numpy as np

from graphc.runtimes.numpy_runtime import NumpyRuntime


def random_inputs(graph, seed: int = 0) -> list[np.ndarray]:
    gen = np.random.default_rng(seed)
    out = []
    for v in graph.inputs:
        t = graph.type_of(v)
        if t.dtype.is_floating_point:
            out.append(gen.standard_normal(t.shape).astype(t.dtype.np))
        elif t.dtype.np == np.bool_:
            out.append(gen.random(t.shape) < 0.5)
        else:
            out.append(gen.integers(-5, 5, t.shape).astype(t.dtype.np))
    return out


def run(graph, inputs, plan=None) -> list[np.ndarray]:
    return NumpyRuntime().prepare(graph, plan)(*inputs)


def assert_same_results(before, after, seed: int = 0, plan=None) -> None:
    inputs = random_inputs(before, seed)
    for a, b in zip(run(before, inputs), run(after, inputs, plan), strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
