"""Devices: 'cpu' always; 'cuda' where the CUDA runtime can run."""
from __future__ import annotations


class device:
    __slots__ = ("type", "index")

    def __init__(self, type: str | "device", index: int | None = None):
        if isinstance(type, device):
            type, index = type.type, type.index
        kind, _, idx = str(type).partition(":")
        if kind not in ("cpu", "cuda"):
            raise RuntimeError(f"Expected one of cpu, cuda device type at start of device string: {type}")
        self.type = kind
        self.index = int(idx) if idx else index

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"


CPU = device("cpu")


def as_device(d) -> device:
    if d is None:
        return CPU
    return d if isinstance(d, device) else device(d)


def place(t, d) -> None:
    """Put tensor t on device d (checked available): from then on its ops run on d's runtime."""
    d = as_device(d)
    if d.type == "cuda":
        from . import cuda
        from .state import STATE

        cuda._require()
        STATE.devices_in_use = True
    t._device = d


def common_device(op_name: str, inputs) -> device:
    """The device an op runs on: that of its inputs (0-d CPU tensors, like Python numbers, may
    join tensors on any device, as in PyTorch)."""
    found = CPU
    for t in inputs:
        d = t._device
        if d is not CPU and d != CPU:
            if found is not CPU and d != found:
                raise RuntimeError(f"{op_name}: Expected all tensors to be on the same device, but "
                                   f"found at least two devices, {found} and {d}!")
            found = d
    if found is not CPU:
        for t in inputs:
            if t._device == CPU and t.ndim > 0:
                raise RuntimeError(f"{op_name}: Expected all tensors to be on the same device, but "
                                   f"found at least two devices, {found} and cpu!")
    return found
