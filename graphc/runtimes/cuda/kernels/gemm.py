"""One shared-memory tiled GEMM, specialised by how it reads A and B and stores C.

MatMul (batched, broadcast), Gemm (transposes, alpha/beta bias) and the convolutions are all
C[z][m][n] = sum_k A(z, m, k) * B(z, k, n) with different index functions: the convolution
reads its input as an implicit im2col matrix (nothing is materialised), the input gradient
reads dY the same way transposed, and the weight gradient reduces over batch x positions with
split-K (partial tiles added atomically into a zeroed result) so small weights still fill the GPU.
Tiles are 64x64 with a 16-deep K step; each of the 256 threads keeps a 4x4 block of C in
registers, reading shared memory with conflict-free strides.
"""
from __future__ import annotations

from math import prod

from ....ops.registry import REGISTRY
from ..kernel import RENDERER, NodeCode, contiguous_strides, make_kernel, value_param

BM = BN = 64
BK = 16


def gemm_kernel(tag, params, dtype, z, m, n, k, load_a, load_b, store, splits=1):
    """The tiled kernel for batch count z and sizes m x n x k. load_a/load_b are C bodies
    (returning the element, with ints b, m, k or b, k, n and every param in scope) valid for
    in-range indices; store is a body storing `v` at (b, m, n)."""
    t = RENDERER.compute_type(dtype)
    acc = RENDERER.acc_type(dtype)
    decls = ", ".join(p.decl() for p in params)
    args = ", ".join(p.name for p in params)
    pre = (f"__device__ __forceinline__ {t} KNAME_a({decls}, int b, int m, int k) {{\n{load_a}\n}}\n"
           f"__device__ __forceinline__ {t} KNAME_b({decls}, int b, int k, int n) {{\n{load_b}\n}}\n"
           f"__device__ __forceinline__ void KNAME_c({decls}, int b, int m, int n, {acc} v) {{\n{store}\n}}\n")
    k_per = -(-k // splits)
    k_per = -(-k_per // BK) * BK
    body = [
        f"__shared__ {t} As[{BK}][{BM + 1}];",
        f"__shared__ {t} Bs[{BK}][{BN}];",
        "const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;",
        f"const int b = blockIdx.z / {splits}, split = blockIdx.z % {splits};",
        f"const int m0 = blockIdx.y * {BM}, n0 = blockIdx.x * {BN};",
        f"const int k_begin = split * {k_per}, k_end = min({k}, k_begin + {k_per});",
        f"{acc} acc[4][4];",
        "for (int i = 0; i < 4; ++i) for (int j = 0; j < 4; ++j) acc[i][j] = 0;",
        f"for (int k0 = k_begin; k0 < k_end; k0 += {BK}) {{",
        f"  for (int l = threadIdx.x; l < {BM * BK}; l += 256) {{",
        f"    const int am = m0 + l / {BK}, ak = k0 + l % {BK};",
        f"    As[l % {BK}][l / {BK}] = (am < {m} && ak < k_end) ? KNAME_a({args}, b, am, ak) : ({t})0;",
        f"    const int bk = k0 + l / {BN}, bn = n0 + l % {BN};",
        f"    Bs[l / {BN}][l % {BN}] = (bk < k_end && bn < {n}) ? KNAME_b({args}, b, bk, bn) : ({t})0;",
        "  }",
        "  __syncthreads();",
        "  #pragma unroll",
        f"  for (int kk = 0; kk < {BK}; ++kk) {{",
        f"    {t} a[4], bv[4];",
        "    for (int i = 0; i < 4; ++i) a[i] = As[kk][ty + 16 * i];",
        "    for (int j = 0; j < 4; ++j) bv[j] = Bs[kk][tx + 16 * j];",
        f"    for (int i = 0; i < 4; ++i) for (int j = 0; j < 4; ++j) acc[i][j] += ({acc})a[i] * bv[j];",
        "  }",
        "  __syncthreads();",
        "}",
        "for (int i = 0; i < 4; ++i) for (int j = 0; j < 4; ++j) {",
        "  const int mm = m0 + ty + 16 * i, nn = n0 + tx + 16 * j;",
        f"  if (mm < {m} && nn < {n}) KNAME_c({args}, b, mm, nn, acc[i][j]);",
        "}",
    ]
    grid = (-(-n // BN), -(-m // BM), z * splits)
    return make_kernel(tag, params, body, grid, 256, pre=pre)


def _batch_offset(batch, shape, var: str) -> str:
    """Offset (in matrices) of broadcast batch index `var` into an operand with batch dims
    `shape` (right-aligned against `batch`)."""
    shape = (1,) * (len(batch) - len(shape)) + tuple(shape)
    terms, inner = [], 1
    mats = contiguous_strides(shape)
    for d in reversed(range(len(batch))):
        if shape[d] != 1:
            coord = f"(({var} / {inner}) % {batch[d]})" if d else f"({var} / {inner})"
            terms.append(f"{coord} * {mats[d]}")
        inner *= batch[d]
    return " + ".join(terms) or "0"


def matmul(node, type_of) -> NodeCode:
    at, bt = type_of(node.inputs[0]), type_of(node.inputs[1])
    out = type_of(node.outputs[0])
    sa, sb = at.shape, bt.shape
    m = sa[-2] if len(sa) > 1 else 1
    k = sa[-1]
    n = sb[-1] if len(sb) > 1 else 1
    batch = out.shape[:len(out.shape) - (len(sa) > 1) - (len(sb) > 1)]
    z = prod(batch)
    params = [value_param("A", node.inputs[0], at.dtype), value_param("B", node.inputs[1], bt.dtype),
              value_param("C", node.outputs[0], out.dtype, output=True)]
    a_off = _batch_offset(batch, sa[:-2], "b")
    b_off = _batch_offset(batch, sb[:-2], "b")
    load_a = f"return {RENDERER.load('A', f'(long long)({a_off}) * {m * k} + m * {k} + k', at.dtype)};"
    load_b = f"return {RENDERER.load('B', f'(long long)({b_off}) * {k * n} + k * {n} + n', bt.dtype)};"
    store = RENDERER.store("C", f"(long long)b * {m * n} + m * {n} + n", "v", out.dtype)
    return NodeCode(node.name, node.op, [gemm_kernel("matmul", params, out.dtype, z, m, n, k,
                                                      load_a, load_b, store)])


def gemm(node, type_of) -> NodeCode:
    a = REGISTRY["Gemm"].complete_attrs(dict(node.attrs))
    at, bt, ct = (type_of(v) for v in node.inputs)
    out = type_of(node.outputs[0])
    m, n = out.shape
    k = at.shape[0] if a["transA"] else at.shape[1]
    params = [value_param("A", node.inputs[0], at.dtype), value_param("B", node.inputs[1], bt.dtype),
              value_param("Cin", node.inputs[2], ct.dtype),
              value_param("Y", node.outputs[0], out.dtype, output=True)]
    a_idx = f"k * {m} + m" if a["transA"] else f"m * {k} + k"
    b_idx = f"n * {k} + k" if a["transB"] else f"k * {n} + n"
    cs = (1,) * (2 - len(ct.shape)) + tuple(ct.shape)
    c_idx = " + ".join(t for t in (f"m * {cs[1]}" if cs[0] != 1 else "", "n" if cs[1] != 1 else "") if t) or "0"
    lit = lambda x: RENDERER.literal(x, out.dtype)  # noqa: E731
    value = f"{lit(a['alpha'])} * v + {lit(a['beta'])} * {RENDERER.load('Cin', c_idx, ct.dtype)}"
    return NodeCode(node.name, node.op, [gemm_kernel(
        "gemm", params, out.dtype, 1, m, n, k, f"return {RENDERER.load('A', a_idx, at.dtype)};",
        f"return {RENDERER.load('B', b_idx, bt.dtype)};", RENDERER.store("Y", "m * " + str(n) + " + n", value, out.dtype))])


class _Geometry:
    """Convolution window geometry in C: input coordinate of output position p and tap t."""

    def __init__(self, attrs, in_spatial, kernel, out_spatial):
        nd = len(kernel)
        self.nd = nd
        self.ins, self.ks, self.outs = tuple(in_spatial), tuple(kernel), tuple(out_spatial)
        self.s = tuple(attrs.get("strides") or (1,) * nd)
        self.d = tuple(attrs.get("dilations") or (1,) * nd)
        self.p = tuple((attrs.get("pads") or (0,) * (2 * nd))[:nd])
        self.P, self.KK, self.I = prod(self.outs), prod(self.ks), prod(self.ins)

    def input_offset(self, pos: str, tap: str) -> list[str]:
        """Lines computing `off` (flat spatial input offset) and `ok` (inside the input)."""
        lines = ["int off = 0; bool ok = true;"]
        pin, tin = 1, 1
        for i in reversed(range(self.nd)):
            o = f"(({pos} / {pin}) % {self.outs[i]})"
            t = f"(({tap} / {tin}) % {self.ks[i]})"
            lines.append(f"{{ const int c = {o} * {self.s[i]} - {self.p[i]} + {t} * {self.d[i]}; "
                         f"ok = ok && c >= 0 && c < {self.ins[i]}; off += c * {prod(self.ins[i + 1:])}; }}")
            pin *= self.outs[i]
            tin *= self.ks[i]
        return lines

    def output_position(self, pos: str, tap: str) -> list[str]:
        """Lines computing `off` (flat output position whose window puts tap `tap` at input
        position `pos`) and `ok` (such an output exists)."""
        lines = ["int off = 0; bool ok = true;"]
        pin, tin = 1, 1
        for i in reversed(range(self.nd)):
            c = f"(({pos} / {pin}) % {self.ins[i]})"
            t = f"(({tap} / {tin}) % {self.ks[i]})"
            lines.append(f"{{ const int q = {c} + {self.p[i]} - {t} * {self.d[i]}; const int o = q / {self.s[i]}; "
                         f"ok = ok && q >= 0 && q % {self.s[i]} == 0 && o < {self.outs[i]}; "
                         f"off += o * {prod(self.outs[i + 1:])}; }}")
            pin *= self.ins[i]
            tin *= self.ks[i]
        return lines


def _conv_dims(node, xt, wt, out_spatial):
    """What the three convolution kernels share: groups, batch, channels in and out, channels
    per group, and the window geometry (x is the convolution's input, w its weight)."""
    a = REGISTRY[node.op].complete_attrs(dict(node.attrs))
    g = a["group"]
    nb, c = xt.shape[:2]
    oc = wt.shape[0]
    return g, nb, c, oc, c // g, oc // g, _Geometry(a, xt.shape[2:], wt.shape[2:], out_spatial)


def conv(node, type_of) -> NodeCode:
    xt, wt = type_of(node.inputs[0]), type_of(node.inputs[1])
    yt = type_of(node.outputs[0])
    g, nb, c, oc, cg, ocg, geo = _conv_dims(node, xt, wt, yt.shape[2:])
    kdim = cg * geo.KK
    params = [value_param("X", node.inputs[0], xt.dtype), value_param("W", node.inputs[1], wt.dtype)]
    if len(node.inputs) == 3:
        params.append(value_param("Bias", node.inputs[2], xt.dtype))
    params.append(value_param("Y", node.outputs[0], yt.dtype, output=True))
    load_a = f"return {RENDERER.load('W', f'(b * {ocg} + m) * {kdim} + k', wt.dtype)};"
    load_b = "\n".join([f"const int nb = n / {geo.P}, p = n % {geo.P}, ch = k / {geo.KK}, t = k % {geo.KK};",
                        *geo.input_offset("p", "t"),
                        f"return ok ? {RENDERER.load('X', f'(long long)(nb * {c} + b * {cg} + ch) * {geo.I} + off', xt.dtype)} : 0;"])
    bias = f" + {RENDERER.load('Bias', f'b * {ocg} + m', xt.dtype)}" if len(node.inputs) == 3 else ""
    store = "\n".join([f"const int nb = n / {geo.P}, p = n % {geo.P};",
                       RENDERER.store("Y", f"(long long)(nb * {oc} + b * {ocg} + m) * {geo.P} + p", f"v{bias}", yt.dtype)])
    return NodeCode(node.name, node.op, [gemm_kernel("conv", params, yt.dtype, g, ocg, nb * geo.P, kdim,
                                                      load_a, load_b, store)])


def conv_grad_input(node, type_of) -> NodeCode:
    gt, wt = type_of(node.inputs[0]), type_of(node.inputs[1])
    xt = type_of(node.outputs[0])
    g, nb, c, oc, cg, ocg, geo = _conv_dims(node, xt, wt, gt.shape[2:])
    params = [value_param("G", node.inputs[0], gt.dtype), value_param("W", node.inputs[1], wt.dtype),
              value_param("DX", node.outputs[0], xt.dtype, output=True)]
    load_a = "\n".join([f"const int o = k / {geo.KK}, t = k % {geo.KK};",
                        f"return {RENDERER.load('W', f'((b * {ocg} + o) * {cg} + m) * {geo.KK} + t', wt.dtype)};"])
    load_b = "\n".join([f"const int nb = n / {geo.I}, p = n % {geo.I}, o = k / {geo.KK}, t = k % {geo.KK};",
                        *geo.output_position("p", "t"),
                        f"return ok ? {RENDERER.load('G', f'(long long)(nb * {oc} + b * {ocg} + o) * {geo.P} + off', gt.dtype)} : 0;"])
    store = "\n".join([f"const int nb = n / {geo.I}, p = n % {geo.I};",
                       RENDERER.store("DX", f"(long long)(nb * {c} + b * {cg} + m) * {geo.I} + p", "v", xt.dtype)])
    return NodeCode(node.name, node.op, [gemm_kernel("conv_dx", params, xt.dtype, g, cg, nb * geo.I,
                                                      ocg * geo.KK, load_a, load_b, store)])


def conv_grad_weight(node, type_of) -> NodeCode:
    from .layout import fill_kernel

    xt, gt = type_of(node.inputs[0]), type_of(node.inputs[1])
    wt = type_of(node.outputs[0])
    g, nb, c, oc, cg, ocg, geo = _conv_dims(node, xt, wt, gt.shape[2:])
    kdim = nb * geo.P
    params = [value_param("X", node.inputs[0], xt.dtype), value_param("G", node.inputs[1], gt.dtype),
              value_param("DW", node.outputs[0], wt.dtype, output=True)]
    load_a = "\n".join([f"const int nb = k / {geo.P}, p = k % {geo.P};",
                        f"return {RENDERER.load('G', f'(long long)(nb * {oc} + b * {ocg} + m) * {geo.P} + p', gt.dtype)};"])
    load_b = "\n".join([f"const int nb = k / {geo.P}, p = k % {geo.P}, ch = n / {geo.KK}, t = n % {geo.KK};",
                        *geo.input_offset("p", "t"),
                        f"return ok ? {RENDERER.load('X', f'(long long)(nb * {c} + b * {cg} + ch) * {geo.I} + off', xt.dtype)} : 0;"])
    tiles = -(-ocg // BM) * -(-(cg * geo.KK) // BN) * g
    splits = max(1, min(kdim // (4 * BK), 256 // tiles if tiles < 256 else 1))
    kernels = []
    dst = f"(b * {ocg} + m) * {cg * geo.KK} + n"
    if splits > 1:
        kernels.append(fill_kernel(value_param("DW", node.outputs[0], wt.dtype, output=True), wt.numel, wt.dtype, 0))
        store = f"atomic_add(DW + {dst}, v);"
    else:
        store = RENDERER.store("DW", dst, "v", wt.dtype)
    kernels.append(gemm_kernel("conv_dw", params, wt.dtype, g, ocg, cg * geo.KK, kdim, load_a, load_b,
                               store, splits))
    return NodeCode(node.name, node.op, kernels)
