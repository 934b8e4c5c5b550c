"""PyTorch's everyday API surface that scripts hit (issue 19, item 4), checked against PyTorch."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import graphc

torch = pytest.importorskip("torch")


def _linear_with_grads(m):
    lin = m.nn.Linear(3, 4)
    with m.no_grad():
        lin.weight.copy_(m.from_numpy(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)))
        lin.bias.fill_(0.5)
    lin(m.from_numpy(np.arange(6, dtype=np.float32).reshape(2, 3))).pow(2).sum().backward()
    return lin


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_clip_grad_norm_matches_pytorch(norm_type):
    got, want = [], []
    for m, out in ((graphc, got), (torch, want)):
        lin = _linear_with_grads(m)
        out.append(float(m.nn.utils.clip_grad_norm_(lin.parameters(), 1.5, norm_type=norm_type)))
        out += [p.grad.numpy().copy() for p in lin.parameters()]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_refuses_a_non_finite_norm_when_asked():
    p = graphc.ones(2, requires_grad=True)
    p.grad = graphc.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        graphc.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def test_clip_grad_value_and_parameter_vectors_match_pytorch():
    results = []
    for m in (graphc, torch):
        lin = _linear_with_grads(m)
        m.nn.utils.clip_grad_value_(lin.parameters(), 0.25)
        vec = m.nn.utils.parameters_to_vector(lin.parameters())
        m.nn.utils.vector_to_parameters(vec * 3, lin.parameters())
        results.append([lin.weight.grad.numpy(), lin.bias.grad.numpy(), vec.detach().numpy(),
                        lin.weight.detach().numpy(), lin.bias.detach().numpy()])
    for g, w in zip(*results):
        np.testing.assert_allclose(g, w, rtol=1e-6)


def test_post_accumulate_grad_hook_sees_the_accumulated_grad():
    seen = {}
    for m in (graphc, torch):
        w = m.ones(3, requires_grad=True)
        log = seen[m.__name__] = []
        handle = w.register_post_accumulate_grad_hook(lambda p: log.append(float(p.grad.sum())))
        (w * 2).sum().backward()
        (w * 3).sum().backward()
        handle.remove()
        (w * 5).sum().backward()
        with pytest.raises(RuntimeError, match="non-leaf"):
            (w * 2).register_post_accumulate_grad_hook(lambda p: None)
    assert seen["graphc"] == seen["torch"] == [6.0, 15.0]


def test_t_in_place_matches_pytorch():
    for m in (graphc, torch):
        x = m.arange(6.0).reshape(2, 3)
        assert x.t_() is x and tuple(x.shape) == (3, 2) and x[:, 1].tolist() == [3.0, 4.0, 5.0]


def test_compile_takes_torch_compile_keywords():
    def double(x):
        return x * 2

    x = graphc.ones(3)
    for kwargs in ({"mode": "reduce-overhead"}, {"fullgraph": True, "dynamic": False}, {"backend": "inductor"},
                   {"backend": "numpy", "mode": "max-autotune"}):
        assert graphc.compile(double, **kwargs)(x).tolist() == [2.0, 2.0, 2.0]
    assert graphc.compile(double, disable=True) is double and graphc.compile(double, backend="eager") is double
    decorated = graphc.compile(mode="default")(double)
    assert isinstance(decorated, graphc.compile(double).__class__) and decorated(x).tolist() == [2.0] * 3
    with pytest.raises(RuntimeError, match="Unrecognized mode"):
        graphc.compile(double, mode="fastest")
    with pytest.raises(TypeError, match="custom backend"):
        graphc.compile(double, backend=lambda gm, inputs: gm)


def test_autocast_is_honest_and_grad_scaler_passes_through():
    lin = graphc.nn.Linear(3, 2)
    opt = graphc.optim.SGD(lin.parameters(), lr=0.1)
    scaler = graphc.amp.GradScaler()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with graphc.amp.autocast("cpu", dtype=graphc.float16):
            loss = lin(graphc.ones(4, 3)).sum()
    assert loss.dtype is graphc.float32
    before = lin.bias.detach().numpy().copy()
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    np.testing.assert_allclose(lin.bias.detach().numpy(), before - 0.1 * 4, rtol=1e-6)
    assert scaler.get_scale() == 1.0 and not scaler.is_enabled()
    assert all("does not cast" in str(w.message) for w in caught)


def test_backends_switches_exist_and_say_what_is_absent():
    graphc.backends.cudnn.benchmark = True
    assert graphc.backends.cudnn.benchmark and not graphc.backends.mps.is_available()
    graphc.backends.cudnn.benchmark = False
