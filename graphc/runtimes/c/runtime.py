"""CRuntime: a compiled graph as one generated C++ translation unit, run natively (DESIGN §5).

prepare() lowers every node (lower.py), builds the module with the host compiler (cached by
source hash through hostbuild: -O3, -march=native, OpenMP, OpenBLAS), and lays the memory plan's
arena out as one allocation. Consecutive nodes with C code form a *segment*, one C function that
calls their kernels in order; a call makes one native call per segment, and a node without C
code (listed by `fallback_nodes`) runs its NumPy kernel between segments. With no fallback, a
call is a single native call: no Python between nodes.
"""
from __future__ import annotations

import ctypes
import os
import platform
import time

import numpy as np

from ...ir import Graph
from ..hostbuild import build, cached_path, load
from .blas import DECLS, blas, one_thread
from .lower import fallback_nodes, graph_code
from .renderer import RENDERER, vector_math

# -fno-tree-pre: GCC's partial redundancy elimination turns a select feeding two outputs back
# into branches, and the loop no longer vectorises (a fused relu + mask ran 40x slower)
FLAGS = ["-O3", "-std=c++17", "-fopenmp", "-w", "-fno-math-errno", "-fno-tree-pre"]
ALIGN = 64


def _cpu() -> str:
    """What -march=native compiles for, so a cache shared between machines stays apart."""
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        return platform.processor()


def _key(code, param):
    if param.kind == "seed":  # the table slot carries the seed's value, not a pointer
        return (code.node.name, "seed")
    return param.ref if param.kind == "value" else (code.node.name, param.ref)


SANITIZE = ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]


class CRuntime:
    """GRAPHC_C_SANITIZE=1 builds with AddressSanitizer and UndefinedBehaviorSanitizer and gives
    every value its own allocation, so an overrun hits a red zone; the process must have the
    sanitizer runtime loaded first (LD_PRELOAD=$(g++ -print-file-name=libasan.so))."""

    name = "c"

    def prepare(self, graph: Graph, plan=None) -> "CExecutable":
        return CExecutable(graph, plan, sanitize=os.environ.get("GRAPHC_C_SANITIZE") == "1")


