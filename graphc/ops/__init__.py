"""The op registry (registry.py) and the op families that fill it, one module per family.

Families register their ops when imported; `load_all()` imports every family.
"""
import importlib

from .registry import NOT_DIFFERENTIABLE, REGISTRY, REQUIRED, Op, get, register

FAMILY_NAMES = ("elementwise", "reduce", "shape", "linalg", "index", "gather", "sort", "flip", "conv", "pool", "softmax",
                "dropout", "norm", "loss", "pad", "scan", "contract", "arrange",
                "pointwise")


def load_all():
    """Import every op family (registering its ops) and return the modules."""
    return [importlib.import_module(f"{__name__}.{name}") for name in FAMILY_NAMES]


__all__ = ["Op", "REGISTRY", "REQUIRED", "NOT_DIFFERENTIABLE", "get", "register", "load_all"]
