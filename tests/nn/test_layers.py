"""Layers against PyTorch: with weights copied from torch, outputs and gradients agree."""
import numpy as np
import pytest

import graphc
from graphc import nn

from .test_module import lenet

torch = pytest.importorskip("torch")


def _copy_weights(ours, theirs):
    ours.load_state_dict({k: graphc.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})


def _close(a, b, what, rtol=1e-4, atol=1e-5):
    a = a.detach().numpy() if isinstance(a, graphc.Tensor) else a
    np.testing.assert_allclose(a, b.detach().numpy(), rtol=rtol, atol=atol, err_msg=what)


def _compare(make, x, *extra, grad_input=True, train=True):
    """Forward and backward through make(m) in graphc and torch, from torch's initial weights."""
    theirs, ours = make(torch), make(graphc)
    _copy_weights(ours, theirs)
    ours.train(train)
    theirs.train(train)
    tx = torch.tensor(x, requires_grad=grad_input and x.dtype.kind == "f")
    gx = graphc.tensor(x, requires_grad=grad_input and x.dtype.kind == "f")
    t_out = theirs(tx, *[torch.tensor(e) for e in extra])
    g_out = ours(gx, *[graphc.tensor(e) for e in extra])
    _close(g_out, t_out, "output")
    if not t_out.requires_grad:
        return ours, theirs
    weights = np.random.default_rng(1).standard_normal(tuple(t_out.shape)).astype(np.float32)
    (t_out * torch.tensor(weights)).sum().backward()
    (g_out * graphc.tensor(weights)).sum().backward()
    if tx.requires_grad:
        _close(gx.grad, tx.grad, "input grad")
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        _close(p.grad, tp.grad, f"grad of {name}")
    for (name, b), tb in zip(ours.named_buffers(), theirs.buffers()):
        _close(b, tb, f"buffer {name}")
    return ours, theirs


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


LAYERS = {
    "linear": (lambda m: m.nn.Linear(5, 3), (4, 5)),
    "linear-3d-nobias": (lambda m: m.nn.Linear(5, 3, bias=False), (2, 4, 5)),
    "conv": (lambda m: m.nn.Conv2d(3, 4, 3), (2, 3, 8, 8)),
    "conv-options": (lambda m: m.nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
                     (2, 4, 9, 7)),
    "conv-same": (lambda m: m.nn.Conv2d(2, 3, 4, padding="same", bias=False), (1, 2, 6, 5)),
    "conv-valid": (lambda m: m.nn.Conv2d(2, 3, 3, padding="valid"), (1, 2, 6, 5)),
    "maxpool": (lambda m: m.nn.MaxPool2d(2), (2, 3, 8, 8)),
    "maxpool-options": (lambda m: m.nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 3, 8, 7)),
    "avgpool": (lambda m: m.nn.AvgPool2d(2), (2, 3, 8, 8)),
    "avgpool-options": (lambda m: m.nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (1, 2, 7, 6)),
    "adaptive": (lambda m: m.nn.AdaptiveAvgPool2d((1, 1)), (2, 3, 5, 5)),
    "adaptive-uneven": (lambda m: m.nn.AdaptiveAvgPool2d((3, 2)), (2, 3, 7, 5)),
    "relu": (lambda m: m.nn.ReLU(), (3, 4)),
    "leaky": (lambda m: m.nn.LeakyReLU(0.2), (3, 4)),
    "sigmoid": (lambda m: m.nn.Sigmoid(), (3, 4)),
    "tanh": (lambda m: m.nn.Tanh(), (3, 4)),
    "gelu": (lambda m: m.nn.GELU(), (3, 4)),
    "gelu-tanh": (lambda m: m.nn.GELU(approximate="tanh"), (3, 4)),
    "softmax": (lambda m: m.nn.Softmax(dim=1), (3, 4, 2)),
    "logsoftmax": (lambda m: m.nn.LogSoftmax(dim=-1), (3, 4)),
    "flatten": (lambda m: m.nn.Flatten(), (2, 3, 4)),
    "unflatten": (lambda m: m.nn.Unflatten(1, (2, 3)), (4, 6)),
    "identity": (lambda m: m.nn.Identity(54, unused=True), (2, 3)),
    "layernorm": (lambda m: m.nn.LayerNorm([3, 4]), (2, 3, 4)),
    "layernorm-plain": (lambda m: m.nn.LayerNorm(4, elementwise_affine=False), (2, 3, 4)),
    "sequential": (lambda m: m.nn.Sequential(m.nn.Conv2d(1, 2, 3), m.nn.ReLU(), m.nn.MaxPool2d(2), m.nn.Flatten(),
                                             m.nn.Linear(8, 3), m.nn.LogSoftmax(1)), (2, 1, 6, 6)),
}


@pytest.mark.parametrize("name", LAYERS)
def test_layer_matches_torch(name):
    make, shape = LAYERS[name]
    _compare(make, _x(*shape))


def test_inplace_relu():
    x = graphc.tensor([-1.0, 2.0])
    assert nn.ReLU(inplace=True)(x) is x and x.tolist() == [0.0, 2.0]


