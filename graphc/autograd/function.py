"""Custom differentiable functions: ``class MyReLU(autograd.Function)`` with static forward/backward."""
from __future__ import annotations

from ..state import STATE
from .graph import Node, gradient_edge, node_class


class FunctionCtx:
    """The ``ctx`` a custom Function's forward fills and its backward reads."""

    def __init__(self):
        self._saved = ()
        self._saved_versions = ()
        self._released = False
        self.needs_input_grad = ()
        self._non_differentiable = set()
        self.materialize_grads = True

    def save_for_backward(self, *tensors):
        self._saved = tensors
        self._saved_versions = tuple(t._version[0] if t is not None else 0 for t in tensors)

    @property
    def saved_tensors(self):
        if self._released:
            from .graph import _FREED

            raise RuntimeError(_FREED)
        for t, v in zip(self._saved, self._saved_versions):
            if t is not None and t._version[0] != v:
                raise RuntimeError("one of the variables needed for gradient computation has been "
                                   "modified by an inplace operation")
        return self._saved

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors):
        pass

    def set_materialize_grads(self, value: bool):
        self.materialize_grads = value


class FunctionNode(Node):
    """grad_fn of a custom Function: calls the user's backward(ctx, *grads)."""

    __slots__ = ("ctx", "fn", "n_outputs", "out_types")

    def apply(self, grads, create_graph):
        from ..factories import zeros

        if self.ctx.materialize_grads:
            grads = [g if g is not None else zeros(ty.shape, dtype=ty.dtype)
                     for g, ty in zip(grads, self.out_types)]
        result = self.fn.backward(self.ctx, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        n_in = len(self.next_functions)
        if len(result) < n_in:
            raise RuntimeError(f"function {type(self).__name__} returned an incorrect number of "
                               f"gradients (expected {n_in}, got {len(result)})")
        return result[:n_in]

    def release(self):
        self.ctx._released = True
        self.ctx._saved = ()


class Function:
    """Subclass with ``@staticmethod forward(ctx, *args)`` and ``backward(ctx, *grads)``."""

    @classmethod
    def apply(cls, *args, **kwargs):
        from ..tensor import Tensor

        ctx = FunctionCtx()
        tensor_args = [a for a in args if isinstance(a, Tensor)]
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        prev = STATE.grad_enabled
        STATE.grad_enabled = False
        try:
            out = cls.forward(ctx, *args, **kwargs)
        finally:
            STATE.grad_enabled = prev
        outs = out if isinstance(out, tuple) else (out,)
        if prev and any(t.requires_grad for t in tensor_args):
            node = node_class(f"{cls.__name__}Backward", FunctionNode)(
                tuple(gradient_edge(a) if isinstance(a, Tensor) else (None, 0) for a in args))
            node.ctx, node.fn, node.n_outputs = ctx, cls, len(outs)
            node.out_types = [o._ir_type for o in outs]
            new_outs = []
            for i, o in enumerate(outs):
                if isinstance(o, Tensor) and id(o) not in ctx._non_differentiable \
                        and o.dtype.is_floating_point:
                    if any(o is a for a in tensor_args):
                        o = o.detach()
                    o.requires_grad = True
                    o.grad_fn = node
                    o._output_nr = i
                new_outs.append(o)
            return tuple(new_outs) if isinstance(out, tuple) else new_outs[0]
        return out

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("custom Functions must define forward")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("custom Functions must define backward")
