"""Softmax, batch norm, the NLL loss and 2-D max pooling for the C runtime: the CUDA forms (cuda/kernels/nn.py)
are built from warps and block reductions; on one CPU thread the same maths is plain loops
over rows or channels, parallel across them where the work is large enough."""
from __future__ import annotations

from math import prod
from types import SimpleNamespace

from ... import dtypes
from ...ops.registry import REGISTRY
from ..cuda.codegen import reduction_kernels
from ..cuda.kernel import make_kernel, rendering, value_param
from ..cuda.kernels import GENERATORS as CUDA
from ..cuda.kernels.nn import nll_terms, softmax_rows
from .renderer import RENDERER

R = RENDERER


def _attrs(node):
    return REGISTRY[node.op].complete_attrs(dict(node.attrs))


def _kernel(tag, params, lines, scratch=()):
    return [make_kernel(tag, params, lines, 1, renderer=R)], list(scratch)


def softmax(node, type_of):
    """Per row along `axis`: the max, the sum of exponentials, then the normalised write."""
    xt, outer, length, inner = softmax_rows(node, type_of)
    log = node.op == "LogSoftmax"
    ct = R.compute_type(xt.dtype)
    at = f"base + l * {inner}"
    x = R.load("x", at, xt.dtype)
    lines = [f"{R.loop_prefix(xt.numel, simd=False)}for (long long row = 0; row < {outer * inner}; ++row) {{",
             f"  const long long base = (row / {inner}) * {length * inner} + row % {inner};",
             f"  {ct} m = -INFINITY, s = 0;",
             f"  for (long long l = 0; l < {length}; ++l) m = max(m, {x});",
             f"  for (long long l = 0; l < {length}; ++l) s += exp({x} - m);",
             f"  const {ct} ls = log(s), inv = ({ct})1 / s;",
             f"  for (long long l = 0; l < {length}; ++l) "
             + R.store("y", at, f"{x} - m - ls" if log else f"exp({x} - m) * inv", xt.dtype), "}"]
    params = [value_param("x", node.inputs[0], xt.dtype), value_param("y", node.outputs[0], xt.dtype, output=True)]
    return _kernel("log_softmax" if log else "softmax", params, lines)


def batch_norm(node, type_of):
    """Per channel: batch mean and variance in two passes (training) or the running ones, then
    the affine normalisation; returns the batch mean and the unbiased variance as the NumPy op."""
    a = _attrs(node)
    xt = type_of(node.inputs[0])
    n, c, s = xt.shape[0], xt.shape[1], prod(xt.shape[2:])
    count = n * s
    acc = R.acc_type(xt.dtype)
    names = ("x", "scale", "bias", "run_mean", "run_var")
    params = [value_param(nm, v, type_of(v).dtype) for nm, v in zip(names, node.inputs)]
    params += [value_param(nm, v, type_of(v).dtype, output=True)
               for nm, v in zip(("y", "mean_out", "var_out"), node.outputs)]
    each = [f"for (long long t = 0; t < {n}; ++t) for (long long p = 0; p < {s}; ++p) {{",
            f"  const long long i = (t * {c} + ch) * {s} + p;"]
    x = R.load("x", "i", xt.dtype)
    lines = [f"{R.loop_prefix(xt.numel, simd=False)}for (long long ch = 0; ch < {c}; ++ch) {{"]
    if a["training_mode"]:
        unbiased = f"var * {count / (count - 1)!r}" if count > 1 else "NAN"
        lines += [f"  {acc} mu = 0, var = 0;",
                  *["  " + ln for ln in each], f"    mu += {x};", "  }", f"  mu /= {count};",
                  *["  " + ln for ln in each], f"    const {acc} d = {x} - mu; var += d * d;", "  }",
                  f"  var /= {count};",
                  "  " + R.store("mean_out", "ch", "mu", xt.dtype), "  " + R.store("var_out", "ch", unbiased, xt.dtype)]
    else:
        lines += [f"  const {acc} mu = {R.load('run_mean', 'ch', xt.dtype)}, var = {R.load('run_var', 'ch', xt.dtype)};",
                  "  " + R.store("mean_out", "ch", "mu", xt.dtype), "  " + R.store("var_out", "ch", "var", xt.dtype)]
    lines += [f"  const {acc} k = {R.load('scale', 'ch', xt.dtype)} / sqrt(var + ({acc}){a['epsilon']!r}), "
              f"b = {R.load('bias', 'ch', xt.dtype)};",
              *["  " + ln for ln in each], "    " + R.store("y", "i", f"({x} - mu) * k + b", xt.dtype), "  }", "}"]
    return _kernel("batch_norm", params, lines)


