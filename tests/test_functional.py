"""graphc.nn.functional against torch.nn.functional: values and gradients, loss reductions,
ignore_index, dropout statistics and batch-norm running statistics."""
from __future__ import annotations

import numpy as np
import pytest

import graphc
import graphc.nn.functional as F
from graphc.errors import ShapeError

from .ops.case import args, ints, randn

torch = pytest.importorskip("torch")


def _flat(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _run(m, fn, arrays, grad, dtype):
    xs = []
    for i, a in enumerate(arrays):
        t = m.tensor(a.astype(dtype) if a.dtype.kind == "f" else a)
        if i in grad:
            t.requires_grad_(True)
        xs.append(t)
    outs = _flat(fn(m, *xs))
    floats = [o for o in outs if o.dtype.is_floating_point and o.requires_grad]
    grads = []
    if grad and floats:
        cot = np.random.default_rng(1)
        loss = sum((o * m.tensor(cot.standard_normal(tuple(o.shape)).astype(dtype))).sum() for o in floats)
        got = m.autograd.grad(loss, [xs[i] for i in grad], allow_unused=True)
        grads = [np.zeros(arrays[i].shape) if g is None else g.numpy() for i, g in zip(grad, got)]
    return [o.detach().numpy() for o in outs], grads


def compare(fn, make, grad=(0,), dtype=np.float64, atol=1e-6, seed=7):
    arrays = make(np.random.default_rng(seed))
    ours, our_grads = _run(graphc, fn, arrays, grad, dtype)
    theirs, their_grads = _run(torch, fn, arrays, grad, dtype)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, a.dtype, b.shape, b.dtype)
        np.testing.assert_allclose(a, b, rtol=atol, atol=atol)
    for a, b in zip(our_grads, their_grads):
        np.testing.assert_allclose(a, b, rtol=atol, atol=atol)


def f(name, *a, **kw):
    """fn(m, *xs) calling m.nn.functional.<name>(*xs, *a, **kw)."""
    return lambda m, *xs: getattr(m.nn.functional, name)(*xs, *a, **kw)


X = args(randn(3, 4, 5))

ACTIVATIONS = [
    ("relu", f("relu"), args(randn(3, 4, away=0))),
    ("relu6", f("relu6"), args(randn(3, 4, low=-8, high=8, away=6))),
    ("leaky_relu", f("leaky_relu", 0.2), args(randn(3, 4, away=0))),
    ("elu", f("elu", alpha=0.7), args(randn(3, 4, away=0))),
    ("celu", f("celu", alpha=1.5), args(randn(3, 4, away=0))),
    ("selu", f("selu"), args(randn(3, 4, away=0))),
    ("gelu", f("gelu"), X),
    ("gelu-tanh", f("gelu", approximate="tanh"), X),
    ("silu", f("silu"), X),
    ("mish", f("mish"), X),
    ("sigmoid", f("sigmoid"), X),
    ("tanh", f("tanh"), X),
    ("softplus", f("softplus"), X),
    ("softplus-beta", f("softplus", beta=2, threshold=3), args(randn(3, 4, low=-3, high=3, away=1.5))),
    ("softsign", f("softsign"), X),
    ("logsigmoid", f("logsigmoid"), args(randn(3, 4, low=-40, high=40))),
    ("hardtanh", f("hardtanh", -0.5, 0.7), args(randn(3, 4, away=0.7))),
    ("hardsigmoid", f("hardsigmoid"), args(randn(3, 4, low=-5, high=5, away=3))),
    ("hardswish", f("hardswish"), args(randn(3, 4, low=-5, high=5, away=3))),
    ("threshold", f("threshold", 0.1, -2.0), args(randn(3, 4, away=0.1))),
    ("glu", f("glu", 1), args(randn(3, 4, 5))),
    ("softmax", f("softmax", dim=1), X),
    ("softmax-dtype", lambda m, x: m.nn.functional.softmax(x, 0, dtype=m.float64), X),
    ("log_softmax", f("log_softmax", dim=2), X),
    ("softmin", f("softmin", dim=0), X),
]


