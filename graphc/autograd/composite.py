"""Composites that show as one grad_fn: a loss built from several ops gets PyTorch's single node
(``MseLossBackward0`` whose next_functions lead straight to the loss's inputs), as tutorials print
``loss.grad_fn.next_functions``. The ops still run and differentiate as usual, inside."""
from __future__ import annotations

from ..state import STATE
from .graph import _FREED, Node, gradient_edge, node_class


class CompositeNode(Node):
    """Backward of a composite: runs the inner graph (recorded on detached inputs) from its output
    back to those inputs; with create_graph, recomputes on the real inputs so that the result is
    differentiable again."""

    __slots__ = ("fn", "inputs", "inner_in", "inner_out")

    def apply(self, grads, create_graph):
        from .engine import run_backward
        from .grad_mode import enable_grad

        if self.inner_out is None:
            raise RuntimeError(_FREED)
        (g,) = grads
        if create_graph:
            with enable_grad():
                out = self.fn(*self.inputs)
            roots, sources = [out], self.inputs
        else:
            roots, sources = [self.inner_out], self.inner_in
        capture = [gradient_edge(t) if t.requires_grad else (None, 0) for t in sources]
        wanted = [e for e in capture if e[0] is not None]
        got = iter(run_backward(roots, [g], retain_graph=True, create_graph=create_graph,
                                capture=wanted, accumulate=False) if wanted else ())
        return tuple(next(got) if e[0] is not None else None for e in capture)

    def release(self):
        self.inner_out = self.inner_in = self.inputs = None


def fused(name: str, fn, *inputs):
    """fn(*inputs), with a single grad_fn named `name` whose inputs are `inputs`."""
    from .grad_mode import enable_grad

    if STATE.recorder is not None or not STATE.grad_enabled or not any(t.requires_grad for t in inputs):
        return fn(*inputs)
    inner_in = [t.detach().requires_grad_(True) if t.requires_grad else t.detach() for t in inputs]
    with enable_grad():
        inner_out = fn(*inner_in)
    if inner_out.grad_fn is None:
        return inner_out
    node = node_class(name, CompositeNode)(tuple(gradient_edge(t) for t in inputs))
    node.fn, node.inputs, node.inner_in, node.inner_out = fn, inputs, inner_in, inner_out
    out = inner_out.detach()
    out._base = None
    out.grad_fn, out.requires_grad = node, True
    return out
