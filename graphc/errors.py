"""Errors that point at the user's code, not at graphc's internals."""
from __future__ import annotations

import linecache
import os
import sys

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class GraphcError(RuntimeError):
    """Base class of graphc's own errors (a RuntimeError, as PyTorch raises for the same faults)."""


class ShapeError(GraphcError, ValueError):
    """An op received inputs whose shapes or dtypes it cannot accept."""


def user_frame():
    """The innermost stack frame outside the graphc package and Python's own machinery
    (runpy, importlib): the user's line."""
    f = sys._getframe(1)
    while f is not None and _internal(f.f_code.co_filename):
        f = f.f_back
    return f


def _internal(filename: str) -> bool:
    return filename.startswith(_PACKAGE_DIR) or filename.startswith("<frozen ")


def user_location() -> str:
    """'file:line' of the user's code that called into graphc, or '' when there is none."""
    f = user_frame()
    if f is None:
        return ""
    return f"{f.f_code.co_filename}:{f.f_lineno}"


def describe_location(location: str) -> str:
    """'file:line: source text' for an error message."""
    if not location:
        return "<unknown location>"
    path, _, line = location.rpartition(":")
    text = linecache.getline(path, int(line)).strip() if line.isdigit() else ""
    return f"{location}: {text}" if text else location


def op_error(op_name: str, shapes, detail: str, location: str | None = None) -> ShapeError:
    """An error naming the op, its input shapes and the user's source line."""
    where = describe_location(user_location() if location is None else location)
    shown = ", ".join(_fmt_type(s) for s in shapes)
    return ShapeError(f"{op_name}: {detail} (inputs: {shown}) at {where}")


def _fmt_type(t) -> str:
    return str(t) if hasattr(t, "dtype") else str(list(t))