@pytest.mark.parametrize("name,fn,make", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activations(name, fn, make, dtype):
    compare(fn, make, dtype=dtype, atol=1e-6 if dtype == np.float64 else 1e-5)


INPLACE = ["relu", "relu6", "leaky_relu", "elu", "celu", "selu", "silu", "mish", "hardtanh", "hardsigmoid",
           "hardswish"]


@pytest.mark.parametrize("name", INPLACE + ["threshold"])
def test_inplace_activation_writes_input(name):
    fn = getattr(F, name)
    if name == "threshold":
        fn = lambda x, inplace=False: F.threshold(x, 0.2, -1.0, inplace)  # noqa: E731
    x = graphc.randn(3, 4, requires_grad=True)
    h = x * 2
    assert fn(h, inplace=True) is h
    (expect,) = graphc.autograd.grad(fn(x * 2).sum(), x)
    np.testing.assert_allclose(h.detach().numpy(), fn(x * 2).detach().numpy())
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), expect.numpy())
    with pytest.raises(RuntimeError, match="leaf Variable"):
        fn(x, inplace=True)


def test_softmax_implicit_dim_warns_and_picks_torch_dim():
    for shape in [(4,), (2, 3), (2, 3, 4), (2, 3, 4, 5)]:
        x = np.random.default_rng(0).standard_normal(shape)
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
            ours = F.softmax(graphc.tensor(x)).numpy()
        with pytest.warns(UserWarning):
            theirs = torch.nn.functional.softmax(torch.tensor(x)).numpy()
        np.testing.assert_allclose(ours, theirs, atol=1e-12)


