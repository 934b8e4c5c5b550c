"""What op definitions share: broadcasting rules, scalar promotion, gradient un-broadcasting.

The front-end helpers here turn Python scalars and mixed dtypes into same-typed tensors before
dispatch, so every registry op sees ONNX-style inputs (one dtype per op, scalars as constants).
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..dispatch import dispatch
from ..state import STATE
from ..ir.types import TensorType
from ..tensor import Tensor


def broadcast_shapes(*shapes) -> tuple[int, ...]:
    ndim = max(len(s) for s in shapes)
    out = [1] * ndim
    for s in shapes:
        for i, d in enumerate(s, ndim - len(s)):
            if d != 1:
                if out[i] != 1 and out[i] != d:
                    raise ValueError(f"shapes {' and '.join(str(list(x)) for x in shapes)} "
                                     "are not broadcastable")
                out[i] = d
    return tuple(out)


def same_dtype(types) -> dtypes.dtype:
    d = types[0].dtype
    for t in types[1:]:
        if t.dtype is not d:
            raise ValueError(f"inputs must share one dtype, got {', '.join(t.dtype.name for t in types)}")
    return d


def infer_broadcast(types, **_):
    """Elementwise n-ary op: broadcast shape, inputs of one dtype, output of that dtype."""
    return [TensorType(broadcast_shapes(*(t.shape for t in types)), same_dtype(types))]


def infer_compare(types, **_):
    return [TensorType(broadcast_shapes(*(t.shape for t in types)), same_dtype(types) and dtypes.bool_)]


def infer_same(types, **_):
    return [types[0]]


def float_input(t: TensorType, what: str = "input") -> None:
    """Raise the infer-time error for a non-floating-point input (the layer ops take floats only)."""
    if not t.dtype.is_floating_point:
        raise ValueError(f"expected a floating-point {what}, got {t.dtype.name}")


def infer_float_unary(types, **_):
    if not types[0].dtype.is_floating_point:
        raise ValueError(f"expected a floating-point input, got {types[0].dtype.name}")
    return [types[0]]


def scalar_tensor(value, dtype: dtypes.dtype) -> Tensor:
    """A Python scalar as a 0-d constant of the given dtype."""
    t = Tensor._make(np.asarray(value, dtype=dtype.np))
    if STATE.recorder is not None:
        STATE.recorder.note_fresh(t)
    return t


def result_dtype(*args) -> dtypes.dtype:
    """PyTorch's promotion: dimensioned tensors decide, unless a 0-d tensor or a Python scalar
    is of a higher category (bool < integer < floating point)."""
    out = None
    for group in ([a.dtype for a in args if isinstance(a, Tensor) and a.ndim > 0],
                  [a.dtype for a in args if isinstance(a, Tensor) and a.ndim == 0]):
        if group:
            d = group[0]
            for x in group[1:]:
                d = dtypes.promote_types(d, x)
            if out is None or d._category > out._category:
                out = d
    scalars = [a for a in args if not isinstance(a, Tensor)]
    if out is None:
        out, scalars = dtypes.scalar_dtype(scalars[0]), scalars[1:]
    return dtypes.result_type([out], scalars)


def as_tensors(*args, dtype: dtypes.dtype | None = None) -> list[Tensor]:
    """Inputs as tensors of one dtype: scalars become constants, tensors are cast if needed."""
    d = dtype or result_dtype(*args)
    out = []
    for a in args:
        if isinstance(a, Tensor):
            out.append(a if a.dtype is d else cast_to(a, d))
        else:
            out.append(scalar_tensor(a, d))
    return out


def cast_to(t: Tensor, d: dtypes.dtype) -> Tensor:
    from .elementwise import cast

    return cast(t, d)


def unbroadcast(g: Tensor, shape) -> Tensor:
    """Sum a gradient of a broadcast result back to an input's shape."""
    shape = tuple(shape)
    gshape = tuple(g.shape)
    if gshape == shape:
        return g
    from .reduce import REDUCE_SUM
    from .shape import reshape

    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, d in enumerate(shape) if d == 1 and gshape[i + lead] != 1)
    out = dispatch(REDUCE_SUM, [g], {"axes": axes, "keepdims": False}) if axes else g
    return out if tuple(out.shape) == shape else reshape(out, shape)


def norm_axis(axis: int, ndim: int, op: str = "") -> int:
    n = max(ndim, 1)
    if not -n <= axis < n:
        raise IndexError(f"{op + ': ' if op else ''}Dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {axis})")
    return axis % n


def norm_axes(axes, ndim: int, op: str = "") -> tuple[int, ...]:
    if axes is None:
        return tuple(range(ndim))
    if isinstance(axes, int):
        axes = (axes,)
    return tuple(sorted({norm_axis(a, ndim, op) for a in axes}))
