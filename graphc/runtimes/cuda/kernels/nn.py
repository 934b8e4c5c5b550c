"""Neural-network ops: pooling and its gradients, softmax, dropout, batch norm, NLL loss, and
the row-wise selections (argmax/argmin, topk). Each follows the NumPy kernel's definition in
graphc/ops (divisors, tie-breaking, NaN handling) so the runtimes agree."""
from __future__ import annotations

from math import prod
from types import SimpleNamespace

from .... import dtypes
from ....ops.base import norm_axis
from ....ops.registry import REGISTRY
from ..codegen import reduction_code, team_reduce
from ..kernel import (RENDERER, THREADS, NodeCode, Param, blocks_for, coords, grid_loop, index_type,
                      make_kernel, value_param)



def _window_sum(bounds, ins, dtype) -> list[str]:
    """Nested loops adding x[plane + position] over a pooling window into `acc`; bounds gives
    each spatial dimension's (first, end) expressions."""
    lines, indent = [], ""
    for d, (lo, hi) in enumerate(bounds):
        lines.append(f"{indent}for (int p{d} = {lo}; p{d} < {hi}; ++p{d}) {{")
        indent += "  "
    pos = "p0"
    for d in range(1, len(bounds)):
        pos = f"({pos}) * {ins[d]} + p{d}"
    lines.append(f"{indent}acc += {RENDERER.load('x', f'plane + {pos}', dtype)};")
    return lines + ["  " * d + "}" for d in reversed(range(len(bounds)))]

def _attrs(node):
    return REGISTRY[node.op].complete_attrs(dict(node.attrs))


def _window(a, spatial):
    nd = len(a["kernel_shape"])
    return (tuple(a["kernel_shape"]), tuple(a.get("strides") or (1,) * nd),
            tuple((a.get("pads") or (0,) * (2 * nd))[:nd]), tuple((a.get("pads") or (0,) * (2 * nd))[nd:]),
            tuple(a.get("dilations") or (1,) * nd))


def _per_output(tag, node, type_of, body_fn, params, n, itype):
    lines = [grid_loop("i", n, itype) + " {"] + ["  " + b for b in body_fn()] + ["}"]
    return make_kernel(tag, params, lines, blocks_for(n))


def max_pool(node, type_of):
    a = _attrs(node)
    xt, yt = type_of(node.inputs[0]), type_of(node.outputs[0])
    ks, ss, pb, _, ds = _window(a, xt.shape[2:])
    ins = xt.shape[2:]
    nd, isz = len(ks), prod(ins)
    ct = RENDERER.compute_type(xt.dtype)
    itype = index_type(xt.numel, yt.numel)
    params = [value_param("x", node.inputs[0], xt.dtype), value_param("y", node.outputs[0], yt.dtype, output=True),
              value_param("ind", node.outputs[1], dtypes.int64, output=True)]

    def body():
        lines = coords("i", yt.shape, "c", itype)
        lines.append(f"const long long plane = (long long)(c0 * {xt.shape[1]} + c1) * {isz};")
        first = []
        for d in range(nd):
            lines.append(f"const int s{d} = (int)c{d + 2} * {ss[d]} - {pb[d]};")
            first.append(f"(s{d} + min(max(0, (-s{d} + {ds[d] - 1}) / {ds[d]}), {ks[d] - 1}) * {ds[d]})")
        flat = first[0]
        for d in range(1, nd):
            flat = f"({flat}) * {ins[d]} + {first[d]}"
        lines += [f"{ct} best = -INFINITY;", f"long long arg = plane + {flat};"]
        indent = ""
        for d in range(nd):
            lines.append(f"{indent}for (int t{d} = 0; t{d} < {ks[d]}; ++t{d}) {{")
            indent += "  "
            lines.append(f"{indent}const int p{d} = s{d} + t{d} * {ds[d]};")
            lines.append(f"{indent}if (p{d} < 0 || p{d} >= {ins[d]}) continue;")
        pos = "p0"
        for d in range(1, nd):
            pos = f"({pos}) * {ins[d]} + p{d}"
        lines += [f"{indent}const {ct} v = {RENDERER.load('x', f'plane + {pos}', xt.dtype)};",
                  f"{indent}const bool take = (v > best) | (v != v);",  # no short circuit: no branch
                  f"{indent}best = take ? v : best;", f"{indent}arg = take ? plane + {pos} : arg;"]
        for d in reversed(range(nd)):
            indent = indent[2:]
            lines.append(f"{indent}}}")
        lines += [RENDERER.store("y", "i", "best", yt.dtype), "ind[i] = arg;"]
        return lines

    return NodeCode(node.name, node.op, [_per_output("max_pool", node, type_of, body, params, yt.numel, itype)])


