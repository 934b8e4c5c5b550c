"""Kernels generated from the registry's scalar expressions: one per `graphc.Fused` node (two
when a reduction's epilogue is bigger than its result), one per lone elementwise op or
reduction.

Elementwise: a grid-stride loop over the flattened broadcast output; each operand is read at
an offset computed from the output coordinates and its broadcast strides (axes that every
operand walks contiguously are merged first, so a same-shape chain indexes with `i` alone).
Reductions: a team of threads per output element (1, a warp, or a block, by the reduced
length) evaluates the prologue at each reduced element and accumulates, then combines through
warp shuffles and, for a block, a shared-memory step; the team leader finalises the result and,
when the epilogue has the result's size, computes and stores the epilogue right there.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np

from ... import dtypes
from ...ops.base import norm_axes
from ...ops.registry import REGISTRY
from .kernel import (RENDERER, THREADS, Kernel, NodeCode, Param, blocks_for, broadcast_strides, coalesce,
                     coords, dot, grid_loop, index_type, make_kernel)

REDUCTIONS = {"ReduceSum": "sum", "ReduceMean": "sum", "ReduceMax": "max", "ReduceMin": "min",
              "ReduceProd": "prod"}
FUSED = "graphc.Fused"


@dataclass(frozen=True)
class Step:
    """One scalar op of a program: out = op(*inputs)."""

    op: str
    inputs: tuple[str, ...]
    out: str
    attrs: dict


class Program:
    """A list of elementwise steps over named values, with each value's type and the constants
    (small initializers of a fused sub-graph) that are inlined rather than passed."""

    def __init__(self, steps, type_of, consts=None):
        self.steps = list(steps)
        self.type_of = type_of
        read = {v for s in self.steps for v in s.inputs}
        self.consts = {v: c for v, c in (consts or {}).items() if v in read}
        made = {s.out for s in self.steps}
        self.inputs = []
        for s in self.steps:
            for v in s.inputs:
                if v not in made and v not in self.inputs and v not in self.consts:
                    self.inputs.append(v)

    def full_shape(self):
        shapes = [self.type_of(s.out).shape for s in self.steps]
        return tuple(np.broadcast_shapes(*shapes)) if shapes else ()


def _cname(k: int) -> str:
    return f"v{k}"


class _Emitter:
    """Builds one kernel's parameters, constant tables and expression lines."""

    def __init__(self, program: Program, renderer=RENDERER):
        self.p = program
        self.r = renderer
        self.params: list[Param] = []
        self.pre: list[str] = []
        self.var: dict[str, str] = {}
        self._n = 0
        self._param_of: dict[tuple, str] = {}

    def fresh(self) -> str:
        self._n += 1
        return _cname(self._n)

    def param(self, value: str, output: bool = False, kind="value", ref=None, dtype=None) -> str:
        key = (kind, ref if ref is not None else value, output)
        if key not in self._param_of:
            name = f"{'out' if output else 'in'}{len(self.params)}"
            dtype = dtype or self.p.type_of(value).dtype
            self.params.append(Param(name, kind, ref if ref is not None else value,
                                     dtypes.as_dtype(dtype), const=not output))
            self._param_of[key] = name
        return self._param_of[key]

    def constant(self, value: str) -> str:
        """A C expression for a small constant: a literal, or a file-scope table indexed later."""
        data = np.asarray(self.p.consts[value])
        dtype = dtypes.from_numpy(data.dtype)
        if data.size == 1:
            return self.r.literal(data.reshape(-1)[0].item(), dtype)
        name = f"KNAME_c{len(self.pre)}"
        items = ", ".join(self.r.literal(x.item(), dtype) for x in data.reshape(-1))
        self.pre.append(f"{self.r.constant_prefix} {self.r.compute_type(dtype)} {name}[{data.size}] = {{{items}}};\n")
        return name

    def steps(self, steps) -> list[str]:
        lines = []
        for s in steps:
            args = [self.var[v] for v in s.inputs]
            in_dtype = self.p.type_of(s.inputs[0]).dtype if s.inputs else self.p.type_of(s.out).dtype
            out_t = self.r.compute_type(self.p.type_of(s.out).dtype)
            expr = self.r.render_op(s.op, args, s.attrs, in_dtype)
            name = self.fresh()
            lines.append(f"{out_t} {name} = static_cast<{out_t}>({expr});")
            self.var[s.out] = name
        return lines

    def operands(self, values, index: str, full, itype: str, prefix: str, hoist: list[str],
                 extra_outputs=()) -> tuple[list[str], dict[str, str]]:
        """Load lines for `values` (inputs and constants) at flat `index` of `full`, and the
        offset expression of each of `extra_outputs`. Scalars are loaded once, into `hoist`."""
        ops = list(values) + [v for v in extra_outputs if v not in values]
        strides = [broadcast_strides(self.p.type_of(v).shape, full) for v in ops]
        shape, cstrides = coalesce(full, strides)
        full_strides = broadcast_strides(shape, shape)
        need = [s for s in cstrides if any(s) and s != full_strides]
        lines = coords(index, shape, prefix, itype) if need else []
        names = [f"{prefix}{d}" for d in range(len(shape))]
        offsets = {}
        for v, s in zip(ops, cstrides):
            offsets[v] = index if s == full_strides and any(s) else dot(names, s)
        for v in values:
            dtype = self.p.type_of(v).dtype
            ct = self.r.compute_type(dtype)
            name = self.fresh()
            scalar = self.p.type_of(v).numel == 1
            if v in self.p.consts:
                c = self.constant(v)
                text = c if np.asarray(self.p.consts[v]).size == 1 else f"{c}[{offsets[v]}]"
            else:
                text = self.r.load(self.param(v), "0" if scalar else offsets[v], dtype)
            (hoist if scalar else lines).append(f"const {ct} {name} = {text};")
            self.var[v] = name
        guards = {}
        for v in extra_outputs:
            s = cstrides[ops.index(v)]
            bcast = [names[d] for d in range(len(shape)) if s[d] == 0 and shape[d] > 1]
            guards[v] = (offsets[v], " && ".join(f"{c} == 0" for c in bcast))
        return lines, guards

    def stores(self, outputs, guards) -> list[str]:
        lines = []
        for v in outputs:
            off, guard = guards[v]
            st = self.r.store(self.param(v, output=True), off, self.var[v], self.p.type_of(v).dtype)
            lines.append(f"if ({guard}) {st}" if guard else st)
        return lines


