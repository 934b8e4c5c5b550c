"""Cases for the layer ops (graphc/ops/conv.py, pool.py, softmax.py, dropout.py, norm.py, loss.py,
pad.py), through graphc.nn.functional, written once against torch's API."""
import numpy as np

import graphc.nn.functional  # noqa: F401  (makes m.nn.functional available for m=graphc)
from graphc.dispatch import dispatch
from graphc.ops.norm import BATCH_NORM

from .case import Case, args, ints, randn

CONV = ("Conv", "graphc.ConvGradInput", "graphc.ConvGradWeight")
MAXPOOL = ("MaxPool", "graphc.MaxPoolGrad")
AVGPOOL = ("AveragePool", "graphc.AveragePoolGrad")
NLL = ("NegativeLogLikelihoodLoss", "graphc.NllLossGrad")


def _grad_of(f, wrt):
    """fn(m, *xs) -> d(sum f(*xs)^2 / 2)/d xs[wrt]: differentiable again when the inputs require
    grad (exercises the VJPs of the gradient ops), plain values for the finite-difference loss."""
    def fn(m, *xs):
        x = xs[wrt]
        create = any(t.requires_grad for t in xs if t.dtype.is_floating_point)
        if not x.requires_grad:
            x.requires_grad_(True)
        y = f(m, *xs)
        return m.autograd.grad((y * y).sum() / 2, x, create_graph=create)[0]

    return fn


def _conv2d(**kw):
    return lambda m, x, w, *b: m.nn.functional.conv2d(x, w, *b, **kw)


def _seeded_dropout(p, channel=False):
    def fn(m, x):
        m.manual_seed(0)
        F = m.nn.functional
        return (F.dropout2d if channel else F.dropout)(x, p, training=True)

    return fn


def _bn_op(training, outputs=slice(None)):
    """The op's outputs (graphc only: PyTorch's native_batch_norm returns other statistics)."""
    def fn(m, x, w, b, rm, rv):
        return dispatch(BATCH_NORM, [x, w, b, rm, rv], {"epsilon": 1e-5, "training_mode": training})[outputs]

    return fn


