"""Contractions and diagonals written with graphc ops: einsum, tensordot, kron, diagonal, diag,
diag_embed, trace, cross, cdist and the add-a-product forms (baddbmm, addmv, addbmm, addr).

Each is a composition of permute/reshape/slice/matmul/mul/sum, so it differentiates (to any order)
and traces with no op of its own.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..tensor import Tensor
from .base import as_tensors, broadcast_shapes, norm_axis
from .elementwise import add, mul, sub, where
from .gather import index_select
from .linalg import matmul
from .reduce import sum as _sum
from .shape import cat, expand, permute, reshape, slice_, unsqueeze

# trace is Tensor.trace only: graphc.trace is the tracer
__all__ = ["einsum", "tensordot", "kron", "diagonal", "diag", "diag_embed", "cross",
           "cdist", "inner", "baddbmm", "addmv", "addbmm", "addr"]


def _const(array) -> Tensor:
    from .base import scalar_tensor

    return scalar_tensor(array, _dtype_of(array))


def _dtype_of(array):
    from .. import dtypes

    return dtypes.from_numpy(np.asarray(array).dtype)


# ---- einsum -------------------------------------------------------------------------------

_ELLIPSIS_LETTERS = [chr(0x3B1 + i) for i in range(24)]  # Greek: never valid subscripts in einsum


def _parse(equation: str, operands):
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    specs = lhs.split(",")
    if len(specs) != len(operands):
        raise ValueError(f"einsum(): {len(specs)} subscript groups for {len(operands)} operands")
    n_ell = 0
    out_specs = []
    for spec, op in zip(specs, operands):
        if "..." in spec:
            k = op.ndim - (len(spec) - 3)
            n_ell = max(n_ell, k)
            spec = spec.replace("...", "".join(_ELLIPSIS_LETTERS[len(_ELLIPSIS_LETTERS) - k:]))
        if len(spec) != op.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(spec)}) does not "
                               f"match the number of dimensions ({op.ndim}) for operand "
                               f"{len(out_specs)}{' and no ellipsis was given' if '...' not in spec else ''}")
        out_specs.append(spec)
    ell = "".join(_ELLIPSIS_LETTERS[len(_ELLIPSIS_LETTERS) - n_ell:])
    if arrow:
        out = rhs.replace("...", ell)
    else:
        letters = "".join(out_specs)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    return out_specs, out


def _take_diagonals(x: Tensor, spec: str):
    """A subscript repeated within one operand ('ii') selects its diagonal."""
    while len(set(spec)) < len(spec):
        c = next(c for c in spec if spec.count(c) > 1)
        i = spec.index(c)
        j = spec.index(c, i + 1)
        x = diagonal(x, 0, i, j)
        spec = "".join(s for k, s in enumerate(spec) if k not in (i, j)) + c
    return x, spec


def _sum_out(x: Tensor, spec: str, keep: set):
    drop = tuple(i for i, c in enumerate(spec) if c not in keep)
    if not drop:
        return x, spec
    return _sum(x, drop), "".join(c for c in spec if c in keep)


def _contract(a, sa, b, sb, keep):
    """Two operands to one: shared subscripts that stay are batch dims, those that go are summed
    by one (batched) matmul; with nothing to sum it is a broadcast multiply."""
    a, sa = _sum_out(a, sa, keep | set(sb))
    b, sb = _sum_out(b, sb, keep | set(sa))
    size = {**dict(zip(sb, b.shape)), **dict(zip(sa, a.shape))}
    batch = [c for c in sa if c in sb and c in keep]
    summed = [c for c in sa if c in sb and c not in keep]
    left = [c for c in sa if c not in sb]
    right = [c for c in sb if c not in sa]
    if not summed:
        out = batch + left + right
        pa = permute(a, [sa.index(c) for c in batch + left])
        pb = permute(b, [sb.index(c) for c in batch + right])
        pa = reshape(pa, tuple(pa.shape) + (1,) * len(right))
        pb = reshape(pb, tuple(pb.shape[:len(batch)]) + (1,) * len(left) + tuple(pb.shape[len(batch):]))
        return mul(pa, pb), "".join(out)
    n = [int(np.prod([size[c] for c in group])) for group in (batch, left, summed, right)]
    pa = reshape(permute(a, [sa.index(c) for c in batch + left + summed]), (n[0], n[1], n[2]))
    pb = reshape(permute(b, [sb.index(c) for c in batch + summed + right]), (n[0], n[2], n[3]))
    out = batch + left + right
    return reshape(matmul(pa, pb), tuple(size[c] for c in out)), "".join(out)


def _broadcast_sizes(operands, specs):
    """Subscripts of size 1 in one operand and n in another are expanded (ellipsis broadcasting)."""
    size: dict = {}
    for x, s in zip(operands, specs):
        for c, d in zip(s, x.shape):
            if size.get(c, 1) == 1:
                size[c] = d
            elif d not in (1, size[c]):
                raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes "
                                   f"(subscript {c!r}: {size[c]} and {d})")
    return [x if tuple(x.shape) == tuple(size[c] for c in s) else expand(x, tuple(size[c] for c in s))
            for x, s in zip(operands, specs)]


def einsum(equation: str, *operands) -> Tensor:
    """torch.einsum: explicit ('ij,jk->ik') or implicit output, '...', repeated subscripts."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    operands = as_tensors(*operands)
    specs, out = _parse(equation, operands)
    pairs = [_take_diagonals(x, s) for x, s in zip(operands, specs)]
    xs = _broadcast_sizes([p[0] for p in pairs], [p[1] for p in pairs])
    specs = [p[1] for p in pairs]
    x, s = xs[0], specs[0]
    if len(xs) == 1:
        x, s = _sum_out(x, s, set(out))
    for i in range(1, len(xs)):
        keep = set(out).union(*specs[i + 1:])
        x, s = _contract(x, s, xs[i], specs[i], keep)
    x, s = _sum_out(x, s, set(out))
    perm = [s.index(c) for c in out]
    return permute(x, perm) if perm != list(range(len(perm))) else x