def _avg_divisor_lines(a, ins, ks, ss, pb, pe, starts) -> list[str]:
    lines = ["long long div = 1;"]
    for d, (n, k, e) in enumerate(zip(ins, ks, pe)):
        s = starts[d]
        lines.append(f"{{ const int stop = min({s} + {k}, {n + e}); "
                     + (f"div *= stop - {s}; }}" if a["count_include_pad"]
                        else f"div *= min(stop, {n}) - max({s}, 0); }}"))
    lines.append("if (div < 1) div = 1;")
    return lines


def average_pool(node, type_of):
    a = _attrs(node)
    xt, yt = type_of(node.inputs[0]), type_of(node.outputs[0])
    ks, ss, pb, pe, _ = _window(a, xt.shape[2:])
    ins, nd = xt.shape[2:], len(ks)
    ct = RENDERER.compute_type(xt.dtype)
    itype = index_type(xt.numel, yt.numel)
    params = [value_param("x", node.inputs[0], xt.dtype), value_param("y", node.outputs[0], yt.dtype, output=True)]

    def body():
        lines = coords("i", yt.shape, "c", itype)
        lines.append(f"const long long plane = (long long)(c0 * {xt.shape[1]} + c1) * {prod(ins)};")
        lines += [f"const int s{d} = (int)c{d + 2} * {ss[d]} - {pb[d]};" for d in range(nd)]
        lines.append(f"{ct} acc = 0;")
        lines += _window_sum([(f"max(s{d}, 0)", f"min(s{d} + {ks[d]}, {ins[d]})") for d in range(nd)],
                             ins, xt.dtype)
        lines += _avg_divisor_lines(a, ins, ks, ss, pb, pe, [f"s{d}" for d in range(nd)])
        lines.append(RENDERER.store("y", "i", f"acc / ({ct})div", yt.dtype))
        return lines

    return NodeCode(node.name, node.op, [_per_output("avg_pool", node, type_of, body, params, yt.numel, itype)])


def average_pool_grad(node, type_of):
    """Gather form: each input element sums the shares of the windows that cover it."""
    a = _attrs(node)
    gt, xt = type_of(node.inputs[0]), type_of(node.outputs[0])
    ks, ss, pb, pe, _ = _window(a, xt.shape[2:])
    ins, outs, nd = xt.shape[2:], gt.shape[2:], len(ks)
    ct = RENDERER.compute_type(gt.dtype)
    itype = index_type(xt.numel, gt.numel)
    params = [value_param("g", node.inputs[0], gt.dtype), value_param("dx", node.outputs[0], xt.dtype, output=True)]

    def body():
        lines = coords("i", xt.shape, "c", itype)
        lines.append(f"const long long plane = (long long)(c0 * {xt.shape[1]} + c1) * {prod(outs)};")
        lines.append(f"{ct} acc = 0;")
        indent = ""
        for d in range(nd):
            q = f"((int)c{d + 2} + {pb[d]})"
            lo = f"max(0, ({q} - {ks[d] - 1} + {ss[d] - 1}) >= 0 ? ({q} - {ks[d] - 1} + {ss[d] - 1}) / {ss[d]} : 0)"
            lines.append(f"{indent}for (int o{d} = {lo}; o{d} <= min({q} / {ss[d]}, {outs[d] - 1}); ++o{d}) {{")
            indent += "  "
            lines.append(f"{indent}const int s{d} = o{d} * {ss[d]} - {pb[d]};")
        pos = "o0"
        for d in range(1, nd):
            pos = f"({pos}) * {outs[d]} + o{d}"
        lines += [indent + line for line in _avg_divisor_lines(a, ins, ks, ss, pb, pe, [f"s{d}" for d in range(nd)])]
        lines.append(f"{indent}acc += {RENDERER.load('g', f'plane + {pos}', gt.dtype)} / ({ct})div;")
        lines += ["  " * d + "}" for d in reversed(range(nd))]
        lines.append(RENDERER.store("dx", "i", "acc", xt.dtype))
        return lines

    return NodeCode(node.name, node.op, [_per_output("avg_pool_grad", node, type_of, body, params, xt.numel, itype)])


