"""nvcc, with a disk cache keyed by the source hash and errors that name the graph node.

The runtime compiles each graph's module to a cubin for the device's architecture; the tests
compile the same modules to PTX where no GPU exists. Compilation needs only nvcc, not PyCUDA.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ...errors import GraphcError
from ..hostbuild import cache_root
from .kernel import RENDERER

OPTIONS = ("-O3", "-std=c++17", "-diag-suppress", "177,550")
CONTEXT_LINES = 3


class CudaCompileError(GraphcError):
    """nvcc rejected generated code; the message names the nodes and shows the source."""


def nvcc_path() -> str | None:
    return shutil.which("nvcc") or (
        os.path.join(os.environ["CUDA_HOME"], "bin", "nvcc") if os.environ.get("CUDA_HOME") else None)


def cache_dir() -> Path:
    return cache_root() / "cuda"


class Module:
    """A translation unit of generated kernels, remembering which lines hold which kernel and
    which graph nodes use each kernel (for error messages)."""

    def __init__(self, codes):
        parts = [RENDERER.prelude]
        self.spans: list[tuple[int, int, str]] = []  # (first line, last line, kernel name), 1-based
        self.users: dict[str, list[str]] = {}
        line = RENDERER.prelude.count("\n") + 1
        for code in codes:
            for k in code.kernels:
                self.users.setdefault(k.name, [])
                if code.node not in self.users[k.name]:
                    self.users[k.name].append(f"{code.node} ({code.op})")
                if any(name == k.name for _, _, name in self.spans):
                    continue
                text = "\n" + k.source
                self.spans.append((line + 1, line + text.count("\n"), k.name))
                parts.append(text)
                line += text.count("\n")
        self.source = "".join(parts)

    def kernel_at(self, line: int) -> str | None:
        for first, last, name in self.spans:
            if first <= line <= last:
                return name
        return None

    def explain(self, log: str, filename: str) -> str:
        """nvcc's log with, for each error line, the nodes whose kernel it is and the source."""
        lines = self.source.split("\n")
        out, shown = [], set()
        for m in re.finditer(rf"{re.escape(filename)}\((\d+)\): (?:error|catastrophic error)", log):
            n = int(m.group(1))
            kernel = self.kernel_at(n)
            if kernel in shown:
                continue
            shown.add(kernel)
            who = ", ".join(self.users.get(kernel, [])) or "the common prelude"
            lo, hi = max(1, n - CONTEXT_LINES), min(len(lines), n + CONTEXT_LINES)
            excerpt = "\n".join(f"{'>>' if i == n else '  '} {i:5d} | {lines[i - 1]}" for i in range(lo, hi + 1))
            out.append(f"in kernel {kernel} of node {who}:\n{excerpt}")
        return "\n\n".join(out)


def compile_module(module: Module, arch: str, target: str = "cubin", use_cache: bool = True,
                   options=OPTIONS) -> bytes:
    """The module compiled by nvcc for `arch` (e.g. "sm_90") as `target` ("cubin" or "ptx")."""
    nvcc = nvcc_path()
    if nvcc is None:
        raise CudaCompileError("nvcc was not found (put the CUDA toolkit's bin on PATH or set CUDA_HOME)")
    key = hashlib.sha256("\0".join([module.source, arch, target, *options]).encode()).hexdigest()
    cached = cache_dir() / f"{key}.{target}"
    if use_cache and cached.exists():
        return cached.read_bytes()
    with tempfile.TemporaryDirectory(prefix="graphc-cuda-") as tmp:
        src = Path(tmp) / "graph.cu"
        src.write_text(module.source)
        out = Path(tmp) / f"graph.{target}"
        cmd = [nvcc, f"--{target}", f"-arch={arch}", *options, "-o", str(out), str(src)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            log = proc.stdout + proc.stderr
            where = module.explain(log, str(src))
            raise CudaCompileError(f"nvcc could not compile the generated CUDA code "
                                   f"({' '.join(cmd[:3])} ...):\n{where}\n\nnvcc said:\n{log.strip()[-4000:]}")
        data = out.read_bytes()
    if use_cache:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp_path = cached.with_suffix(f".{os.getpid()}.tmp")
        tmp_path.write_bytes(data)
        os.replace(tmp_path, cached)
    return data