LAYERS = [
    ("conv2d", f("conv2d", stride=2, padding=1), args(randn(2, 3, 7, 8), randn(4, 3, 3, 3), randn(4)),
     (0, 1, 2)),
    ("conv2d-same", f("conv2d", padding="same", dilation=(1, 2)), args(randn(2, 2, 5, 6), randn(2, 2, 3, 4)),
     (0, 1)),
    ("conv2d-groups", f("conv2d", padding=(2, 1), groups=2), args(randn(1, 4, 6, 6), randn(6, 2, 3, 2)),
     (0, 1)),
    ("conv1d", f("conv1d", padding=1, stride=2), args(randn(2, 3, 9), randn(5, 3, 3), randn(5)), (0, 1, 2)),
    ("conv3d", f("conv3d", padding=1), args(randn(1, 2, 3, 4, 3), randn(2, 2, 3, 3, 3)), (0, 1)),
    ("max_pool2d", f("max_pool2d", 2), args(randn(2, 3, 8, 6)), (0,)),
    ("max_pool2d-indices", f("max_pool2d", 3, 2, 1, return_indices=True, ceil_mode=True),
     args(randn(2, 3, 8, 7)), (0,)),
    ("max_pool1d", f("max_pool1d", 2), args(randn(2, 3, 9)), (0,)),
    ("avg_pool2d", f("avg_pool2d", (2, 3), stride=(1, 2), padding=1, count_include_pad=False),
     args(randn(2, 3, 7, 8)), (0,)),
    ("avg_pool2d-ceil", f("avg_pool2d", 3, 2, 1, ceil_mode=True), args(randn(2, 2, 6, 6)), (0,)),
    ("avg_pool1d", f("avg_pool1d", 4, 2), args(randn(2, 3, 9)), (0,)),
    ("adaptive_avg_pool2d", f("adaptive_avg_pool2d", (None, 3)), args(randn(2, 3, 5, 7)), (0,)),
    ("adaptive_avg_pool2d-1", f("adaptive_avg_pool2d", 1), args(randn(2, 3, 5, 7)), (0,)),
    ("adaptive_avg_pool2d-even", f("adaptive_avg_pool2d", (3, 2)), args(randn(2, 3, 6, 8)), (0,)),
    ("adaptive_avg_pool2d-unbatched", f("adaptive_avg_pool2d", 4), args(randn(3, 9, 5)), (0,)),
    ("adaptive_avg_pool1d", f("adaptive_avg_pool1d", 3), args(randn(2, 3, 8)), (0,)),
    ("adaptive_max_pool2d", f("adaptive_max_pool2d", 2, return_indices=True), args(randn(2, 3, 6, 4)), (0,)),
    ("adaptive_max_pool2d-uneven", f("adaptive_max_pool2d", (3, 4), return_indices=True),
     args(randn(2, 3, 7, 9)), (0,)),
    ("adaptive_max_pool1d", f("adaptive_max_pool1d", 4), args(randn(2, 3, 7)), (0,)),
    ("adaptive_max_pool3d", f("adaptive_max_pool3d", (2, None, 3), return_indices=True),
     args(randn(1, 2, 5, 3, 4)), (0,)),
    ("layer_norm", lambda m, x, w, b: m.nn.functional.layer_norm(x, (4, 5), w, b),
     args(randn(3, 4, 5), randn(4, 5), randn(4, 5)), (0, 1, 2)),
    ("layer_norm-plain", f("layer_norm", [5], eps=0.1), args(randn(3, 4, 5)), (0,)),
    ("group_norm", lambda m, x, w, b: m.nn.functional.group_norm(x, 2, w, b),
     args(randn(3, 4, 2, 3), randn(4), randn(4)), (0, 1, 2)),
    ("linear", f("linear"), args(randn(3, 4), randn(5, 4), randn(5)), (0, 1, 2)),
    ("linear-3d-nobias", f("linear"), args(randn(2, 3, 4), randn(5, 4)), (0, 1)),
    ("embedding", lambda m, i, w: m.nn.functional.embedding(i, w), args(ints(0, 6, 3, 4), randn(6, 3)), (1,)),
    ("embedding-padding", lambda m, i, w: m.nn.functional.embedding(i, w, padding_idx=2),
     args(ints(0, 6, 3, 4), randn(6, 3)), (1,)),
    ("embedding-freq",
     lambda m, i, w: m.nn.functional.embedding(i, w, padding_idx=-1, scale_grad_by_freq=True),
     args(ints(0, 4, 5, 3), randn(4, 2)), (1,)),
    ("one_hot", lambda m, t: m.nn.functional.one_hot(t, 5), args(ints(0, 5, 3, 2)), ()),
    ("one_hot-infer", lambda m, t: m.nn.functional.one_hot(t), args(ints(0, 5, 7)), ()),
    ("pad-constant", f("pad", (1, 2, 0, 3), value=-1.0), args(randn(2, 3, 4)), (0,)),
    ("pad-negative", f("pad", (-1, 2)), args(randn(2, 3, 4)), (0,)),
    ("pad-reflect", f("pad", (2, 1, 1, 2), mode="reflect"), args(randn(1, 2, 4, 5)), (0,)),
    ("pad-replicate", f("pad", (3, 1), mode="replicate"), args(randn(2, 2, 4)), (0,)),
    ("pad-circular", f("pad", (1, 2, 2, 0), mode="circular"), args(randn(1, 2, 3, 4)), (0,)),
    ("normalize", f("normalize"), args(randn(3, 4)), (0,)),
    ("normalize-p1", f("normalize", p=1, dim=0), args(randn(3, 4, away=0)), (0,)),
    ("normalize-eps", f("normalize", dim=-1, eps=10.0), args(randn(3, 4)), (0,)),
    ("cosine_similarity", f("cosine_similarity"), args(randn(3, 4), randn(1, 4)), (0, 1)),
    ("cosine_similarity-eps", f("cosine_similarity", dim=0, eps=3.0), args(randn(3, 4), randn(3, 4)), (0, 1)),
]


