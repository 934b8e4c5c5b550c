"""CudaRuntime: a compiled graph on an NVIDIA GPU through PyCUDA (DESIGN §5).

prepare() generates every node's kernels, compiles them as one module (cached on disk by
source hash), makes ONE device allocation holding the memory plan's arena plus the graph's
inputs, outputs, constants and the nodes' scratch, uploads the constants, and binds each
kernel to its argument pointers as a prepared call. A call copies the inputs in, launches the
kernels in order, and copies the outputs out. PyCUDA is imported (by driver.py) only when a graph runs, so
code generation and the nvcc checks work without it.
"""
from __future__ import annotations

import os

import numpy as np

from ... import cuda as _cuda
from ...errors import GraphcError, describe_location
from ...ir import Graph
from .compiler import Module
from .driver import driver, load_module
from .lower import graph_code

ALIGN = 256
REDZONE = 64  # bytes left unused after every value in the emulator's checking mode
SYNC = os.environ.get("GRAPHC_CUDA_SYNC") == "1"  # synchronise after every node: exact error sites


class CudaRunError(GraphcError):
    """A kernel launch or a copy failed while the compiled graph ran on the GPU."""


def _aligned(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


class Layout:
    """Byte offsets of every value and of the scratch region inside the one device allocation.

    The plan's arena comes first. With a `redzone`, that many bytes after every value and
    scratch buffer stay unused (the emulator's checking mode catches an access there). Values the plan does not place get their own slots after it:
    graph inputs, constants, outputs, and views: a Reshape shares its input's bytes (the layout
    is the same), any other view (transpose, slice, expand) is materialised by its kernel into a
    slot of its own. Scratch is shared by all nodes (they run one after another).
    """

    def __init__(self, graph: Graph, codes, plan, redzone: int = 0):
        self.offsets: dict[str, int] = dict(plan.offsets)
        top = _aligned(plan.arena_bytes + redzone)
        self.arena_bytes = plan.arena_bytes

        def slot(v):
            nonlocal top
            if v not in self.offsets:
                self.offsets[v] = top
                top += _aligned(max(graph.type_of(v).nbytes, 1) + redzone)

        for v in (*graph.inputs, *graph.initializers):
            slot(v)
        for node in graph.nodes():
            for v in node.outputs:
                if v in self.offsets:
                    continue
                if node.op == "Reshape" and node.inputs[0] in self.offsets and v not in graph.outputs:
                    self.offsets[v] = self.offsets[node.inputs[0]]
                else:
                    slot(v)
        self.scratch = top
        self.scratch_offsets = {}
        most = 0
        for code in codes:
            offs, at = [], top
            for size in code.scratch:
                offs.append(at)
                at += _aligned(size + redzone)
            self.scratch_offsets[code.node] = offs
            most = max(most, at - top)
        self.total = max(top + most, ALIGN)


class CudaRuntime:
    name = "cuda"
    donates = True   # prepare() takes `donate`
    resident = True  # executables keep state on the device between calls (run/fetch)

    def prepare(self, graph: Graph, plan=None, donate=None) -> "CudaExecutable":
        """`donate` (graph input name -> graph output index): state the caller overwrites with
        that output after each call (an optimizer's update). The executable copies the output
        over the input's device slot itself, so the state stays on the device (see run())."""
        _cuda._require()
        return CudaExecutable(graph, plan, donate)


class CudaExecutable:
    def __init__(self, graph: Graph, plan=None, donate=None):
        from ...passes.memory import plan_memory

        self.graph = graph
        self._drv = drv = driver()
        self.codes = graph_code(graph)
        self.checking = getattr(drv, "checking", lambda: False)()
        redzone = REDZONE if self.checking else 0
        plan = plan if plan is not None else plan_memory(graph, redzone)
        self.layout = Layout(graph, self.codes, plan, redzone)
        self.module = Module(self.codes)
        self._cu = load_module(self.module)
        self._mem = drv.mem_alloc(self.layout.total)  # the one device allocation
        self.base = int(self._mem)
        for v, data in graph.initializers.items():
            self._upload(v, data)
        self._rng = np.random.default_rng()
        self._steps = [self._bind(code, node) for code, node in zip(self.codes, graph.nodes())]
        self._outputs = [(self.ptr(v), graph.type_of(v)) for v in graph.outputs]
        self._inputs = [(self.ptr(v), graph.type_of(v)) for v in graph.inputs]
        self.resident = {graph.inputs.index(u): k for u, k in (donate or {}).items()
                         if u in graph.inputs and graph.type_of(u) == graph.type_of(graph.outputs[k])}

    def ptr(self, value: str) -> int:
        return self.base + self.layout.offsets[value]

    def _upload(self, value: str, array) -> None:
        t = self.graph.type_of(value)
        a = np.ascontiguousarray(array, dtype=t.dtype.np)
        if a.nbytes:
            self._drv.memcpy_htod(self.ptr(value), a)

    def _download(self, ptr: int, t) -> np.ndarray:
        out = np.empty(t.shape, t.dtype.np)
        if out.nbytes:
            self._drv.memcpy_dtoh(out, ptr)
        return out

    def _bind(self, code, node):
        """A closure running one node: prepared kernel calls, or a host computation."""
        if code.host is not None:
            ins = [(self.ptr(v), self.graph.type_of(v)) for v in node.inputs]
            outs = [self.ptr(v) for v in node.outputs]
            fn = code.host

            def host():
                results = fn(*[self._download(p, t) for p, t in ins])
                results = results if isinstance(results, tuple) else (results,)
                for p, r, v in zip(outs, results, node.outputs):
                    a = np.ascontiguousarray(r, dtype=self.graph.type_of(v).dtype.np)
                    if a.nbytes:
                        self._drv.memcpy_htod(p, a)
            return host
        calls = []
        scratch = self.layout.scratch_offsets.get(code.node, [])
        for k in code.kernels:
            fn = self._cu.get_function(k.name)
            fn.prepare(k.signature())
            args, seed_at = [], None
            for i, p in enumerate(k.params):
                if p.kind == "value":
                    args.append(self.ptr(p.ref))
                elif p.kind == "scratch":
                    args.append(self.base + scratch[p.ref])
                else:
                    seed_at, fixed = i, p.ref
                    args.append(0)
            calls.append((fn, k.grid, k.block, k.shared, args, seed_at, fixed if seed_at is not None else None))

        ranges = self._operand_ranges(code, node) if self.checking else None

        def launch():
            if ranges is not None:
                self._drv.set_access(self._mem, ranges)
            for fn, grid, block, shared, args, seed_at, fixed in calls:
                if seed_at is not None:
                    args[seed_at] = int(fixed) if fixed is not None else int(self._rng.integers(0, 2 ** 63))
                fn.prepared_call(grid, block, *args, shared_size=shared)
        return launch

    def _operand_ranges(self, code, node) -> list[tuple[int, int]]:
        """(offset, bytes) of what a node's kernels may touch: its inputs, outputs and scratch."""
        out = [(self.layout.offsets[v], self.graph.type_of(v).nbytes) for v in (*node.inputs, *node.outputs)]
        return out + list(zip(self.layout.scratch_offsets.get(code.node, []), code.scratch))

    def describe_offset(self, offset: int) -> str:
        """Which value's bytes a device-memory offset is in, or which one it lies just past."""
        spans = [(o, o + self.graph.type_of(v).nbytes, f"%{v} ({self.graph.type_of(v)})")
                 for v, o in self.layout.offsets.items()]
        spans += [(o, o + size, f"scratch buffer {i} of node {code.node}")
                  for code in self.codes for i, (o, size) in enumerate(zip(self.layout.scratch_offsets.get(code.node, []),
                                                                            code.scratch))]
        inside = [name for lo, hi, name in spans if lo <= offset < hi]
        if inside:
            return "inside " + " / ".join(dict.fromkeys(inside))
        before = [(offset - hi, name) for lo, hi, name in spans if hi <= offset]
        if not before:
            return "before every value"
        gap, name = min(before)
        return f"{gap} bytes past the end of {name}"

    def __call__(self, *arrays):
        return self.run(arrays, download_resident=True)

    def run(self, arrays, download_resident: bool = False) -> list:
        """Run the graph on `arrays`; an input given as None keeps the value its device slot holds
        (the caller knows it is current). After the kernels, each donated output is copied over
        its input's slot on the device, and is not copied out unless `download_resident` (its
        place in the result is then None): a training step's state never leaves the device."""
        self._put_inputs(arrays)
        self._execute()
        try:
            for i, k in self.resident.items():
                (dst, t), (src, _) = self._inputs[i], self._outputs[k]
                if dst != src and t.nbytes:
                    self._drv.memcpy_dtod(dst, src, t.nbytes)
            kept = set() if download_resident else set(self.resident.values())
            return [None if k in kept else self._download(p, t) for k, (p, t) in enumerate(self._outputs)]
        except self._drv.Error as exc:
            raise self._late_error(exc) from exc

    def call_on_device(self, sources) -> list:
        """Run with each input taken from a host array or a device buffer (copied device to
        device); each output is left in a new device buffer of its own, which is returned."""
        self._put_inputs([s if isinstance(s, np.ndarray) else None for s in sources])
        for (p, t), s in zip(self._inputs, sources):
            if not isinstance(s, np.ndarray) and t.nbytes:
                self._drv.memcpy_dtod(p, int(s), t.nbytes)
        self._execute()
        try:
            outs = []
            for p, t in self._outputs:
                buf = self._drv.mem_alloc(max(t.nbytes, 1))
                if t.nbytes:
                    self._drv.memcpy_dtod(int(buf), p, t.nbytes)
                outs.append(buf)
            return outs
        except self._drv.Error as exc:
            raise self._late_error(exc) from exc

    @property
    def output_types(self) -> list:
        return [t for _, t in self._outputs]

    def copy_to_host(self, buffer, out: np.ndarray) -> None:
        if out.nbytes:
            self._drv.memcpy_dtoh(out, int(buffer))

    def _put_inputs(self, arrays) -> None:
        if len(arrays) != len(self._inputs):
            raise TypeError(f"graph {self.graph.name} takes {len(self._inputs)} inputs, got {len(arrays)}")
        for (p, t), a in zip(self._inputs, arrays):
            if a is None:
                continue
            a = np.asarray(a, dtype=t.dtype.np)
            if a.shape != tuple(t.shape):
                raise ValueError(f"input of shape {a.shape} where the graph was compiled for {t}")
            a = np.ascontiguousarray(a)  # (after the check: it makes a 0-d array 1-d)
            if a.nbytes:
                self._drv.memcpy_htod(p, a)

    def _execute(self) -> None:
        for i, step in enumerate(self._steps):
            try:
                step()
                if SYNC:
                    self._drv.Context.synchronize()
            except self._drv.Error as exc:
                raise self._run_error(i, exc) from exc

    def _late_error(self, exc) -> CudaRunError:
        return CudaRunError(f"the GPU reported an error while running graph {self.graph.name} "
                            f"(set GRAPHC_CUDA_SYNC=1 to find the node): {exc}")

    def fetch(self, i: int, out: np.ndarray) -> None:
        """Copy input i's device slot (for a donated input: the state after the last run) into `out`."""
        p, t = self._inputs[i]
        if out.flags.c_contiguous and out.dtype == t.dtype.np and out.shape == tuple(t.shape):
            if out.nbytes:
                self._drv.memcpy_dtoh(out, p)
        else:
            np.copyto(out, self._download(p, t))

    def _run_error(self, i: int, exc) -> CudaRunError:
        node, code = self.graph.nodes()[i], self.codes[i]
        kernels = ", ".join(k.name for k in code.kernels) or "host code"
        offset = getattr(exc, "offset", None)
        where = "" if offset is None else f" (offset {offset} is {self.describe_offset(offset)}; the node reads " \
            f"{', '.join('%' + v for v in node.inputs)} and writes {', '.join('%' + v for v in node.outputs)})"
        return CudaRunError(f"node {node.name!r} ({node.op}, kernels {kernels}) failed on the GPU: {exc}{where}; "
                            f"it was recorded at {describe_location(node.source or '')}")


def kernel_sources(graph: Graph) -> dict[str, str]:
    """Every distinct generated kernel of `graph`: name -> CUDA C source."""
    return {k.name: k.source for code in graph_code(graph) for k in code.kernels}


__all__ = ["CudaExecutable", "CudaRuntime", "CudaRunError", "Layout", "kernel_sources"]