def elementwise_kernel(tag: str, program: Program, outputs, bound: dict[str, tuple] | None = None,
                       renderer=RENDERER) -> Kernel:
    """A grid-stride kernel computing `program` and storing `outputs`. `bound` maps values read
    from a buffer other than their own name to (kind, ref) (a reduction's scratch result).
    With the C renderer the same text is one (OpenMP-parallel) loop over every element."""
    em = _Emitter(program, renderer)
    for v, (kind, ref) in (bound or {}).items():
        em._param_of[("value", v, False)] = em.param(v, kind=kind, ref=ref)
    full = program.full_shape()
    n = prod(full)
    itype = index_type(n)
    hoist: list[str] = []
    loads, guards = em.operands(program.inputs + list(program.consts), "i", full, itype, "c", hoist, outputs)
    body = loads + em.steps(program.steps) + em.stores(outputs, guards)
    if hoist:  # threads with no element must not load: the output may overwrite a scalar input in place
        hoist = [f"if ({renderer.global_id} >= {n}) return;"] + hoist
    lines = hoist + [grid_loop("i", n, itype, renderer) + " {"] + ["  " + b for b in body] + ["}"]
    return make_kernel(tag, em.params, lines, blocks_for(n), pre="".join(em.pre), renderer=renderer)


# ---- reductions ----------------------------------------------------------------------------------

def _team_size(inner: int, outer: int) -> int:
    if inner >= 2048 or (outer < 64 and inner >= 256):
        return THREADS
    return 32 if inner > 16 else 1


def _combine(kind: str, a: str, b: str) -> str:
    return {"sum": f"{a} + {b}", "prod": f"{a} * {b}", "max": f"max({a}, {b})", "min": f"min({a}, {b})"}[kind]


def _init(kind: str, dtype, renderer=RENDERER) -> str:
    if kind == "sum":
        return "0"
    if kind == "prod":
        return "1"
    return renderer.lowest(dtype) if kind == "max" else renderer.highest(dtype)


