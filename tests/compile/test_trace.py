"""graphc.trace: what a recorded graph holds."""
import warnings

import numpy as np
import pytest

import graphc as torch
from graphc.ir import Graph


def mlp(x, w1, w2):
    return x.mm(w1).clamp(min=0).mm(w2)


def test_tutorial_mlp_prints_two_matmuls_and_parses_back():
    g = torch.trace(mlp, torch.randn(64, 1000), torch.randn(1000, 100), torch.randn(100, 10))
    text = str(g)
    assert text.splitlines()[0] == "graph mlp(%x: f32[64,1000], %w1: f32[1000,100], %w2: f32[100,10]) {"
    assert text.count("= MatMul(") == 2
    assert str(Graph.parse(text)) == text


def test_nodes_keep_the_users_source_line():
    g = torch.trace(mlp, torch.randn(2, 3), torch.randn(3, 4), torch.randn(4, 5))
    for node in g.nodes():
        assert node.source.endswith(f"test_trace.py:{mlp.__code__.co_firstlineno + 1}")


def test_python_scalars_become_constants():
    g = torch.trace(lambda x: x * 2.5 + 1, torch.randn(3))
    consts = dict(g.initializers)
    assert sorted(float(v) for v in consts.values()) == [1.0, 2.5]


def test_structured_outputs_are_flattened_in_order():
    def f(x):
        return {"a": x + 1, "b": (x * 2, [x - 1])}

    g = torch.trace(f, torch.randn(3))
    assert len(g.outputs) == 3
    out = torch.compile(f)(torch.ones(3))
    assert out["a"].tolist() == [2.0] * 3 and out["b"][1][0].tolist() == [0.0] * 3


def test_value_dependent_control_flow_warns_once_per_line():
    def f(x):
        for _ in range(3):
            if x.sum() > 0:  # one warning for this line, not three
                x = x * 2
        return x

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.trace(f, torch.ones(3))
    tracer = [w for w in caught if issubclass(w.category, torch.TracerWarning)]
    assert len(tracer) == 1
    assert tracer[0].filename.endswith("test_trace.py")


def test_item_float_int_warn():
    for conv in (lambda t: t.item(), float, lambda t: int(t.sum())):
        with pytest.warns(torch.TracerWarning):
            torch.trace(lambda x, c=conv: x * c(x.sum()), torch.ones(1))


def test_in_place_update_of_an_input_becomes_an_output():
    def step(x, w):
        with torch.no_grad():
            w.sub_(x * 0.5)
        return w.sum()

    w = torch.ones(3)
    g = torch.trace(step, torch.ones(3), w)
    assert len(g.outputs) == 2  # the sum, then w's final value
    assert w.tolist() == [0.5] * 3  # tracing with real values ran the update once
