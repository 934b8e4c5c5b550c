"""DataParallel: the module itself without GPUs; chunk, run, gather with several devices."""
import numpy as np
import pytest

import graphc
from graphc import nn


class Pair(nn.Module):
    """Takes a tensor, a kwarg and a non-tensor; returns a dict holding a tuple."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, x, scale=1.0, tag="t"):
        y = self.fc(x) * scale
        return {"y": y, "both": (y, x.sum(1)), "tag": tag}


def test_without_cuda_it_is_the_module():
    if graphc.cuda.is_available():
        pytest.skip("a CUDA device is present")
    model = Pair()
    dp = nn.DataParallel(model)
    assert dp.module is model and dp.device_ids == []
    x = graphc.randn(4, 3)
    np.testing.assert_array_equal(dp(x, scale=2.0)["y"].detach().numpy(), model(x, scale=2.0)["y"].detach().numpy())
    assert list(dp.state_dict()) == ["module.fc.weight", "module.fc.bias"]
    assert repr(dp).startswith("DataParallel(\n  (module): Pair(\n    (fc): Linear(")


def test_repr_and_keys_match_torch():
    torch = pytest.importorskip("torch")
    ours = nn.DataParallel(nn.Sequential(nn.Linear(2, 3), nn.ReLU()))
    theirs = torch.nn.DataParallel(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU()))
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())


@pytest.fixture
def two_gpus(monkeypatch):
    """Pretend there are two CUDA devices whose runtime is the numpy runtime."""
    from graphc import runtimes
    from graphc.runtimes import eager
    from graphc.runtimes.numpy_runtime import NumpyRuntime
    from graphc.state import STATE

    monkeypatch.setattr(graphc.cuda, "_probe", lambda: (2, ""))
    monkeypatch.setitem(runtimes._INSTANCES, "cuda", NumpyRuntime())
    monkeypatch.setattr(eager, "_EXECUTABLES", {})
    yield
    STATE.devices_in_use = False


def test_scatter_run_gather_with_two_devices(two_gpus):
    model = Pair()
    ref = {k: v.detach().clone() for k, v in model.state_dict().items()}
    dp = nn.DataParallel(model)
    assert dp.device_ids == [0, 1] and dp.output_device == 0
    x = graphc.randn(5, 3)
    with pytest.raises(RuntimeError, match="module must have its parameters and buffers on device cuda:0"):
        dp(x)
    model.to("cuda:0")
    out = dp(x, scale=2.0, tag="k")
    assert out["y"].device == graphc.device("cuda:0") and out["y"].shape == (5, 2)
    plain = Pair()
    plain.load_state_dict(ref)
    expected = plain(x, scale=2.0)
    np.testing.assert_allclose(out["y"].detach().cpu().numpy(), expected["y"].detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(out["both"][1].cpu().numpy(), expected["both"][1].numpy(), rtol=1e-6)
    out["y"].sum().backward()
    expected["y"].sum().backward()
    np.testing.assert_allclose(model.fc.weight.grad.cpu().numpy(), plain.fc.weight.grad.numpy(), rtol=1e-5)


def test_small_batches_use_fewer_devices(two_gpus):
    dp = nn.DataParallel(nn.Linear(3, 1).to("cuda:0"), dim=0)
    assert dp(graphc.randn(1, 3)).shape == (1, 1)
    dp = nn.DataParallel(nn.Linear(3, 1).to("cuda:0"), device_ids=["cuda:1", 0], output_device="cuda:1")
    assert dp.device_ids == [1, 0] and dp.output_device == 1
