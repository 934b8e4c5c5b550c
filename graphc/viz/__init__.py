"""graphc.viz: pictures of graphs, of grad_fn chains and of memory plans (DESIGN §7).

    draw(graph, plan=None)            -> graphviz.Digraph   the IR graph, fused groups as clusters
    draw_grad_fn(tensor, params=None) -> graphviz.Digraph   the autograd graph, torchviz-style
    draw_memory(plan, graph)          -> str (SVG)          the arena over execution steps
    save(drawing, "out.svg")          writes .svg/.png/.pdf (needs `dot`) or .dot, atomically
"""
from .collapse import DEFAULT_THRESHOLD
from .grad_fn import draw_grad_fn
from .graph import draw
from .memory import draw_memory
from .output import RenderError, save
from .style import KIND_COLOURS, kind_of

__all__ = ["draw", "draw_grad_fn", "draw_memory", "save", "RenderError", "KIND_COLOURS", "kind_of",
           "DEFAULT_THRESHOLD"]
