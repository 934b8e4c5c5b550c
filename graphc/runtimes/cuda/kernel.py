"""What the code generator produces: kernels with their launch geometry, and index arithmetic.

A `Kernel` is one CUDA C function plus how to launch it; its name is derived from a hash of
its text, so identical kernels (the same op on the same shapes) are compiled once and a
changed kernel is a changed name. Parameters name what they point at: a graph value, a
scratch buffer of the node, or the per-call random seed. Shapes are baked into the source as
constants, so index division is by literals (cheap multiply-shifts after compilation).
"""
from __future__ import annotations

import contextlib
import contextvars
import hashlib
import re
from dataclasses import dataclass, field
from math import prod

from ... import dtypes
from .renderer import CUDARenderer

THREADS = 256
MAX_BLOCKS = 8192   # grid-stride loops cap the grid here (enough to fill any current GPU)
RENDERER = CUDARenderer()


@dataclass(frozen=True)
class Param:
    """A kernel argument: kind "value" (ref = graph value name), "scratch" (ref = index into the
    node's scratch buffers) or "seed" (a 64-bit integer drawn per call)."""

    name: str
    kind: str
    ref: object
    dtype: object = None
    const: bool = True

    def decl(self, renderer=None) -> str:
        if self.kind == "seed":
            return f"unsigned long long {self.name}"
        c = (renderer or current_renderer()).ctype(self.dtype)
        return f"{'const ' if self.const else ''}{c}* {self.name}"


@dataclass(frozen=True)
class Kernel:
    name: str
    source: str
    params: tuple[Param, ...]
    grid: tuple[int, int, int]
    block: tuple[int, int, int]
    shared: int = 0

    def signature(self) -> str:
        """PyCUDA's prepared-call format: a pointer per buffer, Q for the seed."""
        return "".join("Q" if p.kind == "seed" else "P" for p in self.params)


@dataclass
class NodeCode:
    """How one graph node runs: kernels in order, scratch buffers (bytes each) they share, and
    for ops computed on the host a callable (numpy arrays in, arrays out)."""

    node: str
    op: str
    kernels: list[Kernel] = field(default_factory=list)
    scratch: list[int] = field(default_factory=list)
    host: object = None


_CURRENT = contextvars.ContextVar("graphc_kernel_renderer", default=None)


@contextlib.contextmanager
def rendering(renderer):
    """Kernels made inside render with `renderer` (a per-output generator of kernels/ for C)."""
    token = _CURRENT.set(renderer)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current_renderer():
    return _CURRENT.get() or RENDERER


def make_kernel(tag: str, params, body: list[str] | str, grid, block=THREADS, shared: int = 0,
                pre: str = "", renderer=None) -> Kernel:
    """Render a kernel from its body lines; `pre` is file-scope text (constant tables) placed
    before it. The name is `tag` plus the hash of the text."""
    renderer = renderer or current_renderer()
    if isinstance(body, list):
        body = "\n".join("  " + line for line in _drop_unused(body))
    block = (block, 1, 1) if isinstance(block, int) else tuple(block)
    grid = tuple(max(1, int(g)) for g in ((grid,) if isinstance(grid, int) else grid))
    grid = grid + (1,) * (3 - len(grid))
    threads = prod(block)
    decls = ", ".join(p.decl(renderer) for p in params)
    text = (f"{pre}{renderer.kernel_prefix} {renderer.launch_bounds(threads)}KNAME({decls}) {{\n"
            f"{body}\n}}\n")
    name = f"{tag}_{hashlib.sha1(text.encode()).hexdigest()[:12]}"
    return Kernel(name, text.replace("KNAME", name), tuple(params), grid, block, shared)


_DECL = re.compile(r"^\s*(?:const )?(?:int|long long) (\w+) = [^;{}]*;$")


def _drop_unused(lines: list[str]) -> list[str]:
    """Remove index declarations nothing reads (the coordinates an offset did not need)."""
    text = "\n".join(lines)
    keep = []
    for line in lines:
        m = _DECL.match(line)
        if m and len(re.findall(rf"\b{m.group(1)}\b", text)) == 1:
            continue
        keep.append(line)
    return keep


def blocks_for(n: int, threads: int = THREADS) -> int:
    return max(1, min(MAX_BLOCKS, -(-n // threads)))


def index_type(*numels: int) -> str:
    return "long long" if max(numels, default=0) >= 2 ** 31 - 1 else "int"


def grid_loop(var: str, n: int, itype: str, renderer=None) -> str:
    renderer = renderer or current_renderer()
    return (f"{renderer.loop_prefix(n)}for ({itype} {var} = ({itype}){renderer.global_id}; {var} < {n}; "
            f"{var} += ({itype}){renderer.global_size})")


# ---- shapes and strides ------------------------------------------------------------------------

def contiguous_strides(shape) -> tuple[int, ...]:
    out, step = [], 1
    for n in reversed(tuple(shape)):
        out.append(step)
        step *= n
    return tuple(reversed(out))


def broadcast_strides(shape, full) -> tuple[int, ...]:
    """Element strides of a contiguous `shape` read as the broadcast `full` shape (0 where it
    broadcasts)."""
    shape = (1,) * (len(full) - len(shape)) + tuple(shape)
    return tuple(0 if n == 1 and f != 1 else s for n, f, s in zip(shape, full, contiguous_strides(shape)))


def coalesce(full, strides_list):
    """Merge adjacent dims that every operand walks contiguously; drop size-1 dims. Returns
    (shape, [strides per operand])."""
    dims = [d for d, n in enumerate(full) if n != 1]
    shape: list[int] = []
    out: list[list[int]] = [[] for _ in strides_list]
    for d in dims:
        if shape and all(s[d] * full[d] == o[-1] for s, o in zip(strides_list, out)):
            shape[-1] *= full[d]
            for s, o in zip(strides_list, out):
                o[-1] = s[d]
            continue
        shape.append(full[d])
        for s, o in zip(strides_list, out):
            o.append(s[d])
    return tuple(shape), [tuple(o) for o in out]


def coords(index: str, shape, prefix: str, itype: str) -> list[str]:
    """Lines declaring `prefix{d}`, the coordinates of flat `index` in `shape`."""
    lines = []
    inner = 1
    for d in reversed(range(len(shape))):
        div = f"({index} / {inner})" if inner != 1 else index
        mod = f" % {shape[d]}" if d else ""
        if d == 0 and inner == 1:
            lines.append(f"{itype} {prefix}{d} = {index};")
        elif d == 0:
            lines.append(f"{itype} {prefix}{d} = {div};")
        else:
            lines.append(f"{itype} {prefix}{d} = {div}{mod};")
        inner *= shape[d]
    return list(reversed(lines))


def dot(coord_names, strides) -> str:
    """The offset sum(coord * stride) as C text ("0" when every stride is 0)."""
    terms = [c if s == 1 else f"{c} * {s}" for c, s in zip(coord_names, strides) if s]
    return " + ".join(terms) if terms else "0"


def value_param(name: str, value: str, dtype, output: bool = False) -> Param:
    return Param(name, "value", value, dtypes.as_dtype(dtype), const=not output)
