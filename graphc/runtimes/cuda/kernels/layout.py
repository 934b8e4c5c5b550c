"""Layout and indexing ops as index-mapping kernels: each output element computes where it comes
from (transpose, expand, slice, concat, tile, flip, pad, gather...); scatters and gradients of
gathers zero their output and add atomically (indices may repeat)."""
from __future__ import annotations

from .... import dtypes
from ....ops.base import norm_axis
from ....ops.registry import REGISTRY
from ..kernel import (RENDERER, Kernel, NodeCode, blocks_for, broadcast_strides, contiguous_strides, coords,
                      dot, grid_loop, index_type, make_kernel, value_param)


def _attrs(node):
    return REGISTRY[node.op].complete_attrs(dict(node.attrs))


def fill_kernel(param, n: int, dtype, value) -> Kernel:
    itype = index_type(n)
    body = [grid_loop("i", n, itype) + " " + RENDERER.store(param.name, "i", RENDERER.literal(value, dtype), dtype)]
    return make_kernel("fill", [param], body, blocks_for(n))


def map_kernel(tag, node, type_of, value_lines, extra_params=()):
    """out[i] for every output element: `value_lines(c, itype)` gets the output coordinate names
    and returns lines ending in `val` (the element, in its compute type) being defined."""
    out = type_of(node.outputs[0])
    n = out.numel
    itype = index_type(n, *(type_of(v).numel for v in node.inputs))
    params = [value_param(f"in{k}", v, type_of(v).dtype) for k, v in enumerate(node.inputs)]
    params += list(extra_params)
    params.append(value_param("out", node.outputs[0], out.dtype, output=True))
    cnames = [f"c{d}" for d in range(len(out.shape))]
    body = coords("i", out.shape, "c", itype) + value_lines(cnames, itype)
    body.append(RENDERER.store("out", "i", "val", out.dtype))
    lines = [grid_loop("i", n, itype) + " {"] + ["  " + b for b in body] + ["}"]
    return NodeCode(node.name, node.op, [make_kernel(tag, params, lines, blocks_for(n))])


def _val(type_of, value, offset: str, param="in0") -> str:
    t = type_of(value)
    return f"const {RENDERER.compute_type(t.dtype)} val = {RENDERER.load(param, offset, t.dtype)};"


def copy(node, type_of):
    """Reshape (and any op whose output is its input's bytes)."""
    return map_kernel("copy", node, type_of, lambda c, it: [_val(type_of, node.inputs[0], "i")])


def transpose(node, type_of):
    perm = _attrs(node)["perm"]
    xs = type_of(node.inputs[0]).shape
    perm = tuple(perm) if perm is not None else tuple(reversed(range(len(xs))))
    st = contiguous_strides(xs)
    return map_kernel("transpose", node, type_of,
                      lambda c, it: [_val(type_of, node.inputs[0], dot(c, [st[p] for p in perm]))])


def expand(node, type_of):
    xs, os = type_of(node.inputs[0]).shape, type_of(node.outputs[0]).shape
    st = broadcast_strides(xs, os)
    return map_kernel("expand", node, type_of, lambda c, it: [_val(type_of, node.inputs[0], dot(c, st))])


def tile(node, type_of):
    xs = type_of(node.inputs[0]).shape
    st = contiguous_strides(xs)
    return map_kernel("tile", node, type_of, lambda c, it: [_val(
        type_of, node.inputs[0], " + ".join(f"({x} % {n}) * {s}" for x, n, s in zip(c, xs, st)) or "0")])


def flip(node, type_of):
    xs = type_of(node.inputs[0]).shape
    axes = {norm_axis(a, len(xs)) for a in _attrs(node)["axes"]}
    st = contiguous_strides(xs)
    terms = [f"({n - 1} - {x})" if d in axes else x for d, (x, n) in enumerate(zip(["c%d" % d for d in range(len(xs))], xs))]
    return map_kernel("flip", node, type_of,
                      lambda c, it: [_val(type_of, node.inputs[0], dot(terms, st))])


