"""grad_fn nodes: what eager autograd records about each differentiable op call."""
from __future__ import annotations

import itertools
import weakref

_sequence = itertools.count()
_FREED = ("Trying to backward through the graph a second time (or directly access saved tensors "
          "after they have already been freed). Saved intermediate values of the graph are freed "
          "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
          "backward through the graph a second time or if you need to access saved tensors after "
          "calling backward.")


class Node:
    """Base of every grad_fn; subclasses are named like PyTorch's (``AddBackward0``)."""

    __slots__ = ("next_functions", "_seq", "_retained", "_hooks", "__weakref__", "metadata")

    def __init__(self, next_functions):
        self.next_functions = next_functions
        self._seq = next(_sequence)
        self._retained = None
        self._hooks = None

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {id(self):#x}>"

    def apply(self, grads, create_graph: bool):
        raise NotImplementedError

    def release(self) -> None:
        """Free saved tensors after a backward pass that does not retain the graph."""

    def register_hook(self, fn):
        """fn(grad) for output 0 of this node; a non-None result replaces the gradient."""
        self._hooks = (self._hooks or []) + [(0, fn)]


class OpNode(Node):
    """grad_fn of a registry op: calls the op's VJP rule with the saved tensors as its ctx."""

    __slots__ = ("op", "attrs", "in_types", "n_inputs", "_saved_in", "_saved_out", "_versions",
                 "_released")
    # _versions: the version of every saved tensor (inputs, then outputs) when it was saved

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        """Per op input (in the op's order, whatever order next_functions shows)."""
        edges = self.next_functions
        order = self.op.grad_order
        if order is not None:
            edges = [edges[order.index(i)] for i in range(len(edges))]
        return tuple(fn is not None for fn, _ in edges)

    @property
    def inputs(self):
        self._check_saved()
        return self._saved_in

    @property
    def outputs(self):
        self._check_saved()
        return self._saved_out

    def _check_saved(self):
        if self._released:
            raise RuntimeError(_FREED)
        for t, version in zip((*self._saved_in, *self._saved_out), self._versions):
            if t is not None and t._version[0] != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: [{t._ir_type}] is at version {t._version[0]}; expected version "
                    f"{version} instead. (the op was {self.op.name}, grad_fn {self.name()})")

    def apply(self, grads, create_graph):
        result = self.op.vjp(self, *grads)
        order = self.op.grad_order
        return result if order is None else tuple(result[i] for i in order)

    def release(self):
        self._released = True
        self._saved_in = ()
        self._saved_out = ()


class AccumulateGrad(Node):
    """The end of every path in the graph: adds the incoming gradient into a leaf's ``.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        super().__init__(())
        self.variable = variable

    def apply(self, grads, create_graph):
        (g,) = grads
        leaf = self.variable
        if g._device != leaf._device:
            g = g.to(leaf._device)
        if leaf.grad is None:
            leaf.grad = g if create_graph else g.detach()._owned()
        elif create_graph or leaf.grad.requires_grad:
            leaf.grad = leaf.grad + g
        else:
            leaf.grad._accumulate(g)
        for hook in tuple(leaf.__dict__.get("_post_accumulate_hooks", ())):
            hook(leaf)
        return ()


_node_classes: dict[str, type] = {}


def node_class(name: str, base=OpNode) -> type:
    """The grad_fn class of a given PyTorch name, made once."""
    cls = _node_classes.get(name)
    if cls is None:
        cls = _node_classes[name] = type(name, (base,), {"__slots__": ()})
    return cls


def gradient_edge(t):
    """(node, output_nr) through which a gradient reaches tensor t, or (None, 0)."""
    if t.grad_fn is not None:
        return (t.grad_fn, t._output_nr)
    if t.requires_grad:
        acc = t._accum() if t._accum is not None else None
        if acc is None:
            acc = AccumulateGrad(t)
            t._accum = weakref.ref(acc)
        return (acc, 0)
    return (None, 0)


def attach_grad_fn(op, attrs, inputs, outs) -> None:
    in_types = [t._ir_type for t in inputs]
    order = op.grad_order if op.grad_order is not None else range(len(inputs))
    node = node_class(op.grad_fn_name(attrs, in_types))(tuple(gradient_edge(inputs[i]) for i in order))
    node.op = op
    node.attrs = attrs
    node.in_types = in_types
    node.n_inputs = len(inputs)
    saves_in, saves_out = op.saves if op.saves is not None else (range(len(inputs)), ())
    node._saved_in = [t if i in saves_in else None for i, t in enumerate(inputs)]
    node._saved_out = [o if i in saves_out else None for i, o in enumerate(outs)]
    node._versions = [t._version[0] if t is not None else 0
                      for t in (*node._saved_in, *node._saved_out)]
    node._released = False
    for i, o in enumerate(outs):
        if o.dtype.is_floating_point:
            o.requires_grad = True
            o.grad_fn = node
            o._output_nr = i