def team_reduce(kind: str, acc: str, acc_t: str, team: int, dtype) -> list[str]:
    """Lines combining `acc` across a team of 1, 32 or THREADS threads into lane 0's `acc`."""
    if team == 1:
        return []
    lines = [f"for (int off = 16; off > 0; off >>= 1) "
             f"{acc} = {_combine(kind, acc, RENDERER.shuffle_down(acc, 'off'))};"]
    if team == 32:
        return lines
    warps = team // 32
    lines += ["{",
              f"  {RENDERER.shared} {acc_t} red_smem[{warps}];",
              f"  if ((threadIdx.x & 31) == 0) red_smem[threadIdx.x >> 5] = {acc};",
              "  " + RENDERER.barrier,
              "  if (threadIdx.x < 32) {",
              f"    {acc} = threadIdx.x < {warps} ? red_smem[threadIdx.x] : ({acc_t})({_init(kind, dtype)});",
              f"    for (int off = {warps // 2}; off > 0; off >>= 1) "
              f"{acc} = {_combine(kind, acc, RENDERER.shuffle_down(acc, 'off'))};",
              "  }",
              "  " + RENDERER.barrier,
              "}"]
    return lines


def _split_reduction(sub_nodes, red):
    """(prologue steps, epilogue steps): the reduction's ancestors, and everything else plus the
    ancestors the rest re-reads (recomputed there rather than stored)."""
    producer = {o: n for n in sub_nodes for o in n.outputs}
    pre_names, todo = set(), list(red.inputs)
    while todo:
        v = todo.pop()
        n = producer.get(v)
        if n is not None and n.name not in pre_names:
            pre_names.add(n.name)
            todo.extend(n.inputs)
    pre = [n for n in sub_nodes if n.name in pre_names]
    post = [n for n in sub_nodes if n.name not in pre_names and n is not red]
    need, todo = set(), [v for n in post for v in n.inputs]
    while todo:
        v = todo.pop()
        n = producer.get(v)
        if n is not None and n is not red and n.name in pre_names and n.name not in need:
            need.add(n.name)
            todo.extend(n.inputs)
    post = [n for n in sub_nodes if n.name in need or (n.name not in pre_names and n is not red)]
    return pre, post


def _steps(nodes) -> list[Step]:
    return [Step(n.op, tuple(n.inputs), n.outputs[0], dict(n.attrs)) for n in nodes]


