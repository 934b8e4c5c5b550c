"""A compiled graph as a program that needs no Python (`graphc compile MODEL.py --emit-c DIR`).

The C runtime's own translation unit (the very code `CExecutable` runs) plus an entry point
over two allocations: the weights, read from `weights.bin`, and one work buffer holding the
memory plan's arena followed by every other buffer. `model.h` declares `model_load`,
`model_run` and `model_free` with each input's and output's shape; `main.cpp` runs the model
on raw input files; `BUILD` is the one-line command that links them.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np

from ...atomic import write_atomic
from ..hostbuild import compiler
from .blas import blas
from .renderer import RENDERER
from .runtime import ALIGN, CExecutable


def _align(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def _ident(name: str, prefix: str) -> str:
    return prefix + re.sub(r"\W", "_", name)


class _Layout:
    """Where every pointer-table entry of an executable points in the standalone program."""

    def __init__(self, exe: CExecutable):
        g = exe.graph
        self.weights, self.work, self.blob = {}, dict(exe.plan.offsets), bytearray()
        end = exe.plan.arena_bytes
        for key in exe._slot:
            if key in g.inputs or key in self.work:
                continue
            if key in g.initializers:
                data = np.ascontiguousarray(g.initializers[key], dtype=g.type_of(key).dtype.np).tobytes()
                self.blob += bytes(_align(len(self.blob)) - len(self.blob))
                self.weights[key] = len(self.blob)
                self.blob += data
            else:
                size = exe._arrays[key].nbytes if isinstance(key, tuple) else g.type_of(key).nbytes
                self.work[key], end = _align(end), _align(end) + size
        self.work_bytes = _align(end)

    def pointer(self, key, inputs: dict) -> str:
        if key in inputs:
            return f"(void*){inputs[key]}"
        if key in self.weights:
            return f"weights + {self.weights[key]}"
        return f"work + {self.work[key]}"


def emit_c(graph, directory, name: str = "model") -> tuple[list[Path], str]:
    """Write the standalone program of `graph` (run it through the passes first) to `directory`;
    returns the paths written and the build command. Refuses, writing nothing, a graph with
    nodes that only have NumPy kernels, or that draws random numbers."""
    exe = CExecutable(graph)
    if exe.fallbacks:
        listed = ", ".join(f"{n!r} ({op}: {why})" for n, op, why in exe.fallbacks)
        raise ValueError(f"graph {graph.name!r} has nodes without C code, which need Python: {listed}")
    if exe._seeds:
        raise ValueError(f"graph {graph.name!r} draws random numbers on every run (dropout in training mode); "
                         "--emit-c writes inference graphs")
    layout = _Layout(exe)
    ins = {v: _ident(v, "in_") for v in graph.inputs}
    outs = [f"out{i}" for i in range(len(graph.outputs))]
    ctype = lambda v: RENDERER.ctype(graph.type_of(v).dtype)  # noqa: E731
    args = [f"const {ctype(v)}* {ins[v]}" for v in graph.inputs] + \
           [f"{ctype(v)}* {o}" for v, o in zip(graph.outputs, outs)]
    shapes = [f"  {ins[v]}: {graph.type_of(v)} (input {v!r})" for v in graph.inputs] + \
             [f"  {o}: {graph.type_of(v)} (output {v!r})" for v, o in zip(graph.outputs, outs)]
    header = "\n".join([
        f"/* {name}.h: graph {graph.name!r} compiled by graphc. Arrays are dense, row-major:",
        *shapes, "*/", "#pragma once", "#include <stdint.h>", "#include <stdbool.h>",
        '#ifdef __cplusplus\nextern "C" {\n#endif',
        f"int {name}_load(const char* weights_path);  /* 0 on success */",
        f"void {name}_run({', '.join(args)});", f"void {name}_free(void);",
        "#ifdef __cplusplus\n}\n#endif", ""])
    fill = [f"  table[{slot}] = {layout.pointer(key, ins)};" for key, slot in exe._slot.items() if key not in ins]
    run_ins = [f"  table[{exe._slot[v]}] = (void*){ins[v]};" for v in graph.inputs if v in exe._slot]
    copies = [f"  memcpy({o}, {_source(v, exe, layout, ins)}, {graph.type_of(v).nbytes});"
              for v, o in zip(graph.outputs, outs)]
    segment = "segment_0(table);" if exe.native_calls else ""
    entry = "\n".join([
        f'#include "{name}.h"', "#include <stdio.h>",
        f"static void* table[{max(len(exe._slot), 1)}];",
        "static unsigned char *weights, *work;",
        f"extern \"C\" int {name}_load(const char* path) {{",
        '  FILE* f = fopen(path, "rb");', "  if (!f) return -1;",
        f"  weights = (unsigned char*)aligned_alloc({ALIGN}, {_align(max(len(layout.blob), 1))});",
        f"  work = (unsigned char*)aligned_alloc({ALIGN}, {max(layout.work_bytes, ALIGN)});",
        f"  const size_t got = fread(weights, 1, {len(layout.blob)}, f);",
        "  const bool end = fgetc(f) == EOF;", "  fclose(f);",
        f"  if (!weights || !work || got != {len(layout.blob)} || !end) {{ {name}_free(); return -1; }}",
        f"  memset(work, 0, {layout.work_bytes});", *fill,
        *(["  scipy_openblas_set_num_threads(1);  /* one thread pool on the cores: OpenMP's */"] if blas() else []),
        "  return 0;", "}",
        f"extern \"C\" void {name}_run({', '.join(args)}) {{", *run_ins, f"  {segment}", *copies, "}",
        f"extern \"C\" void {name}_free(void) {{ free(weights); free(work); weights = work = 0; }}", ""])
    main = _main(name, graph, ins, outs, ctype)
    build = shlex.join([Path(compiler()[0]).name, *exe.build_flags, f"{name}.cpp", "main.cpp", "-o", name,
                        *exe.link_flags])
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    files = {f"{name}.cpp": exe.source + "\n" + entry, f"{name}.h": header, "main.cpp": main,
             "weights.bin": bytes(layout.blob), "BUILD": build + "\n"}
    paths = []
    for fname, text in files.items():
        write_atomic(out / fname, text if isinstance(text, bytes) else text.encode())
        paths.append(out / fname)
    return paths, build


def _source(v, exe, layout, ins) -> str:
    """Where output `v` is after the run."""
    if v in ins:
        return ins[v]
    if v in exe._slot:
        return f"table[{exe._slot[v]}]"
    return layout.pointer(v, ins)


def _main(name, graph, ins, outs, ctype) -> str:
    """An example driver: `./model weights.bin IN... OUT...`, arrays as raw bytes."""
    n_in, n_out = len(graph.inputs), len(graph.outputs)
    usage = " ".join(["weights.bin", *(f"{ins[v]}.bin" for v in graph.inputs), *(f"{o}.bin" for o in outs)])
    reads = [f"  {ctype(v)}* {ins[v]} = ({ctype(v)}*)read_all(argv[{2 + i}], {graph.type_of(v).nbytes});"
             for i, v in enumerate(graph.inputs)]
    allocs = [f"  {ctype(v)}* {o} = ({ctype(v)}*)malloc({max(graph.type_of(v).nbytes, 1)});"
              for v, o in zip(graph.outputs, outs)]
    writes = [f"  write_all(argv[{2 + n_in + i}], {o}, {graph.type_of(v).nbytes});"
              for i, (v, o) in enumerate(zip(graph.outputs, outs))]
    call = ", ".join([ins[v] for v in graph.inputs] + outs)
    return "\n".join([
        f'#include "{name}.h"', "#include <stdio.h>", "#include <stdlib.h>", "",
        "static void* read_all(const char* path, size_t bytes) {",
        '  FILE* f = fopen(path, "rb");', "  void* p = malloc(bytes ? bytes : 1);",
        "  if (!f || !p || fread(p, 1, bytes, f) != bytes || fgetc(f) != EOF) {",
        '    fprintf(stderr, "%s: expected exactly %zu bytes\\n", path, bytes);', "    exit(1);", "  }",
        "  fclose(f);", "  return p;", "}", "",
        "static void write_all(const char* path, const void* p, size_t bytes) {",
        '  FILE* f = fopen(path, "wb");',
        '  if (!f || fwrite(p, 1, bytes, f) != bytes || fclose(f)) { fprintf(stderr, "cannot write %s\\n", path); exit(1); }',
        "}", "",
        "int main(int argc, char** argv) {",
        f"  if (argc != {2 + n_in + n_out}) {{ fprintf(stderr, \"usage: %s {usage}\\n\", argv[0]); return 2; }}",
        f'  if ({name}_load(argv[1])) {{ fprintf(stderr, "cannot load the weights from %s\\n", argv[1]); return 1; }}',
        *reads, *allocs, f"  {name}_run({call});", *writes, f"  {name}_free();", "  return 0;", "}", ""])


__all__ = ["emit_c"]