def _slice_ranges(xs, a):
    """(start, step) per dim of Slice's attributes, as Python slicing resolves them."""
    start, step = [0] * len(xs), [1] * len(xs)
    for s, e, ax, k in zip(a["starts"], a["ends"], a["axes"], a["steps"]):
        ax = norm_axis(ax, len(xs))
        r = range(*slice(s, e, k).indices(xs[ax]))
        start[ax], step[ax] = r.start, r.step
    return start, step


def slice_(node, type_of):
    xs = type_of(node.inputs[0]).shape
    start, step = _slice_ranges(xs, _attrs(node))
    st = contiguous_strides(xs)
    terms = [f"({b} + {x} * {k})" for x, b, k in zip([f"c{d}" for d in range(len(xs))], start, step)]
    return map_kernel("slice", node, type_of, lambda c, it: [_val(type_of, node.inputs[0], dot(terms, st))])


def slice_grad(node, type_of):
    """The slice's gradient scattered into zeros, as a gather: inside the slice or zero."""
    a = _attrs(node)
    shape, gs = tuple(a["shape"]), type_of(node.inputs[0]).shape
    start, step = _slice_ranges(shape, {k: a[k] for k in ("starts", "ends", "axes", "steps")})
    st = contiguous_strides(gs)
    gt = type_of(node.inputs[0])

    def lines(c, it):
        out = ["bool ok = true;", f"{it} off = 0;"]
        for d, (x, b, k, n) in enumerate(zip(c, start, step, gs)):
            out.append(f"{{ const {it} q = {x} - {b}; ok = ok && q % {k} == 0 && q / {k} >= 0 && q / {k} < {n}; "
                       f"off += (q / {k}) * {st[d]}; }}")
        ct = RENDERER.compute_type(gt.dtype)
        out.append(f"const {ct} val = ok ? {RENDERER.load('in0', 'off', gt.dtype)} : ({ct})0;")
        return out

    return map_kernel("slice_grad", node, type_of, lines)


def pad(node, type_of):
    a = _attrs(node)
    xt = type_of(node.inputs[0])
    xs, nd = xt.shape, len(xt.shape)
    st = contiguous_strides(xs)
    ct = RENDERER.compute_type(xt.dtype)

    def lines(c, it):
        out = ["bool ok = true;", f"{it} off = 0;"]
        for d, x in enumerate(c):
            out.append(f"{{ const {it} q = {x} - {a['pads'][d]}; ok = ok && q >= 0 && q < {xs[d]}; off += q * {st[d]}; }}")
        out.append(f"const {ct} val = ok ? {RENDERER.load('in0', 'off', xt.dtype)} : "
                   f"({ct}){RENDERER.literal(a['value'], xt.dtype)};")
        return out

    assert nd == len(a["pads"]) // 2
    return map_kernel("pad", node, type_of, lines)


def concat(node, type_of):
    out = type_of(node.outputs[0])
    ax = norm_axis(_attrs(node)["axis"], len(out.shape))
    ct = RENDERER.compute_type(out.dtype)

    def lines(c, it):
        out_lines = [f"{ct} val;"]
        begin = 0
        for k, v in enumerate(node.inputs):
            shape = type_of(v).shape
            st = contiguous_strides(shape)
            terms = [f"({x} - {begin})" if d == ax else x for d, x in enumerate(c)]
            cond = f"if ({c[ax]} < {begin + shape[ax]})" if k < len(node.inputs) - 1 else ""
            prefix = "else " if k else ""
            out_lines.append(f"{prefix}{cond} val = {RENDERER.load(f'in{k}', dot(terms, st), out.dtype)};".replace("  ", " "))
            begin += shape[ax]
        return out_lines

    return map_kernel("concat", node, type_of, lines)


def trilu(node, type_of):
    a = _attrs(node)
    xt = type_of(node.inputs[0])
    ct = RENDERER.compute_type(xt.dtype)
    cmp = ">=" if a["upper"] else "<="

    def lines(c, it):
        return [f"const {ct} val = ({c[-1]} - {c[-2]} {cmp} {a['k']}) ? {RENDERER.load('in0', 'i', xt.dtype)} : ({ct})0;"]

    return map_kernel("trilu", node, type_of, lines)


