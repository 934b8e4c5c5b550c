"""How the NumPy runtime runs a `graphc.Fused` node: its sub-graph over cache-sized chunks.

An elementwise phase runs every member on one chunk of the broadcast output at a time, ufuncs
writing with `out=` into per-thread chunk buffers (or straight into the output), so no
full-size temporary is made; chunks are spread over a thread pool when the tensor is big
(NumPy releases the GIL inside ufuncs). A reduction's prologue is computed chunk by chunk into
partial reductions when the reduction is over trailing (or all) axes; its epilogue is a second
elementwise phase. Anything else falls back to whole-array evaluation with the registry kernels.
"""
from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from math import prod

import numpy as np

from ..ops.base import norm_axes
from ..ops.registry import REGISTRY

CHUNK = 1 << 15          # elements per chunk: the few buffers of a chunk stay in L2
PARALLEL_MIN = 1 << 20   # below this many elements threads cost more than they give
SMALL = 1 << 18          # below this (whole temporaries fit in L2), chunking costs more than it saves
THREADS = os.cpu_count() or 1
_REDUCE_UFUNC = {"ReduceSum": np.add, "ReduceMean": np.add, "ReduceMax": np.maximum,
                 "ReduceMin": np.minimum}
_pool: ThreadPoolExecutor | None = None


def _threads() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(THREADS, thread_name_prefix="graphc-fused")
    return _pool


def out_ufunc(op, attrs) -> np.ufunc | None:
    """The ufunc computing `op` with an `out=` argument, if its kernel is one (possibly wrapped
    by a decorator that set __wrapped__); None otherwise."""
    if attrs or op is None:
        return None
    k = op.kernel
    k = k if isinstance(k, np.ufunc) else getattr(k, "__wrapped__", None)
    return k if isinstance(k, np.ufunc) else None


def _sigmoid_out(x, out):
    np.multiply(x, np.asarray(0.5, out.dtype), out=out)
    np.tanh(out, out=out)
    np.add(out, np.asarray(1, out.dtype), out=out)
    return np.multiply(out, np.asarray(0.5, out.dtype), out=out)


def _relu_out(x, out):
    return np.maximum(x, np.zeros((), out.dtype), out=out)


_UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _where_out(c, x, y, out):
    """Where as a branch-free select on the bits, y ^ ((x ^ y) & mask): np.where branches per
    element, which costs several times more when the condition is random (a ReLU mask).
    Exact for every value (NaN payloads, -0.0); out may be x's memory, not y's."""
    x, y = np.asarray(x, out.dtype), np.asarray(y, out.dtype)
    u = _UINT.get(out.dtype.itemsize)
    if u is None or out.size < 4096 or np.may_share_memory(out, y):  # small: fewer calls win
        np.copyto(out, np.where(c, x, y))
        return out
    mask = np.multiply(c, np.iinfo(u).max, dtype=u)
    bits, yb = out.view(u), y.view(u)
    np.bitwise_xor(x.view(u), yb, out=bits)
    bits &= mask
    bits ^= yb
    return out


# Out-of-place kernels that are compositions of ufuncs, in the same arithmetic, with `out=`
# (the chunk loop must not allocate); keyed by the registry kernel itself, so it is data
# about kernels, not a second table of op names.
OUT_FORMS = {REGISTRY["Sigmoid"].kernel: _sigmoid_out, REGISTRY["Relu"].kernel: _relu_out,
             REGISTRY["Where"].kernel: _where_out}


class _Step:
    __slots__ = ("ufunc", "kernel", "ins", "out", "dtype")

    def __init__(self, node, slot, sub):
        op = REGISTRY[node.op]
        attrs = op.complete_attrs(dict(node.attrs))
        self.ufunc = out_ufunc(op, node.attrs) or (None if attrs else OUT_FORMS.get(op.kernel))
        self.kernel = (lambda *a, _k=op.kernel, _a=attrs: _k(*a, **_a)) if attrs else op.kernel
        self.ins = tuple(slot[v] for v in node.inputs)
        self.out = slot[node.outputs[0]]
        self.dtype = sub.type_of(node.outputs[0]).dtype.np


