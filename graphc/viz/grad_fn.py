"""draw_grad_fn(tensor): the autograd graph behind a tensor, as torchviz draws PyTorch's.

Backward functions are grey boxes, each leaf's `AccumulateGrad` is fed by a blue box naming the
parameter and its shape, tensors saved for the backward pass are orange (with their size in
bytes), and the output is green. The walk is iterative, so chains of any length draw.
"""
from __future__ import annotations

import graphviz

from .collapse import DEFAULT_THRESHOLD, block_title, group_of, module_prefix
from .style import BLOCK, human_bytes, shape_str

FN = {"shape": "box", "style": "filled", "fillcolor": "lightgrey"}
LEAF = {"shape": "box", "style": "filled", "fillcolor": "lightblue"}
SAVED = {"shape": "box", "style": "filled", "fillcolor": "orange", "fontsize": "9"}
OUT = {"shape": "box", "style": "filled", "fillcolor": "darkolivegreen1"}


def draw_grad_fn(tensor, params=None, *, collapse: int | None = DEFAULT_THRESHOLD,
                 show_saved: bool = True) -> graphviz.Digraph:
    """The grad_fn graph of `tensor` (or a sequence of tensors). `params` maps names to tensors
    (e.g. dict(model.named_parameters())) to label the leaves. `collapse`: function count above
    which repeated blocks are collapsed into one box (None: never)."""
    roots = list(tensor) if isinstance(tensor, (list, tuple)) else [tensor]
    names = {id(t): name for name, t in (params or {}).items()}
    fns = _walk([t.grad_fn for t in roots if t.grad_fn is not None])
    if not fns:
        raise ValueError("the tensor has no grad_fn: nothing it was computed from requires grad")
    order = sorted(fns, key=lambda f: getattr(f, "_seq", 0))
    size = len(order) + sum(hasattr(f, "variable") for f in order)
    size += len({id(t) for f in order for _, t in _saved(f)}) if show_saved else 0
    block, runs = group_of(order, [f.name() for f in order], collapse, size)
    block = {id(f): k for f, k in block.items()}

    dot = graphviz.Digraph("grad_fn", graph_attr={"fontname": "Helvetica", "labelloc": "t",
                                                  "ranksep": "0.3"},
                           node_attr={"fontname": "Helvetica", "fontsize": "11", "height": "0.3"},
                           edge_attr={"arrowsize": "0.6"})
    ids: dict[tuple, str] = {}

    def nid(*key) -> str:
        return ids.setdefault(key, f"n{len(ids)}")

    def where(fn) -> str:
        k = block.get(id(fn))
        return nid("block", k) if k is not None else nid("fn", id(fn))

    saved_total = 0
    for k, run in enumerate(runs):
        members = order[run.start:run.stop]
        leaves = [names.get(id(f.variable), "") for f in members if hasattr(f, "variable")]
        saved = sum(t._ir_type.nbytes for f in members for _, t in _saved(f))
        saved_total += saved
        lines = block_title(run, [f.name() for f in order[run.start:run.start + run.period]], "functions")
        mods = module_prefix(leaves)
        lines += [mods] if mods else []
        lines += [f"{len(leaves)} leaves"] if leaves else []
        lines += [f"saved {human_bytes(saved)}"] if saved else []
        dot.node(nid("block", k), "\n".join(lines), **BLOCK)

    edges: set[tuple[str, str]] = set()
    drawn: set[str] = set()
    for fn in order:
        here = where(fn)
        if id(fn) not in block:
            dot.node(here, fn.name(), **FN)
            var = getattr(fn, "variable", None)
            if var is not None:
                label = "\n".join(x for x in (names.get(id(var)), shape_str(var.shape)) if x)
                dot.node(nid("var", id(var)), label, **LEAF)
                dot.edge(nid("var", id(var)), here)
            if show_saved:
                for what, t in _saved(fn):
                    sid = nid("saved", id(t))
                    if sid not in drawn:
                        drawn.add(sid)
                        saved_total += t._ir_type.nbytes
                        dot.node(sid, f"{names.get(id(t)) or what}\n{shape_str(t.shape)} "
                                      f"{t.dtype.short}\n{human_bytes(t._ir_type.nbytes)}", **SAVED)
                    dot.edge(sid, here, style="dashed", dir="none")
        for nf, _ in fn.next_functions:
            if nf is not None and (where(nf), here) not in edges and where(nf) != here:
                edges.add((where(nf), here))
                dot.edge(where(nf), here)

    for i, t in enumerate(roots):
        oid = nid("output", i)
        dot.node(oid, "\n".join(x for x in (names.get(id(t)) or "output", shape_str(t.shape)) if x), **OUT)
        if t.grad_fn is not None:
            dot.edge(where(t.grad_fn), oid)
    n_leaves = sum(1 for f in order if hasattr(f, "variable"))
    dot.attr(label=f"grad_fn graph: {len(order)} functions, {n_leaves} leaves, "
                   f"{human_bytes(saved_total)} saved for backward")
    return dot


def _walk(roots) -> list:
    """Every backward function reachable from roots, each once (iterative depth-first)."""
    seen: dict[int, object] = {}
    stack = list(roots)
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen[id(fn)] = fn
        stack.extend(nf for nf, _ in fn.next_functions if nf is not None and id(nf) not in seen)
    return list(seen.values())


def _saved(fn) -> list[tuple[str, object]]:
    """(label, tensor) for each tensor fn keeps for its backward (none once it has run)."""
    ctx = getattr(fn, "ctx", None)
    if ctx is not None:
        return [(f"saved {i}", t) for i, t in enumerate(getattr(ctx, "_saved", ())) if t is not None]
    out = [(f"input {i}", t) for i, t in enumerate(getattr(fn, "_saved_in", ()) or ()) if t is not None]
    out += [(f"result {i}", t) for i, t in enumerate(getattr(fn, "_saved_out", ()) or ()) if t is not None]
    return out
