"""Argument normalisation shared by layers."""
from __future__ import annotations


def _pair(x) -> tuple:
    """An int becomes (x, x); a sequence becomes a tuple (PyTorch's ``_pair``)."""
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x, x)


def _ntuple(n: int):
    """PyTorch's ``_ntuple(n)``: an int repeated n times; a sequence as a tuple."""
    def parse(x) -> tuple:
        return tuple(x) if isinstance(x, (list, tuple)) else (x,) * n

    return parse
