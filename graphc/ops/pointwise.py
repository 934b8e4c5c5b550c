"""Elementwise functions PyTorch names separately, written with the elementwise ops: clamp_min,
clamp_max, fmax, fmin, nan_to_num, masked_fill, float_power, hypot, logaddexp and friends."""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..tensor import Tensor, inplace_method
from .base import as_tensors
from .elementwise import (_masked_fill, add, clamp, eq, exp, ge, isinf, isnan, le, log,
                          logical_or, logical_xor, maximum, mul, sqrt, sub, where)

__all__ = ["clamp_min", "clamp_max", "fmax", "fmin", "nan_to_num", "masked_fill", "is_floating_point",
           "hypot", "logaddexp", "deg2rad", "rad2deg", "frac", "xlogy", "heaviside", "diff"]


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


def fmax(input, other):
    """The larger value, ignoring NaN; the gradient goes to input on ties (as PyTorch)."""
    a, b = as_tensors(input, other)
    return where(logical_or(ge(a, b), isnan(b)), a, b)


def fmin(input, other):
    a, b = as_tensors(input, other)
    return where(logical_or(le(a, b), isnan(b)), a, b)


def nan_to_num(input: Tensor, nan: float = 0.0, posinf=None, neginf=None) -> Tensor:
    if not input.dtype.is_floating_point:
        return input.clone()
    info = np.finfo(input.dtype.np)
    posinf = float(info.max) if posinf is None else posinf
    neginf = float(info.min) if neginf is None else neginf
    inf = isinf(input)
    out = where(isnan(input), nan, input)
    return where(inf, where(eq(input, float("inf")), posinf, neginf), out)


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    return _masked_fill(input, mask, value)


def is_floating_point(input: Tensor) -> bool:
    return input.dtype.is_floating_point


def hypot(input, other):
    return sqrt(add(mul(input, input), mul(other, other)))


def logaddexp(input, other):
    m = maximum(input, other).detach()
    return add(m, log(add(exp(sub(input, m)), exp(sub(other, m)))))


def deg2rad(input):
    return mul(input, float(np.pi / 180))


def rad2deg(input):
    return mul(input, float(180 / np.pi))


def frac(input):
    from .elementwise import trunc

    return sub(input, trunc(input))


def xlogy(input, other):
    a, b = as_tensors(input, other)
    return where(eq(a, 0), 0.0, mul(a, log(b)))


def heaviside(input, values):
    a, v = as_tensors(input, values)
    from .elementwise import gt

    return where(eq(a, 0), v, gt(a, 0).to(a.dtype))


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    from .shape import cat, narrow

    x = input
    if prepend is not None or append is not None:
        x = cat([t for t in (prepend, x, append) if t is not None], dim)
    for _ in range(n):
        length = x.shape[dim]
        step = logical_xor if x.dtype is dtypes.bool_ else sub
        x = step(narrow(x, dim, 1, length - 1), narrow(x, dim, 0, length - 1))
    return x


METHODS = {
    "clamp_min": clamp_min, "clamp_max": clamp_max, "clamp_min_": inplace_method(clamp_min),
    "clamp_max_": inplace_method(clamp_max), "fmax": fmax, "fmin": fmin, "nan_to_num": nan_to_num,
    "nan_to_num_": inplace_method(nan_to_num), "hypot": hypot, "logaddexp": logaddexp, "deg2rad": deg2rad,
    "rad2deg": rad2deg, "frac": frac, "xlogy": xlogy, "heaviside": heaviside, "diff": diff,
}