@pytest.mark.parametrize("name,fn,make,grad", LAYERS, ids=[a[0] for a in LAYERS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layers(name, fn, make, grad, dtype):
    compare(fn, make, grad, dtype=dtype, atol=1e-6 if dtype == np.float64 else 2e-5)


def test_max_pool_nan_and_inf_follow_torch():
    x = np.random.default_rng(0).standard_normal((1, 2, 6, 6))
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = np.nan
    x[0, 1, :3, :3] = -np.inf
    ours = F.max_pool2d(graphc.tensor(x), 3, 2, 1, return_indices=True)
    theirs = torch.nn.functional.max_pool2d(torch.tensor(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(ours[0].numpy(), theirs[0].numpy())
    np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())


def test_flatten_matches_torch_flatten():
    x = np.arange(24.0).reshape(2, 3, 4)
    expect = torch.flatten(torch.tensor(x), 1).numpy()
    np.testing.assert_array_equal(F.flatten(graphc.tensor(x), 1).numpy(), expect)


def test_embedding_max_norm_renormalises_used_rows_in_place():
    w = np.random.default_rng(0).standard_normal((5, 3)) * 3
    idx = np.array([[0, 2], [2, 4]])
    ours, theirs = graphc.tensor(w), torch.tensor(w)
    out = F.embedding(graphc.tensor(idx), ours, max_norm=1.5)
    ref = torch.nn.functional.embedding(torch.tensor(idx), theirs, max_norm=1.5)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-12)


# ---- losses -------------------------------------------------------------------------------------

REDUCTIONS = ["mean", "sum", "none"]
PAIR = args(randn(3, 4), randn(3, 4))

LOSSES = [
    ("mse_loss", lambda r: f("mse_loss", reduction=r), PAIR, (0, 1)),
    ("mse_loss-weight", lambda r: lambda m, x, y, w: m.nn.functional.mse_loss(x, y, reduction=r, weight=w),
     args(randn(3, 4), randn(3, 4), randn(3, 4, low=0.5, high=2)), (0, 1)),
    ("l1_loss", lambda r: f("l1_loss", reduction=r), PAIR, (0, 1)),
    ("l1_loss-weight", lambda r: lambda m, x, y, w: m.nn.functional.l1_loss(x, y, reduction=r, weight=w),
     args(randn(3, 4), randn(3, 4), randn(3, 4, low=0.5, high=2)), (0, 1)),
    ("smooth_l1_loss", lambda r: f("smooth_l1_loss", reduction=r, beta=0.5), PAIR, (0, 1)),
    ("smooth_l1_loss-beta0", lambda r: f("smooth_l1_loss", reduction=r, beta=0.0), PAIR, (0, 1)),
    ("huber_loss", lambda r: f("huber_loss", reduction=r, delta=0.7), PAIR, (0, 1)),
    ("huber_loss-weight", lambda r: lambda m, x, y, w: m.nn.functional.huber_loss(x, y, r, 1.2, w),
     args(randn(3, 4), randn(3, 4), randn(3, 4, low=0.5, high=2)), (0, 1)),
    ("nll_loss", lambda r: f("nll_loss", reduction=r), args(randn(5, 4), ints(0, 4, 5)), (0,)),
    ("nll_loss-weight-ignore", lambda r: lambda m, x, t, w: m.nn.functional.nll_loss(x, t, w, ignore_index=2,
                                                                                      reduction=r),
     args(randn(7, 4), ints(0, 4, 7), randn(4, low=0.5, high=2)), (0,)),
    ("nll_loss-4d", lambda r: f("nll_loss", reduction=r, ignore_index=0),
     args(randn(2, 3, 2, 4), ints(0, 3, 2, 2, 4)), (0,)),
    ("nll_loss-unbatched", lambda r: f("nll_loss", reduction=r), args(randn(4), ints(0, 4)), (0,)),
    ("cross_entropy", lambda r: f("cross_entropy", reduction=r), args(randn(5, 4), ints(0, 4, 5)), (0,)),
    ("cross_entropy-weight-ignore", lambda r: lambda m, x, t, w: m.nn.functional.cross_entropy(
        x, t, w, ignore_index=1, reduction=r),
     args(randn(6, 3), ints(0, 3, 6), randn(3, low=0.5, high=2)), (0,)),
    ("cross_entropy-smoothing",
     lambda r: f("cross_entropy", reduction=r, label_smoothing=0.2, ignore_index=3),
     args(randn(6, 4), ints(0, 4, 6)), (0,)),
    ("cross_entropy-smoothing-weight", lambda r: lambda m, x, t, w: m.nn.functional.cross_entropy(
        x, t, w, ignore_index=0, reduction=r, label_smoothing=0.3),
     args(randn(2, 4, 3), ints(0, 4, 2, 3), randn(4, low=0.5, high=2)), (0,)),
    ("cross_entropy-probs",
     lambda r: lambda m, x, p: m.nn.functional.cross_entropy(x, p.softmax(1), reduction=r),
     args(randn(5, 4), randn(5, 4)), (0, 1)),
    ("cross_entropy-probs-smoothing-weight", lambda r: lambda m, x, p, w: m.nn.functional.cross_entropy(
        x, p.softmax(1), w, reduction=r, label_smoothing=0.1),
     args(randn(3, 4, 2), randn(3, 4, 2), randn(4, low=0.5, high=2)), (0, 1)),
    ("cross_entropy-unbatched", lambda r: f("cross_entropy", reduction=r), args(randn(5), ints(0, 5)), (0,)),
    ("binary_cross_entropy", lambda r: lambda m, x, t: m.nn.functional.binary_cross_entropy(x.sigmoid(), t,
                                                                                          reduction=r),
     args(randn(4, 3), randn(4, 3, low=0, high=1)), (0, 1)),
    ("binary_cross_entropy-weight", lambda r: lambda m, x, t, w: m.nn.functional.binary_cross_entropy(
        x.sigmoid(), t, w, reduction=r), args(randn(4, 3), randn(4, 3, low=0, high=1), randn(3)), (0, 1)),
    ("bce_with_logits", lambda r: f("binary_cross_entropy_with_logits", reduction=r),
     args(randn(4, 3, low=-30, high=30), randn(4, 3, low=0, high=1)), (0, 1)),
    ("bce_with_logits-weights",
     lambda r: lambda m, x, t, w, pw: m.nn.functional.binary_cross_entropy_with_logits(
         x, t, w, reduction=r, pos_weight=pw),
     args(randn(4, 3), randn(4, 3, low=0, high=1), randn(3), randn(3, low=0.5, high=3)), (0, 1)),
    ("kl_div", lambda r: f("kl_div", reduction=r), args(randn(3, 4), randn(3, 4, low=0, high=1)), (0, 1)),
    ("kl_div-log-target", lambda r: f("kl_div", reduction=r, log_target=True), PAIR, (0, 1)),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,make_fn,make,grad", LOSSES, ids=[a[0] for a in LOSSES])
@pytest.mark.filterwarnings("ignore:reduction")
def test_losses(name, make_fn, make, grad, reduction):
    compare(make_fn(reduction), make, grad)
    compare(make_fn(reduction), make, grad, dtype=np.float32, atol=1e-5)


def test_kl_div_batchmean():
    compare(f("kl_div", reduction="batchmean"), args(randn(3, 4), randn(3, 4, low=0, high=1)), (0, 1))


def test_bce_clamps_log_at_minus_100():
    x = np.array([0.0, 1.0, 0.5])
    t = np.array([1.0, 0.0, 1.0])
    ours = F.binary_cross_entropy(graphc.tensor(x), graphc.tensor(t), reduction="none").numpy()
    theirs = torch.nn.functional.binary_cross_entropy(torch.tensor(x), torch.tensor(t), reduction="none")
    theirs = theirs.numpy()
    np.testing.assert_allclose(ours, theirs)
    assert ours[0] == 100.0


def test_cross_entropy_all_ignored_is_nan_like_torch():
    x, t = np.zeros((2, 3)), np.array([-100, -100])
    assert np.isnan(F.cross_entropy(graphc.tensor(x), graphc.tensor(t)).item())
    assert np.isnan(torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(t)).item())


def test_legacy_size_average_and_reduce():
    x, t = np.random.default_rng(0).standard_normal((2, 3, 4))
    for sa, red, expect in [(False, None, "sum"), (None, False, "none"), (True, True, "mean")]:
        with pytest.warns(UserWarning, match="size_average and reduce"):
            ours = F.mse_loss(graphc.tensor(x), graphc.tensor(t), size_average=sa, reduce=red).numpy()
        theirs = torch.nn.functional.mse_loss(torch.tensor(x), torch.tensor(t), reduction=expect).numpy()
        np.testing.assert_allclose(ours, theirs)


def test_nll_target_out_of_bounds_is_an_error():
    with pytest.raises(Exception, match="out of bounds"):
        F.nll_loss(graphc.zeros(2, 3), graphc.tensor([0, 3]))


# ---- dropout ------------------------------------------------------------------------------------

def test_dropout_statistics_and_scaling():
    graphc.manual_seed(0)
    x = graphc.ones(400, 500)
    for p in (0.1, 0.5, 0.8):
        y = F.dropout(x, p).numpy()
        kept = y != 0
        assert abs(kept.mean() - (1 - p)) < 0.005
        np.testing.assert_allclose(y[kept], 1 / (1 - p), rtol=1e-6)


def test_dropout_gradient_is_mask_times_scale():
    x = graphc.randn(50, 40, requires_grad=True)
    y = F.dropout(x, 0.25)
    y.sum().backward()
    mask = y.detach().numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), mask / 0.75, rtol=1e-6)
    assert y.grad_fn.name() == "MulBackward0"