def one_hot(node, type_of):
    k = _attrs(node)["num_classes"]
    return map_kernel("one_hot", node, type_of,
                      lambda c, it: [f"const long long val = in0[i / {k}] == (long long)(i % {k}) ? 1 : 0;"])


def _index(param: str, offset: str, bound: int) -> str:
    """An int64 index read, negative values counting from the end."""
    return f"({{ long long j = {param}[{offset}]; j < 0 ? j + {bound} : j; }})"


def gather(node, type_of):
    xt, it_ = type_of(node.inputs[0]), type_of(node.inputs[1])
    ax = norm_axis(_attrs(node)["axis"], len(xt.shape))
    xst, ist = contiguous_strides(xt.shape), contiguous_strides(it_.shape)
    ni = len(it_.shape)

    def lines(c, it):
        j = "jx"
        pre, idx, post = c[:ax], c[ax:ax + ni], c[ax + ni:]
        off = " + ".join(t for t in (dot(pre, xst[:ax]), f"{j} * {xst[ax]}", dot(post, xst[ax + 1:])) if t != "0")
        return [f"long long {j} = in1[{dot(idx, ist)}]; if ({j} < 0) {j} += {xt.shape[ax]};",
                _val(type_of, node.inputs[0], off)]

    return map_kernel("gather", node, type_of, lines)


def gather_elements(node, type_of):
    xt = type_of(node.inputs[0])
    ax = norm_axis(_attrs(node)["axis"], len(xt.shape))
    xst = contiguous_strides(xt.shape)

    def lines(c, it):
        terms = ["jx" if d == ax else x for d, x in enumerate(c)]
        return [f"long long jx = in1[i]; if (jx < 0) jx += {xt.shape[ax]};",
                _val(type_of, node.inputs[0], dot(terms, xst))]

    return map_kernel("gather_elements", node, type_of, lines)


def _scatter_kernel(tag, node, type_of, src, index, dst_shape, ax, index_slots, assign=False):
    """For every element of `src`: dst[its coordinates, with the index entries read from
    `index` at `index_slots` of them replaced by the index value on axis `ax`] += src."""
    st, it_ = type_of(src), type_of(index)
    out = type_of(node.outputs[0])
    n = it_.numel if assign == "elements" else st.numel
    shape = it_.shape if assign == "elements" else st.shape
    itype = index_type(n, out.numel)
    params = [value_param("src", src, st.dtype), value_param("idx", index, it_.dtype),
              value_param("out", node.outputs[0], out.dtype, output=True)]
    c = [f"c{d}" for d in range(len(shape))]
    ist = contiguous_strides(it_.shape)
    dst = contiguous_strides(dst_shape)
    lo, hi = index_slots
    idx_off = dot(c[lo:hi], ist) if assign != "elements" else "i"
    dcoords = c[:lo] + ["jx"] + c[hi:]
    src_off = dot(c, contiguous_strides(st.shape)) if assign == "elements" else "i"
    value = RENDERER.load("src", src_off, st.dtype)
    body = coords("i", shape, "c", itype) + [
        f"long long jx = idx[{idx_off}]; if (jx < 0) jx += {dst_shape[ax]};",
        f"const long long d = {dot(dcoords, dst)};",
        RENDERER.store("out", "d", value, out.dtype) if assign is True else f"atomic_add(out + d, {value});"]
    lines = [grid_loop("i", n, itype) + " {"] + ["  " + b for b in body] + ["}"]
    return make_kernel(tag, params, lines, blocks_for(n))


def gather_grad(node, type_of):
    a = _attrs(node)
    it_ = type_of(node.inputs[1])
    out = type_of(node.outputs[0])
    ax, ni = a["axis"], len(it_.shape)
    zero = fill_kernel(value_param("out", node.outputs[0], out.dtype, output=True), out.numel, out.dtype, 0)
    scatter = _scatter_kernel("gather_grad", node, type_of, node.inputs[0], node.inputs[1], out.shape,
                              ax, (ax, ax + ni))
    return NodeCode(node.name, node.op, [zero, scatter])


