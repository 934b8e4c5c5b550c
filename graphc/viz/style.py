"""Colours and labels shared by every drawing, so an op kind looks the same in all of them."""
from __future__ import annotations

# kind -> fill colour. The order is the legend's order; the colours never depend on the graph.
KIND_COLOURS = {
    "matmul": "#f4a582",       # Gemm, MatMul, Conv and their gradients: where the FLOPs are
    "elementwise": "#92c5de",
    "reduction": "#b2abd2",    # Reduce*, ArgMax, softmax-like ops over an axis
    "pool/norm": "#a6dba0",    # pooling, normalization, dropout
    "loss": "#fdb863",
    "shape": "#e0e0e0",        # views and data movement: reshape, transpose, slice, concat, ...
    "fused": "#fee08b",
    "other": "#f7f7f7",
}

INPUT = {"shape": "ellipse", "style": "filled", "fillcolor": "#d9f0d3"}
PARAM = {"shape": "box", "style": "filled,rounded", "fillcolor": "#c6dbef"}
CONST = {"shape": "plaintext", "fontsize": "10", "fontcolor": "#555555"}
OUTPUT = {"shape": "doubleoctagon", "style": "filled", "fillcolor": "#caff70"}
BLOCK = {"shape": "box3d", "style": "filled", "fillcolor": "#ffffff", "penwidth": "2"}
FUSED_CLUSTER = {"style": "filled,rounded", "fillcolor": "#fff7d6", "color": "#d8b365"}

_MATMUL = ("Gemm", "MatMul", "Conv", "Einsum")
_REDUCE = ("Reduce", "ArgM", "Softmax", "LogSoftmax", "TopK")
_POOLNORM = ("Pool", "Norm", "Dropout", "LRN")
_LOSS = ("Loss", "Nll", "CrossEntropy")
_SHAPE = ("Reshape", "Transpose", "Slice", "Concat", "Expand", "Tile", "Pad", "Gather",
          "Scatter", "Index", "Flip", "Squeeze", "Unsqueeze", "Flatten", "Identity", "Split")


def kind_of(op_name: str) -> str:
    """The kind of an op, from the registry's flags and the op's name (ONNX names say it)."""
    from ..ops.registry import REGISTRY

    if op_name == "graphc.Fused":
        return "fused"
    base = op_name.rpartition(".")[2]
    for kind, words in (("loss", _LOSS), ("matmul", _MATMUL), ("pool/norm", _POOLNORM),
                        ("reduction", _REDUCE)):
        if any(w in base for w in words):
            return kind
    op = REGISTRY.get(op_name)
    if op is not None and op.elementwise:
        return "elementwise"
    if (op is not None and op.view) or any(w in base for w in _SHAPE):
        return "shape"
    return "other"


def colour_of(op_name: str) -> str:
    return KIND_COLOURS[kind_of(op_name)]


def human_bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def shape_str(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
