"""Host C/C++ builds for the runtimes that run generated code on the CPU (DESIGN §5).

One place finds the compiler, builds a shared library from source with given flags, caches it
on disk by the hash of everything that decides its bytes (source, flags, compiler, headers),
and loads it. Builds write to a temporary name and rename, so processes building the same
library at once never see a half-written file.
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import GraphcError


class HostBuildError(GraphcError):
    """The host compiler is missing or rejected generated code."""


def cache_root() -> Path:
    root = os.environ.get("GRAPHC_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "graphc")
    return Path(root)


@functools.lru_cache(maxsize=1)
def compiler() -> tuple[str, str]:
    """(path, version line) of the C++ compiler: $CXX, else g++, clang++ or c++ on PATH."""
    for name in filter(None, (os.environ.get("CXX"), "g++", "clang++", "c++")):
        path = shutil.which(name)
        if path:
            out = subprocess.run([path, "--version"], capture_output=True, text=True)
            return path, (out.stdout.splitlines() or [""])[0]
    raise HostBuildError("no C++ compiler was found (install g++ or clang++, or set CXX)")


def cached_path(source: str, flags: list[str], *, kind: str, include: list[Path] = (),
                link_flags: list[str] = ()) -> Path:
    """Where `build` keeps (or will keep) the library of these arguments."""
    h = hashlib.sha256("\0".join([source, compiler()[1], *flags, "|", *link_flags]).encode())
    for folder in include:
        for f in sorted(Path(folder).iterdir()):
            h.update(f.name.encode() + b"\0" + f.read_bytes())
    return cache_root() / kind / f"{h.hexdigest()[:32]}.so"


def build(source: str, flags: list[str], *, kind: str, include: list[Path] = (),
          link_flags: list[str] = (), explain=None) -> Path:
    """The shared library built from C++ `source`, cached under the cache's `kind` folder.

    `flags` compile, `link_flags` link (kept apart so that instrumenting flags such as
    -fsanitize=... do not pull their runtime library in). `include` folders are on the include
    path and their files are part of the cache key; `explain(log, filename)` turns a compiler
    log into a message about the generated code.
    """
    cxx = compiler()[0]
    target = cached_path(source, flags, kind=kind, include=include, link_flags=link_flags)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="graphc-build-") as tmp:
        src = Path(tmp) / "module.cpp"
        src.write_text(source)
        obj, tmp_lib = Path(tmp) / "module.o", Path(tmp) / "module.so"
        cmd = [cxx, *flags, *(f"-I{i}" for i in include), "-fPIC", "-c", "-o", str(obj), str(src)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode == 0:
            proc = subprocess.run([cxx, "-shared", "-o", str(tmp_lib), str(obj), *link_flags],
                                  capture_output=True, text=True)
        if proc.returncode != 0:
            log = proc.stdout + proc.stderr
            where = explain(log, str(src)) if explain else ""
            raise HostBuildError(f"{Path(cxx).name} could not compile the generated code:\n{where}\n\n"
                                 f"the compiler said:\n{log.strip()[-4000:]}")
        partial = target.with_name(f"{target.stem}.{os.getpid()}.tmp")
        shutil.copyfile(tmp_lib, partial)
        os.replace(partial, target)
    return target


def load(path: Path, global_symbols: bool = False) -> ctypes.CDLL:
    """Load a built library; `global_symbols` makes its symbols resolve later loads' references."""
    return ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL if global_symbols else ctypes.RTLD_LOCAL)


__all__ = ["HostBuildError", "build", "cache_root", "compiler", "load"]