def global_average_pool(node, type_of):
    nd = len(type_of(node.inputs[0]).shape)
    red = SimpleNamespace(name=node.name, op="ReduceMean", inputs=node.inputs, outputs=node.outputs,
                          attrs={"axes": tuple(range(2, nd)), "keepdims": True})
    code = reduction_code(red, type_of)
    code.op = node.op
    return code


def adaptive_avg_pool(node, type_of):
    xt, yt = type_of(node.inputs[0]), type_of(node.outputs[0])
    ins, outs = xt.shape[2:], yt.shape[2:]
    nd = len(ins)
    ct = RENDERER.compute_type(xt.dtype)
    itype = index_type(xt.numel, yt.numel)
    params = [value_param("x", node.inputs[0], xt.dtype), value_param("y", node.outputs[0], yt.dtype, output=True)]

    def body():
        lines = coords("i", yt.shape, "c", itype)
        lines.append(f"const long long plane = (long long)(c0 * {xt.shape[1]} + c1) * {prod(ins)};")
        lines.append(f"{ct} acc = 0;")
        for d in range(nd):
            o, n = outs[d], ins[d]
            lines.append(f"const int b{d} = (int)c{d + 2} * {n} / {o}, e{d} = ((int)c{d + 2} * {n} + {n} + {o - 1}) / {o};")
        lines += _window_sum([(f"b{d}", f"e{d}") for d in range(nd)], ins, xt.dtype)
        count = " * ".join(f"(e{d} - b{d})" for d in range(nd))
        lines.append(RENDERER.store("y", "i", f"acc / ({ct})({count})", yt.dtype))
        return lines

    return NodeCode(node.name, node.op, [_per_output("adaptive_avg_pool", node, type_of, body, params, yt.numel, itype)])


def _warp_all(kind: str, var: str) -> str:
    op = {"max": f"{var} = max({var}, {RENDERER.shuffle_xor(var, 'off')});",
          "sum": f"{var} += {RENDERER.shuffle_xor(var, 'off')};"}[kind]
    return f"for (int off = 16; off > 0; off >>= 1) {op}"


def softmax_rows(node, type_of):
    """(input type, outer, length, inner): the rows a (log-)softmax normalises, `length` long
    and `inner` apart."""
    xt = type_of(node.inputs[0])
    shape = xt.shape or (1,)
    ax = norm_axis(_attrs(node)["axis"], len(shape)) if xt.shape else 0
    return xt, prod(shape[:ax]), shape[ax], prod(shape[ax + 1:])


