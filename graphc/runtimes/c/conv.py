"""Convolution and its two gradients for the C runtime: im2col into the node's scratch and one
BLAS GEMM per image and group (col2im for the input gradient). 1-D convolutions run as 2-D ones
over images of height 1; other ranks run on NumPy."""
from __future__ import annotations

from ...ops._window import _spatial_attrs
from ...ops.registry import REGISTRY
from ..cuda.kernel import Kernel, Param, make_kernel, value_param
from .renderer import RENDERER

GEMM = {"float32": "s", "float64": "d"}


class Geometry:
    """Sizes of a 2-D convolution: x (n, c, h, w), weight (m, c/g, kh, kw), y (n, m, ho, wo)."""

    def __init__(self, x_shape, w_shape, strides, pads, dilations, group):
        (self.sh, self.sw), (self.dh, self.dw) = strides, dilations
        self.ph, self.pw = pads[0], pads[1]
        self.n, self.c, self.h, self.w = x_shape
        self.m, self.cg, self.kh, self.kw = w_shape
        self.g = group
        self.mg = self.m // self.g
        self.ho = (self.h + pads[0] + pads[2] - self.dh * (self.kh - 1) - 1) // self.sh + 1
        self.wo = (self.w + pads[1] + pads[3] - self.dw * (self.kw - 1) - 1) // self.sw + 1
        self.rows, self.npos = self.cg * self.kh * self.kw, self.ho * self.wo

    def walk(self, body: list[str]) -> list[str]:
        """Lines looping over the columns' (row, position) with `ih`, `iw` the input pixel and
        `inside` whether it is inside the (unpadded) image."""
        return [f"for (long long r = 0; r < {self.rows}; ++r) {{",
                f"  const long long ci = r / {self.kh * self.kw}, ki = r / {self.kw} % {self.kh}, kj = r % {self.kw};",
                f"  for (long long oh = 0; oh < {self.ho}; ++oh) {{",
                f"    const long long ih = oh * {self.sh} - {self.ph} + ki * {self.dh};",
                f"    for (long long ow = 0; ow < {self.wo}; ++ow) {{",
                f"      const long long iw = ow * {self.sw} - {self.pw} + kj * {self.dw};",
                f"      const bool inside = ih >= 0 && ih < {self.h} && iw >= 0 && iw < {self.w};",
                *["      " + line for line in body], "    }", "  }", "}"]

    @property
    def scratch(self) -> int:
        return self.rows * self.npos


def _geometry(node, type_of, x_shape, w_shape):
    attrs = REGISTRY[node.op].complete_attrs(dict(node.attrs))
    nd = len(w_shape) - 2
    if nd not in (1, 2):
        raise NotImplementedError("only 1-D and 2-D convolutions have C code")
    strides, pads, dilations = _spatial_attrs(nd, attrs["strides"], attrs["pads"], attrs["dilations"])
    if nd == 1:
        x_shape, w_shape = (*x_shape[:2], 1, x_shape[2]), (*w_shape[:2], 1, w_shape[2])
        strides, pads, dilations = (1, *strides), (0, pads[0], 0, pads[1]), (1, *dilations)
    return Geometry(x_shape, w_shape, strides, pads, dilations, attrs["group"])


def _cols(dtype) -> Param:
    return Param("cols", "scratch", 0, dtype, const=False)


def _image(g: Geometry) -> str:
    return f"x + (t * {g.c} + grp * {g.cg} + ci) * {g.h * g.w}"


