"""The CUDA runtime: kernels generated from the op registry (renderer, codegen, kernels/),
compiled and launched through PyCUDA (runtime.py), which is imported only when a graph runs."""
from __future__ import annotations

from .lower import graph_code, module_source, node_code


def __getattr__(name):
    if name in ("CudaRuntime", "CudaExecutable"):
        from . import runtime

        return getattr(runtime, name)
    raise AttributeError(name)


__all__ = ["CudaRuntime", "graph_code", "module_source", "node_code"]
