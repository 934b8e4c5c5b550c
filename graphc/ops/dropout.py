"""Dropout: ONNX Dropout returning (output, mask), the mask being what its VJP reads.

Its own module because it is the one random op of the layer ops: it draws from graphc.random's
default generator unless seeded.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..ir.types import TensorType
from ..random import rng
from .base import float_input
from .registry import Op, register

__all__ = []


def _infer_dropout(types, ratio, training_mode, seed):
    (x,) = types
    float_input(x)
    if not 0 <= ratio <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {ratio}")
    return [x, TensorType(x.shape, dtypes.bool_)]


def _dropout_scale(ratio: float) -> float:
    return 1.0 / (1.0 - ratio) if ratio < 1 else 0.0


def _dropout_kernel(x, ratio, training_mode, seed):
    if not training_mode or ratio == 0:
        return x.copy(), np.ones(x.shape, bool)
    gen = np.random.default_rng(seed) if seed is not None else rng()
    mask = gen.random(x.shape, dtype=np.float32 if x.dtype == np.float32 else np.float64) >= ratio
    y = np.multiply(x, mask)
    y *= x.dtype.type(_dropout_scale(ratio))
    return y, mask


def _dropout_vjp(ctx, g, _):
    from .elementwise import cast, mul

    scale = _dropout_scale(ctx.attrs["ratio"]) if ctx.attrs["training_mode"] else 1.0
    return (mul(mul(g, cast(ctx.outputs[1], g.dtype)), scale),)


DROPOUT = register(Op(
    "Dropout", _infer_dropout, _dropout_kernel, _dropout_vjp, n_outputs=2, random=True,
    attrs={"ratio": 0.5, "training_mode": 0, "seed": None}, saves=((), (1,)), grad_name="MulBackward0",
    doc="ONNX Dropout (ratio and training_mode as attributes): (output, mask). Draws from "
        "graphc.random's default generator unless seeded; scales kept values by 1/(1-ratio)."))


METHODS = {}