def test_dropout_eval_and_zero_p_return_input():
    x = graphc.randn(3, 4)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert F.dropout2d(x.reshape(1, 3, 2, 2), 0.5, training=False).shape == (1, 3, 2, 2)
    assert (F.dropout(x, 1.0).numpy() == 0).all()
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5)


def test_dropout_follows_the_global_seed_and_is_inplace_when_asked():
    x = graphc.randn(20, 30)
    graphc.manual_seed(3)
    a = F.dropout(x, 0.5).numpy()
    graphc.manual_seed(3)
    b = F.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(a, b)
    h = x.clone()
    assert F.dropout(h, 0.5, inplace=True) is h


def test_dropout2d_zeroes_whole_channels():
    graphc.manual_seed(0)
    y = F.dropout2d(graphc.ones(64, 16, 3, 5), 0.5).numpy()
    per_channel = y.reshape(64, 16, -1)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()
    assert abs((per_channel[..., 0] != 0).mean() - 0.5) < 0.06


# ---- batch norm ---------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5, 2), (6, 3, 7)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm_running_stats_follow_torch(shape, dtype):
    rng = np.random.default_rng(0)
    c = shape[1]
    w, b = rng.standard_normal(c).astype(dtype), rng.standard_normal(c).astype(dtype)
    ours = [graphc.zeros(c, dtype=dtype), graphc.ones(c, dtype=dtype)]
    tdtype = getattr(torch, np.dtype(dtype).name)
    theirs = [torch.zeros(c, dtype=tdtype), torch.ones(c, dtype=tdtype)]
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for step in range(5):
        x = (rng.standard_normal(shape) * (step + 1) + step).astype(dtype)
        y = F.batch_norm(graphc.tensor(x), *ours, graphc.tensor(w), graphc.tensor(b), training=True,
                         momentum=0.3)
        ref = torch.nn.functional.batch_norm(torch.tensor(x), *theirs, torch.tensor(w), torch.tensor(b),
                                             training=True, momentum=0.3)
        np.testing.assert_allclose(y.numpy(), ref.numpy(), rtol=tol, atol=tol * 10)
        for a, r in zip(ours, theirs):
            np.testing.assert_allclose(a.numpy(), r.numpy(), rtol=tol, atol=tol)
    x = rng.standard_normal(shape).astype(dtype)
    y = F.batch_norm(graphc.tensor(x), *ours, graphc.tensor(w), graphc.tensor(b), training=False)
    ref = torch.nn.functional.batch_norm(torch.tensor(x), *theirs, torch.tensor(w), torch.tensor(b),
                                         training=False)
    np.testing.assert_allclose(y.numpy(), ref.numpy(), rtol=tol, atol=tol * 10)