def scatter_elements(node, type_of):
    """Copy the data, then write (reduction "none") or atomically add ("add") each update."""
    a = _attrs(node)
    out = type_of(node.outputs[0])
    ax = norm_axis(a["axis"], len(out.shape))
    first = copy(_Proxy(node, inputs=node.inputs[:1]), type_of).kernels[0]
    if a["reduction"] == "add":
        scatter = _scatter_kernel("scatter_add", node, type_of, node.inputs[2], node.inputs[1], out.shape,
                                  ax, (ax, ax + 1), "elements")
    else:
        scatter = _scatter_assign(node, type_of, ax)
    return NodeCode(node.name, node.op, [first, scatter])


def _scatter_assign(node, type_of, ax):
    dt, it_, ut = (type_of(v) for v in node.inputs)
    out = type_of(node.outputs[0])
    n = it_.numel
    itype = index_type(n, out.numel)
    params = [value_param("idx", node.inputs[1], it_.dtype), value_param("upd", node.inputs[2], ut.dtype),
              value_param("out", node.outputs[0], out.dtype, output=True)]
    c = [f"c{d}" for d in range(len(it_.shape))]
    dcoords = ["jx" if d == ax else x for d, x in enumerate(c)]
    body = coords("i", it_.shape, "c", itype) + [
        f"long long jx = idx[i]; if (jx < 0) jx += {dt.shape[ax]};",
        RENDERER.store("out", dot(dcoords, contiguous_strides(out.shape)),
                       RENDERER.load("upd", dot(c, contiguous_strides(ut.shape)), ut.dtype), out.dtype)]
    lines = [grid_loop("i", n, itype) + " {"] + ["  " + b for b in body] + ["}"]
    return make_kernel("scatter", params, lines, blocks_for(n))


class _Proxy:
    """A node read with some fields replaced (to reuse a generator on part of a node)."""

    def __init__(self, node, **fields):
        self._node, self._fields = node, fields

    def __getattr__(self, name):
        return self._fields.get(name, getattr(self._node, name))


def nonzero(node, type_of):
    """argwhere in one thread: the output order is the input's order, a sequential scan."""
    xt = type_of(node.inputs[0])
    out = type_of(node.outputs[0])
    count = _attrs(node)["count"]
    nd = len(xt.shape)
    params = [value_param("x", node.inputs[0], xt.dtype), value_param("out", node.outputs[0], out.dtype, output=True)]
    body = ["if (blockIdx.x != 0 || threadIdx.x != 0) return;", "long long row = 0;",
            f"for (long long i = 0; i < {xt.numel} && row < {count}; ++i) {{",
            f"  if ({RENDERER.load('x', 'i', xt.dtype)} != 0) {{"]
    body += ["    " + line for line in coords("i", xt.shape, "c", "long long")]
    body += [f"    out[row * {nd} + {d}] = c{d};" for d in range(nd)]
    body += ["    ++row;", "  }", "}"]
    return NodeCode(node.name, node.op, [make_kernel("nonzero", params, body, 1, 32)])


def max_pool_grad(node, type_of):
    gt = type_of(node.inputs[0])
    out = type_of(node.outputs[0])
    zero = fill_kernel(value_param("out", node.outputs[0], out.dtype, output=True), out.numel, out.dtype, 0)
    n = gt.numel
    itype = index_type(n, out.numel)
    params = [value_param("g", node.inputs[0], gt.dtype), value_param("idx", node.inputs[1], dtypes.int64),
              value_param("out", node.outputs[0], out.dtype, output=True)]
    lines = [grid_loop("i", n, itype) + f" atomic_add(out + idx[i], {RENDERER.load('g', 'i', gt.dtype)});"]
    return NodeCode(node.name, node.op, [zero, make_kernel("max_pool_grad", params, lines, blocks_for(n))])
