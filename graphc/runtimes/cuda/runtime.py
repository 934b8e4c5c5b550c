"""CudaRuntime: a compiled graph on an NVIDIA GPU through PyCUDA (DESIGN §5).

prepare() generates every node's kernels, compiles them as one module (cached on disk by
source hash), makes ONE device allocation holding the memory plan's arena plus the graph's
inputs, outputs, constants and the nodes' scratch, uploads the constants, and binds each
kernel to its argument pointers as a prepared call. A call copies the inputs in, launches the
kernels in order, and copies the outputs out. PyCUDA is imported here only, so code generation
and the nvcc checks work without it.
"""
from __future__ import annotations

import os

import numpy as np

from ... import cuda as _cuda
from ...errors import GraphcError, describe_location
from ...ir import Graph
from .compiler import Module, compile_module
from .lower import graph_code

ALIGN = 256
SYNC = os.environ.get("GRAPHC_CUDA_SYNC") == "1"  # synchronise after every node: exact error sites


class CudaRunError(GraphcError):
    """A kernel launch or a copy failed while the compiled graph ran on the GPU."""


def _aligned(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


class Layout:
    """Byte offsets of every value and of the scratch region inside the one device allocation.

    The plan's arena comes first. Values the plan does not place get their own slots after it:
    graph inputs, constants, outputs, and views: a Reshape shares its input's bytes (the layout
    is the same), any other view (transpose, slice, expand) is materialised by its kernel into a
    slot of its own. Scratch is shared by all nodes (they run one after another).
    """

    def __init__(self, graph: Graph, codes, plan):
        self.offsets: dict[str, int] = dict(plan.offsets)
        top = _aligned(plan.arena_bytes)
        self.arena_bytes = plan.arena_bytes

        def slot(v):
            nonlocal top
            if v not in self.offsets:
                self.offsets[v] = top
                top += _aligned(max(graph.type_of(v).nbytes, 1))

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
                at += _aligned(size)
            self.scratch_offsets[code.node] = offs
            most = max(most, at - top)
        self.total = max(top + most, ALIGN)


def _arch() -> str:
    import pycuda.driver as drv

    major, minor = drv.Context.get_device().compute_capability()
    return f"sm_{major}{minor}"


class CudaRuntime:
    name = "cuda"

    def prepare(self, graph: Graph, plan=None) -> "CudaExecutable":
        _cuda._require()
        return CudaExecutable(graph, plan)


class CudaExecutable:
    def __init__(self, graph: Graph, plan=None):
        import pycuda.autoprimaryctx  # noqa: F401  (the device's primary context, shared with others)
        import pycuda.driver as drv

        from ...passes.memory import plan_memory

        self.graph = graph
        self._drv = drv
        self.codes = graph_code(graph)
        plan = plan if plan is not None else plan_memory(graph)
        self.layout = Layout(graph, self.codes, plan)
        self.module = Module(self.codes)
        self._cu = drv.module_from_buffer(compile_module(self.module, _arch()))
        self._mem = drv.mem_alloc(self.layout.total)  # the one device allocation
        self.base = int(self._mem)
        for v, data in graph.initializers.items():
            self._upload(v, data)
        self._rng = np.random.default_rng()
        self._steps = [self._bind(code, node) for code, node in zip(self.codes, graph.nodes())]
        self._outputs = [(self.ptr(v), graph.type_of(v)) for v in graph.outputs]
        self._inputs = [(self.ptr(v), graph.type_of(v)) for v in graph.inputs]

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

        def launch():
            for fn, grid, block, shared, args, seed_at, fixed in calls:
                if seed_at is not None:
                    args[seed_at] = int(fixed) if fixed is not None else int(self._rng.integers(0, 2 ** 63))
                fn.prepared_call(grid, block, *args, shared_size=shared)
        return launch

    def __call__(self, *arrays):
        if len(arrays) != len(self._inputs):
            raise TypeError(f"graph {self.graph.name} takes {len(self._inputs)} inputs, got {len(arrays)}")
        for (p, t), a in zip(self._inputs, arrays):
            a = np.ascontiguousarray(a, dtype=t.dtype.np)
            if a.shape != tuple(t.shape):
                raise ValueError(f"input of shape {a.shape} where the graph was compiled for {t}")
            if a.nbytes:
                self._drv.memcpy_htod(p, a)
        nodes = self.graph.nodes()
        for i, step in enumerate(self._steps):
            try:
                step()
                if SYNC:
                    self._drv.Context.synchronize()
            except self._drv.Error as exc:
                raise self._run_error(nodes[i], exc) from exc
        try:
            return [self._download(p, t) for p, t in self._outputs]
        except self._drv.Error as exc:
            raise CudaRunError(f"the GPU reported an error while running graph {self.graph.name} "
                               f"(set GRAPHC_CUDA_SYNC=1 to find the node): {exc}") from exc

    def _run_error(self, node, exc) -> CudaRunError:
        code = self.codes[self.graph.nodes().index(node)]
        kernels = ", ".join(k.name for k in code.kernels) or "host code"
        return CudaRunError(f"node {node.name!r} ({node.op}, kernels {kernels}) failed on the GPU: {exc}; "
                            f"it was recorded at {describe_location(node.source or '')}")


def kernel_sources(graph: Graph) -> dict[str, str]:
    """Every distinct generated kernel of `graph`: name -> CUDA C source."""
    return {k.name: k.source for code in graph_code(graph) for k in code.kernels}


__all__ = ["CudaExecutable", "CudaRuntime", "CudaRunError", "Layout", "kernel_sources"]