class CExecutable:
    def __init__(self, graph: Graph, plan=None, sanitize: bool = False):
        from ...passes.memory import plan_memory

        self.graph = graph
        self.codes = graph_code(graph)
        plan = self.plan = plan if plan is not None else plan_memory(graph)
        self.fallbacks = fallback_nodes(self.codes)
        self._slot = {}  # value name, or (node, scratch index) -> index into the pointer table
        for code in self.codes:
            for k in code.kernels:
                for p in k.params:
                    self._slot.setdefault(_key(code, p), len(self._slot))
        # (slot, fixed seed or None): a fresh seed per call unless the op was seeded, as on CUDA
        self._seeds = [(self._slot[_key(code, p)], p.ref) for code in self.codes for k in code.kernels
                       for p in k.params if p.kind == "seed"]
        self._rng = np.random.default_rng()
        self._arena = np.zeros(plan.arena_bytes + ALIGN, np.uint8)
        base = -self._arena.ctypes.data % ALIGN
        self._arrays: dict[str, np.ndarray] = {}
        for v, off in () if sanitize else plan.offsets.items():
            t = graph.type_of(v)
            self._arrays[v] = self._arena[base + off:base + off + t.nbytes].view(t.dtype.np).reshape(t.shape)
        for v, data in graph.initializers.items():
            self._arrays[v] = np.ascontiguousarray(data, dtype=graph.type_of(v).dtype.np)
        self._fresh = [v for v in graph.outputs if v not in self._arrays and v not in graph.inputs]
        for n in graph.nodes():
            for v in n.outputs:
                if v not in self._arrays and v not in self._fresh:
                    t = graph.type_of(v)
                    self._arrays[v] = np.empty(t.shape, t.dtype.np)
        for code in self.codes:
            for i, size in enumerate(code.scratch):
                self._arrays[(code.node.name, i)] = np.empty(size, np.uint8)
        self._table = (ctypes.c_void_p * max(len(self._slot), 1))()
        for v, a in self._arrays.items():
            if v in self._slot:
                self._table[self._slot[v]] = a.ctypes.data
        self.source, segments = self._module()
        self.build_flags = FLAGS + ["-march=native"] + (SANITIZE if sanitize else [])
        self.link_flags = ["-fopenmp", *(blas() or [[]])[0], *vector_math()[1]]
        link = self.link_flags + (["-fsanitize=address,undefined"] if sanitize else [])
        self.build_cached = cached_path(self.source, self.build_flags, kind="c", link_flags=link).exists()
        start = time.perf_counter()
        lib = load(build(self.source, self.build_flags, kind="c", link_flags=link))
        self.build_seconds = time.perf_counter() - start
        one_thread()  # one thread pool on the cores: OpenMP's (blas.py)
        self._steps = [self._native(lib, name) if name else self._host(code) for name, code in segments]
        self.native_calls = sum(1 for name, _ in segments if name)  # per execution

    def report(self) -> dict:
        """What `graphc compile --report` says of this executable."""
        return {"native_nodes": len(self.codes) - len(self.fallbacks), "numpy_nodes": len(self.fallbacks),
                "fallbacks": [{"node": n, "op": op, "why": why} for n, op, why in self.fallbacks],
                "native_calls": self.native_calls,
                "build_seconds": round(self.build_seconds, 3), "build_cached": self.build_cached}

    def _module(self):
        """The translation unit, and per step (segment function name, None) or (None, host CNode)."""
        parts = [f"// graphc C runtime; compiled for: {_cpu()}\n", RENDERER.prelude, vector_math()[0],
                 DECLS if blas() else ""]
        seen, steps, calls = set(), [], []

        def close():
            if calls:
                name = f"segment_{len(steps)}"
                parts.append(f'extern "C" void {name}(void** p) {{\n' + "".join(calls) + "}\n")
                steps.append((name, None))
                calls.clear()

        for code in self.codes:
            if code.host is not None:
                close()
                steps.append((None, code))
                continue
            for k in code.kernels:
                if k.name not in seen:
                    seen.add(k.name)
                    parts.append(k.source)
                args = ", ".join(f"({p.decl(RENDERER).rsplit(' ', 1)[0]})p[{self._slot[_key(code, p)]}]" for p in k.params)
                calls.append(f"  {k.name}({args});\n")
        close()
        return "\n".join(parts), steps

    def _native(self, lib, name: str):
        fn = getattr(lib, name)
        fn.argtypes = [ctypes.c_void_p]
        fn.restype = None
        table = self._table
        return lambda: fn(table)

    def _host(self, code):
        node = code.node

        def run():
            results = code.host(*[self._arrays[v] for v in node.inputs])
            results = results if isinstance(results, tuple) else (results,)
            for v, r in zip(node.outputs, results):  # into the buffer the pointer table names
                np.copyto(self._arrays[v], np.asarray(r).reshape(self.graph.type_of(v).shape), casting="unsafe")
        return run

    def __call__(self, *arrays):
        graph = self.graph
        if len(arrays) != len(graph.inputs):
            raise TypeError(f"graph {graph.name} takes {len(graph.inputs)} inputs, got {len(arrays)}")
        keep = []
        for v, a in zip(graph.inputs, arrays):
            t = graph.type_of(v)
            a = np.asarray(a, dtype=t.dtype.np)
            if a.shape != tuple(t.shape):
                raise ValueError(f"input of shape {a.shape} where the graph was compiled for {t}")
            a = a if a.flags.c_contiguous else np.ascontiguousarray(a)
            keep.append(a)
            self._arrays[v] = a
            if v in self._slot:
                self._table[self._slot[v]] = a.ctypes.data
        self._fresh_now = {}
        for v in self._fresh:
            t = graph.type_of(v)
            a = self._fresh_now[v] = self._arrays[v] = np.empty(t.shape, t.dtype.np)
            if v in self._slot:
                self._table[self._slot[v]] = a.ctypes.data
        for slot, fixed in self._seeds:
            self._table[slot] = int(fixed) if fixed is not None else int(self._rng.integers(1, 2 ** 63))
        for step in self._steps:
            step()
        out, given = [], set()
        for v in graph.outputs:
            a = self._fresh_now.get(v)
            out.append(a if a is not None and v not in given else np.array(self._arrays[v], copy=True))
            given.add(v)
        return out


__all__ = ["CExecutable", "CRuntime"]