class _Program:
    """Members of one phase compiled to steps over value slots (inputs first)."""

    def __init__(self, sub, nodes, inputs):
        self.inputs = list(inputs)
        slot = {v: i for i, v in enumerate(self.inputs)}
        for n in nodes:
            slot[n.outputs[0]] = len(slot)
        self.slot = slot
        self.n_slots = len(slot)
        self.steps = [_Step(n, slot, sub) for n in nodes]

    def whole(self, vals: list, dest: dict | None = None) -> list:
        """Whole-array evaluation; ufunc steps write the values `dest` (slot -> array) gives
        memory for straight into it."""
        for s in self.steps:
            d = dest.get(s.out) if dest else None
            if d is not None and s.ufunc is not None:
                vals[s.out] = s.ufunc(*[vals[i] for i in s.ins], out=d)
            else:
                vals[s.out] = s.kernel(*[vals[i] for i in s.ins])
        return vals

    def chunk(self, vals: list, dest: list) -> None:
        """One chunk: vals holds the input chunks; dest[slot] is where a value goes (a buffer
        or an output view), or None to keep whatever the kernel returns."""
        for s in self.steps:
            d = dest[s.out]
            args = [vals[i] for i in s.ins]
            if s.ufunc is not None and d is not None:
                vals[s.out] = s.ufunc(*args, out=d)
            else:
                r = s.kernel(*args)
                if d is not None and d.shape == np.shape(r):
                    np.copyto(d, r)
                    r = d
                vals[s.out] = r


def _phase_inputs(nodes) -> list[str]:
    made = {v for n in nodes for v in n.outputs}
    seen = []
    for n in nodes:
        for v in n.inputs:
            if v not in made and v not in seen:
                seen.append(v)
    return seen


def _coalesce(shapes, full):
    """Merge adjacent axes along which every shape is either full or broadcast (size 1) alike,
    dropping size-1 axes of the full shape: fewer, longer axes to chunk."""
    padded = [(1,) * (len(full) - len(s)) + tuple(s) for s in shapes]
    axes = [i for i, d in enumerate(full) if d != 1]
    groups: list[list[int]] = []
    for i in axes:
        if groups:
            j = groups[-1][-1]
            if all((p[i] == 1) == (p[j] == 1) for p in padded):
                groups[-1].append(i)
                continue
        groups.append([i])
    out_full = tuple(prod(full[i] for i in g) for g in groups)
    out = [tuple(prod(p[i] for i in g) for g in groups) for p in padded]
    return out, out_full


