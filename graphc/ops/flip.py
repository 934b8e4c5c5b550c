"""Flip and Trilu: flip, fliplr, flipud, tril and triu, which keep or move elements by position
alone. ONNX passes Trilu's k as an input tensor; here it is an attribute (the shape rule needs it).
"""
from __future__ import annotations

import numpy as np

from ..dispatch import dispatch
from ..tensor import Tensor, inplace_method
from .base import norm_axes
from .registry import REQUIRED, Op, register

__all__ = ["flip", "fliplr", "flipud", "tril", "triu"]


FLIP = register(Op(
    "graphc.Flip", lambda types, axes: [types[0]],
    lambda x, axes: np.ascontiguousarray(np.flip(x, axes)),
    lambda ctx, g: (dispatch(FLIP, [g], ctx.attrs),),
    attrs={"axes": REQUIRED}, saves=((), ()), grad_name="FlipBackward0"))


def flip(input: Tensor, *dims) -> Tensor:
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = dims[0]
    return dispatch(FLIP, [input], {"axes": norm_axes(tuple(dims), input.ndim, "flip")})


def fliplr(input: Tensor) -> Tensor:
    return flip(input, 1)


def flipud(input: Tensor) -> Tensor:
    return flip(input, 0)


def _infer_trilu(types, upper, k):
    (x,) = types
    if len(x.shape) < 2:
        raise ValueError(f"{'triu' if upper else 'tril'}: input tensor must have at least 2 dimensions")
    return [x]


def _trilu_kernel(x, upper, k):
    if x.ndim < 2:
        raise ValueError("expected at least 2 dimensions")  # NumPy would make a matrix of a vector
    return np.triu(x, k) if upper else np.tril(x, k)


TRILU = register(Op(
    "Trilu", _infer_trilu, _trilu_kernel,
    lambda ctx, g: (dispatch(TRILU, [g], ctx.attrs),), attrs={"upper": 1, "k": 0}, saves=((), ()),
    grad_name=lambda attrs, types: "TriuBackward0" if attrs["upper"] else "TrilBackward0"))


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    return dispatch(TRILU, [input], {"upper": 0, "k": int(diagonal)})


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    return dispatch(TRILU, [input], {"upper": 1, "k": int(diagonal)})


METHODS = {
    "flip": flip, "fliplr": fliplr, "flipud": flipud, "tril": tril, "triu": triu,
    "tril_": inplace_method(tril), "triu_": inplace_method(triu),
}