def tensordot(a: Tensor, b: Tensor, dims=2, out=None) -> Tensor:
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    da = [norm_axis(d, a.ndim) for d in da]
    db = [norm_axis(d, b.ndim) for d in db]
    letters = [chr(ord("a") + i) for i in range(a.ndim + b.ndim)]
    sa = letters[:a.ndim]
    sb = letters[a.ndim:]
    for i, j in zip(da, db):
        sb[j] = sa[i]
    out_spec = [c for i, c in enumerate(sa) if i not in da] + [c for j, c in enumerate(sb) if j not in db]
    return einsum(f"{''.join(sa)},{''.join(sb)}->{''.join(out_spec)}", a, b)


def inner(a: Tensor, b: Tensor) -> Tensor:
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    return tensordot(a, b, ([-1], [-1]))


def kron(a: Tensor, b: Tensor) -> Tensor:
    n = max(a.ndim, b.ndim)
    sa = (1,) * (n - a.ndim) + tuple(a.shape)
    sb = (1,) * (n - b.ndim) + tuple(b.shape)
    x = reshape(a, tuple(d for s in sa for d in (s, 1)))
    y = reshape(b, tuple(d for s in sb for d in (1, s)))
    return reshape(mul(x, y), tuple(p * q for p, q in zip(sa, sb)))


# ---- diagonals ------------------------------------------------------------------------------

