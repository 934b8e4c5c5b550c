"""Matrix products: MatMul (NumPy/ONNX semantics, batched and broadcasting) and Gemm (Linear)."""
from __future__ import annotations

import numpy as np

from ..dispatch import dispatch
from ..ir.types import TensorType
from ..tensor import Tensor
from .base import as_tensors, broadcast_shapes, same_dtype, unbroadcast
from .registry import Op, register


__all__ = ["matmul", "mm", "bmm", "dot", "mv", "addmm", "linear", "outer"]


def _infer_matmul(types, **_):
    a, b = types
    d = same_dtype(types)
    sa, sb = a.shape, b.shape
    if not sa or not sb:
        raise ValueError("both arguments to matmul need to be at least 1D")
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise ValueError(f"mat1 and mat2 shapes cannot be multiplied ({_mat(sa)} and {_mat(sb)})")
    batch = broadcast_shapes(sa[:-2], sb[:-2])
    out = batch + tuple(sa[-2:-1]) + tuple(sb[-1:] if len(sb) > 1 else ())
    return [TensorType(out, d)]


def _mat(shape):
    return "x".join(map(str, shape if len(shape) > 1 else (1,) + tuple(shape)))


def _matmul_vjp(ctx, g):
    from .shape import reshape, transpose, unsqueeze

    a, b = ctx.inputs
    if a.ndim == 1 and b.ndim == 1:
        from .elementwise import mul

        return (mul(g, b) if ctx.needs_input_grad[0] else None,
                mul(g, a) if ctx.needs_input_grad[1] else None)
    a2 = a if a.ndim > 1 else unsqueeze(a, 0)
    b2 = b if b.ndim > 1 else unsqueeze(b, -1)
    g2 = g
    if a.ndim == 1:
        g2 = unsqueeze(g2, -2)
    if b.ndim == 1:
        g2 = unsqueeze(g2, -1)
    ga = gb = None
    if ctx.needs_input_grad[0]:
        ga = reshape(unbroadcast(matmul(g2, transpose(b2, -1, -2)), a2.shape), tuple(a.shape))
    if ctx.needs_input_grad[1]:
        gb = reshape(unbroadcast(matmul(transpose(a2, -1, -2), g2), b2.shape), tuple(b.shape))
    return ga, gb


def _matmul_name(attrs, types):
    ranks = (len(types[0].shape), len(types[1].shape))
    return {(2, 2): "MmBackward0", (1, 1): "DotBackward0", (2, 1): "MvBackward0",
            (3, 3): "BmmBackward0"}.get(ranks, "UnsafeViewBackward0")


MATMUL = register(Op("MatMul", _infer_matmul, np.matmul, _matmul_vjp, grad_name=_matmul_name))


def _infer_gemm(types, alpha, beta, transA, transB):
    a, b, c = types
    d = same_dtype(types)
    if len(a.shape) != 2 or len(b.shape) != 2:
        raise ValueError("Gemm expects 2-D A and B")
    m, k = a.shape[::-1] if transA else a.shape
    kb, n = b.shape[::-1] if transB else b.shape
    if k != kb:
        raise ValueError(f"mat1 and mat2 shapes cannot be multiplied ({m}x{k} and {kb}x{n})")
    if broadcast_shapes(c.shape, (m, n)) != (m, n):
        raise ValueError(f"bias of shape {list(c.shape)} does not broadcast to {[m, n]}")
    return [TensorType((m, n), d)]


def _gemm_kernel(a, b, c, alpha, beta, transA, transB):
    y = (a.T if transA else a) @ (b.T if transB else b)
    if alpha != 1.0:
        y *= y.dtype.type(alpha)
    y += c if beta == 1.0 else c * c.dtype.type(beta)
    return y


def _gemm_vjp(ctx, g):
    from .elementwise import mul
    from .shape import t

    a, b, _ = ctx.inputs
    al, be, ta, tb = (ctx.attrs[k] for k in ("alpha", "beta", "transA", "transB"))
    ga = gb = gc = None
    if al != 1.0:
        g_scaled = mul(g, al)
    else:
        g_scaled = g
    # Each gradient is computed in the layout it is stored in (dB = G^T A for a transposed B,
    # as nn.Linear's weight is), not as the transpose of a product: a transposed view would
    # make the optimizer's update read it with strides.
    if ctx.needs_input_grad[0]:
        ga = matmul(t(b) if tb else b, t(g_scaled)) if ta else matmul(g_scaled, b if tb else t(b))
    if ctx.needs_input_grad[1]:
        gb = matmul(t(g_scaled), t(a) if ta else a) if tb else matmul(a if ta else t(a), g_scaled)
    if ctx.needs_input_grad[2]:
        gc = unbroadcast(g if be == 1.0 else mul(g, be), ctx.in_types[2].shape)
    return ga, gb, gc


GEMM = register(Op("Gemm", _infer_gemm, _gemm_kernel, _gemm_vjp,
                   attrs={"alpha": 1.0, "beta": 1.0, "transA": 0, "transB": 0},
                   saves=((0, 1), ()), grad_name="AddmmBackward0", grad_order=(2, 0, 1)))


def matmul(a: Tensor, b: Tensor, *, out=None) -> Tensor:
    if out is None:
        try:  # fast path: two concrete tensors of one dtype
            if a._np_dtype is b._np_dtype:
                return dispatch(MATMUL, [a, b], _NO_ATTRS)
        except AttributeError:
            pass
    from .elementwise import _to_out

    return _to_out(dispatch(MATMUL, as_tensors(a, b), _NO_ATTRS), out)


_NO_ATTRS: dict = {}


def mm(a: Tensor, b: Tensor) -> Tensor:
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expected 2D tensors, got {a.ndim}D and {b.ndim}D")
    return matmul(a, b)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"bmm: expected 3D tensors, got {a.ndim}D and {b.ndim}D")
    return matmul(a, b)


def dot(a: Tensor, b: Tensor) -> Tensor:
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    return matmul(a, b)


def mv(a: Tensor, b: Tensor) -> Tensor:
    return matmul(a, b)


def addmm(c: Tensor, a: Tensor, b: Tensor, *, beta=1.0, alpha=1.0) -> Tensor:
    return dispatch(GEMM, as_tensors(a, b, c), {"alpha": float(alpha), "beta": float(beta),
                                                 "transA": 0, "transB": 0})


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b: one Gemm for 2-D input (as ONNX exports nn.Linear), else MatMul + Add."""
    if bias is not None and x.ndim == 2:
        return dispatch(GEMM, [x, weight, bias], {"alpha": 1.0, "beta": 1.0, "transA": 0, "transB": 1})
    from .shape import t

    y = matmul(x, t(weight))
    if bias is None:
        return y
    from .elementwise import add

    return add(y, bias)


def outer(a: Tensor, b: Tensor) -> Tensor:
    from .shape import unsqueeze

    return matmul(unsqueeze(a, 1), unsqueeze(b, 0))


METHODS = {
    "matmul": matmul, "mm": mm, "bmm": bmm, "dot": dot, "mv": mv, "outer": outer,
    "__matmul__": matmul, "__rmatmul__": lambda self, other: matmul(other, self),
}
