"""The C-style renderer base: the registry's scalar expressions and graphc dtypes as C source.

One base class holds everything C-like languages share (types, literals, the op table built
from each elementwise op's ``expr``); a subclass per language says how a kernel is declared,
how threads are numbered and how they talk (tinygrad's renderer/cstyle.py shape):
runtimes/cuda/renderer.py for CUDA C, runtimes/c/renderer.py for the native CPU runtime.
Values are computed in a *compute type* (float16 in float) and converted on load and store.
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes
from ..ops.registry import REGISTRY


def _clip(r, args, attrs, dtype):
    x, t = args[0], r.compute_type(dtype)
    if attrs.get("min") is not None:
        x = f"max({x}, static_cast<{t}>({r.literal(attrs['min'], dtype)}))"
    if attrs.get("max") is not None:
        x = f"min({x}, static_cast<{t}>({r.literal(attrs['max'], dtype)}))"
    return x


def _cast(r, args, attrs, dtype):
    to = dtypes.as_dtype(attrs["to"])
    if to is dtypes.bool_:
        return f"({args[0]} != 0)"
    if to is dtypes.float16:
        return f"__half2float(__float2half_rn(static_cast<float>({args[0]})))"
    return f"static_cast<{r.compute_type(to)}>({args[0]})"


def _pow(r, args, attrs, dtype):
    if dtype.is_floating_point:
        return f"pow({args[0]}, {args[1]})"
    return f"static_cast<{r.compute_type(dtype)}>(pow((double){args[0]}, (double){args[1]}))"


def _abs(r, args, attrs, dtype):
    return f"abs({args[0]})" if dtype.is_floating_point or dtype.itemsize < 8 else f"llabs({args[0]})"


def _on_float(fn):
    """Integer arguments of a C math function that only takes floating point go through double."""
    def render(r, args, attrs, dtype):
        if dtype.is_floating_point:
            return fn.format(*args)
        return fn.format(*[f"(double){a}" for a in args])
    return render


# Where C needs something other than the registry's template (None attributes, dtype-dependent
# spellings); every other elementwise op renders from its `expr`.
OVERRIDES = {"Clip": _clip, "Cast": _cast, "Pow": _pow, "Abs": _abs,
             "Floor": _on_float("floor({0})"), "Ceil": _on_float("ceil({0})"),
             "Round": _on_float("rint({0})"), "graphc.Trunc": _on_float("trunc({0})")}


class CStyleRenderer:
    """Everything C-like languages share; subclasses fill in the language's spellings."""

    kernel_prefix = "void"
    prelude = ""
    types = {dtypes.bool_: "bool", dtypes.uint8: "unsigned char", dtypes.int8: "signed char",
             dtypes.int16: "short", dtypes.int32: "int", dtypes.int64: "long long",
             dtypes.uint16: "unsigned short", dtypes.uint32: "unsigned int",
             dtypes.uint64: "unsigned long long",
             dtypes.float16: "half", dtypes.float32: "float", dtypes.float64: "double"}

    def __init__(self):
        self.code_for_op = {name: op.expr for name, op in REGISTRY.items() if op.elementwise and op.expr}
        self.code_for_op.update({k: v for k, v in OVERRIDES.items() if k in self.code_for_op})

    # ---- types and literals ------------------------------------------------------------------

    def ctype(self, dtype) -> str:
        return self.types[dtypes.as_dtype(dtype)]

    def compute_type(self, dtype) -> str:
        """The type values of `dtype` are computed in (storage types without arithmetic widen)."""
        dtype = dtypes.as_dtype(dtype)
        return "float" if dtype is dtypes.float16 else self.types[dtype]

    def acc_type(self, dtype) -> str:
        """The accumulator type of a reduction producing `dtype`."""
        dtype = dtypes.as_dtype(dtype)
        if dtype is dtypes.float16:
            return "float"
        return "int" if dtype.itemsize < 4 and not dtype.is_floating_point else self.types[dtype]

    def literal(self, value, dtype) -> str:
        """`value` as a C constant of `dtype`'s compute type."""
        dtype = dtypes.as_dtype(dtype)
        if isinstance(value, (list, tuple)):
            raise TypeError(f"cannot render {value!r} as a scalar")
        if dtype is dtypes.bool_:
            return "true" if value else "false"
        if not dtype.is_floating_point:
            v = int(value)  # truncated, as NumPy converts a float attribute to the input's dtype
            return f"{v}LL" if dtype.itemsize == 8 or abs(v) >= 2 ** 31 else str(v)
        value = float(value)
        if math.isnan(value):
            return "NAN"
        if math.isinf(value):
            return "INFINITY" if value > 0 else "-INFINITY"
        text = repr(value)
        if "e" not in text and "." not in text:
            text += ".0"
        return text if dtype is dtypes.float64 else text + "f"

    def lowest(self, dtype) -> str:
        dtype = dtypes.as_dtype(dtype)
        if dtype.is_floating_point:
            return "-INFINITY"
        if dtype is dtypes.bool_:
            return "false"
        return self.literal(int(np.iinfo(dtype.np).min), dtype)

    def highest(self, dtype) -> str:
        dtype = dtypes.as_dtype(dtype)
        if dtype.is_floating_point:
            return "INFINITY"
        if dtype is dtypes.bool_:
            return "true"
        return self.literal(int(np.iinfo(dtype.np).max), dtype)

    # ---- expressions -------------------------------------------------------------------------

    def render_op(self, op: str, args: list[str], attrs: dict, dtype) -> str:
        """The C expression computing elementwise `op` on argument expressions `args`; `dtype` is
        the dtype of the op's first input (literals and spellings follow it)."""
        code = self.code_for_op.get(op)
        if code is None:
            raise KeyError(f"the {type(self).__name__} has no expression for op {op}")
        dtype = dtypes.as_dtype(dtype)
        full = REGISTRY[op].complete_attrs(dict(attrs))
        if callable(code):
            return code(self, args, full, dtype)
        named = {k: self.literal(v, dtype) for k, v in full.items()
                 if v is not None and not isinstance(v, (list, tuple, dtypes.dtype))}
        return code.format(*args, **named)

    def load(self, ptr: str, index: str, dtype) -> str:
        return f"{ptr}[{index}]"

    def store(self, ptr: str, index: str, value: str, dtype) -> str:
        return f"{ptr}[{index}] = {value};"
