"""Cases for graphc/ops/scan.py (CumSum, CumProd) and the compositions in graphc/ops/contract.py,
graphc/ops/arrange.py and graphc/ops/pointwise.py (checked through the ops they are made of)."""
import numpy as np

from .case import Case, args, ints, randn


def _with_nan_inf(rng):
    x = rng.standard_normal((3, 4))
    x[0, 1], x[1, 2], x[2, 0] = np.nan, np.inf, -np.inf
    return [x]


CASES = [
    Case(("CumSum",), lambda m, x: m.cumsum(x, 1), args(randn(3, 4))),
    Case(("CumSum",), lambda m, x: x.cumsum(0) * x, args(randn(3, 4)), id="cumsum-twice-used"),
    Case(("CumSum",), lambda m, x: m.cumsum(x, -1), args(ints(-5, 5, 2, 6)), grad=(), id="cumsum-int"),
    Case(("graphc.CumProd",), lambda m, x: m.cumprod(x, 1), args(randn(3, 5, away=0.0))),
    Case(("graphc.CumProd", "CumSum"), lambda m, x: m.cumprod(x, 1), args(randn(2, 300, low=0.9, high=1.1)),
         id="cumprod-long-scan"),
    Case(("graphc.CumProd",), lambda m, x: x.cumprod(dim=0), args(randn(4, 2, away=0.0)), id="cumprod-dim0"),
    Case(("graphc.CumProd",), lambda m, x: x.cumprod(dim=1),
         lambda rng: [rng.standard_normal((3, 6)) * (rng.random((3, 6)) > 0.3)], id="cumprod-zeros"),
    # einsum and friends: permute/reshape/matmul/mul/sum
    Case(("MatMul",), lambda m, x, y: m.einsum("ij,jk->ik", x, y), args(randn(3, 4), randn(4, 5)),
         grad=(0, 1), id="einsum-mm"),
    Case(("MatMul",), lambda m, x, y: m.einsum("bij,bjk->bik", x, y), args(randn(2, 3, 4), randn(2, 4, 5)),
         grad=(0, 1), id="einsum-bmm"),
    Case(("Mul",), lambda m, x, y: m.einsum("i,j->ij", x, y), args(randn(3), randn(4)), grad=(0, 1),
         id="einsum-outer"),
    Case(("ReduceSum",), lambda m, x: m.einsum("ii", x), args(randn(4, 4)), id="einsum-trace"),
    Case(("Slice",), lambda m, x: m.einsum("ii->i", x), args(randn(4, 4)), id="einsum-diag"),
    Case(("Transpose",), lambda m, x: m.einsum("ji", x) * m.einsum("ij", x).t(), args(randn(3, 4)),
         id="einsum-implicit"),
    Case(("MatMul",), lambda m, x, y: m.einsum("...ij,...jk", x, y), args(randn(2, 3, 4), randn(1, 4, 2)),
         grad=(0, 1), id="einsum-ellipsis"),
    Case(("MatMul",), lambda m, x, y, z: m.einsum("bhqd,bhkd,bhkv->bhqv", x, y, z),
         args(randn(2, 2, 3, 4), randn(2, 2, 5, 4), randn(2, 2, 5, 3)), grad=(0, 1, 2), id="einsum-three"),
    Case(("ReduceSum",), lambda m, x, y: m.einsum("ij,kj->", x, y), args(randn(3, 4), randn(2, 4)),
         grad=(0, 1), id="einsum-full-sum"),
    Case(("Mul",), lambda m, x, y: m.einsum("bn,bn->b", x, y), args(randn(3, 4), randn(3, 4)), grad=(0, 1),
         id="einsum-batch-dot"),
    Case(("MatMul",), lambda m, x, y: m.tensordot(x, y, dims=([1, 0], [0, 1])),
         args(randn(3, 4, 5), randn(4, 3, 2)), grad=(0, 1), id="tensordot"),
    Case(("MatMul",), lambda m, x, y: m.tensordot(x, y, 1), args(randn(3, 4), randn(4, 2)), grad=(0, 1),
         id="tensordot-int"),
    Case(("Mul",), lambda m, x, y: m.kron(x, y), args(randn(2, 3), randn(3, 2)), grad=(0, 1), id="kron"),
    Case(("Slice",), lambda m, x: x.diagonal(1, 0, 2), args(randn(3, 2, 4)), id="diagonal-offset"),
    Case(("Slice",), lambda m, x: m.diagonal(x, -1), args(randn(4, 3)), id="diagonal-negative"),
    Case(("Where",), lambda m, x: m.diag(x, 1), args(randn(3)), id="diag-1d"),
    Case(("Slice",), lambda m, x: m.diag(x), args(randn(3, 3)), id="diag-2d"),
    Case(("Where",), lambda m, x: m.diag_embed(x, -1, 0, 2), args(randn(2, 3)), id="diag-embed"),
    Case(("ReduceSum",), lambda m, x: x.trace(), args(randn(3, 4)), id="trace"),
    Case(("Gather",), lambda m, x, y: m.linalg.cross(x, y) if m.__name__ == "torch" else m.cross(x, y, dim=-1),
         args(randn(4, 3), randn(4, 3)), grad=(0, 1), id="cross"),
    Case(("Sqrt",), lambda m, x, y: m.cdist(x, y), args(randn(3, 4), randn(5, 4)), grad=(0, 1), id="cdist"),
    Case(("Pow",), lambda m, x, y: m.cdist(x, y, p=3), args(randn(2, 3, 4), randn(2, 5, 4)), grad=(0, 1),
         id="cdist-p3"),
    Case(("MatMul",), lambda m, c, x, y: m.baddbmm(c, x, y, beta=0.5, alpha=2),
         args(randn(2, 3, 5), randn(2, 3, 4), randn(2, 4, 5)), grad=(0, 1, 2), id="baddbmm"),
    Case(("MatMul",), lambda m, c, x, y: m.addmv(c, x, y), args(randn(3), randn(3, 4), randn(4)),
         grad=(0, 1, 2), id="addmv"),
    # rearranging
    Case(("Concat",), lambda m, x: m.roll(x, (1, -2), (0, 1)), args(randn(3, 4)), id="roll"),
    Case(("Concat",), lambda m, x: x.roll(2), args(randn(3, 4)), id="roll-flat"),
    Case(("Tile",), lambda m, x: m.tile(x, (2,)), args(randn(2, 3)), id="tile"),
    Case(("Expand",), lambda m, x: x.repeat_interleave(2, dim=1), args(randn(2, 3)), id="repeat-interleave"),
    Case(("Gather",), lambda m, x, r: m.repeat_interleave(x, r, dim=0), args(randn(3, 2), ints(0, 3, 3)),
         id="repeat-interleave-tensor"),
    Case(("Expand",), lambda m, x, y: m.meshgrid(x, y, indexing="xy"), args(randn(3), randn(4)),
         grad=(0, 1), id="meshgrid-xy"),
    Case(("Expand",), lambda m, x, y: m.meshgrid(x, y, indexing="ij"), args(randn(3), randn(4)),
         grad=(0, 1), id="meshgrid-ij"),
    Case(("TopK",), lambda m, x: m.median(x, 1).values, args(randn(3, 5)), id="median-dim"),
    Case(("TopK",), lambda m, x: x.median(), args(randn(3, 4)), id="median"),
    Case(("GatherElements",), lambda m, x: m.mode(x, 1).values, args(ints(0, 3, 4, 6)), grad=(), id="mode"),
    # pointwise
    Case(("Clip",), lambda m, x: m.clamp_min(x, 0.1) + x.clamp_max(-0.2), args(randn(3, 4, away=0.1)),
         id="clamp-min-max"),
    Case(("Where",), lambda m, x, y: m.fmax(x, y) + m.fmin(x, y) * 2, args(randn(3, 4), randn(4)),
         grad=(0, 1), id="fmax-fmin"),
    Case(("Where",), lambda m, x: m.nan_to_num(x, nan=1.5) * 2, _with_nan_inf, fd=False, id="nan-to-num"),
    Case(("Where",), lambda m, x: m.nan_to_num(x, 0.0, 9.0, -9.0), _with_nan_inf, fd=False, id="nan-to-num-2"),
]
