"""The op registry: every op is one `Op` entry holding everything any part of graphc needs.

Fields (DESIGN §1): the name (ONNX ``op_type`` where ONNX has the op, else ``graphc.X``), the
attribute schema with defaults, the shape/dtype rule, the NumPy kernel, the VJP rule written with
graphc ops, and for elementwise ops a scalar expression template for code generation.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

REQUIRED = object()  # attribute schema marker: no default
NOT_DIFFERENTIABLE = "not differentiable"  # vjp marker for ops whose outputs carry no gradient


@dataclass(eq=False)
class Op:
    """One primitive operation.

    infer(in_types, **attrs) -> list[TensorType]   shape/dtype rule; raises ShapeError-worthy
                                                    ValueError with a short reason on bad input
    kernel(*arrays, **attrs) -> array | tuple       NumPy implementation; never writes its inputs
    vjp(ctx, *grads) -> tuple[Tensor | None, ...]   one gradient (or None: symbolic zero) per input;
                                                    ctx.inputs / ctx.outputs / ctx.attrs / ctx.in_types
    expr: C expression over {0}, {1}, ... and {attr} names, for elementwise ops only
    saves: which inputs and outputs the VJP reads, as (input indices, output indices)
    view: the output may alias input 0's memory (reshape, transpose, slicing)
    random: the kernel draws random numbers, so two calls differ (never CSE'd or folded)
    grad_order: the order of the inputs in grad_fn.next_functions where PyTorch's differs
    grad_name: the PyTorch grad_fn class name, or a function (attrs, in_types) -> name
    """

    name: str
    infer: Callable[..., list]
    kernel: Callable[..., Any]
    vjp: Callable[..., tuple] | str
    attrs: dict[str, Any] = field(default_factory=dict)
    grad_name: str | Callable[..., str] = ""
    expr: str | None = None
    elementwise: bool = False
    n_outputs: int = 1
    saves: tuple[tuple[int, ...], tuple[int, ...]] | None = None
    view: bool = False
    random: bool = False
    grad_order: tuple[int, ...] | None = None
    doc: str = ""

    def __post_init__(self):
        if not self.grad_name:
            self.grad_name = f"{self.name.rpartition('.')[2]}Backward0"

    def __repr__(self) -> str:
        return f"<Op {self.name}>"

    @property
    def differentiable(self) -> bool:
        return self.vjp is not NOT_DIFFERENTIABLE

    def complete_attrs(self, attrs: dict) -> dict:
        """Fill defaults and reject unknown or missing attributes (the schema check)."""
        out = {}
        for key, default in self.attrs.items():
            if key in attrs:
                out[key] = attrs[key]
            elif default is REQUIRED:
                raise TypeError(f"{self.name}: missing required attribute {key!r}")
            else:
                out[key] = default
        unknown = set(attrs) - set(self.attrs)
        if unknown:
            raise TypeError(f"{self.name}: unknown attributes {sorted(unknown)}")
        return out

    def grad_fn_name(self, attrs: dict, in_types) -> str:
        name = self.grad_name
        return name if isinstance(name, str) else name(attrs, in_types)


REGISTRY: dict[str, Op] = {}


def register(op: Op) -> Op:
    if op.name in REGISTRY:
        raise ValueError(f"op {op.name} registered twice")
    REGISTRY[op.name] = op
    return op


def get(name: str) -> Op:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown op {name!r}") from None
