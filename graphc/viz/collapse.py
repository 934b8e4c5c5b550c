"""Collapsing repeated blocks, so a 40-layer model draws as one box "× 40" instead of 2,000 nodes.

A repeated block shows up as a tandem repeat in the execution order: the same sequence of node
signatures (op and source line for graph nodes, the grad_fn class for autograd nodes) several
times in a row. Found greedily from the front, each time taking the period that covers the most
nodes, so it is linear in the number of nodes for a fixed longest period.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Hashable, Sequence

DEFAULT_THRESHOLD = 300  # draw every node of graphs up to this size
MAX_PERIOD = 128         # longest block (in nodes) that is looked for
MIN_NODES = 6            # a run covering fewer nodes is drawn as it is


@dataclass(frozen=True)
class Run:
    """`count` copies of a block of `period` nodes, starting at index `start` of the order."""

    start: int
    period: int
    count: int

    @property
    def stop(self) -> int:
        return self.start + self.period * self.count


def find_runs(sigs: Sequence[Hashable], max_period: int = MAX_PERIOD,
              min_nodes: int = MIN_NODES) -> list[Run]:
    """Non-overlapping tandem repeats of `sigs` (at least two copies, min_nodes in all)."""
    runs: list[Run] = []
    n, i = len(sigs), 0
    while i < n:
        best = None
        for p in range(1, min(max_period, (n - i) // 2) + 1):
            j = i
            while j + p < n and sigs[j] == sigs[j + p]:
                j += 1
            count = (j - i) // p + 1
            if count >= 2 and count * p >= min_nodes and (best is None or count * p > best.count * best.period):
                best = Run(i, p, count)
        if best is None:
            i += 1
        else:
            runs.append(best)
            i = best.stop
    return runs


def group_of(order: Sequence, sigs: Sequence[Hashable], threshold: int | None,
             size: int | None = None) -> tuple[dict, list[Run]]:
    """(item -> index of its run, the runs) when the drawing's `size` (default: len(order))
    is over `threshold`; nothing otherwise."""
    if not threshold or (len(order) if size is None else size) <= threshold:
        return {}, []
    runs = find_runs(sigs)
    member = {}
    for k, run in enumerate(runs):
        for item in order[run.start:run.stop]:
            member[item] = k
    return member, runs


_INDEXED = re.compile(r"^(.*?)\.(\d+)\.")


def module_prefix(names) -> str | None:
    """'layers[0..39]' when value names like layers.0.weight ... layers.39.bias share a module
    list prefix, else None: how a collapsed box says which modules it stands for."""
    seen: dict[str, set[int]] = {}
    for name in names:
        m = _INDEXED.match(name)
        if m:
            seen.setdefault(m.group(1), set()).add(int(m.group(2)))
    if not seen:
        return None
    prefix, idx = max(seen.items(), key=lambda kv: len(kv[1]))
    return f"{prefix}[{min(idx)}..{max(idx)}]" if len(idx) > 1 else f"{prefix}[{min(idx)}]"


def block_title(run: Run, labels: Sequence[str], what: str) -> list[str]:
    """A collapsed box's first lines: '40 × block of 12 ops' and its first ops, or '9999 × Add'."""
    if run.period == 1:
        return [f"{run.count} × {labels[0]}"]
    return [f"{run.count} × block of {run.period} {what}", block_summary(labels)]


def block_summary(labels: Sequence[str], limit: int = 6) -> str:
    """The first ops of a block, e.g. 'Gemm, Relu, Gemm, ... (+9)'."""
    shown = ", ".join(labels[:limit])
    return shown + (f", ... (+{len(labels) - limit})" if len(labels) > limit else "")