def test_batch_norm_grad_fn_and_errors():
    x = graphc.randn(4, 3, requires_grad=True)
    assert F.batch_norm(x, None, None, training=True).grad_fn.name() == "NativeBatchNormBackward0"
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(graphc.randn(1, 3), None, None, training=True)
    with pytest.raises(RuntimeError, match="running_mean"):
        F.batch_norm(graphc.randn(2, 3), None, None, training=False)


def test_running_stats_are_not_part_of_the_autograd_graph():
    rm, rv = graphc.zeros(3), graphc.ones(3)
    x = graphc.randn(5, 3, requires_grad=True)
    F.batch_norm(x, rm, rv, training=True).sum().backward()
    assert not rm.requires_grad and not rv.requires_grad and x.grad is not None


# ---- grad_fn names and errors -----------------------------------------------------------------

def test_grad_fn_names_follow_pytorch():
    x = graphc.randn(2, 3, 8, 8, requires_grad=True)
    w = graphc.randn(4, 3, 3, 3, requires_grad=True)
    t = graphc.randint(0, 3, (2, 8, 8))
    names = {
        "ConvolutionBackward0": F.conv2d(x, w),
        "MaxPool2DWithIndicesBackward0": F.max_pool2d(x, 2),
        "AvgPool2DBackward0": F.avg_pool2d(x, 2),
        "MeanBackward1": F.adaptive_avg_pool2d(x, 1),
        "AdaptiveAvgPool2DBackward0": F.adaptive_avg_pool2d(x, 3),
        "SoftmaxBackward0": F.softmax(x, 1),
        "LogSoftmaxBackward0": F.log_softmax(x, 1),
        "NllLoss2DBackward0": F.nll_loss(x, t),
        "NllLossBackward0": F.nll_loss(x[:, :, 0, 0], t[:, 0, 0]),
        "ConstantPadNdBackward0": F.pad(x, (1, 1)),
    }
    for name, out in names.items():
        assert out.grad_fn.name() == name
    (g,) = graphc.autograd.grad(F.conv2d(x, w).sum(), x, create_graph=True)
    assert g.grad_fn.name() == "ConvolutionBackwardBackward0"