def reduction_kernels(tag: str, type_of, consts, pre_nodes, red, post_nodes, outputs, renderer=RENDERER,
                      threads: int = THREADS) -> tuple[list, list]:
    """Kernels computing reduction `red` of its prologue, then the epilogue; `outputs` are the
    values to store. Returns (kernels, scratch byte sizes). With `threads` 1 (the C renderer)
    every team is one thread and the grid-stride loop visits every output in turn."""
    kind = REDUCTIONS[red.op]
    x = red.inputs[0]
    xt, rt = type_of(x), type_of(red.outputs[0])
    attrs = REGISTRY[red.op].complete_attrs(dict(red.attrs))
    nd = len(xt.shape)
    axes = set(norm_axes(attrs["axes"], nd))
    kept = [d for d in range(nd) if d not in axes]
    reduced = [d for d in range(nd) if d in axes]
    outer, inner = prod(xt.shape[d] for d in kept), prod(xt.shape[d] for d in reduced)
    itype = index_type(xt.numel)
    program = Program(_steps(pre_nodes), type_of, consts)
    post = Program(_steps(post_nodes), type_of, consts)
    em = _Emitter(program, renderer)
    acc_t = renderer.acc_type(rt.dtype)
    team = min(_team_size(inner, outer), threads)
    per_block = threads // team

    values = program.inputs + list(program.consts) if pre_nodes else [x]
    strides = [broadcast_strides(type_of(v).shape, xt.shape) for v in values]
    kshape, kstr = coalesce(tuple(xt.shape[d] for d in kept), [tuple(s[d] for d in kept) for s in strides])
    rshape, rstr = coalesce(tuple(xt.shape[d] for d in reduced), [tuple(s[d] for d in reduced) for s in strides])
    body = [f"const int lane = threadIdx.x % {team};",
            f"for ({itype} o = ({itype})blockIdx.x * {per_block} + threadIdx.x / {team}; o < {outer}; "
            f"o += ({itype})gridDim.x * {per_block}) {{"]
    inner_lines = coords("o", kshape, "k", itype) + [f"{acc_t} acc = ({acc_t})({_init(kind, rt.dtype, renderer)});",
                                                      f"for ({itype} r = lane; r < {inner}; r += {team}) {{"]
    loop = coords("r", rshape, "q", itype)
    knames = [f"k{d}" for d in range(len(kshape))]
    qnames = [f"q{d}" for d in range(len(rshape))]
    for v, ks, rs in zip(values, kstr, rstr):
        dtype = type_of(v).dtype
        name = em.fresh()
        if v in program.consts:
            c = em.constant(v)
            text = c if np.asarray(program.consts[v]).size == 1 else f"{c}[{dot(knames + qnames, ks + rs)}]"
        else:
            text = renderer.load(em.param(v), dot(knames + qnames, ks + rs), dtype)
        loop.append(f"const {renderer.compute_type(dtype)} {name} = {text};")
        em.var[v] = name
    loop += em.steps(program.steps)
    loop.append(f"acc = {_combine(kind, 'acc', f'({acc_t}){em.var[x]}')};")
    inner_lines += ["  " + line for line in loop] + ["}"]
    inner_lines += team_reduce(kind, "acc", acc_t, team, rt.dtype)
    finish = [f"{renderer.compute_type(rt.dtype)} res = static_cast<{renderer.compute_type(rt.dtype)}>("
              f"{'acc / ' + str(inner) if red.op == 'ReduceMean' else 'acc'});"]
    r = red.outputs[0]
    em.var[r] = "res"
    scratch: list[int] = []
    post_outputs = [v for v in outputs if v != r]
    recomputed = {n.name for n in pre_nodes} & {n.name for n in post_nodes}
    fits = bool(post.steps) and prod(post.full_shape()) == outer and not recomputed
    kernels = []
    if r in outputs:
        finish.append(renderer.store(em.param(r, output=True), "o", "res", rt.dtype))
    if post.steps and fits:
        em.p = _Merged(program, post)
        hoist: list[str] = []
        loads, guards = em.operands([v for v in post.inputs + list(post.consts) if v != r], "o",
                                    post.full_shape(), itype, "e", hoist, post_outputs)
        finish += hoist + loads + em.steps(post.steps) + em.stores(post_outputs, guards)
    elif post.steps:
        if r not in outputs:
            scratch.append(max(rt.nbytes, 1))
            finish.append(renderer.store(em.param(r, output=True, kind="scratch", ref=0), "o", "res", rt.dtype))
    inner_lines += ["if (lane == 0) {"] + ["  " + f for f in finish] + ["}"]
    body += ["  " + line for line in inner_lines] + ["}"]
    kernels.append(make_kernel(f"{tag}_reduce", em.params, body, blocks_for(outer, per_block),
                               pre="".join(em.pre), renderer=renderer))
    if post.steps and not fits:
        bound = {} if r in outputs else {r: ("scratch", 0)}
        kernels.append(elementwise_kernel(f"{tag}_epilogue", post, post_outputs, bound, renderer=renderer))
    return kernels, scratch


class _Merged:
    """Type and constant lookup over two programs sharing one kernel."""

    def __init__(self, a: Program, b: Program):
        self.type_of = a.type_of
        self.consts = {**a.consts, **b.consts}


# ---- entry points ----------------------------------------------------------------------------

def fused_code(node, tag: str | None = None, renderer=RENDERER, threads: int = THREADS) -> NodeCode:
    """Kernels of a `graphc.Fused` node."""
    sub = node.subgraph
    nodes = sub.nodes()
    tag = tag or "fused"
    consts = dict(sub.initializers)
    reds = [n for n in nodes if n.op in REDUCTIONS]
    code = NodeCode(node.name, node.op)
    if not reds:
        program = Program(_steps(nodes), sub.type_of, consts)
        code.kernels.append(elementwise_kernel(tag, program, list(sub.outputs), renderer=renderer))
        return code
    if len(reds) > 1:
        raise NotImplementedError(f"fused node {node.name} holds {len(reds)} reductions; the fuse "
                                  "pass makes at most one")
    pre, post = _split_reduction(nodes, reds[0])
    code.kernels, code.scratch = reduction_kernels(tag, sub.type_of, consts, pre, reds[0], post,
                                                   list(sub.outputs), renderer, threads)
    return code


def elementwise_code(node, type_of, renderer=RENDERER) -> NodeCode:
    """The kernel of one elementwise registry op outside any fused group."""
    program = Program(_steps([node]), type_of)
    tag = node.op.rpartition(".")[2]
    return NodeCode(node.name, node.op, [elementwise_kernel(tag, program, list(node.outputs), renderer=renderer)])


def reduction_code(node, type_of) -> NodeCode:
    """The kernel of one lone reduction."""
    kernels, scratch = reduction_kernels(node.op, type_of, {}, [], node, [], list(node.outputs))
    return NodeCode(node.name, node.op, kernels, scratch)