def _nll_params(node, type_of, first: str):
    params = [value_param(first, node.inputs[0], type_of(node.inputs[0]).dtype),
              value_param("target", node.inputs[1], type_of(node.inputs[1]).dtype)]
    if len(node.inputs) == 3:
        params.append(value_param("weight", node.inputs[2], type_of(node.inputs[2]).dtype))
    return params


def _terms(node, type_of, classes):
    a = _attrs(node)
    return ["  " + t for t in nll_terms(node, type_of, node.inputs[1], "j", classes, len(node.inputs) == 3,
                                        a["ignore_index"])]


def nll(node, type_of):
    a = _attrs(node)
    xt, out = type_of(node.inputs[0]), type_of(node.outputs[0])
    classes, d, n = xt.shape[1], prod(xt.shape[2:]), type_of(node.inputs[1]).numel
    params = _nll_params(node, type_of, "x") + [value_param("out", node.outputs[0], out.dtype, output=True)]
    xv = R.load("x", f"((j / {d}) * {classes} + t) * {d} + j % {d}", xt.dtype)
    if a["reduction"] == "none":
        lines = [f"for (long long j = 0; j < {n}; ++j) {{", *_terms(node, type_of, classes),
                 "  " + R.store("out", "j", f"-(double){xv} * w", out.dtype), "}"]
    else:
        lines = ["double loss = 0, total = 0;", f"for (long long j = 0; j < {n}; ++j) {{",
                 *_terms(node, type_of, classes), f"  loss += -(double){xv} * w; total += w;", "}",
                 R.store("out", "0", "loss / total" if a["reduction"] == "mean" else "loss", out.dtype)]
    return _kernel("nll", params, lines)


def nll_grad(node, type_of):
    a = _attrs(node)
    gt, out = type_of(node.inputs[0]), type_of(node.outputs[0])
    classes, d, n = a["n_classes"], prod(out.shape[2:]), type_of(node.inputs[1]).numel
    params = _nll_params(node, type_of, "g") + [value_param("out", node.outputs[0], out.dtype, output=True)]
    lines = [f"memset(out, 0, {out.nbytes});"]
    scale = ""
    if a["reduction"] == "mean":
        lines += ["double total = 0;", f"for (long long j = 0; j < {n}; ++j) {{", *_terms(node, type_of, classes),
                  "  total += w;", "}"]
        scale = " / total"
    gv = R.load("g", "j" if a["reduction"] == "none" else "0", gt.dtype)
    lines += [f"for (long long j = 0; j < {n}; ++j) {{", *_terms(node, type_of, classes),
              f"  if (keep) out[((j / {d}) * {classes} + t) * {d} + j % {d}] = -(double){gv}{scale} * w;", "}"]
    return _kernel("nll_grad", params, lines)


def global_average_pool(node, type_of):
    """ReduceMean over the spatial axes, from the shared reduction generator."""
    nd = len(type_of(node.inputs[0]).shape)
    red = SimpleNamespace(name=node.name, op="ReduceMean", inputs=node.inputs, outputs=node.outputs,
                          attrs={"axes": tuple(range(2, nd)), "keepdims": True})
    return reduction_kernels("ReduceMean", type_of, {}, [], red, [], list(node.outputs), R, 1)


