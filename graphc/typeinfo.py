"""torch.finfo / torch.iinfo, and the legacy typed constructors (torch.FloatTensor(...) and friends)."""
from __future__ import annotations

import numpy as np

from . import dtypes


def _short(x: float) -> str:
    return f"{x:.6g}"


class finfo:
    """Machine limits of a floating-point dtype, as Python floats (so they print as PyTorch's)."""

    def __init__(self, type=None):
        d = dtypes.get_default_dtype() if type is None else dtypes.as_dtype(type)
        if not d.is_floating_point:
            raise TypeError(f"torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            f"'{d.name}'")
        info = np.finfo(d.np)
        self.dtype = d.name
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.tiny)
        self.resolution = float(info.resolution)

    def __eq__(self, other) -> bool:
        return isinstance(other, finfo) and self.dtype == other.dtype

    def __hash__(self) -> int:
        return hash(("finfo", self.dtype))

    def __repr__(self) -> str:
        return (f"finfo(resolution={_short(self.resolution)}, min={_short(self.min)}, max={_short(self.max)}, "
                f"eps={_short(self.eps)}, smallest_normal={_short(self.tiny)}, tiny={_short(self.tiny)}, "
                f"dtype={self.dtype})")


class iinfo:
    def __init__(self, type):
        d = dtypes.as_dtype(type)
        if d.is_floating_point or d is dtypes.bool_:
            raise TypeError(f"torch.iinfo() requires an integer input type. Use torch.finfo to handle "
                            f"'{d.name}'")
        info = np.iinfo(d.np)
        self.dtype = d.name
        self.bits = int(info.bits)
        self.max = int(info.max)
        self.min = int(info.min)

    def __eq__(self, other) -> bool:
        return isinstance(other, iinfo) and self.dtype == other.dtype

    def __hash__(self) -> int:
        return hash(("iinfo", self.dtype))

    def __repr__(self) -> str:
        return f"iinfo(min={_short(float(self.min))}, max={_short(float(self.max))}, dtype={self.dtype})"


class _TensorType(type):
    """The metaclass of torch.FloatTensor & co: isinstance checks the dtype, calling constructs."""

    def __instancecheck__(cls, obj) -> bool:
        from .tensor import Tensor

        return isinstance(obj, Tensor) and obj.dtype is cls.dtype

    def __call__(cls, *args, device=None):
        from .factories import empty, tensor
        from .size import Size
        from .tensor import Tensor

        if not args:
            return empty(0, dtype=cls.dtype, device=device)
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            data = args[0]
            if isinstance(data, Tensor):
                return data.to(cls.dtype)
            if isinstance(data, Size):
                return empty(tuple(data), dtype=cls.dtype, device=device)
            return tensor(data, dtype=cls.dtype, device=device)
        return empty(tuple(int(a) for a in args), dtype=cls.dtype, device=device)

    def __repr__(cls) -> str:
        return f"<class 'torch.{cls.__name__}'>"


def _legacy(name: str, d) -> type:
    return _TensorType(name, (), {"dtype": d, "__module__": "graphc"})


FloatTensor = _legacy("FloatTensor", dtypes.float32)
DoubleTensor = _legacy("DoubleTensor", dtypes.float64)
HalfTensor = _legacy("HalfTensor", dtypes.float16)
LongTensor = _legacy("LongTensor", dtypes.int64)
IntTensor = _legacy("IntTensor", dtypes.int32)
ShortTensor = _legacy("ShortTensor", dtypes.int16)
CharTensor = _legacy("CharTensor", dtypes.int8)
ByteTensor = _legacy("ByteTensor", dtypes.uint8)
BoolTensor = _legacy("BoolTensor", dtypes.bool_)

__all__ = ["finfo", "iinfo", "FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor",
           "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"]
