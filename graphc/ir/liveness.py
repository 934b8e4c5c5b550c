"""Value lifetimes over the graph's execution order, computed once for every consumer.

The NumPy interpreter drops each value after its last use; the memory planner packs values
whose lifetimes do not overlap into the same arena bytes. Aliasing (view ops) is the
planner's concern: here a value lives exactly from its definition to its last read.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping


@dataclass(frozen=True)
class Liveness:
    """Steps are indices into `order`.

    defined[v]: the step that defines v (-1 for graph inputs and initializers).
    last_use[v]: the last step reading v; len(order) for graph outputs (they live to the
        end); defined[v] for a value nobody reads.
    dies_at[i]: the values whose last use is step i, so they can be freed once it has run.
    """

    order: tuple[str, ...]
    defined: Mapping[str, int]
    last_use: Mapping[str, int]
    dies_at: tuple[tuple[str, ...], ...]


def liveness(graph) -> Liveness:
    """Lifetimes of every value of a verified graph over `graph.nodes()` order."""
    nodes = graph.nodes()
    end = len(nodes)
    defined = {v: -1 for v in (*graph.inputs, *graph.initializers)}
    for step, node in enumerate(nodes):
        defined.update((v, step) for v in node.outputs)
    last_use = dict(defined)
    for step, node in enumerate(nodes):
        last_use.update((v, step) for v in node.inputs)
    last_use.update((v, end) for v in graph.outputs)
    dies_at: list[list[str]] = [[] for _ in nodes]
    for v, step in last_use.items():
        if 0 <= step < end:
            dies_at[step].append(v)
    return Liveness(tuple(n.name for n in nodes), defined, last_use,
                    tuple(tuple(d) for d in dies_at))
