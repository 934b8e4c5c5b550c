"""Donated inputs: the numpy runtime writes an optimizer's in-place updates straight into the
parameter arrays, only where nothing reads the old value afterwards, and results stay those of
eager mode."""
import numpy as np
import pytest

import graphc
import graphc.nn as nn
from graphc import runtimes
from graphc.ir import Graph, TensorType
from graphc.runtimes.numpy_runtime import _Donating

F32 = graphc.float32

OPTIMIZERS = {
    "sgd": lambda p: graphc.optim.SGD(p, lr=0.1),
    "sgd_nesterov_wd": lambda p: graphc.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
    "adam": lambda p: graphc.optim.Adam(p, lr=0.01, weight_decay=0.01),
    "adamw_amsgrad": lambda p: graphc.optim.AdamW(p, lr=0.01, amsgrad=True),
}


@pytest.mark.parametrize("reread", [False, True], ids=["loss", "loss_after_step"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_compiled_steps_with_donation_equal_eager(name, reread):
    x, y = graphc.randn(4, 5), graphc.randn(4, 3)
    runs = []
    for compiled in (False, True):
        graphc.manual_seed(0)
        model = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3))
        opt = OPTIMIZERS[name](model.parameters())
        before = [p._value for p in model.parameters()]

        def step(x, y):
            loss = ((model(x) - y) ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return ((model(x) - y) ** 2).sum() if reread else loss

        fn = graphc.compile(step) if compiled else step
        losses = [fn(x, y).item() for _ in range(5)]
        assert all(p._value is b for p, b in zip(model.parameters(), before))  # updated in place
        runs.append((losses, [p.detach().numpy().copy() for p in model.parameters()]))
        if compiled:
            exe = next(iter(fn._cache.values())).executable
            assert any(isinstance(s[0], _Donating) for s in exe._steps)
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-5)
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _update_graph(read_after: bool) -> Graph:
    """p2 = p - g; out = p2 (donated into p); with read_after, a later node reads the old p."""
    g = Graph("update")
    t = TensorType((3,), F32)
    p, grad = g.add_input("p", t), g.add_input("g", t)
    p2 = g.add_node("Sub", [p, grad], [t])[0]
    outs = [p2]
    if read_after:
        outs.append(g.add_node("Neg", [p], [t])[0])
    g.set_outputs(outs)
    return g


@pytest.mark.parametrize("read_after", [False, True])
def test_an_input_read_later_is_not_overwritten(read_after):
    exe = runtimes.get("numpy").prepare(_update_graph(read_after), donate={"p": 0})
    p, grad = np.array([1, 2, 3], np.float32), np.ones(3, np.float32)
    outs = exe(p, grad)
    np.testing.assert_array_equal(outs[0], [0, 1, 2])
    assert (outs[0] is p) is not read_after
    if read_after:
        np.testing.assert_array_equal(outs[1], [-1, -2, -3])
        np.testing.assert_array_equal(p, [1, 2, 3])


def test_a_non_contiguous_input_gets_a_fresh_output():
    exe = runtimes.get("numpy").prepare(_update_graph(False), donate={"p": 0})
    base = np.arange(6, dtype=np.float32)
    p = base[::2]
    outs = exe(p, np.ones(3, np.float32))
    np.testing.assert_array_equal(outs[0], [-1, 1, 3])
    np.testing.assert_array_equal(base, np.arange(6))
