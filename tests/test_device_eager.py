"""Eager tensors on a device run every op through that device's runtime (one-node graphs,
prepared once per op signature). Here a stand-in 'cuda' runtime built on the numpy runtime
checks the routing; tests/cuda checks real kernels where a GPU is present."""
import numpy as np
import pytest

import graphc
from graphc import runtimes
from graphc.runtimes import eager
from graphc.runtimes.numpy_runtime import NumpyRuntime
from graphc.state import STATE


class CountingRuntime(NumpyRuntime):
    name = "cuda"

    def __init__(self):
        self.prepared = []

    def prepare(self, graph, plan=None):
        self.prepared.append(graph.nodes()[0].op)
        return super().prepare(graph, plan)


@pytest.fixture
def fake_cuda(monkeypatch):
    rt = CountingRuntime()
    monkeypatch.setattr(graphc.cuda, "is_available", lambda: True)
    monkeypatch.setitem(runtimes._INSTANCES, "cuda", rt)
    monkeypatch.setattr(eager, "_EXECUTABLES", {})
    yield rt
    STATE.devices_in_use = False


def test_ops_on_device_run_through_its_runtime_and_stay_there(fake_cuda):
    x = graphc.randn(3, 4, device="cuda")
    w = graphc.randn(4, 2).to("cuda")
    y = (x @ w).relu() + 1
    assert y.device == graphc.device("cuda") and y.is_cuda
    assert repr(graphc.ones(2, device="cuda")) == "tensor([1., 1.], device='cuda:0')"
    assert fake_cuda.prepared == ["Identity", "MatMul", "Relu", "Add"]  # .to("cuda") copies on the device
    (x @ w).relu() + 1
    assert len(fake_cuda.prepared) == 4  # prepared once per op signature
    expect = np.maximum(x.cpu().numpy() @ w.cpu().numpy(), 0) + 1
    np.testing.assert_allclose(y.cpu().numpy(), expect, rtol=1e-6)


def test_autograd_on_device_gives_grads_on_the_leaf_device(fake_cuda):
    w = graphc.randn(4, 2, device="cuda", requires_grad=True)
    x = graphc.randn(3, 4)
    loss = (x.cuda() @ w).pow(2).sum()
    loss.backward()
    assert w.grad.is_cuda
    np.testing.assert_allclose(w.grad.cpu().numpy(),
                               2 * x.numpy().T @ (x.numpy() @ w.detach().cpu().numpy()), rtol=1e-5)


def test_mixed_devices_are_refused_but_scalars_may_join(fake_cuda):
    x = graphc.ones(3, device="cuda")
    assert (x * graphc.tensor(2.0)).is_cuda
    with pytest.raises(RuntimeError, match="same device"):
        x + graphc.ones(3)
    with pytest.raises(TypeError, match="cpu()"):
        x.numpy()


def test_cuda_device_without_a_gpu_says_why():
    if graphc.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        graphc.ones(2, device="cuda")
