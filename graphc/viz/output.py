"""Writing drawings to files: atomically, and without the `dot` program where none is needed."""
from __future__ import annotations

import os
import shutil

import graphviz

from ..atomic import write_atomic

FORMATS = ("svg", "png", "pdf", "dot", "gv")
INSTALL_HINT = ("install graphviz (apt-get install graphviz; brew install graphviz; "
                "conda install graphviz), or write .dot instead")


class RenderError(RuntimeError):
    """A drawing could not be written (unknown format, no `dot` program, dot failed)."""


def format_of(path: str) -> str:
    ext = os.path.splitext(path)[1].lstrip(".").lower()
    if ext not in FORMATS:
        raise RenderError(f"{path}: unknown output format {ext or '(none)'!r}; use one of "
                          + ", ".join(f".{f}" for f in FORMATS))
    return ext


def render(drawing, fmt: str) -> bytes:
    """The bytes of `drawing` (a graphviz.Digraph or SVG text) in format `fmt`."""
    if isinstance(drawing, str):
        if fmt != "svg":
            raise RenderError(f"this drawing is SVG only; cannot write .{fmt}")
        return drawing.encode()
    if fmt in ("dot", "gv"):
        return drawing.source.encode()
    if shutil.which("dot") is None:
        raise RenderError(f"writing .{fmt} needs the graphviz `dot` program, which is not on PATH: "
                          + INSTALL_HINT)
    try:
        return drawing.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise RenderError(f"writing .{fmt} needs the graphviz `dot` program: {INSTALL_HINT}") from None
    except graphviz.CalledProcessError as exc:
        detail = (exc.stderr or b"").decode(errors="replace").strip()
        raise RenderError(f"dot failed to render .{fmt}: {detail or exc}") from None


def save(drawing, path: str) -> str:
    """Render `drawing` in the format `path`'s extension names and write it atomically; returns
    the format. Rendering happens before the file is touched."""
    fmt = format_of(path)
    write_atomic(path, render(drawing, fmt))
    return fmt
