"""Eager autograd: backward(), grad(), grad modes and custom Functions."""
from __future__ import annotations

from .engine import run_backward
from .function import Function, FunctionCtx
from .graph import AccumulateGrad, Node, gradient_edge
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled

__all__ = ["backward", "grad", "zero_grads", "Function", "FunctionCtx", "Node", "AccumulateGrad", "no_grad",
           "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled"]


def _as_list(x):
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _root_grads(roots, grads):
    from ..factories import ones_like

    grads = _as_list(grads) or [None] * len(roots)
    if len(grads) != len(roots):
        raise RuntimeError(f"got {len(grads)} gradients for {len(roots)} outputs")
    out = []
    for t, g in zip(roots, grads):
        if g is None:
            if t.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = ones_like(t)
        elif tuple(g.shape) != tuple(t.shape):
            raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of {g.shape} and "
                               f"output[0] has a shape of {t.shape}.")
        out.append(g)
    return out


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaf) into every leaf's ``.grad`` (or only into `inputs`)."""
    roots = _as_list(tensors)
    for t in roots:
        if not t.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    grads = _root_grads(roots, grad_tensors)
    retain = create_graph if retain_graph is None else retain_graph
    if inputs is None:
        run_backward(roots, grads, retain_graph=retain, create_graph=create_graph)
        return
    inputs = _as_list(inputs)
    edges = [gradient_edge(t) for t in inputs]
    captured = run_backward(roots, grads, retain_graph=retain, create_graph=create_graph,
                            capture=edges, accumulate=False)
    for t, g in zip(inputs, captured):
        if g is not None:
            acc = AccumulateGrad(t)
            acc.apply((g,), create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, materialize_grads=False):
    """d(outputs)/d(inputs) returned as a tuple, without touching any ``.grad``."""
    roots = _as_list(outputs)
    inputs_list = _as_list(inputs)
    for t in roots:
        if not t.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    for t in inputs_list:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = _root_grads(roots, grad_outputs)
    retain = create_graph if retain_graph is None else retain_graph
    edges = [gradient_edge(t) for t in inputs_list]
    result = run_backward(roots, grads, retain_graph=retain, create_graph=create_graph,
                          capture=edges, accumulate=False)
    out = []
    for t, g in zip(inputs_list, result):
        if g is None:
            if materialize_grads:
                from ..factories import zeros_like

                g = zeros_like(t)
            elif not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been used "
                                   "in the graph. Set allow_unused=True if this is the desired behavior.")
        out.append(g)
    return tuple(out)


def zero_grads(params, set_to_none: bool = True) -> None:
    """Clear the `.grad` of every tensor in params: drop it, or zero it in place (detached),
    as Module.zero_grad and Optimizer.zero_grad both do."""
    for p in params:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None
        else:
            p.grad.detach_()
            p.grad.zero_()
