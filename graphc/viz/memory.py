"""draw_memory(plan): the arena over time as an SVG, written by hand (no graphviz needed).

Each placed buffer is a rectangle: across, the execution steps it is live for; up, its byte
range in the arena. Buffers that reuse bytes share rows at different times, so the picture
shows at a glance how much the planner saved (the dashed line is the lower bound: the most
bytes live at any one step).
"""
from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from .style import KIND_COLOURS, colour_of, human_bytes

LEFT, RIGHT, TOP, BOTTOM = 90, 20, 56, 48


@dataclass(frozen=True)
class Buffer:
    value: str
    offset: int
    size: int
    first: int   # first execution step it is live
    last: int    # last execution step it is live
    op: str      # the op that defines it ("" when unknown)
    type: str


def buffers(plan, graph=None) -> list[Buffer]:
    """One Buffer per value the plan places. Lifetimes and sizes come from the plan when it
    carries them (`lifetimes`, `sizes`), else from `graph`, the graph the plan was made for."""
    spans = getattr(plan, "lifetimes", None)
    sizes = getattr(plan, "sizes", None)
    if graph is None and (spans is None or sizes is None):
        raise ValueError("draw_memory needs the graph the plan was made for: this MemoryPlan "
                         "does not carry buffer lifetimes and sizes")
    if spans is None:
        from ..passes.memory import buffer_lifetimes

        spans = buffer_lifetimes(graph)[0]
    out = []
    for v, off in sorted(plan.offsets.items(), key=lambda kv: (kv[1], kv[0])):
        producer = graph.producer(v) if graph is not None else None
        size = sizes[v] if sizes is not None else graph.type_of(v).nbytes
        ty = str(graph.type_of(v)) if graph is not None else ""
        first, last = spans[v]
        out.append(Buffer(v, off, size, first, last, producer.op if producer else "", ty))
    return out


def draw_memory(plan, graph=None, *, width: int = 960, height: int = 420) -> str:
    """SVG text of the arena over execution steps (see the module docstring)."""
    bufs = buffers(plan, graph)
    steps = len(graph.nodes()) if graph is not None else max((b.last + 1 for b in bufs), default=1)
    steps = max(steps, 1)
    arena = max(plan.arena_bytes, 1)
    w, h = width - LEFT - RIGHT, height - TOP - BOTTOM
    sx, sy = w / steps, h / arena

    def y(offset: float) -> float:
        return TOP + h - offset * sy

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" font-size="11">',
             f'<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>',
             _text(LEFT, 20, f"memory plan: arena {human_bytes(plan.arena_bytes)}, lower bound "
                   f"{human_bytes(plan.lower_bound_bytes)}, no reuse {human_bytes(plan.no_reuse_bytes)}"
                   f" ({len(bufs)} buffers, {steps} steps)", size=13, weight="bold", cls="title")]
    handed = set(getattr(plan, "in_place", {}).values())
    reusing = set(getattr(plan, "in_place", {}))
    for b in bufs:
        x0 = LEFT + (b.first + (0.5 if b.value in reusing else 0)) * sx
        x1 = LEFT + (b.last + (0.5 if b.value in handed else 1)) * sx
        top, bottom = y(b.offset + b.size), y(b.offset)
        fill = colour_of(b.op) if b.op else KIND_COLOURS["other"]
        tip = (f"%{b.value} {b.type} = {b.op or '?'}: {human_bytes(b.size)} at offset {b.offset}, "
               f"live at steps {b.first}..{b.last}")
        parts.append(f'<rect class="buffer" data-value={quoteattr(b.value)} x="{x0:.2f}" '
                     f'y="{top:.2f}" width="{max(x1 - x0, 0.5):.2f}" height="{max(bottom - top, 0.5):.2f}" '
                     f'fill="{fill}" stroke="#333333" stroke-width="0.5"><title>{escape(tip)}</title></rect>')
        if x1 - x0 > 8 * (len(b.value) + 1) and bottom - top > 11:
            parts.append(_text((x0 + x1) / 2, (top + bottom) / 2 + 4, f"%{b.value}", anchor="middle",
                               size=9, cls="buffer-label"))
    lb = y(plan.lower_bound_bytes)
    parts.append(f'<line x1="{LEFT}" y1="{lb:.2f}" x2="{LEFT + w}" y2="{lb:.2f}" stroke="#b2182b" '
                 f'stroke-dasharray="5,3"/>')
    parts.append(_text(LEFT + w - 4, lb - 4, "lower bound", anchor="end", size=9, fill="#b2182b"))
    parts += _axes(w, h, steps, arena, sx, y)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _axes(w, h, steps, arena, sx, y) -> list[str]:
    out = [f'<line x1="{LEFT}" y1="{TOP + h}" x2="{LEFT + w}" y2="{TOP + h}" stroke="black"/>',
           f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + h}" stroke="black"/>']
    for s in _ticks(steps):
        x = LEFT + (s + 0.5) * sx
        out.append(f'<line x1="{x:.2f}" y1="{TOP + h}" x2="{x:.2f}" y2="{TOP + h + 4}" stroke="black"/>')
        out.append(_text(x, TOP + h + 16, str(s), anchor="middle", size=9))
    for b in _ticks(arena):
        out.append(f'<line x1="{LEFT - 4}" y1="{y(b):.2f}" x2="{LEFT}" y2="{y(b):.2f}" stroke="black"/>')
        out.append(_text(LEFT - 6, y(b) + 3, human_bytes(b), anchor="end", size=9))
    out.append(_text(LEFT + w / 2, TOP + h + 36, "execution step", anchor="middle", cls="axis-label"))
    out.append(f'<text class="axis-label" transform="translate(16,{TOP + h / 2:.2f}) rotate(-90)" '
               f'text-anchor="middle">arena offset (bytes)</text>')
    return out


def _ticks(limit: int, target: int = 8) -> list[int]:
    """Round tick positions 0, step, 2*step, ... below limit (step 1, 2 or 5 times a power of 10)."""
    raw = max(limit / target, 1)
    mag = 10 ** (len(str(int(raw))) - 1)
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    return list(range(0, limit, int(step)))


def _text(x, y, s, *, anchor="start", size=11, weight="normal", fill="black", cls=None) -> str:
    c = f' class="{cls}"' if cls else ""
    return (f'<text{c} x="{x:.2f}" y="{y:.2f}" text-anchor="{anchor}" font-size="{size}" '
            f'font-weight="{weight}" fill="{fill}">{escape(s)}</text>')
