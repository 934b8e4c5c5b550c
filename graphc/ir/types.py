"""The type of a value in the IR: a static shape and a dtype."""
from __future__ import annotations

from typing import NamedTuple

from .. import dtypes


class TensorType(NamedTuple):
    shape: tuple[int, ...]
    dtype: dtypes.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def numel(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n

    @property
    def nbytes(self) -> int:
        return self.numel * self.dtype.itemsize

    def __str__(self) -> str:
        return f"{self.dtype.short}[{','.join(map(str, self.shape))}]"
