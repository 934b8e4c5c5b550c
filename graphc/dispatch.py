"""The one dispatcher every tensor operation goes through (DESIGN §2).

Eager: kernel -> grad_fn. Tracing: shape rule (or kernel, when values are concrete) -> recording
hook -> grad_fn. The shape rule also runs whenever a kernel fails, so that the error names the op,
the input shapes and the user's source line rather than a NumPy internal.
"""
from __future__ import annotations

import numpy as np

from .errors import GraphcError, ShapeError, op_error, user_location
from .ir.types import TensorType
from .ops.registry import NOT_DIFFERENTIABLE, Op
from .device import CPU, common_device
from .state import STATE


_ndarray = np.ndarray


def dispatch(op: Op, inputs, attrs: dict):
    """Run `op` on graphc Tensors; returns a Tensor, or a tuple for multi-output ops."""
    state = STATE
    if state.recorder is None and not state.devices_in_use and op.n_outputs == 1:
        # the eager hot path: kernel, then grad_fn
        try:
            result = op.kernel(*[t._value for t in inputs], **attrs)
        except Exception as exc:  # a kernel failure is reported through the shape rule
            raise _kernel_error(op, inputs, attrs, exc) from exc
        out = _new(_Tensor)
        out._value = result if type(result) is _ndarray else np.asarray(result)
        out._version = inputs[0]._version if op.view else [0]
        if state.grad_enabled and op.vjp is not NOT_DIFFERENTIABLE:
            for t in inputs:
                if t.requires_grad:
                    attach_grad_fn(op, attrs, inputs, (out,))
                    break
        return out
    return _dispatch(op, inputs, attrs)


def _dispatch(op: Op, inputs, attrs: dict):
    """Every other case: tracing (with or without values), devices, several outputs."""
    rec = STATE.recorder
    if rec is not None and any(t._value is None for t in inputs):
        outs = [_abstract(ty) for ty in infer_types(op, inputs, attrs)]
    else:
        device = common_device(op.name, inputs) if STATE.devices_in_use else CPU
        try:
            if device is CPU:
                result = op.kernel(*[t._value for t in inputs], **attrs)
            else:
                outs = run_on_device(device, op, attrs, inputs)
        except Exception as exc:
            raise _kernel_error(op, inputs, attrs, exc) from exc
        if device is CPU:
            results = (result,) if op.n_outputs == 1 else result
            outs = [_make(r if type(r) is _ndarray else np.asarray(r)) for r in results]
    if op.view:
        outs[0]._version = inputs[0]._version
    if rec is not None:
        rec.record(op, attrs, inputs, outs)
    if STATE.grad_enabled and op.vjp is not NOT_DIFFERENTIABLE:
        for t in inputs:
            if t.requires_grad:
                attach_grad_fn(op, attrs, inputs, outs)
                break
    return outs[0] if op.n_outputs == 1 else tuple(outs)


def _kernel_error(op, inputs, attrs, exc) -> ShapeError:
    infer_types(op, inputs, attrs)
    return op_error(op.name, [t._ir_type for t in inputs], f"{type(exc).__name__}: {exc}")


def infer_types(op: Op, inputs, attrs: dict) -> list[TensorType]:
    """The op's shape rule; a rejection becomes a ShapeError that points at the user's line."""
    types = [t._ir_type for t in inputs]
    try:
        return op.infer(types, **attrs)
    except ShapeError:
        raise
    except (ValueError, TypeError, IndexError, GraphcError) as exc:
        raise op_error(op.name, types, str(exc)) from None


def source_line() -> str:
    return user_location()


from .autograd.graph import attach_grad_fn  # noqa: E402  (cycle: autograd nodes call dispatch)
from .tensor import Tensor as _Tensor  # noqa: E402

from .runtimes.eager import run_on_device  # noqa: E402

_new = object.__new__
_make = _Tensor._make
_abstract = _Tensor._abstract
