"""Pad: ONNX Pad in constant, edge, reflect and wrap modes; negative pads crop, as in PyTorch.

The constant-mode VJP is Pad with the pads negated; the other modes scatter-add the gradient to
the input positions each output read.
"""
from __future__ import annotations

import numpy as np

from ..dispatch import dispatch
from ..ir.types import TensorType
from ..tensor import Tensor
from .base import scalar_tensor
from .registry import REQUIRED, Op, register

__all__ = []


def _const(array: np.ndarray) -> Tensor:
    return Tensor._make(array)


# ONNX's modes, as np.pad names them; "constant" fills with the value
_PAD_MODES = {"constant": "constant", "edge": "edge", "reflect": "reflect", "wrap": "wrap"}


def _infer_pad(types, pads, mode, value):
    (x,) = types
    nd = len(x.shape)
    if mode not in _PAD_MODES:
        raise ValueError(f"mode must be one of {', '.join(_PAD_MODES)}, got {mode!r}")
    if len(pads) != 2 * nd:
        raise ValueError(f"pads {list(pads)} must hold a begin and an end for each of {nd} dims")
    shape = tuple(n + b + e for n, b, e in zip(x.shape, pads[:nd], pads[nd:]))
    if min(shape, default=0) < 0:
        raise ValueError(f"padding {list(pads)} makes input {list(x.shape)} negative in size")
    if mode != "constant":
        for d, (n, b, e) in enumerate(zip(x.shape, pads[:nd], pads[nd:])):
            kept = n - max(-b, 0) - max(-e, 0)
            if (b > 0 or e > 0) and (kept < 1 or (mode == "reflect" and max(b, e) >= kept)):
                raise ValueError(f"{mode} padding of {max(b, e)} does not fit dimension {d} of size {kept}")
    return [TensorType(shape, x.dtype)]


def _pad_kernel(x, pads, mode, value):
    """Negative pads crop (as in PyTorch), so the constant VJP is the same op with pads negated."""
    nd = x.ndim
    begin, end = pads[:nd], pads[nd:]
    x = x[tuple(slice(max(-b, 0), n - max(-e, 0)) for n, b, e in zip(x.shape, begin, end))]
    if mode != "constant":
        return np.pad(x, [(max(b, 0), max(e, 0)) for b, e in zip(begin, end)], _PAD_MODES[mode])
    out = np.full(tuple(n + max(b, 0) + max(e, 0) for n, b, e in zip(x.shape, begin, end)), value, x.dtype)
    out[tuple(slice(max(b, 0), max(b, 0) + n) for n, b in zip(x.shape, begin))] = x
    return out


def _pad_vjp(ctx, g):
    """Constant: crop g back (Pad with pads negated). Edge/reflect/wrap: every output reads one
    input element, so dX is g scatter-added to the input positions the outputs read (their map
    is the op applied to arange(numel))."""
    pads, mode = ctx.attrs["pads"], ctx.attrs["mode"]
    if mode == "constant":
        return (dispatch(PAD, [g], {"pads": tuple(-p for p in pads), "mode": "constant", "value": 0.0}),)
    from .gather import SCATTER_ELEMENTS
    from .shape import expand, reshape

    shape = tuple(ctx.in_types[0].shape)
    numel = int(np.prod(shape, dtype=np.int64))
    source = _pad_kernel(np.arange(numel, dtype=np.int64).reshape(shape), pads, mode, 0)
    zeros = expand(scalar_tensor(0, g.dtype), (numel,))
    flat = dispatch(SCATTER_ELEMENTS, [zeros, _const(source.reshape(-1)), reshape(g, (-1,))],
                    {"axis": 0, "reduction": "add"})
    return (reshape(flat, shape),)


def _pad_name(attrs, types):
    k = max(1, len(types[0].shape) - 2)
    return {"constant": "ConstantPadNdBackward0", "edge": f"ReplicationPad{k}DBackward0",
            "reflect": f"ReflectionPad{k}DBackward0", "wrap": "CopySlices"}[attrs["mode"]]


PAD = register(Op(
    "Pad", _infer_pad, _pad_kernel, _pad_vjp,
    attrs={"pads": REQUIRED, "mode": "constant", "value": 0.0}, saves=((), ()), grad_name=_pad_name,
    doc="ONNX Pad (opset-2 attribute form): modes constant, edge, reflect, wrap; pads are "
        "[begins..., ends...]."))


METHODS = {}
