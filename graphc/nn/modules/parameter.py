"""Parameter: a Tensor that a Module registers as a learnable weight when assigned as an attribute."""
from __future__ import annotations

import numpy as np

from ...tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor sharing memory (and version counter) with `data`; requires grad by default."""

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            data = Tensor._make(np.empty((0,), np.float32))
        p = cls._make(data._concrete("Parameter"))
        p._version = data._version
        p._device = data._device
        p.requires_grad = bool(requires_grad)
        if requires_grad and not p.dtype.is_floating_point:
            raise RuntimeError("Only Tensors of floating point dtype can require gradients")
        return p

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True):
        """State is set by __new__; Tensor.__init__ (which copies) must not run."""

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self._concrete("pickle"), self.requires_grad))


def _rebuild_parameter(value: np.ndarray, requires_grad: bool) -> Parameter:
    return Parameter(Tensor._make(value), requires_grad)