def test_conv_shape_errors_name_the_op():
    with pytest.raises(ShapeError, match="Conv"):
        F.conv2d(graphc.randn(1, 4, 5, 5), graphc.randn(2, 3, 3, 3))
    with pytest.raises(ShapeError, match="Conv"):
        F.conv2d(graphc.randn(1, 3, 2, 2), graphc.randn(2, 3, 3, 3))
    with pytest.raises(ValueError, match="strided"):
        F.conv2d(graphc.randn(1, 3, 5, 5), graphc.randn(2, 3, 3, 3), stride=2, padding="same")
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(graphc.randn(1, 1, 4, 4), 2, padding=2)


@pytest.mark.parametrize("stride", [1, 2])
def test_conv_with_strided_input_and_broadcast_gradient(stride):
    """A permuted (non-contiguous) input, and .sum()'s gradient, which is a zero-stride broadcast."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((5, 6, 3, 2)), rng.standard_normal((4, 2, 3, 3))
    grads = []
    for m in (graphc, torch):
        xt, wt = m.tensor(x, requires_grad=True), m.tensor(w, requires_grad=True)
        m.nn.functional.conv2d(xt.permute(2, 3, 0, 1), wt, stride=stride, padding=1).sum().backward()
        grads.append((xt.grad.numpy(), wt.grad.numpy()))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


def test_training_step_matches_torch():
    """A LeNet-style forward and backward: conv, relu, pool, flatten, linear, cross entropy."""
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in [(4, 3, 12, 12), (6, 3, 5, 5), (6,), (10, 6 * 4 * 4), (10,)]]
    target = rng.integers(0, 10, 4)

    def step(m):
        x, w1, b1, w2, b2 = [m.tensor(a, requires_grad=i > 0) for i, a in enumerate(arrays)]
        nf = m.nn.functional
        h = nf.max_pool2d(nf.relu(nf.conv2d(x, w1, b1)), 2)
        loss = nf.cross_entropy(nf.linear(m.flatten(h, 1), w2, b2), m.tensor(target))
        loss.backward()
        return [loss.detach().numpy()] + [p.grad.numpy() for p in (w1, b1, w2, b2)]

    for a, b in zip(step(graphc), step(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)