CASES = [
    # ---- convolution
    Case(CONV, _conv2d(padding=1), args(randn(2, 3, 7, 6), randn(4, 3, 3, 2), randn(4)), grad=(0, 1, 2),
         id="conv2d-pad-bias"),
    Case(CONV, _conv2d(stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2),
         args(randn(2, 4, 9, 8), randn(6, 2, 3, 2)), grad=(0, 1), id="conv2d-stride-dilation-groups"),
    Case(CONV, _conv2d(padding="same", dilation=2), args(randn(1, 2, 6, 7), randn(3, 2, 2, 4), randn(3)),
         grad=(0, 1, 2), id="conv2d-same-even-kernel"),
    Case(CONV, _conv2d(stride=3, groups=3), args(randn(2, 3, 8, 7), randn(6, 1, 2, 3)), grad=(0, 1),
         id="conv2d-depthwise-stride3"),
    Case(CONV, _conv2d(stride=2, padding=2, dilation=2, groups=4), args(randn(1, 4, 9, 8), randn(4, 1, 3, 3), randn(4)),
         grad=(0, 1, 2), id="conv2d-depthwise-pad-dilation-bias"),
    Case(CONV, _conv2d(), args(randn(1, 6, 5, 7), randn(3, 6, 1, 1), randn(3)), grad=(0, 1, 2), id="conv2d-pointwise"),
    Case(CONV, _conv2d(padding="valid"), args(randn(3, 5, 5), randn(2, 3, 3, 3)), grad=(0, 1),
         id="conv2d-unbatched"),
    Case(CONV, lambda m, x, w, b: m.nn.functional.conv1d(x, w, b, stride=2, padding=2, dilation=2, groups=2),
         args(randn(2, 4, 11), randn(4, 2, 3), randn(4)), grad=(0, 1, 2), id="conv1d"),
    Case(CONV, lambda m, x, w: m.nn.functional.conv3d(x, w, stride=(1, 2, 1), padding=(1, 0, 1)),
         args(randn(1, 2, 4, 5, 3), randn(2, 2, 2, 3, 2)), grad=(0, 1), id="conv3d"),
    Case(CONV, _grad_of(_conv2d(stride=2, padding=1), 0), args(randn(2, 2, 5, 6), randn(3, 2, 3, 3)),
         grad=(0, 1), id="conv2d-double-backward-input"),
    Case(CONV, _grad_of(_conv2d(padding=(0, 1), groups=2), 1), args(randn(2, 4, 5, 4), randn(4, 2, 2, 3)),
         grad=(0, 1), id="conv2d-double-backward-weight"),
    # ---- pooling
    Case(MAXPOOL, lambda m, x: m.nn.functional.max_pool2d(x, 2), args(randn(2, 3, 6, 8)), id="max_pool2d"),
    Case(MAXPOOL, lambda m, x: m.nn.functional.max_pool2d(x, (3, 2), (2, 1), (1, 1), dilation=(1, 2),
                                                          ceil_mode=True, return_indices=True),
         args(randn(2, 2, 9, 7)), id="max_pool2d-ceil-dilation-indices"),
    Case(MAXPOOL, lambda m, x: m.nn.functional.max_pool2d(x, 3, 2, 1, ceil_mode=True),
         args(randn(1, 2, 8, 6)), id="max_pool2d-ceil-overhang"),
    Case(MAXPOOL, lambda m, x: m.nn.functional.max_pool1d(x, 3, 2, 1, return_indices=True),
         args(randn(2, 3, 10)), id="max_pool1d"),
    Case(MAXPOOL, lambda m, x: m.nn.functional.max_pool3d(x, 2, (1, 2, 2)), args(randn(1, 2, 3, 4, 5)),
         id="max_pool3d"),
    Case(MAXPOOL, lambda m, x: m.nn.functional.max_pool2d(x, 2, 1, return_indices=True),
         args(lambda rng: rng.integers(0, 3, (1, 2, 4, 4)).astype(np.float64)), fd=False,
         id="max_pool2d-ties"),
    Case(MAXPOOL, _grad_of(lambda m, x: m.nn.functional.max_pool2d(x, 3, 2, 1), 0), args(randn(2, 2, 7, 6)),
         id="max_pool2d-double-backward"),
    Case(AVGPOOL, lambda m, x: m.nn.functional.avg_pool2d(x, 2), args(randn(2, 3, 6, 8)), id="avg_pool2d"),
    Case(AVGPOOL, lambda m, x: m.nn.functional.avg_pool2d(x, (3, 2), (2, 3), (1, 1), ceil_mode=True),
         args(randn(2, 2, 8, 9)), id="avg_pool2d-ceil-include-pad"),
    Case(AVGPOOL,
         lambda m, x: m.nn.functional.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
         args(randn(2, 2, 8, 7)), id="avg_pool2d-ceil-exclude-pad"),
    Case(AVGPOOL, lambda m, x: m.nn.functional.avg_pool2d(x, (2, 3), 1, (1, 1), count_include_pad=False),
         args(randn(1, 2, 5, 6)), id="avg_pool2d-exclude-pad"),
    Case(AVGPOOL, lambda m, x: m.nn.functional.avg_pool2d(x, 3, 2, 1, divisor_override=4),
         args(randn(1, 2, 7, 7)), id="avg_pool2d-divisor-override"),
    Case(AVGPOOL, lambda m, x: m.nn.functional.avg_pool1d(x, 3, 2, 1, ceil_mode=True), args(randn(2, 3, 8)),
         id="avg_pool1d"),
    Case(AVGPOOL, lambda m, x: m.nn.functional.avg_pool3d(x, (2, 2, 3), padding=(1, 0, 1)),
         args(randn(1, 2, 3, 4, 6)), id="avg_pool3d"),
    Case(AVGPOOL, _grad_of(lambda m, x: m.nn.functional.avg_pool2d(x, 3, 2, 1, count_include_pad=False), 0),
         args(randn(2, 2, 7, 6)), id="avg_pool2d-double-backward"),
    Case(("GlobalAveragePool",), lambda m, x: m.nn.functional.adaptive_avg_pool2d(x, 1),
         args(randn(2, 3, 5, 4))),
    Case(("AveragePool",), lambda m, x: m.nn.functional.adaptive_avg_pool2d(x, (2, 3)),
         args(randn(2, 3, 4, 9)), id="adaptive_avg_pool2d-even-bins"),
    Case(("graphc.AdaptiveAvgPool",), lambda m, x: m.nn.functional.adaptive_avg_pool2d(x, (3, 4)),
         args(randn(2, 3, 7, 9)), id="adaptive_avg_pool2d-uneven-bins"),
    Case(("graphc.AdaptiveAvgPool",), _grad_of(lambda m, x: m.nn.functional.adaptive_avg_pool1d(x, 4), 0),
         args(randn(2, 3, 7)), id="adaptive_avg_pool1d-double-backward"),
    # ---- softmax
    Case(("Softmax",), lambda m, x: m.nn.functional.softmax(x, dim=1), args(randn(3, 5, 2))),
    Case(("Softmax",), lambda m, x: x.softmax(-1) * 3, args(randn(4, 6)), id="softmax-method"),
    Case(("Softmax",), _grad_of(lambda m, x: m.nn.functional.softmax(x, 0), 0), args(randn(5, 3)),
         id="softmax-double-backward"),
    Case(("LogSoftmax",), lambda m, x: m.nn.functional.log_softmax(x, dim=-1), args(randn(3, 7))),
    Case(("LogSoftmax",), _grad_of(lambda m, x: x.log_softmax(1), 0), args(randn(4, 5)),
         id="log_softmax-double-backward"),
    Case(("LogSoftmax",), lambda m, x: m.nn.functional.log_softmax(x * 100, dim=1), args(randn(2, 4)),
         id="log_softmax-large"),
    # ---- dropout (random masks: finite differences with a fixed seed, no PyTorch comparison)
    Case(("Dropout",), _seeded_dropout(0.3), args(randn(4, 5)), torch=False, id="dropout"),
    Case(("Dropout",), _seeded_dropout(0.5, channel=True), args(randn(2, 3, 2, 2)), torch=False,
         id="dropout2d"),
    # ---- batch normalization
    Case(("BatchNormalization",),
         lambda m, x, w, b: m.nn.functional.batch_norm(x, None, None, w, b, training=True),
         args(randn(4, 3, 2, 3), randn(3), randn(3)), grad=(0, 1, 2), id="batch_norm-train-4d"),
    Case(("BatchNormalization",),
         lambda m, x: m.nn.functional.batch_norm(x, None, None, training=True, eps=0.1),
         args(randn(5, 4)), id="batch_norm-train-2d"),
    Case(("BatchNormalization",),
         lambda m, x, w, b, rm, rv: m.nn.functional.batch_norm(x, rm, rv, w, b, training=False),
         args(randn(3, 4, 5), randn(4), randn(4), randn(4), randn(4, low=0.5, high=2)), grad=(0, 1, 2),
         id="batch_norm-eval"),
    Case(("BatchNormalization",), _bn_op(1), args(randn(4, 3, 2), randn(3), randn(3), randn(3), randn(3)),
         grad=(0, 1, 2), torch=False, id="batch_norm-op-train-stats"),
    Case(("BatchNormalization",), _bn_op(1, slice(1, None)),
         args(randn(5, 2, 3), randn(2), randn(2), randn(2), randn(2)), torch=False, id="batch_norm-op-stats-only"),
    Case(("BatchNormalization",), _bn_op(0),
         args(randn(3, 2, 2), randn(2), randn(2), randn(2), randn(2, low=0.5, high=2)), grad=(0, 1, 2, 3, 4),
         torch=False, id="batch_norm-op-eval-stats"),
    Case(("BatchNormalization",),
         _grad_of(lambda m, x, w: m.nn.functional.batch_norm(x, None, None, w, training=True), 0),
         args(randn(4, 3), randn(3)), grad=(0, 1), id="batch_norm-double-backward"),
    # ---- negative log-likelihood
    Case(NLL, lambda m, x, t: m.nn.functional.nll_loss(x, t), args(randn(5, 4), ints(0, 4, 5)), id="nll"),
    Case(NLL, lambda m, x, t, w: m.nn.functional.nll_loss(x, t, w, ignore_index=1),
         args(randn(6, 3), ints(0, 3, 6), randn(3, low=0.5, high=2)), id="nll-weight-ignore"),
    Case(NLL, lambda m, x, t, w: m.nn.functional.nll_loss(x, t, w, reduction="sum"),
         args(randn(2, 3, 4, 2), ints(0, 3, 2, 4, 2), randn(3, low=0.5, high=2)), id="nll-2d-sum"),
    Case(NLL, lambda m, x, t: m.nn.functional.nll_loss(x, t, reduction="none", ignore_index=0),
         args(randn(3, 4, 5), ints(0, 4, 3, 5)), id="nll-none"),
    Case(NLL, lambda m, x, t: m.nn.functional.cross_entropy(x, t), args(randn(5, 6), ints(0, 6, 5)),
         id="cross_entropy"),
    Case(NLL, _grad_of(lambda m, x, t: m.nn.functional.nll_loss(x, t, reduction="none"), 0),
         args(randn(4, 3), ints(0, 3, 4)), id="nll-double-backward"),
    # ---- padding
    Case(("Pad",), lambda m, x: m.nn.functional.pad(x, (1, 2, -1, 0), value=1.5), args(randn(2, 3, 4)),
         id="pad-constant-crop"),
    Case(("Pad",), _grad_of(lambda m, x: m.nn.functional.pad(x, (2, 1)), 0), args(randn(3, 4)),
         id="pad-double-backward"),
]
