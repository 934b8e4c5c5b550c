"""Lowering a graph to C: each node becomes C functions, or runs its NumPy kernel (`CNode.host`).

Elementwise ops, reductions and every fused group come from the CUDA code generator with the
C renderer (one shared generator, driven by the registry's expressions; a team is one thread);
MatMul and Gemm (through BLAS), transposes and copies are written here. What has no C form yet runs on NumPy for that node
only, and `fallback_nodes` lists those nodes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from math import prod

import numpy as np

from ... import dtypes
from ...ops.registry import REGISTRY
from ..cuda.codegen import FUSED, REDUCTIONS, elementwise_code, fused_code, reduction_kernels
from ..cuda.kernel import Kernel, coords, dot, make_kernel, rendering, value_param
from ..cuda.kernels import GENERATORS
from .blas import blas
from .conv import GENERATORS as CONV
from .nn import GENERATORS as NN
from .renderer import RENDERER, SERIAL, threads


# The CUDA generators whose kernels are a grid-stride loop over outputs and nothing else (no
# shared memory, warps or fixed thread counts): with the C renderer, one loop over all outputs.
PER_OUTPUT = {"graphc.MaxPoolGrad", "AveragePool", "graphc.AveragePoolGrad",
              "graphc.AdaptiveAvgPool", "ArgMax", "ArgMin", "TopK", "Expand", "Tile", "graphc.Flip", "Slice",
              "graphc.SliceGrad", "Pad", "Concat", "Trilu", "graphc.OneHot", "Gather", "GatherElements",
              "graphc.GatherGrad", "ScatterElements", "graphc.NonZero", "Dropout"}


@dataclass
class CNode:
    node: object
    kernels: list[Kernel] = field(default_factory=list)
    scratch: list[int] = field(default_factory=list)  # bytes of each scratch buffer its kernels use
    host: object = None  # the node's NumPy kernel, when it has no C form
    why: str = ""        # and why not


def _host(node, why: str) -> CNode:
    op = REGISTRY[node.op] if node.op in REGISTRY else None
    if node.op == FUSED:
        from ..fused import FusedKernel

        return CNode(node, host=FusedKernel(node.subgraph), why=why)
    attrs = op.complete_attrs(dict(node.attrs))
    return CNode(node, host=lambda *arrays: op.kernel(*arrays, **attrs), why=why)


def node_code(node, type_of) -> CNode:
    values = [*node.inputs, *node.outputs]
    if any(type_of(v).dtype is dtypes.float16 for v in values):
        return _host(node, "float16 has no C arithmetic here")
    op = REGISTRY.get(node.op)
    try:
        if node.op == FUSED:
            code = fused_code(node, renderer=RENDERER, threads=1)
            return CNode(node, code.kernels, scratch=code.scratch)
        if op is not None and op.elementwise and op.expr:
            return CNode(node, elementwise_code(node, type_of, renderer=RENDERER).kernels)
        if node.op in REDUCTIONS:
            kernels, scratch = reduction_kernels(node.op, type_of, {}, [], node, [], list(node.outputs), RENDERER, 1)
            return CNode(node, kernels, scratch=scratch)
        if node.op == "Reshape":
            return CNode(node, [_copy(node, type_of)])
        if node.op in CONV and blas() is not None and type_of(node.outputs[0]).dtype in _GEMM:
            kernels, scratch = CONV[node.op](node, type_of)
            return CNode(node, kernels, scratch=scratch)
        if node.op in NN:
            kernels, scratch = NN[node.op](node, type_of)
            return CNode(node, kernels, scratch=scratch)
        if node.op == "Transpose":
            return CNode(node, [_transpose(node, type_of)])
        if node.op in PER_OUTPUT:
            with rendering(SERIAL):  # scatters add into shared places: no OpenMP
                code = GENERATORS[node.op](node, type_of)
            return CNode(node, code.kernels, scratch=code.scratch)
        if node.op in ("MatMul", "Gemm") and blas() is not None and type_of(node.outputs[0]).dtype in _GEMM:
            return CNode(node, [(_matmul if node.op == "MatMul" else _gemm)(node, type_of)])
    except (KeyError, NotImplementedError) as exc:
        return _host(node, f"no C code: {exc}")
    return _host(node, "no C code for this op yet")


def graph_code(graph) -> list[CNode]:
    return [node_code(n, graph.type_of) for n in graph.nodes()]


def fallback_nodes(codes) -> list[tuple[str, str, str]]:
    """(node, op, why) of every node that runs its NumPy kernel."""
    return [(c.node.name, c.node.op, c.why) for c in codes if c.host is not None]


# ---- kernels written here -----------------------------------------------------------------

def _copy(node, type_of) -> Kernel:
    x, y = node.inputs[0], node.outputs[0]
    t = type_of(y)
    params = [value_param("x", x, t.dtype), value_param("y", y, t.dtype, output=True)]
    return make_kernel("copy", params, [f"memcpy(y, x, {t.nbytes});"] if t.nbytes else [], 1, renderer=RENDERER)


_GEMM = {dtypes.float32: "s", dtypes.float64: "d"}


GEMM_PARALLEL_MIN = 1 << 20  # multiply-adds below which one thread is quicker than waking more


def _row_units(nb: int, m: int, work: int) -> tuple[int, int, list[str]]:
    """(row blocks per matrix, rows per block, lines opening a loop over units u): the batch's
    matrices go to the threads when there are enough of them, else each one's rows are split,
    so a lone large GEMM uses every core although OpenBLAS itself runs on one (blas.py)."""
    p = threads()
    blocks = 1 if nb >= p or work < GEMM_PARALLEL_MIN else min(p, m)
    parallel = nb * blocks > 1 and work * nb >= GEMM_PARALLEL_MIN
    return blocks, -(-m // blocks), [
        *([f"#pragma omp parallel for num_threads({p}) schedule(static)"] if parallel else []),
        f"for (long long u = 0; u < {nb * blocks}; ++u) {{"]


def _matmul(node, type_of) -> Kernel:
    """Batched row-major GEMM through BLAS: the batch dims broadcast, 1-D operands as NumPy."""
    a, b, y = node.inputs[0], node.inputs[1], node.outputs[0]
    at, bt, yt = type_of(a), type_of(b), type_of(y)
    sa, sb = list(at.shape), list(bt.shape)
    if len(sa) == 1:
        sa = [1] + sa
    if len(sb) == 1:
        sb = sb + [1]
    m, k, n = sa[-2], sa[-1], sb[-1]
    batch = list(np.broadcast_shapes(tuple(sa[:-2]), tuple(sb[:-2])))
    nb = prod(batch)

    def offset(shape, mat):
        lead = shape[:-2]
        lead = [1] * (len(batch) - len(lead)) + lead
        st = [prod(lead[d + 1:]) * mat if lead[d] != 1 else 0 for d in range(len(lead))]
        return dot([f"c{d}" for d in range(len(batch))], st)

    g = _GEMM[yt.dtype]
    blocks, rb, head = _row_units(nb, m, m * n * k)
    lines = [*head, f"  const long long t = u / {blocks}, r0 = u % {blocks} * {rb};",
             f"  const long long rows = r0 + {rb} < {m} ? {rb} : {m} - r0;", "  if (rows <= 0) continue;",
             *["  " + c for c in coords("t", batch, "c", "long long")],
             f"  scipy_cblas_{g}gemm(101, 111, 111, rows, {n}, {k}, 1, A + {offset(sa, m * k)} + r0 * {k}, {k}, "
             f"B + {offset(sb, k * n)}, {n}, 0, Y + t * {m * n} + r0 * {n}, {n});",
             "}"]
    params = [value_param("A", a, at.dtype), value_param("B", b, bt.dtype), value_param("Y", y, yt.dtype, output=True)]
    return make_kernel("matmul", params, lines, 1, renderer=RENDERER)


def _gemm(node, type_of) -> Kernel:
    """ONNX Gemm: Y = alpha * A' B' + beta * C, C broadcast to Y's (M, N)."""
    attrs = REGISTRY["Gemm"].complete_attrs(dict(node.attrs))
    a, b, y = node.inputs[0], node.inputs[1], node.outputs[0]
    at, bt, yt = type_of(a), type_of(b), type_of(y)
    m, n = yt.shape
    k = at.shape[0] if attrs["transA"] else at.shape[1]
    ct = RENDERER.ctype(yt.dtype)
    params = [value_param("A", a, at.dtype), value_param("B", b, bt.dtype)]
    lines, beta = [], 0
    if len(node.inputs) > 2 and node.inputs[2] and attrs["beta"] != 0:
        c = node.inputs[2]
        cs = (1,) * (2 - len(type_of(c).shape)) + tuple(type_of(c).shape)
        params.append(value_param("C", c, type_of(c).dtype))
        off = dot(["i", "j"], [cs[1] if cs[0] != 1 else 0, 1 if cs[1] != 1 else 0])
        lines += [f"for (long long i = 0; i < {m}; ++i)",
                  f"  for (long long j = 0; j < {n}; ++j) Y[i * {n} + j] = ({ct}){attrs['beta']!r} * C[{off}];"]
        beta = 1
    params.append(value_param("Y", y, yt.dtype, output=True))
    ta, tb = (112 if attrs["transA"] else 111), (112 if attrs["transB"] else 111)
    _, rb, head = _row_units(1, m, m * n * k)
    lines += [*head, f"  const long long r0 = u * {rb}, rows = r0 + {rb} < {m} ? {rb} : {m} - r0;",
              "  if (rows <= 0) continue;",
              f"  scipy_cblas_{_GEMM[yt.dtype]}gemm(101, {ta}, {tb}, rows, {n}, {k}, {attrs['alpha']!r}, "
              f"A + r0{'' if attrs['transA'] else f' * {at.shape[1]}'}, {at.shape[1]}, B, {bt.shape[1]}, {beta}, "
              f"Y + r0 * {n}, {n});", "}"]
    return make_kernel("gemm", params, lines, 1, renderer=RENDERER)


def _transpose(node, type_of) -> Kernel:
    x, y = node.inputs[0], node.outputs[0]
    xt, yt = type_of(x), type_of(y)
    perm = REGISTRY["Transpose"].complete_attrs(dict(node.attrs))["perm"]
    in_strides = [prod(xt.shape[d + 1:]) for d in range(len(xt.shape))]
    lines = [f"{RENDERER.loop_prefix(yt.numel, simd=False)}for (long long i = 0; i < {yt.numel}; ++i) {{",
             *["  " + c for c in coords("i", yt.shape, "c", "long long")],
             f"  y[i] = x[{dot([f'c{d}' for d in range(len(perm))], [in_strides[p] for p in perm])}];", "}"]
    params = [value_param("x", x, xt.dtype), value_param("y", y, yt.dtype, output=True)]
    return make_kernel("transpose", params, lines, 1, renderer=RENDERER)