@pytest.mark.parametrize("make,shape", [
    (lambda m: m.nn.BatchNorm2d(3), (4, 3, 5, 5)),
    (lambda m: m.nn.BatchNorm2d(3, momentum=None), (4, 3, 5, 5)),
    (lambda m: m.nn.BatchNorm1d(3, affine=False, momentum=0.3), (6, 3)),
    (lambda m: m.nn.BatchNorm1d(3), (4, 3, 7)),
    (lambda m: m.nn.BatchNorm1d(3, track_running_stats=False), (4, 3)),
])
def test_batchnorm_train_then_eval(make, shape):
    theirs, ours = make(torch), make(graphc)
    _copy_weights(ours, theirs)
    for seed in range(3):
        x = _x(*shape, seed=seed)
        _close(ours(graphc.tensor(x)), theirs(torch.tensor(x)), "training output")
    for (name, b), tb in zip(ours.named_buffers(), theirs.buffers()):
        _close(b, tb, f"buffer {name}")
    ours.eval()
    theirs.eval()
    x = _x(*shape, seed=9)
    _close(ours(graphc.tensor(x)), theirs(torch.tensor(x)), "eval output")
    _compare(make, x, train=False)


def test_batchnorm_checks_input_rank():
    with pytest.raises(ValueError, match="expected 4D input \\(got 2D input\\)"):
        nn.BatchNorm2d(3)(graphc.randn(2, 3))
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.BatchNorm1d(3)(graphc.randn(2, 3, 4, 5))


def test_embedding_with_padding_idx():
    idx = np.array([[0, 2, 4], [4, 3, 0]])
    ours, theirs = _compare(lambda m: m.nn.Embedding(5, 3, padding_idx=0), idx)
    assert not ours.weight.grad.numpy()[0].any()
    fresh = nn.Embedding(6, 2, padding_idx=-1)
    assert fresh.padding_idx == 5 and not fresh.weight.detach().numpy()[5].any()
    pre = nn.Embedding.from_pretrained(graphc.ones(3, 2))
    assert not pre.weight.requires_grad and pre(graphc.tensor([1])).tolist() == [[1.0, 1.0]]


def test_dropout():
    x = graphc.ones(200, 50)
    drop = nn.Dropout(0.2)
    out = drop(x).numpy()
    kept = out != 0
    assert abs(kept.mean() - 0.8) < 0.02 and np.allclose(out[kept], 1 / 0.8)
    drop.eval()
    assert np.array_equal(drop(x).numpy(), x.numpy())
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)


def _targets(rng):
    return {
        "regression": (rng.standard_normal((4, 3)).astype(np.float32),),
        "classes": (np.array([0, 2, 1, 2]),),
        "probs": (rng.uniform(0, 1, (4, 3)).astype(np.float32),),
    }


LOSSES = [
    ("MSELoss", {}, "regression", "raw"),
    ("L1Loss", {}, "regression", "raw"),
    ("SmoothL1Loss", {"beta": 0.5}, "regression", "raw"),
    ("CrossEntropyLoss", {}, "classes", "raw"),
    ("CrossEntropyLoss", {"label_smoothing": 0.1, "ignore_index": 1}, "classes", "raw"),
    ("NLLLoss", {}, "classes", "log_softmax"),
    ("BCELoss", {}, "probs", "sigmoid"),
    ("BCEWithLogitsLoss", {}, "probs", "raw"),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name,kwargs,target,prep", LOSSES, ids=lambda v: v if isinstance(v, str) else None)
def test_losses_match_torch(name, kwargs, target, prep, reduction):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    (y,) = _targets(rng)[target]

    def make(m):
        loss = getattr(m.nn, name)(reduction=reduction, **kwargs)
        transform = {"raw": lambda t: t, "sigmoid": m.sigmoid, "log_softmax": lambda t: m.nn.functional.log_softmax(t, 1)}[prep]

        class Wrapped(m.nn.Module):
            def __init__(self):
                super().__init__()
                self.loss = loss

            def forward(self, inp, tgt):
                return self.loss(transform(inp), tgt)

        return Wrapped()

    _compare(make, x, y)


def test_weighted_losses_match_torch():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    w = np.array([0.2, 1.0, 3.0], np.float32)
    classes = np.array([0, 2, 1, 2, 0])
    probs = rng.uniform(0, 1, (5, 3)).astype(np.float32)
    _compare(lambda m: m.nn.CrossEntropyLoss(weight=m.tensor(w)), x, classes)
    _compare(lambda m: m.nn.BCEWithLogitsLoss(weight=m.tensor(w), pos_weight=m.tensor(w[::-1].copy())), x, probs)
    assert list(nn.CrossEntropyLoss(weight=graphc.tensor(w)).state_dict()) == ["weight"]


def test_lenet_with_torch_weights_gives_torch_outputs_and_gradients():
    torch.manual_seed(0)
    _compare(lenet, _x(2, 1, 32, 32))


def test_training_lenet_follows_torch():
    torch.manual_seed(1)
    theirs, ours = lenet(torch), lenet(graphc)
    _copy_weights(ours, theirs)
    opts = (graphc.optim.SGD(ours.parameters(), lr=0.01, momentum=0.9), torch.optim.SGD(theirs.parameters(), lr=0.01, momentum=0.9))
    losses = (nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss())
    rng = np.random.default_rng(0)
    for _ in range(5):
        x, y = _x(4, 1, 32, 32, seed=int(rng.integers(100))), rng.integers(0, 10, 4)
        for m, model, opt, loss_fn in ((graphc, ours, opts[0], losses[0]), (torch, theirs, opts[1], losses[1])):
            opt.zero_grad()
            loss = loss_fn(model(m.tensor(x)), m.tensor(y))
            loss.backward()
            opt.step()
    for (name, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
        _close(a, b, name, rtol=1e-4, atol=1e-5)