class _Elementwise:
    """An elementwise phase: produces `outputs` (values of the full broadcast shape) chunk-wise."""

    def __init__(self, sub, nodes, outputs):
        self.sub = sub
        self.program = _Program(sub, nodes, _phase_inputs(nodes))
        self.outputs = list(outputs)
        shapes = [sub.type_of(n.outputs[0]).shape for n in nodes]
        self.shape = tuple(np.broadcast_shapes(*shapes)) if shapes else ()
        self.numel = prod(self.shape)
        self.chunkable = all(sub.type_of(v).shape == self.shape for v in self.outputs)
        in_shapes = [sub.type_of(v).shape for v in self.program.inputs]
        self.in_shapes, self.cshape = _coalesce(in_shapes, self.shape)
        self.buf_of, self.buf_dtypes = _share_buffers(self.program, {self.program.slot[v] for v in outputs})
        self.whole_only = not self.chunkable or self.numel < SMALL or not self.cshape
        self.out_dtypes = [sub.type_of(v).dtype.np for v in self.outputs]
        cshape = self.cshape
        d = 0
        while d < len(cshape) - 1 and prod(cshape[d + 1:]) > CHUNK:
            d += 1
        self.inner = cshape[d + 1:]
        self.step = max(1, CHUNK // max(prod(self.inner), 1))
        self.chunks = [(*lead, slice(a, min(a + self.step, cshape[d]))) for lead in np.ndindex(*cshape[:d])
                       for a in range(0, cshape[d] if cshape else 0, self.step)]

    def run(self, env: dict, out: dict) -> None:
        p = self.program
        if self.whole_only:
            dest = {p.slot[v]: out[v] for v in self.outputs if out.get(v) is not None}
            vals = p.whole([env[v] for v in p.inputs] + [None] * (p.n_slots - len(p.inputs)), dest)
            for v in self.outputs:
                env[v] = vals[p.slot[v]]
            return
        cshape, step, inner = self.cshape, self.step, self.inner
        vals = [None] * p.n_slots
        sliced = []
        for i, (v, s) in enumerate(zip(p.inputs, self.in_shapes)):
            a = env[v]
            if a.size == 1:
                vals[i] = a.reshape(())
            else:
                a = a.reshape(s)
                sliced.append((i, a if a.shape == cshape else np.broadcast_to(a, cshape)))
        outs = []
        for v, dt in zip(self.outputs, self.out_dtypes):
            o = out.get(v)
            if o is None:
                o = np.empty(self.shape, dt)
            env[v] = o
            outs.append((p.slot[v], o.reshape(cshape)))

        def work(my_chunks):
            bufs = [np.empty((step, *inner), dt) for dt in self.buf_dtypes]
            full = [None if b is None else bufs[b] for b in self.buf_of]
            mine = list(vals)
            with np.errstate(all="ignore"):
                for key in my_chunks:
                    for i, x in sliced:
                        mine[i] = x[key]
                    n = key[-1].stop - key[-1].start
                    dest = full if n == step else [None if f is None else f[:n] for f in full]
                    for i, o in outs:
                        dest[i] = o[key]
                    p.chunk(mine, dest)

        _spread(work, self.chunks, self.numel)


def _share_buffers(program, out_slots):
    """Chunk buffers shared by values whose in-chunk lifetimes do not overlap (a value may take
    the buffer of an input that dies at its step: elementwise ufuncs allow exact overlap), so
    a phase touches as little cache as possible. Returns (buffer index per slot, dtypes)."""
    last = {}
    for k, s in enumerate(program.steps):
        for i in s.ins:
            last[i] = k
    buf_of: list[int | None] = [None] * program.n_slots
    dtypes: list = []
    free: dict = {}
    for k, s in enumerate(program.steps):
        for i in set(s.ins):
            if buf_of[i] is not None and last[i] == k:
                free.setdefault(dtypes[buf_of[i]], []).append(buf_of[i])
        if s.out in out_slots:
            continue
        pool = free.get(s.dtype)
        if pool:
            buf_of[s.out] = pool.pop()
        else:
            buf_of[s.out] = len(dtypes)
            dtypes.append(s.dtype)
        if s.out not in last:
            free.setdefault(s.dtype, []).append(buf_of[s.out])
    return buf_of, dtypes


def _spread(work, chunks, numel):
    n = min(THREADS, len(chunks)) if numel >= PARALLEL_MIN else 1
    if n <= 1:
        work(chunks)
        return
    for f in [_threads().submit(work, chunks[i::n]) for i in range(n)]:
        f.result()


class _Reduction:
    """A reduction and its prologue (the members it depends on)."""

    def __init__(self, sub, nodes, red):
        self.sub = sub
        self.red = red
        self.program = _Program(sub, nodes, _phase_inputs(nodes))
        x = red.inputs[0]
        self.in_type = sub.type_of(x)
        self.out_type = sub.type_of(red.outputs[0])
        attrs = REGISTRY[red.op].complete_attrs(dict(red.attrs))
        nd = self.in_type.ndim
        axes = sorted(norm_axes(attrs["axes"], nd)) if attrs["axes"] is not None else list(range(nd))
        k = len(axes)
        shape = self.in_type.shape
        self.outer, self.inner = prod(shape[:nd - k]), prod(shape[nd - k:])
        pro_inputs = [sub.type_of(v) for v in self.program.inputs]
        self.chunkable = (len(nodes) > 1 and axes == list(range(nd - k, nd))
                          and self.in_type.numel >= SMALL
                          and all(t.numel == 1 or t.shape == shape for t in pro_inputs))
        self.x_slot = self.program.slot[x]
        self.whole_only = not self.chunkable

    def _prologue(self, pro, ins, bufs, vals, a: int, b: int):
        """The prologue over rows (or elements) a:b of every input, into the chunk buffers;
        returns the reduction's input for that chunk."""
        for i, x in enumerate(ins):
            vals[i] = x if x.ndim == 0 else x[a:b]
        dest = [None] * self.program.n_slots
        for s, buf in zip(pro, bufs):
            dest[s.out] = buf[:b - a]
        _run_steps(pro, vals, dest)
        return vals[self.x_slot]

    def run(self, env: dict, out: dict) -> None:
        p, red = self.program, self.red
        if not self.chunkable:
            vals = p.whole([env[v] for v in p.inputs] + [None] * (p.n_slots - len(p.inputs)))
            env[red.outputs[0]] = vals[p.slot[red.outputs[0]]]
            return
        ufunc = _REDUCE_UFUNC[red.op]
        acc = self.out_type.dtype.np
        ins = [env[v].reshape(()) if env[v].size == 1 else env[v].reshape(self.outer, self.inner)
               for v in p.inputs]
        pro = [s for s in p.steps if s.out != p.slot[red.outputs[0]]]
        if self.outer == 1:
            flat_ins = [x if x.ndim == 0 else x.reshape(-1) for x in ins]
            chunks = [(a, min(a + CHUNK, self.inner)) for a in range(0, self.inner, CHUNK)]
            partials = []

            def work(my_chunks):
                bufs = [np.empty(CHUNK, s.dtype) for s in pro]
                vals, mine = [None] * p.n_slots, []
                with np.errstate(all="ignore"):
                    for a, b in my_chunks:
                        x = self._prologue(pro, flat_ins, bufs, vals, a, b)
                        mine.append(ufunc.reduce(x, dtype=acc))
                partials.append(ufunc.reduce(np.asarray(mine, acc), dtype=acc))

            _spread(work, chunks, self.in_type.numel)
            result = ufunc.reduce(np.asarray(partials, acc), dtype=acc)
            result = np.full((self.outer,), result, acc)
        else:
            result = np.empty(self.outer, acc)
            rows = max(1, CHUNK // max(self.inner, 1))
            chunks = [(a, min(a + rows, self.outer)) for a in range(0, self.outer, rows)]

            def work(my_chunks):
                bufs = [np.empty((rows, self.inner), s.dtype) for s in pro]
                vals = [None] * p.n_slots
                with np.errstate(all="ignore"):
                    for a, b in my_chunks:
                        x = self._prologue(pro, ins, bufs, vals, a, b)
                        ufunc.reduce(x, axis=1, dtype=acc, out=result[a:b])

            _spread(work, chunks, self.in_type.numel)
        if red.op == "ReduceMean":
            result = (result / self.inner).astype(acc, copy=False)
        env[red.outputs[0]] = result.reshape(self.out_type.shape)


def _run_steps(steps, vals, dest):
    for s in steps:
        d = dest[s.out]
        args = [vals[i] for i in s.ins]
        if s.ufunc is not None:
            vals[s.out] = s.ufunc(*args, out=d)
        else:
            r = s.kernel(*args)
            if d.shape == np.shape(r):
                np.copyto(d, r)
                r = d
            vals[s.out] = r


class FusedKernel:
    """Callable(*arrays, out=None) computing a fused node; `out` optionally gives arrays (or
    None) to write each output into."""

    def __init__(self, sub):
        self.sub = sub
        nodes = sub.nodes()
        reds = [n for n in nodes if n.op in _REDUCE_UFUNC]
        needed_later = set(sub.outputs)
        self.phases = []
        if len(reds) == 1:
            red = reds[0]
            pre_names = {red.name} | {a for a in _ancestors(sub, red.name)}
            pre = [n for n in nodes if n.name in pre_names]
            post = [n for n in nodes if n.name not in pre_names]
            post_reads = {v for n in post for v in n.inputs}
            pre_values = {v for n in pre for v in n.outputs if n is not red}
            if not (pre_values & (post_reads | needed_later)):
                self.phases.append(_Reduction(sub, pre, red))
                if post:
                    self.phases.append(_Elementwise(sub, post, [v for v in sub.outputs
                                                                if v not in red.outputs]))
                return
        if reds:
            self.phases = [_Whole(sub, nodes)]
        else:
            self.phases = [_Elementwise(sub, nodes, sub.outputs)]

    @functools.cached_property
    def _flat(self):
        """Every member in one whole-array program, when no phase chunks (small tensors): the
        phases' bookkeeping would cost more than the arithmetic."""
        if not all(phase.whole_only for phase in self.phases):
            return None
        sub = self.sub
        program = _Program(sub, sub.nodes(), [*sub.inputs, *sub.initializers])
        out_slots = [program.slot[v] for v in sub.outputs]
        # intermediates get memory of their own once, so a call allocates nothing new
        scratch = {program.slot[n.outputs[0]]: np.empty(sub.type_of(n.outputs[0]).shape,
                                                        sub.type_of(n.outputs[0]).dtype.np)
                   for n in sub.nodes() if program.slot[n.outputs[0]] not in out_slots}
        return program, list(sub.initializers.values()), out_slots, scratch

    def __call__(self, *arrays, out=None):
        sub = self.sub
        if self._flat is not None:
            return self._call_flat(arrays, out)
        env = dict(zip(sub.inputs, arrays))
        env.update(sub.initializers)
        outs = {} if out is None else {v: o for v, o in zip(sub.outputs, out) if o is not None}
        for phase in self.phases:
            phase.run(env, outs)
        results = []
        for v in sub.outputs:
            r, o = env[v], outs.get(v)
            if o is not None and r is not o:
                np.copyto(o, r)
                r = o
            results.append(r)
        return results[0] if len(results) == 1 else tuple(results)

    def _call_flat(self, arrays, out):
        program, consts, out_slots, scratch = self._flat
        vals = [*arrays, *consts] + [None] * (program.n_slots - len(arrays) - len(consts))
        dest = dict(scratch)
        if out is not None:
            dest.update((s, o) for s, o in zip(out_slots, out) if o is not None)
        program.whole(vals, dest)
        results = [vals[s] for s in out_slots]
        if out is not None:
            for i, s in enumerate(out_slots):
                o = dest.get(s)
                if o is not None and results[i] is not o:
                    np.copyto(o, results[i])
                    results[i] = o
        return results[0] if len(results) == 1 else tuple(results)


class _Whole:
    """Whole-array evaluation with the registry kernels (the general fallback)."""

    whole_only = True

    def __init__(self, sub, nodes):
        self.program = _Program(sub, nodes, _phase_inputs(nodes))
        self.produced = [n.outputs[0] for n in nodes]

    def run(self, env: dict, out: dict) -> None:
        p = self.program
        vals = p.whole([env[v] for v in p.inputs] + [None] * (p.n_slots - len(p.inputs)))
        for v in self.produced:
            env[v] = vals[p.slot[v]]


def _ancestors(sub, name):
    import networkx as nx

    return nx.ancestors(sub.nx_graph, name)
