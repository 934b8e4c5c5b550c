"""Optimizers against PyTorch: 20 steps from identical weights agree to float32 rounding."""
import numpy as np
import pytest

import graphc
from graphc import nn, optim

torch = pytest.importorskip("torch")


def _mlp(m, weights):
    """The same 2-layer net in graphc (m=graphc) or torch, with weights from NumPy."""

    class MLP(m.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = m.nn.Linear(5, 7)
            self.fc2 = m.nn.Linear(7, 3)

        def forward(self, x):
            return self.fc2(m.tanh(self.fc1(x)))

    net = MLP()
    net.load_state_dict({k: m.tensor(v) for k, v in weights.items()})
    return net


def _weights(rng):
    return {"fc1.weight": rng.standard_normal((7, 5)).astype(np.float32),
            "fc1.bias": rng.standard_normal(7).astype(np.float32),
            "fc2.weight": rng.standard_normal((3, 7)).astype(np.float32),
            "fc2.bias": rng.standard_normal(3).astype(np.float32)}


def _train(m, make_opt, weights, data, steps=20, groups=False, compiled=False):
    net = _mlp(m, weights)
    if groups:
        params = [{"params": net.fc1.parameters()}, {"params": net.fc2.parameters(), "lr": 0.02}]
    else:
        params = net.parameters()
    opt = make_opt(m, params)

    def step(x, y):
        opt.zero_grad()
        loss = ((net(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    run = m.compile(step) if compiled else step
    losses = [float(run(*(m.tensor(a) for a in data[i % len(data)]))) for i in range(steps)]
    return {k: v.detach().numpy() for k, v in net.state_dict().items()}, opt, losses


@pytest.fixture
def setup(rng):
    data = [(rng.standard_normal((8, 5)).astype(np.float32), rng.standard_normal((8, 3)).astype(np.float32))
            for _ in range(4)]
    return _weights(rng), data


SGD_CONFIGS = [
    dict(lr=0.05),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.05, momentum=0.5, weight_decay=0.1),
    dict(lr=0.005, momentum=0.5, nesterov=True, weight_decay=0.01, maximize=True),
]
ADAM_CONFIGS = [
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.002, maximize=True, weight_decay=0.05)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
]


def _compare(setup, make_opt, groups=False, compiled=False):
    weights, data = setup
    ours, _, our_losses = _train(graphc, make_opt, weights, data, groups=groups, compiled=compiled)
    theirs, _, their_losses = _train(torch, make_opt, weights, data, groups=groups)
    np.testing.assert_allclose(our_losses, their_losses, rtol=2e-5, atol=2e-6)
    for k in theirs:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=2e-5, atol=2e-6, err_msg=k)


@pytest.mark.parametrize("name,config", [("SGD", c) for c in SGD_CONFIGS] + ADAM_CONFIGS, ids=str)
def test_compiled_training_step_matches_torch_over_20_steps(setup, name, config):
    """The whole step (forward, backward, update) as one compiled graph: losses and final
    weights equal PyTorch's eager ones."""
    _compare(setup, lambda m, p: getattr(m.optim, name)(p, **config), compiled=True)


@pytest.mark.parametrize("config", SGD_CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_sgd_matches_torch(setup, config):
    _compare(setup, lambda m, p: m.optim.SGD(p, **config))


@pytest.mark.parametrize("name,config", ADAM_CONFIGS, ids=lambda c: str(c))
def test_adam_matches_torch(setup, name, config):
    _compare(setup, lambda m, p: getattr(m.optim, name)(p, **config))


def test_param_groups_with_own_options_match_torch(setup):
    _compare(setup, lambda m, p: m.optim.SGD(p, lr=0.05, momentum=0.9), groups=True)
    _compare(setup, lambda m, p: m.optim.Adam(p, lr=0.01), groups=True)


def test_state_is_tensors_created_lazily(setup):
    weights, _ = setup
    net = _mlp(graphc, weights)
    opt = optim.Adam(net.parameters())
    assert len(opt.state) == 0
    net(graphc.randn(2, 5)).sum().backward()
    opt.step()
    state = opt.state[net.fc1.weight]
    assert set(state) == {"step", "exp_avg", "exp_avg_sq"}
    assert all(isinstance(v, graphc.Tensor) for v in state.values())
    assert state["step"].dtype is graphc.float32 and state["step"].ndim == 0 and state["step"].item() == 1.0


def test_state_dict_format_matches_torch(setup):
    weights, data = setup
    _, ours, _ = _train(graphc, lambda m, p: m.optim.Adam(p, lr=0.01), weights, data, steps=3, groups=True)
    _, theirs, _ = _train(torch, lambda m, p: m.optim.Adam(p, lr=0.01), weights, data, steps=3, groups=True)
    a, b = ours.state_dict(), theirs.state_dict()
    assert list(a) == ["state", "param_groups"]
    assert list(a["state"]) == list(b["state"]) == [0, 1, 2, 3]
    for i in a["state"]:
        assert list(a["state"][i]) == list(b["state"][i])
        for key in a["state"][i]:
            np.testing.assert_allclose(a["state"][i][key].numpy(), b["state"][i][key].numpy(), rtol=1e-5, atol=1e-7)
    for ga, gb in zip(a["param_groups"], b["param_groups"]):
        assert ga["params"] == gb["params"]
        assert list(ga)[-1] == "params"
        for key in ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"):
            assert ga[key] == gb[key]


def test_load_state_dict_resumes_identically(setup):
    weights, data = setup
    make = lambda m, p: m.optim.SGD(p, lr=0.05, momentum=0.9)  # noqa: E731
    full, _, _ = _train(graphc, make, weights, data, steps=6)
    half, opt, _ = _train(graphc, make, weights, data, steps=3)
    net = _mlp(graphc, {k: v for k, v in half.items()})
    opt2 = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    opt2.load_state_dict(opt.state_dict())
    assert opt2.state[net.fc1.weight]["momentum_buffer"] is not opt.state_dict()["state"][0]["momentum_buffer"]
    for i in range(3, 6):
        x, y = (graphc.tensor(a) for a in data[i % len(data)])
        opt2.zero_grad()
        ((net(x) - y) ** 2).mean().backward()
        opt2.step()
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), full[k])


