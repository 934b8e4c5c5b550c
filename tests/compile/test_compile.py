"""graphc.compile: caching per signature, retrace reasons, write-back, runtime registry."""
import numpy as np
import pytest

import graphc as torch
from graphc import runtimes


def mlp(x, w1, w2):
    return x.mm(w1).clamp(min=0).mm(w2)


def test_same_shapes_do_not_retrace_new_shape_does_and_says_why():
    f = torch.compile(mlp)
    w1, w2 = torch.randn(10, 5), torch.randn(5, 2)
    for _ in range(3):
        x = torch.randn(4, 10)
        np.testing.assert_allclose(f(x, w1, w2).numpy(), mlp(x, w1, w2).numpy(), rtol=1e-6)
    assert f.retrace_log == ["first call"]
    f(torch.randn(8, 10), w1, w2)
    assert f.retrace_log[-1] == "input 0: float32[4, 10] -> float32[8, 10]"
    f(torch.randn(8, 10).double(), w1.double(), w2.double())
    assert "float64" in f.retrace_log[-1]


def test_cpu_device_is_the_numpy_runtime():
    assert runtimes.get("cpu") is runtimes.get("numpy")


def test_third_party_runtime_registers_by_name():
    calls = []

    class Recording:
        name = "recording"

        def prepare(self, graph, plan=None):
            inner = runtimes.get("numpy").prepare(graph, plan)

            def run(*arrays):
                calls.append(graph.name)
                return inner(*arrays)

            return run

    runtimes.register("recording", Recording)
    out = torch.compile(lambda x: x * 2, device="recording")(torch.ones(2))
    assert out.tolist() == [2.0, 2.0] and len(calls) == 1


def test_unknown_runtime_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown runtime 'nope'"):
        torch.compile(mlp, device="nope")


def test_run_time_error_names_node_and_source_line():
    def f(x, idx):
        return x.reshape(2, 3) * idx

    g = torch.compile(f)
    g(torch.ones(6), torch.ones(2, 3))
    exe = next(iter(g._cache.values())).executable
    with pytest.raises(RuntimeError, match=r"Reshape.*test_compile.py:\d+"):
        exe(np.ones(5, np.float32), np.ones((2, 3), np.float32))


def test_compiled_training_step_allocates_no_large_buffers():
    """After the warm-up calls, a compiled step of the tutorial two-layer net runs in its arena
    and updates parameters in place: no allocation as large as a weight (400 KB) happens."""
    import tracemalloc

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(1000, 100), torch.nn.ReLU(), torch.nn.Linear(100, 10))
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    x, y = torch.randn(64, 1000), torch.randn(64, 10)

    def step(x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).sum()
        loss.backward()
        opt.step()
        return loss

    compiled = torch.compile(step)
    for _ in range(4):
        compiled(x, y)
    tracemalloc.start()
    compiled(x, y)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 100 * 1000 * 4 // 4, peak
