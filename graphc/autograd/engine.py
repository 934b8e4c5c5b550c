"""The backward engine: an iterative walk of grad_fn nodes in reverse creation order."""
from __future__ import annotations

import heapq

from ..state import STATE
from .graph import AccumulateGrad, gradient_edge


def run_backward(roots, grad_roots, *, retain_graph: bool, create_graph: bool, capture=None,
                 accumulate: bool = True):
    """Propagate `grad_roots` from `roots` through the graph.

    capture: list of (node, output_nr) edges whose total gradient is returned instead of (or as
    well as) being accumulated into leaves, in that order (autograd.grad).
    """
    edges = []
    for t, g in zip(roots, grad_roots):
        node, nr = gradient_edge(t)
        if node is None:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        edges.append((node, nr, g))
    deps = _dependencies([e[0] for e in edges])
    captured = {edge: None for edge in capture} if capture else {}
    buffers: dict = {}
    for node, nr, g in edges:
        _add_to_buffer(buffers, node, nr, g)
    ready = [(-n._seq, id(n), n) for n in {e[0] for e in edges} if deps.get(n, 0) == 0]
    heapq.heapify(ready)
    prev = STATE.grad_enabled
    STATE.grad_enabled = create_graph
    try:
        while ready:
            _, _, node = heapq.heappop(ready)
            grads = buffers.pop(node)
            if node._hooks:
                grads = _run_hooks(node._hooks, grads)
            for nr, g in enumerate(grads):
                if (node, nr) in captured:
                    captured[(node, nr)] = g
            if node._retained:
                for nr, ref in node._retained.items():
                    t = ref()
                    if t is not None and grads[nr] is not None:
                        t.grad = grads[nr] if create_graph else grads[nr].detach()
            run_node = accumulate or not isinstance(node, AccumulateGrad)
            in_grads = node.apply(grads, create_graph) if run_node and _any(grads) else ()
            if not retain_graph:
                node.release()
            for (child, nr), g in zip(node.next_functions, in_grads):
                if child is None or g is None:
                    continue
                _add_to_buffer(buffers, child, nr, g)
            for child, _ in node.next_functions:
                if child is None:
                    continue
                deps[child] -= 1
                if deps[child] == 0:
                    if child not in buffers:
                        buffers[child] = [None] * _n_outputs(child)
                    heapq.heappush(ready, (-child._seq, id(child), child))
    finally:
        STATE.grad_enabled = prev
    return [captured[e] for e in capture] if capture else None


def _run_hooks(hooks, grads):
    grads = list(grads)
    for nr, fn in hooks:
        if grads[nr] is not None:
            result = fn(grads[nr])
            if result is not None:
                grads[nr] = result
    return grads


def _any(grads) -> bool:
    for g in grads:
        if g is not None:
            return True
    return False


def _dependencies(roots) -> dict:
    """How many edges lead into each node reachable from the roots (iterative DFS)."""
    deps: dict = {}
    seen = set(roots)
    stack = list(seen)
    while stack:
        node = stack.pop()
        for child, _ in node.next_functions:
            if child is None:
                continue
            deps[child] = deps.get(child, 0) + 1
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return deps


def _n_outputs(node) -> int:
    op = getattr(node, "op", None)
    if op is not None:
        return op.n_outputs
    return getattr(node, "n_outputs", 1)


def _add_to_buffer(buffers, node, nr, g):
    slot = buffers.get(node)
    if slot is None:
        slot = buffers[node] = [None] * _n_outputs(node)
    slot[nr] = g if slot[nr] is None else slot[nr] + g
