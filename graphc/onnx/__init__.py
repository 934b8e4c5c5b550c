"""ONNX export, import and the ONNX backend API (DESIGN §3).

The `onnx` package is imported when one of these functions is first used, never when
`import graphc` runs; without it they raise ImportError saying `pip install 'graphc[onnx]'`.
"""
from ._proto import OnnxError
from .backend import BackendRep, prepare, run_model, run_node, supports_device
from .export import export
from .load import load

__all__ = ["export", "load", "prepare", "run_model", "run_node", "supports_device", "BackendRep",
           "OnnxError"]