def test_load_state_dict_rejects_mismatched_groups(setup):
    weights, _ = setup
    net = _mlp(graphc, weights)
    opt = optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": []})
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict({"state": {}, "param_groups": [{"lr": 0.1, "params": [0]}]})


def test_zero_grad_and_errors(setup):
    weights, _ = setup
    net = _mlp(graphc, weights)
    opt = optim.SGD(net.parameters(), lr=0.1)
    net(graphc.randn(2, 5)).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in net.parameters())
    opt.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.Adam(net.parameters(), lr=-1)
    with pytest.raises(ValueError, match="Nesterov momentum requires"):
        optim.SGD(net.parameters(), lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [net.fc1.weight]}, {"params": [net.fc1.weight]}], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.SGD(net.fc1.weight, lr=0.1)


def test_step_uses_closure_and_repr(setup):
    weights, data = setup
    net = _mlp(graphc, weights)
    opt = optim.SGD(net.parameters(), lr=0.1)
    x, y = (graphc.tensor(a) for a in data[0])

    def closure():
        opt.zero_grad()
        loss = ((net(x) - y) ** 2).mean()
        loss.backward()
        return loss

    assert isinstance(opt.step(closure), graphc.Tensor)
    assert repr(opt).startswith("SGD (\nParameter Group 0\n    dampening: 0\n")


def test_step_is_made_of_graphc_tensor_ops(setup, monkeypatch):
    """A tracer sees the update as tensor ops: every parameter changes through Tensor._set_from."""
    weights, data = setup
    net = _mlp(graphc, weights)
    opt = optim.Adam(net.parameters(), lr=0.01, amsgrad=True)
    net(graphc.tensor(data[0][0])).sum().backward()
    written = []
    original = graphc.Tensor._set_from
    monkeypatch.setattr(graphc.Tensor, "_set_from", lambda self, out: written.append(self) or original(self, out))
    opt.step()
    ids = {id(t) for t in written}
    for p in net.parameters():
        assert id(p) in ids
        assert all(id(t) in ids for t in opt.state[p].values())


@pytest.mark.parametrize("name,config", [("SGD", c) for c in SGD_CONFIGS] + ADAM_CONFIGS, ids=str)
def test_update_arithmetic_alone_matches_torch(rng, name, config):
    """Fed the same gradients, the updates differ from PyTorch's only by float32 rounding
    (PyTorch fuses p + alpha * g into one fma where graphc rounds twice)."""
    p0 = rng.standard_normal((6, 5)).astype(np.float32)
    grads = [rng.standard_normal((6, 5)).astype(np.float32) for _ in range(20)]

    def run(m):
        p = m.tensor(p0.copy(), requires_grad=True)
        opt = getattr(m.optim, name)([p], **config)
        for g in grads:
            p.grad = m.tensor(g)
            opt.step()
        return p.detach().numpy()

    np.testing.assert_allclose(run(graphc), run(torch), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
                                  lambda p: optim.AdamW(p, lr=0.01, amsgrad=True)], ids=["SGD", "AdamW"])
def test_compiled_training_step_matches_eager(rng, make):
    """step() is made of tensor ops, so a traced training step (optimizer included) replays it."""
    import warnings

    data = [(graphc.tensor(rng.standard_normal((5, 4)).astype(np.float32)),
             graphc.tensor(rng.standard_normal((5, 2)).astype(np.float32))) for _ in range(5)]

    def run(compiled):
        graphc.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
        opt = make(model.parameters())

        def step(x, y):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        fn = graphc.compile(step) if compiled else step
        losses = [float(fn(x, y)) for x, y in data]
        return losses, [p.detach().numpy() for p in model.parameters()]

    with warnings.catch_warnings():
        warnings.simplefilter("error", graphc.TracerWarning)
        compiled = run(True)
    eager = run(False)
    np.testing.assert_allclose(compiled[0], eager[0], rtol=1e-5)
    for a, b in zip(compiled[1], eager[1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
