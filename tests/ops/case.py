"""The shape of an op test case, shared by every family's case table.

A case's `fn(m, *xs)` is written once against the PyTorch API and runs on both graphc and
torch (m is the module), so forward values and gradients are compared without restating the op.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class Case:
    ops: tuple[str, ...]                    # registry names this case exercises
    fn: Callable                            # fn(m, *tensors) -> tensor (or tuple of tensors)
    args: Callable[[np.random.Generator], list[np.ndarray]]  # float64 inputs from an rng
    grad: tuple[int, ...] = (0,)            # indices of inputs to differentiate
    id: str = ""
    fd: bool = True                         # check against finite differences
    torch: bool = True                      # compare with PyTorch
    atol: float = 1e-5
    kinks: Callable | None = None           # rng args -> args moved away from non-smooth points
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if not self.id:
            self.id = "-".join(self.ops)


def randn(*shape, low=None, high=None, away=None):
    """Args builder: standard normal (or uniform in [low, high]), optionally kept |x - a| > 0.05."""
    def make(rng):
        if low is not None:
            x = rng.uniform(low, high, shape)
        else:
            x = rng.standard_normal(shape)
        if away is not None:
            close = np.abs(x - away) < 0.05
            x = np.where(close, x + 0.1, x)
        return x

    return make


def ints(low, high, *shape):
    return lambda rng: rng.integers(low, high, shape).astype(np.int64)


def args(*makers):
    return lambda rng: [m(rng) for m in makers]
