"""Cases for graphc/ops/shape.py and graphc/ops/linalg.py."""
from .case import Case, args, randn

CASES = [
    Case(("Reshape",), lambda m, x: x.view(4, 3) * 2, args(randn(3, 4))),
    Case(("Reshape",), lambda m, x: x.reshape(-1), args(randn(3, 4)), id="reshape-infer"),
    Case(("Transpose",), lambda m, x: x.permute(2, 0, 1), args(randn(2, 3, 4))),
    Case(("Transpose",), lambda m, x: x.t(), args(randn(2, 3)), id="t"),
    Case(("Expand",), lambda m, x: x.expand(3, 4, 5), args(randn(4, 1))),
    Case(("Reshape",), lambda m, x: x.unsqueeze(1).squeeze(), args(randn(3, 4)), id="squeeze"),
    Case(("Concat",), lambda m, x, y: m.cat([x, y], 1), args(randn(2, 3), randn(2, 4)), grad=(0, 1)),
    Case(("Concat",), lambda m, x, y: m.stack([x, y], 0), args(randn(2, 3), randn(2, 3)), grad=(0, 1), id="stack"),
    Case(("Slice", "graphc.SliceGrad"), lambda m, x: x.split(2, 1)[1], args(randn(3, 5))),
    Case(("Slice",), lambda m, x: x.narrow(0, 1, 2), args(randn(3, 5)), id="narrow"),
    Case(("Tile",), lambda m, x: x.repeat(2, 3), args(randn(2, 3))),
    Case(("Identity",), lambda m, x: x.t().contiguous() * 1, args(randn(2, 3))),
    Case(("MatMul",), lambda m, x, y: x.mm(y), args(randn(3, 4), randn(4, 5)), grad=(0, 1)),
    Case(("MatMul",), lambda m, x, y: x @ y, args(randn(2, 3, 4), randn(4, 5)), grad=(0, 1), id="matmul-batched"),
    Case(("MatMul",), lambda m, x, y: x @ y, args(randn(4), randn(2, 4, 3)), grad=(0, 1), id="matmul-vec"),
    Case(("MatMul",), lambda m, x, y: m.dot(x, y), args(randn(4), randn(4)), grad=(0, 1), id="dot"),
    Case(("Gemm",), lambda m, x, w, b: m.nn.functional.linear(x, w, b), args(randn(3, 4), randn(5, 4), randn(5)),
         grad=(0, 1, 2)),
]