def _window_range(v: str, start: str, k: int, d: int, n: int) -> str:
    """C declaring {v}_lo/{v}_hi: the taps t of a window whose first position is `start` (step
    d) that land inside [0, n)."""
    return (f"const long long {v}_lo = {start} >= 0 ? 0 : (-{start} + {d - 1}) / {d}, "
            f"{v}_hi = {n} - {start} <= 0 ? 0 : ({n} - {start} + {d - 1}) / {d} < {k} ? "
            f"({n} - {start} + {d - 1}) / {d} : {k};")


def max_pool(node, type_of):
    """2-D max pooling a row of outputs at a time, each window clipped to the image up front
    (the per-output CUDA form tests every tap); ties and NaN as the NumPy kernel. Other ranks
    take the CUDA form as serial loops."""
    xt, yt = type_of(node.inputs[0]), type_of(node.outputs[0])
    if len(xt.shape) != 4:
        with rendering(R):
            return CUDA[node.op](node, type_of).kernels, []
    a = _attrs(node)
    (kh, kw), (sh, sw) = a["kernel_shape"], tuple(a.get("strides") or (1, 1))
    pads, (dh, dw) = tuple(a.get("pads") or (0,) * 4), tuple(a.get("dilations") or (1, 1))
    _, _, h, w = xt.shape
    _, _, ho, wo = yt.shape
    ct = R.compute_type(xt.dtype)
    _taps = _max_taps(R.load("x", "at", xt.dtype), ct, dh, dw, w)
    params = [value_param("x", node.inputs[0], xt.dtype), value_param("y", node.outputs[0], yt.dtype, output=True),
              value_param("ind", node.outputs[1], dtypes.int64, output=True)]
    lines = [f"{R.loop_prefix(xt.numel, simd=False)}for (long long row = 0; row < {yt.numel // wo}; ++row) {{",
             f"  const long long plane = row / {ho} * {h * w}, h0 = row % {ho} * {sh} - {pads[0]};",
             "  " + _window_range("ki", "h0", kh, dh, h),
             f"  for (long long ow = 0; ow < {wo}; ++ow) {{",
             f"    const long long w0 = ow * {sw} - {pads[1]};",
             "    " + _window_range("kj", "w0", kw, dw, w),
             f"    {ct} best = -INFINITY;",
             f"    long long arg = plane + (h0 + (ki_lo < {kh - 1} ? ki_lo : {kh - 1}) * {dh}) * {w} + w0 + "
             f"(kj_lo < {kw - 1} ? kj_lo : {kw - 1}) * {dw};",
             f"    if (ki_lo == 0 && ki_hi == {kh} && kj_lo == 0 && kj_hi == {kw}) {{",  # inside: fixed trips
             *_taps("0", str(kh), "0", str(kw)), "    } else {", *_taps("ki_lo", "ki_hi", "kj_lo", "kj_hi"), "    }",
             "    " + R.store("y", f"row * {wo} + ow", "best", yt.dtype), f"    ind[row * {wo} + ow] = arg;",
             "  }", "}"]
    return _kernel("max_pool2d", params, lines)


def _max_taps(x: str, ct: str, dh: int, dw: int, w: int):
    def taps(ki0, ki1, kj0, kj1):
        return [f"      for (long long ki = {ki0}; ki < {ki1}; ++ki)",
                f"        for (long long kj = {kj0}; kj < {kj1}; ++kj) {{",
                f"          const long long at = plane + (h0 + ki * {dh}) * {w} + w0 + kj * {dw};",
                f"          const {ct} v = {x};",
                "          const bool take = (v > best) | (v != v);",
                "          best = take ? v : best;", "          arg = take ? at : arg;", "        }"]
    return taps


GENERATORS = {"MaxPool": max_pool, "Softmax": softmax, "LogSoftmax": softmax, "BatchNormalization": batch_norm,
              "NegativeLogLikelihoodLoss": nll, "graphc.NllLossGrad": nll_grad,
              "GlobalAveragePool": global_average_pool}

__all__ = ["GENERATORS"]
