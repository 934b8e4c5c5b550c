"""Convolution and its two gradients for the C runtime: im2col into per-thread scratch and one
single-threaded BLAS GEMM per image, group and column block, spread over the cores by OpenMP
(col2im for the input gradient); depthwise convolutions as direct loops, 1x1 ones straight from
the image. 1-D convolutions run as 2-D ones over images of height 1; other ranks run on NumPy."""
from __future__ import annotations

from ...ops._window import _spatial_attrs
from ...ops.registry import REGISTRY
from ..cuda.kernel import Kernel, Param, make_kernel, value_param
from .renderer import RENDERER, threads

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

    def walk(self, image: str, inside: str, outside: str = "") -> list[str]:
        """Lines visiting columns [j0, j0 + nw) of image t, group grp, a row r and an output row at
        a time: `cols[cbase + ow]` is the column element, `plane[base + ow * sw]` the input pixel
        it reads (`image` points `plane` at channel ci). `inside` runs where that pixel is in the
        image, `outside` (the zero padding) elsewhere; no per-element bounds test."""
        sw = self.sw
        return [f"for (long long r = 0; r < {self.rows}; ++r) {{",
                f"  const long long ci = r / {self.kh * self.kw}, ki = r / {self.kw} % {self.kh}, "
                f"kj = r % {self.kw}, off = kj * {self.dw} - {self.pw};",
                f"  {image}",
                "  for (long long p = j0; p < j0 + nw;) {",
                f"    const long long oh = p / {self.wo}, ow0 = p % {self.wo}, left = nw - (p - j0);",
                f"    const long long ow1 = ow0 + left < {self.wo} ? ow0 + left : {self.wo};",
                f"    const long long ih = oh * {self.sh} - {self.ph} + ki * {self.dh};",
                f"    const long long cbase = r * nw + (p - j0) - ow0, base = ih * {self.w} + off;",
                f"    long long lo = off >= 0 ? 0 : (-off + {sw - 1}) / {sw};",
                f"    long long hi = {self.w} - off <= 0 ? 0 : ({self.w} - off + {sw - 1}) / {sw};",
                f"    if (ih < 0 || ih >= {self.h}) lo = hi = ow0;",
                "    lo = lo < ow0 ? ow0 : lo > ow1 ? ow1 : lo;",
                "    hi = hi < lo ? lo : hi > ow1 ? ow1 : hi;",
                *([f"    for (long long ow = ow0; ow < lo; ++ow) {outside}",
                   f"    for (long long ow = hi; ow < ow1; ++ow) {outside}"] if outside else []),
                f"    for (long long ow = lo; ow < hi; ++ow) {inside}",
                "    p += ow1 - ow0;", "  }", "}"]

    @property
    def pointwise(self) -> bool:
        """A 1x1 kernel reading every pixel once, in order (no stride, padding or dilation)."""
        return (self.kh, self.kw, self.sh, self.sw, self.ph, self.pw) == (1, 1, 1, 1, 0, 0) and (
            self.ho, self.wo) == (self.h, self.w)

    def blocks(self, threads: int) -> int:
        """Column blocks per image: one when the images and groups keep every thread busy."""
        return 1 if self.n * self.g >= threads else threads

    def units(self, threads: int) -> tuple[int, int, list[str]]:
        """(blocks, block width, lines opening the parallel loop over (image, group, block)
        units that set t, grp, and the unit's columns [j0, j0 + nw))."""
        blocks = self.blocks(threads)
        bw = -(-self.npos // blocks)
        return blocks, bw, [
            f"#pragma omp parallel for num_threads({threads}) schedule(static)",
            f"for (long long u = 0; u < {self.n * self.g * blocks}; ++u) {{",
            f"  const long long t = u / {self.g * blocks}, grp = u / {blocks} % {self.g}, j0 = u % {blocks} * {bw};",
            f"  const long long nw = j0 + {bw} < {self.npos} ? {bw} : {self.npos} - j0;",
            "  if (nw <= 0) continue;"]


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


def _scratch(dtype, i: int = 0, name: str = "scratch") -> Param:
    return Param(name, "scratch", i, dtype, const=False)


def _plane(g: Geometry, x: str, ct: str) -> str:
    return f"{ct}* plane = {x} + (t * {g.c} + grp * {g.cg} + ci) * {g.h * g.w};"


def _im2col(g: Geometry, ct: str) -> list[str]:
    copy, zero = f"cols[cbase + ow] = plane[base + ow * {g.sw}];", f"cols[cbase + ow] = ({ct})0;"
    return ["  " + ln for ln in g.walk(_plane(g, "x", "const " + ct), copy, zero)]


def depthwise(node, type_of, g: Geometry) -> tuple[list[Kernel], list[int]]:
    """A convolution whose groups each see one input channel (MobileNet's, EfficientNet's) as
    direct loops: per output row, each tap adds a weighted input row, clipped to the image once
    per row and tap so the inner loop over the row vectorises. No GEMM, no scratch."""
    x, w, y = node.inputs[0], node.inputs[1], node.outputs[0]
    yt = type_of(y)
    ct = RENDERER.ctype(yt.dtype)
    bias = len(node.inputs) > 2
    params = [value_param("x", x, type_of(x).dtype), value_param("w", w, type_of(w).dtype),
              *([value_param("b", node.inputs[2], yt.dtype)] if bias else []),
              value_param("y", y, yt.dtype, output=True)]
    lines = [f"#pragma omp parallel for num_threads({threads()}) schedule(static)",
             f"for (long long pl = 0; pl < {g.n * g.m}; ++pl) {{",
             f"  const long long t = pl / {g.m}, o = pl % {g.m};",
             f"  const {ct}* xp = x + (t * {g.c} + o / {g.mg}) * {g.h * g.w};",
             f"  const {ct}* wp = w + o * {g.kh * g.kw};",
             f"  for (long long oh = 0; oh < {g.ho}; ++oh) {{",
             f"    {ct}* yrow = y + pl * {g.npos} + oh * {g.wo};",
             f"    for (long long ow = 0; ow < {g.wo}; ++ow) yrow[ow] = {'b[o]' if bias else f'({ct})0'};",
             f"    for (long long ki = 0; ki < {g.kh}; ++ki) {{",
             f"      const long long ih = oh * {g.sh} - {g.ph} + ki * {g.dh};",
             f"      if (ih < 0 || ih >= {g.h}) continue;",
             f"      const {ct}* xrow = xp + ih * {g.w};",
             f"      for (long long kj = 0; kj < {g.kw}; ++kj) {{",
             f"        const long long off = kj * {g.dw} - {g.pw};",
             f"        const long long lo = off >= 0 ? 0 : (-off + {g.sw - 1}) / {g.sw};",
             f"        long long hi = {g.w} - off <= 0 ? 0 : ({g.w} - off + {g.sw - 1}) / {g.sw};",
             f"        hi = hi < {g.wo} ? hi : {g.wo};",
             f"        const {ct} wv = wp[ki * {g.kw} + kj];",
             f"        for (long long ow = lo; ow < hi; ++ow) yrow[ow] += xrow[ow * {g.sw} + off] * wv;",
             "      }", "    }", "  }", "}"]
    return [make_kernel("depthwise_conv", params, lines, 1, renderer=RENDERER)], []


def conv(node, type_of) -> tuple[list[Kernel], list[int]]:
    """Each thread takes (image, group, column block) units: im2col of the block into its own
    scratch, then one GEMM into y's columns (batch 1 splits the columns, so every core works)."""
    x, w, y = node.inputs[0], node.inputs[1], node.outputs[0]
    xt, wt, yt = type_of(x), type_of(w), type_of(y)
    g = _geometry(node, type_of, xt.shape, wt.shape)
    if g.cg == 1 and g.g > 1:
        return depthwise(node, type_of, g)
    s, ct, p = GEMM[yt.dtype.name], RENDERER.ctype(yt.dtype), threads()
    bias = len(node.inputs) > 2
    params = [value_param("x", x, xt.dtype), value_param("w", w, wt.dtype)]
    if bias:
        params.append(value_param("b", node.inputs[2], xt.dtype))
    params += [value_param("y", y, yt.dtype, output=True), _scratch(yt.dtype)]
    _, bw, lines = g.units(p)
    out = f"y + (t * {g.m} + grp * {g.mg}) * {g.npos} + j0"
    if g.pointwise:  # the image is its own column matrix
        cols, ld, scratch = f"x + (t * {g.c} + grp * {g.cg}) * {g.npos} + j0", g.npos, 0
    else:
        lines += [f"  {ct}* cols = scratch + omp_get_thread_num() * {g.rows * bw};", *_im2col(g, ct)]
        cols, ld, scratch = "cols", "nw", p * g.rows * bw * yt.dtype.itemsize
    lines.append(f"  scipy_cblas_{s}gemm(101, 111, 111, {g.mg}, nw, {g.rows}, 1, w + grp * {g.mg * g.rows}, "
                 f"{g.rows}, {cols}, {ld}, 0, {out}, {g.npos});")
    if bias:
        lines += [f"  for (long long o = 0; o < {g.mg}; ++o)",
                  f"    for (long long q = 0; q < nw; ++q) ({out})[o * {g.npos} + q] += b[grp * {g.mg} + o];"]
    lines.append("}")
    return [make_kernel("conv", params, lines, 1, renderer=RENDERER)], [scratch]


def conv_grad_weight(node, type_of) -> tuple[list[Kernel], list[int]]:
    """dW[grp] = sum over images of dY[t, grp] (mg x npos) @ cols(x[t])^T (npos x rows), each
    thread into its own partial dW over its units, the partials summed at the end."""
    x, dy, dw = node.inputs[0], node.inputs[1], node.outputs[0]
    xt, dwt = type_of(x), type_of(dw)
    g = _geometry(node, type_of, xt.shape, dwt.shape)
    s, ct, p = GEMM[dwt.dtype.name], RENDERER.ctype(dwt.dtype), threads()
    params = [value_param("x", x, xt.dtype), value_param("dy", dy, xt.dtype),
              value_param("dw", dw, dwt.dtype, output=True), _scratch(dwt.dtype), _scratch(dwt.dtype, 1, "part")]
    _, bw, units = g.units(p)
    lines = [f"memset(part, 0, {p * dwt.nbytes});", *units,
             f"  {ct}* cols = scratch + omp_get_thread_num() * {g.rows * bw};", *_im2col(g, ct),
             f"  scipy_cblas_{s}gemm(101, 111, 112, {g.mg}, {g.rows}, nw, 1, "
             f"dy + (t * {g.m} + grp * {g.mg}) * {g.npos} + j0, {g.npos}, cols, nw, 1, "
             f"part + omp_get_thread_num() * {dwt.numel} + grp * {g.mg * g.rows}, {g.rows});", "}",
             f"for (long long i = 0; i < {dwt.numel}; ++i) {{", f"  {ct} acc = part[i];",
             f"  for (int k = 1; k < {p}; ++k) acc += part[k * {dwt.numel} + i];", "  dw[i] = acc;", "}"]
    return ([make_kernel("conv_dw", params, lines, 1, renderer=RENDERER)],
            [p * g.rows * bw * dwt.dtype.itemsize, p * dwt.nbytes])


def conv_grad_input(node, type_of) -> tuple[list[Kernel], list[int]]:
    """cols = W[grp]^T (rows x mg) @ dY[t, grp] (mg x npos), then added back into dX (col2im);
    threads take whole images, whose dX they alone write."""
    dy, w, dx = node.inputs[0], node.inputs[1], node.outputs[0]
    wt, dxt = type_of(w), type_of(dx)
    g = _geometry(node, type_of, dxt.shape, wt.shape)
    s, ct, p = GEMM[dxt.dtype.name], RENDERER.ctype(dxt.dtype), threads()
    params = [value_param("dy", dy, dxt.dtype), value_param("w", w, wt.dtype),
              value_param("dx", dx, dxt.dtype, output=True), _scratch(dxt.dtype)]
    image = g.c * g.h * g.w
    lines = [f"#pragma omp parallel for num_threads({p}) schedule(static)",
             f"for (long long t = 0; t < {g.n}; ++t) {{",
             f"  {ct}* cols = scratch + omp_get_thread_num() * {g.rows * g.npos};",
             f"  const long long j0 = 0, nw = {g.npos};",
             f"  memset(dx + t * {image}, 0, {image * dxt.dtype.itemsize});",
             f"  for (long long grp = 0; grp < {g.g}; ++grp) {{",
             f"    scipy_cblas_{s}gemm(101, 112, 111, {g.rows}, {g.npos}, {g.mg}, 1, w + grp * {g.mg * g.rows}, "
             f"{g.rows}, dy + (t * {g.m} + grp * {g.mg}) * {g.npos}, {g.npos}, 0, cols, {g.npos});",
             *["    " + ln for ln in g.walk(_plane(g, "dx", ct), f"plane[base + ow * {g.sw}] += cols[cbase + ow];")],
             "  }", "}"]
    return [make_kernel("conv_dx", params, lines, 1, renderer=RENDERER)], [p * g.rows * g.npos * dxt.dtype.itemsize]


GENERATORS = {"Conv": conv, "graphc.ConvGradWeight": conv_grad_weight, "graphc.ConvGradInput": conv_grad_input}