def softmax(node, type_of):
    """One warp per row along `axis`: max, sum of exponentials, then the normalised write."""
    xt, outer, length, inner = softmax_rows(node, type_of)
    log = node.op == "LogSoftmax"
    rows = outer * inner
    ct = RENDERER.compute_type(xt.dtype)
    itype = index_type(xt.numel)
    params = [value_param("x", node.inputs[0], xt.dtype), value_param("y", node.outputs[0], xt.dtype, output=True)]
    at = f"base + ({itype})l * {inner}"
    body = ["const int lane = threadIdx.x & 31;",
            f"for ({itype} row = ({itype})blockIdx.x * {THREADS // 32} + threadIdx.x / 32; row < {rows}; "
            f"row += ({itype})gridDim.x * {THREADS // 32}) {{",
            f"  const {itype} base = (row / {inner}) * {length * inner} + row % {inner};",
            f"  {ct} m = -INFINITY;",
            f"  for (int l = lane; l < {length}; l += 32) m = max(m, {RENDERER.load('x', at, xt.dtype)});",
            "  " + _warp_all("max", "m"),
            f"  {ct} s = 0;",
            f"  for (int l = lane; l < {length}; l += 32) s += exp({RENDERER.load('x', at, xt.dtype)} - m);",
            "  " + _warp_all("sum", "s"),
            f"  const {ct} ls = log(s);" if log else f"  const {ct} inv = ({ct})1 / s;",
            f"  for (int l = lane; l < {length}; l += 32) "
            + RENDERER.store("y", at, (f"{RENDERER.load('x', at, xt.dtype)} - m - ls" if log else
                                       f"exp({RENDERER.load('x', at, xt.dtype)} - m) * inv"), xt.dtype),
            "}"]
    return NodeCode(node.name, node.op, [make_kernel("log_softmax" if log else "softmax", params, body,
                                                      blocks_for(rows, THREADS // 32))])


def dropout(node, type_of):
    """A counter-based hash of (seed, element index) decides each element: no RNG state on the
    device, and a fresh seed per call unless the op was seeded."""
    a = _attrs(node)
    xt = type_of(node.inputs[0])
    n = xt.numel
    itype = index_type(n)
    ct = RENDERER.compute_type(xt.dtype)
    params = [value_param("x", node.inputs[0], xt.dtype), value_param("y", node.outputs[0], xt.dtype, output=True),
              value_param("mask", node.outputs[1], dtypes.bool_, output=True),
              Param("seed", "seed", a["seed"])]
    ratio = float(a["ratio"])
    if not a["training_mode"] or ratio == 0:
        body = [RENDERER.store("y", "i", RENDERER.load("x", "i", xt.dtype), xt.dtype), "mask[i] = true;"]
    else:
        scale = 1.0 / (1.0 - ratio) if ratio < 1 else 0.0
        body = ["unsigned long long h = seed ^ (0x9E3779B97F4A7C15ULL * (unsigned long long)(i + 1));",
                "h ^= h >> 30; h *= 0xBF58476D1CE4E5B9ULL; h ^= h >> 27; h *= 0x94D049BB133111EBULL; h ^= h >> 31;",
                f"const bool keep = (double)(h >> 11) * (1.0 / 9007199254740992.0) >= {ratio!r};",
                "mask[i] = keep;",
                RENDERER.store("y", "i", f"keep ? {RENDERER.load('x', 'i', xt.dtype)} * ({ct}){RENDERER.literal(scale, xt.dtype)} : ({ct})0", xt.dtype)]
    lines = [grid_loop("i", n, itype) + " {"] + ["  " + b for b in body] + ["}"]
    return NodeCode(node.name, node.op, [make_kernel("dropout", params, lines, blocks_for(n))])


def batch_norm(node, type_of):
    """One block per channel: batch statistics by block reduction (training), then the affine
    normalisation of that channel."""
    a = _attrs(node)
    xt = type_of(node.inputs[0])
    c = xt.shape[1]
    s = prod(xt.shape[2:])
    count = xt.shape[0] * s
    acc = RENDERER.acc_type(xt.dtype)
    itype = index_type(xt.numel)
    names = ("x", "scale", "bias", "run_mean", "run_var")
    params = [value_param(nm, v, type_of(v).dtype) for nm, v in zip(names, node.inputs)]
    params += [value_param(nm, v, type_of(v).dtype, output=True) for nm, v in zip(("y", "mean_out", "var_out"), node.outputs)]
    at = f"(({itype})(r / {s}) * {c} + ch) * {s} + r % {s}"
    ld = lambda p, i: RENDERER.load(p, i, xt.dtype)  # noqa: E731
    body = ["const int ch = blockIdx.x;", f"{acc} mu, var;"]
    if a["training_mode"]:
        body += [f"{acc} part = 0;",
                 f"for ({itype} r = threadIdx.x; r < {count}; r += {THREADS}) part += {ld('x', at)};",
                 *team_reduce("sum", "part", acc, THREADS, xt.dtype),
                 f"__shared__ {acc} stat;",
                 f"if (threadIdx.x == 0) stat = part / {count};", "__syncthreads();", "mu = stat;",
                 "part = 0;",
                 f"for ({itype} r = threadIdx.x; r < {count}; r += {THREADS}) {{ const {acc} d = {ld('x', at)} - mu; part += d * d; }}",
                 *team_reduce("sum", "part", acc, THREADS, xt.dtype),
                 f"if (threadIdx.x == 0) stat = part / {count};", "__syncthreads();", "var = stat;",
                 "if (threadIdx.x == 0) {",
                 "  " + RENDERER.store("mean_out", "ch", "mu", xt.dtype),
                 "  " + RENDERER.store("var_out", "ch", f"var * {count / (count - 1)!r}" if count > 1 else "NAN", xt.dtype),
                 "}"]
    else:
        body += [f"mu = {ld('run_mean', 'ch')}; var = {ld('run_var', 'ch')};",
                 "if (threadIdx.x == 0) {",
                 "  " + RENDERER.store("mean_out", "ch", "mu", xt.dtype),
                 "  " + RENDERER.store("var_out", "ch", "var", xt.dtype), "}"]
    body += [f"const {acc} k = {ld('scale', 'ch')} / sqrt(var + ({acc}){a['epsilon']!r});",
             f"const {acc} b = {ld('bias', 'ch')};",
             f"for ({itype} r = threadIdx.x; r < {count}; r += {THREADS}) "
             + RENDERER.store("y", at, f"({ld('x', at)} - mu) * k + b", xt.dtype)]
    return NodeCode(node.name, node.op, [make_kernel("batch_norm", params, body, c)])


def nll_terms(node, type_of, target: str, j: str, xt_classes: int, weighted: bool, ignore) -> list[str]:
    """Lines defining `t` (class of element j, 0 when ignored) and `w` (its weight, 0 when ignored)."""
    tt = type_of(target)
    lines = [f"long long t = (long long){RENDERER.load('target', j, tt.dtype)};",
             f"const bool keep = {'t != ' + str(int(ignore)) if ignore is not None else 'true'} && t >= 0 && t < {xt_classes};",
             "if (!keep) t = 0;"]
    w = RENDERER.load("weight", "t", type_of(node.inputs[2]).dtype) if weighted else "1"
    lines.append(f"const double w = keep ? (double){w} : 0.0;")
    return lines


def nll(node, type_of):
    a = _attrs(node)
    xt, tt = type_of(node.inputs[0]), type_of(node.inputs[1])
    out = type_of(node.outputs[0])
    classes, d = xt.shape[1], prod(xt.shape[2:])
    n = tt.numel
    weighted = len(node.inputs) == 3
    params = [value_param("x", node.inputs[0], xt.dtype), value_param("target", node.inputs[1], tt.dtype)]
    if weighted:
        params.append(value_param("weight", node.inputs[2], xt.dtype))
    params.append(value_param("out", node.outputs[0], out.dtype, output=True))
    terms = nll_terms(node, type_of, node.inputs[1], "j", classes, weighted, a["ignore_index"])
    xv = RENDERER.load("x", f"((long long)(j / {d}) * {classes} + t) * {d} + j % {d}", xt.dtype)
    if a["reduction"] == "none":
        body = [grid_loop("j", n, "long long") + " {", *["  " + t for t in terms],
                "  " + RENDERER.store("out", "j", f"-(double){xv} * w", out.dtype), "}"]
        return NodeCode(node.name, node.op, [make_kernel("nll", params, body, blocks_for(n))])
    body = ["double loss = 0, total = 0;",
            f"for (long long j = threadIdx.x; j < {n}; j += {THREADS}) {{", *["  " + t for t in terms],
            f"  loss += -(double){xv} * w; total += w;", "}",
            *team_reduce("sum", "loss", "double", THREADS, dtypes.float64),
            *team_reduce("sum", "total", "double", THREADS, dtypes.float64),
            "if (threadIdx.x == 0) " + RENDERER.store("out", "0", "loss / total" if a["reduction"] == "mean" else "loss", out.dtype)]
    return NodeCode(node.name, node.op, [make_kernel("nll", params, body, 1)])


def nll_grad(node, type_of):
    a = _attrs(node)
    gt, tt = type_of(node.inputs[0]), type_of(node.inputs[1])
    out = type_of(node.outputs[0])
    classes, d = a["n_classes"], prod(out.shape[2:])
    n = tt.numel
    weighted = len(node.inputs) == 3
    base = [value_param("g", node.inputs[0], gt.dtype), value_param("target", node.inputs[1], tt.dtype)]
    if weighted:
        base.append(value_param("weight", node.inputs[2], gt.dtype))
    kernels, scratch = [], []
    mean = a["reduction"] == "mean"
    if mean:
        scratch.append(8)
        total = Param("total", "scratch", 0, dtypes.float64, const=False)
        terms = nll_terms(node, type_of, node.inputs[1], "j", classes, weighted, a["ignore_index"])
        body = ["double acc = 0;", f"for (long long j = threadIdx.x; j < {n}; j += {THREADS}) {{",
                *["  " + t for t in terms], "  acc += w;", "}",
                *team_reduce("sum", "acc", "double", THREADS, dtypes.float64),
                "if (threadIdx.x == 0) total[0] = acc;"]
        kernels.append(make_kernel("nll_total", base + [total], body, 1))
    params = base + ([Param("total", "scratch", 0, dtypes.float64)] if mean else [])
    params.append(value_param("out", node.outputs[0], out.dtype, output=True))
    m = out.numel
    gv = RENDERER.load("g", "j" if a["reduction"] == "none" else "0", gt.dtype)
    body = [grid_loop("i", m, "long long") + " {",
            f"  const long long nb = i / {classes * d}, c = (i / {d}) % {classes}, j = nb * {d} + i % {d};",
            *["  " + t for t in nll_terms(node, type_of, node.inputs[1], "j", classes, weighted, a["ignore_index"])],
            f"  const double coef = -(double){gv}{' / total[0]' if mean else ''} * w;",
            "  " + RENDERER.store("out", "i", "(keep && c == t) ? coef : 0.0", out.dtype), "}"]
    kernels.append(make_kernel("nll_grad", params, body, blocks_for(m)))
    return NodeCode(node.name, node.op, kernels, scratch)


def arg_extreme(node, type_of):
    """ArgMax/ArgMin: one thread per output scans its row; NaN wins, first (or last) index on ties."""
    a = _attrs(node)
    xt = type_of(node.inputs[0])
    out = type_of(node.outputs[0])
    shape = xt.shape if a["axis"] is not None else (xt.numel,)
    ax = norm_axis(a["axis"], len(shape)) if a["axis"] is not None else 0
    outer, length, inner = prod(shape[:ax]), shape[ax] if shape else 1, prod(shape[ax + 1:])
    better = ">" if node.op == "ArgMax" else "<"
    eq = "=" if a["select_last_index"] else ""
    ct = RENDERER.compute_type(xt.dtype)
    params = [value_param("x", node.inputs[0], xt.dtype), value_param("out", node.outputs[0], out.dtype, output=True)]
    nan = " && best == best" if xt.dtype.is_floating_point else ""
    body = [grid_loop("o", outer * inner, "long long") + " {",
            f"  const long long base = (o / {inner}) * {length * inner} + o % {inner};",
            f"  {ct} best = {RENDERER.load('x', 'base', xt.dtype)}; long long arg = 0;",
            f"  for (long long l = 1; l < {length}; ++l) {{",
            f"    const {ct} v = {RENDERER.load('x', f'base + l * {inner}', xt.dtype)};",
            f"    if ((v {better}{eq} best{nan}) || (v != v && best == best)) {{ best = v; arg = l; }}",
            "  }", "  out[o] = arg;", "}"]
    return NodeCode(node.name, node.op, [make_kernel(node.op.lower(), params, body, blocks_for(outer * inner))])


def topk(node, type_of):
    """One thread per row: k selection passes, each taking the best element ordered after the
    previous pick (value, then lower index first), so no scratch is needed."""
    a = _attrs(node)
    xt = type_of(node.inputs[0])
    ax = norm_axis(a["axis"], len(xt.shape))
    shape = xt.shape
    outer, length, inner = prod(shape[:ax]), shape[ax], prod(shape[ax + 1:])
    k = a["k"]
    ct = RENDERER.compute_type(xt.dtype)
    before = ">" if a["largest"] else "<"
    params = [value_param("x", node.inputs[0], xt.dtype), value_param("vals", node.outputs[0], xt.dtype, output=True),
              value_param("idx", node.outputs[1], dtypes.int64, output=True)]
    # (v, l) comes before (pv, pl) in the output order
    ahead = lambda v, l, pv, pl: f"(({v} {before} {pv}) || ({v} == {pv} && {l} < {pl}))"  # noqa: E731
    body = [grid_loop("o", outer * inner, "long long") + " {",
            f"  const long long base = (o / {inner}) * {length * inner} + o % {inner};",
            f"  const long long obase = (o / {inner}) * {k * inner} + o % {inner};",
            f"  {ct} pv = 0; long long pl = -1;",
            f"  for (int r = 0; r < {k}; ++r) {{",
            f"    {ct} bv = 0; long long bl = -1;",
            f"    for (long long l = 0; l < {length}; ++l) {{",
            f"      const {ct} v = {RENDERER.load('x', f'base + l * {inner}', xt.dtype)};",
            f"      if (pl >= 0 && !{ahead('pv', 'pl', 'v', 'l')}) continue;",
            f"      if (bl < 0 || {ahead('v', 'l', 'bv', 'bl')}) {{ bv = v; bl = l; }}",
            "    }",
            f"    {RENDERER.store('vals', f'obase + r * {inner}', 'bv', xt.dtype)} idx[obase + r * {inner}] = bl;",
            "    pv = bv; pl = bl;",
            "  }", "}"]
    return NodeCode(node.name, node.op, [make_kernel("topk", params, body, blocks_for(outer * inner))])
