"""The `onnx` package, imported on first use, and dtype conversion between graphc and ONNX."""
from __future__ import annotations

import numpy as np

from .. import dtypes

INSTALL_HINT = "graphc's ONNX support needs the onnx package: pip install 'graphc[onnx]'"


class OnnxError(ValueError):
    """An ONNX model graphc cannot export, import or run; the message names the node."""


def onnx():
    """The onnx module, or an ImportError that says how to install it."""
    try:
        import onnx as mod
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return mod


_TO_ONNX = {  # graphc dtype name -> TensorProto.DataType value
    "float32": 1, "uint8": 2, "int8": 3, "int16": 5, "int32": 6, "int64": 7,
    "bool": 9, "float16": 10, "float64": 11, "uint16": 4, "uint32": 12, "uint64": 13,
}
_FROM_ONNX = {v: k for k, v in _TO_ONNX.items()}


def to_onnx_dtype(d: dtypes.dtype) -> int:
    return _TO_ONNX[d.name]


def from_onnx_dtype(elem_type: int, where: str) -> dtypes.dtype:
    name = _FROM_ONNX.get(elem_type)
    if name is None:
        label = onnx().TensorProto.DataType.Name(elem_type) if elem_type in onnx().TensorProto.DataType.values() else elem_type
        raise OnnxError(f"{where}: graphc has no dtype for ONNX type {label} "
                        f"(supported: {', '.join(_TO_ONNX)})")
    return dtypes.from_name(name)


def np_dtype(elem_type: int, where: str) -> np.dtype:
    return from_onnx_dtype(elem_type, where).np
