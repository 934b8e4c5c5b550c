"""BatchNormalization: training and eval mode, returning the batch statistics for running-stat updates.

Its VJP is closed-form (native_batch_norm's fused backward in training mode), written with graphc
ops so it can be differentiated again. Layer, group and instance norm are compositions in
graphc/nn/functional.py.
"""
from __future__ import annotations

import math

import numpy as np

from ..ir.types import TensorType
from ._window import _axes_but_channel
from .base import float_input
from .registry import Op, register

__all__ = []


def _bshape(ndim: int) -> tuple[int, ...]:
    """Shape that broadcasts a per-channel (C,) vector against (N, C, *spatial)."""
    return (1, -1) + (1,) * (ndim - 2)


def _infer_batch_norm(types, epsilon, training_mode):
    x = types[0]
    float_input(x)
    if len(x.shape) < 2:
        raise ValueError(f"expected (N, C, ...) input, got {list(x.shape)}")
    c = x.shape[1]
    for name, t in zip(("scale", "B", "input_mean", "input_var"), types[1:]):
        if tuple(t.shape) != (c,) or t.dtype is not x.dtype:
            raise ValueError(f"{name} must be {x.dtype.name}[{c}], got {t.dtype.name}{list(t.shape)}")
    stat = TensorType((c,), x.dtype)
    return [x, stat, stat]


def _batch_norm_kernel(x, scale, bias, mean, var, epsilon, training_mode):
    axes, shape = _axes_but_channel(x.ndim), _bshape(x.ndim)
    if training_mode:
        mean = x.mean(axis=axes, dtype=x.dtype)
        centered = x - mean.reshape(shape)
        var = np.square(centered).mean(axis=axes, dtype=x.dtype)
        count = x.size // max(x.shape[1], 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            stats = (mean, var * x.dtype.type(count / (count - 1) if count > 1 else np.nan))
    else:
        centered = x - mean.reshape(shape)
        stats = (mean.copy(), var.copy())
    k = scale / np.sqrt(var + x.dtype.type(epsilon))
    y = centered * k.reshape(shape)
    y += bias.reshape(shape)
    return y, stats[0], stats[1]


def _batch_norm_vjp(ctx, g, g_mean, g_var):
    """Closed forms: training mode is native_batch_norm's fused backward (plus the paths through
    the returned batch statistics); eval mode is an affine map of x and the running stats."""
    from .elementwise import add, div, mul, neg, rsqrt, sub
    from .reduce import sum as reduce_sum
    from .shape import expand, reshape

    x, w = ctx.inputs[0], ctx.inputs[1]
    mean, var = ctx.outputs[1], ctx.outputs[2]
    training = ctx.attrs["training_mode"]
    axes, shape = _axes_but_channel(x.ndim), _bshape(x.ndim)
    count = x.numel() // x.shape[1]
    need = ctx.needs_input_grad

    def per(t):
        return reshape(t, shape)

    centered = sub(x, per(mean))
    invstd = rsqrt(add(mul(var, (count - 1) / count) if training else var, ctx.attrs["epsilon"]))
    scale = mul(w, invstd)
    gx = gw = gb = gm = gv = None
    if g is not None:  # few full-size temporaries: centered, g * centered and the three terms of gx
        gb = reduce_sum(g, axes)
        g_centered = reduce_sum(mul(g, centered), axes)
        gw = mul(g_centered, invstd)
        if training:  # scale * (g - (gb + xhat * gw) / count), xhat = centered * invstd
            slope = div(mul(scale, mul(invstd, gw)), count)
            gx = sub(mul(g, per(scale)), add(mul(centered, per(slope)), per(div(mul(scale, gb), count))))
        else:
            gx = mul(g, per(scale))
            gm = mul(gb, neg(scale)) if need[3] else None
            gv = mul(g_centered, mul(scale, mul(mul(invstd, invstd), -0.5))) if need[4] else None
    if training:
        if g_mean is not None:
            gx = _acc(gx, expand(div(per(g_mean), count), tuple(x.shape)))
        if g_var is not None:
            gx = _acc(gx, mul(centered, per(mul(g_var, 2.0 / (count - 1) if count > 1 else math.nan))))
    else:
        gm, gv = _acc(gm, g_mean), _acc(gv, g_var)
    return tuple(grad if n else None for grad, n in zip((gx, gw, gb, gm, gv), need))


def _acc(total, g):
    if g is None:
        return total
    return g if total is None else total + g


BATCH_NORM = register(Op(
    "BatchNormalization", _infer_batch_norm, _batch_norm_kernel, _batch_norm_vjp, n_outputs=3,
    attrs={"epsilon": 1e-5, "training_mode": 0}, saves=((0, 1), (1, 2)),
    grad_name="NativeBatchNormBackward0",
    doc="BatchNormalization(X, scale, B, input_mean, input_var) -> (Y, mean, var). Training mode "
        "normalises with the batch statistics (biased variance) and returns the batch mean and the "
        "*unbiased* batch variance, so the caller updates running stats as PyTorch does, "
        "running = (1 - momentum) * running + momentum * stat (the op stays pure; ONNX instead "
        "returns the updated running stats). Eval mode uses input_mean/input_var and returns "
        "copies of them."))


METHODS = {}