def conv(node, type_of) -> tuple[list[Kernel], list[int]]:
    x, w, y = node.inputs[0], node.inputs[1], node.outputs[0]
    xt, wt, yt = type_of(x), type_of(w), type_of(y)
    g = _geometry(node, type_of, xt.shape, wt.shape)
    s, ct = GEMM[yt.dtype.name], RENDERER.ctype(yt.dtype)
    params = [value_param("x", x, xt.dtype), value_param("w", w, wt.dtype)]
    if len(node.inputs) > 2:
        params.append(value_param("b", node.inputs[2], xt.dtype))
    params += [value_param("y", y, yt.dtype, output=True), _cols(yt.dtype)]
    lines = [f"for (long long t = 0; t < {g.n}; ++t) {{", f"  for (long long grp = 0; grp < {g.g}; ++grp) {{",
             *["    " + ln for ln in g.walk([f"cols[r * {g.npos} + oh * {g.wo} + ow] = inside ? "
                                            f"({_image(g)})[ih * {g.w} + iw] : ({ct})0;"])],
             f"    scipy_cblas_{s}gemm(101, 111, 111, {g.mg}, {g.npos}, {g.rows}, 1, w + grp * {g.mg * g.rows}, "
             f"{g.rows}, cols, {g.npos}, 0, y + (t * {g.m} + grp * {g.mg}) * {g.npos}, {g.npos});", "  }"]
    if len(node.inputs) > 2:
        lines += [f"  for (long long o = 0; o < {g.m}; ++o)",
                  f"    for (long long p = 0; p < {g.npos}; ++p) y[(t * {g.m} + o) * {g.npos} + p] += b[o];"]
    lines.append("}")
    return [make_kernel("conv", params, lines, 1, renderer=RENDERER)], [g.scratch * yt.dtype.itemsize]


def conv_grad_weight(node, type_of) -> tuple[list[Kernel], list[int]]:
    """dW[grp] = sum over images of dY[t, grp] (mg x npos) @ cols(x[t])^T (npos x rows)."""
    x, dy, dw = node.inputs[0], node.inputs[1], node.outputs[0]
    xt, dwt = type_of(x), type_of(dw)
    g = _geometry(node, type_of, xt.shape, dwt.shape)
    s, ct = GEMM[dwt.dtype.name], RENDERER.ctype(dwt.dtype)
    params = [value_param("x", x, xt.dtype), value_param("dy", dy, xt.dtype),
              value_param("dw", dw, dwt.dtype, output=True), _cols(dwt.dtype)]
    lines = [f"for (long long t = 0; t < {g.n}; ++t) {{", f"  for (long long grp = 0; grp < {g.g}; ++grp) {{",
             *["    " + ln for ln in g.walk([f"cols[r * {g.npos} + oh * {g.wo} + ow] = inside ? "
                                            f"({_image(g)})[ih * {g.w} + iw] : ({ct})0;"])],
             f"    scipy_cblas_{s}gemm(101, 111, 112, {g.mg}, {g.rows}, {g.npos}, 1, "
             f"dy + (t * {g.m} + grp * {g.mg}) * {g.npos}, {g.npos}, cols, {g.npos}, t ? 1 : 0, "
             f"dw + grp * {g.mg * g.rows}, {g.rows});", "  }", "}"]
    return [make_kernel("conv_dw", params, lines, 1, renderer=RENDERER)], [g.scratch * dwt.dtype.itemsize]


def conv_grad_input(node, type_of) -> tuple[list[Kernel], list[int]]:
    """cols = W[grp]^T (rows x mg) @ dY[t, grp] (mg x npos), then added back into dX (col2im)."""
    dy, w, dx = node.inputs[0], node.inputs[1], node.outputs[0]
    wt, dxt = type_of(w), type_of(dx)
    g = _geometry(node, type_of, dxt.shape, wt.shape)
    s = GEMM[dxt.dtype.name]
    params = [value_param("dy", dy, dxt.dtype), value_param("w", w, wt.dtype),
              value_param("dx", dx, dxt.dtype, output=True), _cols(dxt.dtype)]
    image = f"dx + (t * {g.c} + grp * {g.cg} + ci) * {g.h * g.w}"
    lines = [f"memset(dx, 0, {dxt.nbytes});",
             f"for (long long t = 0; t < {g.n}; ++t) {{", f"  for (long long grp = 0; grp < {g.g}; ++grp) {{",
             f"    scipy_cblas_{s}gemm(101, 112, 111, {g.rows}, {g.npos}, {g.mg}, 1, w + grp * {g.mg * g.rows}, "
             f"{g.rows}, dy + (t * {g.m} + grp * {g.mg}) * {g.npos}, {g.npos}, 0, cols, {g.npos});",
             *["    " + ln for ln in g.walk([f"if (inside) ({image})[ih * {g.w} + iw] += "
                                            f"cols[r * {g.npos} + oh * {g.wo} + ow];"])], "  }", "}"]
    return [make_kernel("conv_dx", params, lines, 1, renderer=RENDERER)], [g.scratch * dxt.dtype.itemsize]


GENERATORS = {"Conv": conv, "graphc.ConvGradWeight": conv_grad_weight, "graphc.ConvGradInput": conv_grad_input}