def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal as a strided slice of the two dims flattened together (moved last)."""
    nd = input.ndim
    d1, d2 = norm_axis(dim1, nd, "diagonal"), norm_axis(dim2, nd, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    rest = [d for d in range(nd) if d not in (d1, d2)]
    n, m = input.shape[d1], input.shape[d2]
    if offset >= 0:
        start, count = offset, max(0, min(n, m - offset))
    else:
        start, count = -offset * m, max(0, min(n + offset, m))
    flat = reshape(permute(input, rest + [d1, d2]), tuple(input.shape[d] for d in rest) + (n * m,))
    if count == 0:
        return slice_(flat, (0,), (0,), (len(rest),), (1,))
    return slice_(flat, (start,), (start + (count - 1) * (m + 1) + 1,), (len(rest),), (m + 1,))


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    n = input.shape[-1]
    k = abs(offset)
    size = n + k
    if k:
        zeros = _const(np.zeros(tuple(input.shape[:-1]) + (k,), input.dtype.np))
        input = cat([input, zeros] if offset > 0 else [zeros, input], -1)
    mask = _const(np.eye(size, size, offset, dtype=bool))
    # row r of the padded input holds the value of row r's diagonal entry
    grid = where(mask, unsqueeze(input, -1), _const(np.zeros((), input.dtype.np)))
    out_nd = grid.ndim
    d1, d2 = norm_axis(dim1, out_nd), norm_axis(dim2, out_nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    perm = [None] * out_nd
    perm[d1], perm[d2] = out_nd - 2, out_nd - 1
    batch = iter(range(out_nd - 2))
    perm = [next(batch) if p is None else p for p in perm]
    return permute(grid, perm) if perm != list(range(out_nd)) else grid


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    if input.ndim == 1:
        return diag_embed(input, diagonal)
    if input.ndim == 2:
        return globals()["diagonal"](input, diagonal)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


def trace(input: Tensor) -> Tensor:
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return _sum(diagonal(input))


# ---- geometric ------------------------------------------------------------------------------

def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    a, b = as_tensors(input, other)
    shape = broadcast_shapes(tuple(a.shape), tuple(b.shape))
    a, b = expand(a, shape), expand(b, shape)
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either "
                      "pass the dim explicitly or simply use torch.linalg.cross.\nThe default value of "
                      "dim will change to agree with that of linalg.cross in a future release.",
                      stacklevel=2)
        dim = next((i for i, d in enumerate(shape) if d == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    d = norm_axis(dim, len(shape), "cross")
    if shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. "
                           f"Got {a.shape[d]} and {b.shape[d]}")
    i1, i2 = _const(np.array([1, 2, 0])), _const(np.array([2, 0, 1]))
    return sub(mul(index_select(a, d, i1), index_select(b, d, i2)),
               mul(index_select(a, d, i2), index_select(b, d, i1)))


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode=None) -> Tensor:
    from .elementwise import abs as _abs, ne, pow, sqrt, cast
    from .reduce import amax

    diff = sub(unsqueeze(x1, -2), unsqueeze(x2, -3))
    if p == 2:
        return sqrt(_sum(mul(diff, diff), -1))
    if p == 0:
        return cast(_sum(ne(diff, 0), -1), diff.dtype)
    if p == float("inf"):
        return amax(_abs(diff), -1)
    if p == 1:
        return _sum(_abs(diff), -1)
    return pow(_sum(pow(_abs(diff), p), -1), 1.0 / p)


# ---- add a product --------------------------------------------------------------------------

def _blend(input, product, beta, alpha):
    """beta * input + alpha * product; beta = 0 ignores input (NaNs included), as PyTorch."""
    if alpha != 1:
        product = mul(product, alpha)
    if beta == 0:
        return expand(product, broadcast_shapes(tuple(product.shape), tuple(input.shape)))
    return add(mul(input, beta) if beta != 1 else input, product)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:
    return _blend(input, matmul(batch1, batch2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:
    return _blend(input, _sum(matmul(batch1, batch2), 0), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1) -> Tensor:
    return _blend(input, matmul(mat, vec), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1) -> Tensor:
    return _blend(input, mul(unsqueeze(vec1, 1), unsqueeze(vec2, 0)), beta, alpha)


METHODS = {
    "diagonal": diagonal, "diag": diag, "diag_embed": diag_embed, "trace": trace, "cross": cross,
    "kron": kron, "inner": inner, "baddbmm": baddbmm, "addbmm": addbmm, "addmv": addmv, "addr": addr,
}
