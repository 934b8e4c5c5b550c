"""graphc.accelerator: PyTorch's device-agnostic accelerator queries (CUDA is graphc's only one)."""
from __future__ import annotations

from . import cuda
from .device import device


def is_available() -> bool:
    return cuda.is_available()


def current_accelerator(check_available: bool = False) -> device | None:
    return device("cuda") if cuda.is_available() else None


def device_count() -> int:
    return cuda.device_count()
