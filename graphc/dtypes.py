"""graphc's dtypes: thin named wrappers over NumPy dtypes, plus PyTorch's promotion rules."""
from __future__ import annotations

import numpy as np


class dtype:
    """A tensor element type; prints as ``graphc.float32`` the way PyTorch prints ``torch.float32``."""

    __slots__ = ("name", "np", "short", "is_floating_point", "is_signed", "itemsize", "_category")

    def __init__(self, name: str, np_dtype, short: str, category: int):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.short = short
        self.is_floating_point = category == 2
        self.is_signed = category != 0 and not name.startswith("uint")
        self.itemsize = self.np.itemsize
        self._category = category

    def __repr__(self) -> str:
        return f"graphc.{self.name}"

    def __reduce__(self):
        return (from_name, (self.name,))


# category: 0 bool, 1 integer, 2 floating point (drives promotion with Python scalars)
bool_ = dtype("bool", np.bool_, "b8", 0)
uint8 = dtype("uint8", np.uint8, "u8", 1)
uint16 = dtype("uint16", np.uint16, "u16", 1)
uint32 = dtype("uint32", np.uint32, "u32", 1)
uint64 = dtype("uint64", np.uint64, "u64", 1)
int8 = dtype("int8", np.int8, "i8", 1)
int16 = dtype("int16", np.int16, "i16", 1)
int32 = dtype("int32", np.int32, "i32", 1)
int64 = dtype("int64", np.int64, "i64", 1)
float16 = dtype("float16", np.float16, "f16", 2)
float32 = dtype("float32", np.float32, "f32", 2)
float64 = dtype("float64", np.float64, "f64", 2)

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64, uint16, uint32, uint64)
# PyTorch's "limited support" unsigned types: no promotion with other integer or bool types
_LIMITED = (uint16, uint32, uint64)
_BY_NP = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}
_BY_SHORT = {d.short: d for d in ALL}

_default_float = float32


def from_numpy(np_dtype) -> dtype:
    try:
        return _BY_NP[np.dtype(np_dtype)]
    except KeyError:
        raise TypeError(f"graphc has no dtype for NumPy dtype {np.dtype(np_dtype)}") from None


def from_name(name: str) -> dtype:
    return _BY_NAME[name]


def from_short(short: str) -> dtype:
    try:
        return _BY_SHORT[short]
    except KeyError:
        raise ValueError(f"unknown dtype {short!r}; known: {', '.join(_BY_SHORT)}") from None


def as_dtype(d) -> dtype:
    """Accept a graphc dtype, a NumPy dtype, or a Python type (float, int, bool)."""
    if isinstance(d, dtype):
        return d
    if d is float:
        return _default_float
    if d is int:
        return int64
    if d is bool:
        return bool_
    legacy = getattr(d, "dtype", None)  # torch.FloatTensor and friends (graphc/typeinfo.py)
    if isinstance(legacy, dtype):
        return legacy
    return from_numpy(d)


def get_default_dtype() -> dtype:
    return _default_float


def set_default_dtype(d) -> None:
    global _default_float
    d = as_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_float = d


def promote_types(a: dtype, b: dtype) -> dtype:
    """PyTorch's table: within a category the wider type; across categories the higher
    category's type (int64 with float32 is float32, where NumPy would say float64)."""
    if a is not b and (a in _LIMITED or b in _LIMITED) and 2 not in (a._category, b._category):
        raise TypeError(f"Promotion for uint16, uint32, uint64 types is not supported, attempted to "
                        f"promote {a.name} and {b.name}")
    if a._category != b._category:
        return a if a._category > b._category else b
    return from_numpy(np.promote_types(a.np, b.np))


def scalar_dtype(value) -> dtype:
    """The dtype a Python scalar takes on its own (``graphc.tensor(2.5)``)."""
    if isinstance(value, (bool, np.bool_)):
        return bool_
    if isinstance(value, (int, np.integer)):
        return int64
    return _default_float


def result_type(tensor_dtypes, scalars) -> dtype:
    """PyTorch's rule: tensors decide the type unless a scalar is of a higher category."""
    out = tensor_dtypes[0]
    for d in tensor_dtypes[1:]:
        out = promote_types(out, d)
    for s in scalars:
        cat = scalar_dtype(s)._category
        if cat > out._category:
            out = _default_float if cat == 2 else int64
    return out
