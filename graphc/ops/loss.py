"""NegativeLogLikelihoodLoss and its gradient op NllLossGrad (the losses that are registry ops).

Each VJP is written with the other op, so gradients of any order stay graphc ops. The other
losses are compositions in graphc/nn/functional.py.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..dispatch import dispatch
from ..ir.types import TensorType
from .base import float_input
from .registry import REQUIRED, Op, register

__all__ = []


_REDUCTIONS = ("mean", "sum", "none")


def _infer_nll(types, reduction, ignore_index):
    x, t = types[0], types[1]
    float_input(x)
    if len(x.shape) < 2:
        raise ValueError(f"expected input (N, C, ...), got {list(x.shape)}")
    if t.dtype.is_floating_point or t.dtype is dtypes.bool_:
        raise ValueError(f"expected an integer target, got {t.dtype.name}")
    if tuple(t.shape) != x.shape[:1] + x.shape[2:]:
        raise ValueError(f"Expected target size {list(x.shape[:1] + x.shape[2:])}, got {list(t.shape)}")
    if len(types) == 3 and (tuple(types[2].shape) != (x.shape[1],) or types[2].dtype is not x.dtype):
        raise ValueError(f"weight must be {x.dtype.name}[{x.shape[1]}], got {list(types[2].shape)}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return [TensorType(tuple(t.shape) if reduction == "none" else (), x.dtype)]


def _nll_terms(target, weight, n_classes, ignore_index, dtype):
    """(class index per element with ignored ones at 0, per-element weight or None when every
    weight is 1, total weight). The all-ones case is the common one and skips its arrays."""
    t = target.astype(np.int64, copy=False)
    keep = None if ignore_index is None else t != ignore_index
    if keep is not None and keep.all():
        keep = None
    if keep is not None:
        t = np.where(keep, t, 0)
    if t.size and (t.min() < 0 or t.max() >= n_classes):
        bad = (t < 0) | (t >= n_classes)
        raise IndexError(f"Target {int(t[bad].reshape(-1)[0])} is out of bounds.")
    if weight is None and keep is None:
        return t, None, dtype.type(t.size)
    w = weight[t] if weight is not None else np.ones(t.shape, dtype)
    if keep is not None:
        w = np.where(keep, w, dtype.type(0))
    return t, w, w.sum(dtype=dtype)


def _class_index(t: np.ndarray):
    """Index of x[n, t[n, ...], ...] for targets t: plain fancy indexing in the (N, C) case."""
    if t.ndim == 1:
        return np.arange(t.shape[0]), t
    return None


def _nll_kernel(x, target, weight=None, *, reduction, ignore_index):
    t, w, total = _nll_terms(target, weight, x.shape[1], ignore_index, x.dtype)
    index = _class_index(t)
    picked = x[index] if index is not None else np.take_along_axis(x, t[:, None], 1)[:, 0]
    loss = -picked if w is None else -picked * w
    if reduction == "none":
        return loss
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(loss.sum(dtype=x.dtype) / (total if reduction == "mean" else 1), x.dtype)


def _nll_vjp(ctx, g):
    rest = list(ctx.inputs[1:])
    attrs = {**ctx.attrs, "n_classes": ctx.in_types[0].shape[1]}
    return (dispatch(NLL_GRAD, [g, *rest], attrs),) + (None,) * len(rest)


def _nll_name(attrs, types):
    return "NllLoss2DBackward0" if len(types[0].shape) > 2 else "NllLossBackward0"


NLL = register(Op(
    "NegativeLogLikelihoodLoss", _infer_nll, _nll_kernel, _nll_vjp,
    attrs={"reduction": "mean", "ignore_index": None}, saves=((1, 2), ()), grad_name=_nll_name,
    doc="ONNX NegativeLogLikelihoodLoss (input, target[, weight]); 'mean' divides by the total "
        "weight of the non-ignored targets."))


def _infer_nll_grad(types, reduction, ignore_index, n_classes):
    g, t = types[0], types[1]
    shape = t.shape[:1] + (n_classes,) + t.shape[1:]
    _infer_nll([TensorType(shape, g.dtype), *types[1:]], reduction, ignore_index)
    if tuple(g.shape) != (tuple(t.shape) if reduction == "none" else ()):
        raise ValueError(f"gradient {list(g.shape)} does not match the loss of target {list(t.shape)}")
    return [TensorType(shape, g.dtype)]


def _nll_grad_kernel(g, target, weight=None, *, reduction, ignore_index, n_classes):
    t, w, total = _nll_terms(target, weight, n_classes, ignore_index, g.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        # no counted target at all: PyTorch's loss is NaN but its gradient is zero
        coef = -(g / total if total else np.zeros_like(g)) if reduction == "mean" else -g
        coef = np.broadcast_to(coef, t.shape) if w is None else coef * w + 0.0  # ignored: +0, not -0
    out = np.zeros(t.shape[:1] + (n_classes,) + t.shape[1:], g.dtype)
    index = _class_index(t)
    if index is not None:
        out[index] = coef
    else:
        np.put_along_axis(out, t[:, None], coef[:, None].astype(g.dtype, copy=False), 1)
    return out


def _nll_grad_vjp(ctx, u):
    rest = list(ctx.inputs[1:])
    attrs = {k: ctx.attrs[k] for k in ("reduction", "ignore_index")}
    return (dispatch(NLL, [u, *rest], attrs),) + (None,) * len(rest)


NLL_GRAD = register(Op(
    "graphc.NllLossGrad", _infer_nll_grad, _nll_grad_kernel, _nll_grad_vjp,
    attrs={"reduction": "mean", "ignore_index": None, "n_classes": REQUIRED}, saves=((1, 2), ()),
    grad_name="NllLossBackwardBackward0",
    doc="Gradient of NegativeLogLikelihoodLoss: dLoss -> dInput (one entry per target)."))


METHODS = {}
