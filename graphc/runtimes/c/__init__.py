"""The native CPU runtime ("c"): the compiled graph as one generated C++ translation unit,
from the same code generator and C-style renderer as the CUDA runtime (DESIGN §5)."""
from .lower import fallback_nodes, graph_code
from .runtime import CExecutable, CRuntime

__all__ = ["CExecutable", "CRuntime", "fallback_nodes", "graph_code"]
