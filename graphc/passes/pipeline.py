"""Passes and pipelines (DESIGN §4).

A pass is a pure function Graph -> Graph with a name. `Pass` copies its input before the
body runs, so a body may rewrite the graph it is given in place while callers keep theirs.
A `Pipeline` is a flat, printable list of passes; in tests it verifies the graph after every
pass, and it can dump the graph text after a named pass.
"""
from __future__ import annotations

import sys
from typing import Callable, Iterable, TextIO

from ..ir import Graph, GraphError


class Pass:
    """A named graph transformation that never mutates its input."""

    def __init__(self, fn: Callable[[Graph], Graph | None], name: str | None = None):
        self.fn = fn
        self.name = name or fn.__name__
        self.__doc__ = fn.__doc__

    def __call__(self, graph: Graph) -> Graph:
        work = graph.copy()
        result = self.fn(work)
        return work if result is None else result

    def __repr__(self) -> str:
        return self.name


def graph_pass(fn=None, *, name: str | None = None):
    """Decorator: `@graph_pass` or `@graph_pass(name="x")` turns a rewrite of a (private copy of
    the) graph into a `Pass`. The body may return a new graph or None (the copy it changed)."""
    if fn is None:
        return lambda f: Pass(f, name)
    return Pass(fn, name)


def as_pass(p) -> Pass:
    if isinstance(p, Pass):
        return p
    if callable(p):
        return Pass(lambda g: p(g), getattr(p, "name", None) or getattr(p, "__name__", "pass"))
    raise TypeError(f"a pass is a callable Graph -> Graph, got {p!r}")


class Pipeline:
    """Passes run in order. `verify`: check the graph after every pass (GraphError names the
    pass). `dump_after`: a pass name (dump its output graph text to `dump_to`, a path or a
    stream, stderr by default) or a callback `(pass_name, graph) -> None` called after every
    pass."""

    def __init__(self, passes: Iterable, *, verify: bool = False, dump_after=None,
                 dump_to: str | TextIO | None = None):
        self.passes: list[Pass] = []
        for p in passes:
            self.passes += p.passes if isinstance(p, Pipeline) else [as_pass(p)]
        self.verify = verify
        self.dump_after = dump_after
        self.dump_to = dump_to
        names = {p.name for p in self.passes}
        if isinstance(dump_after, str) and dump_after not in names:
            raise ValueError(f"dump_after={dump_after!r}: no such pass in {self}")

    @property
    def name(self) -> str:
        return str(self)

    def __str__(self) -> str:
        return f"Pipeline({', '.join(p.name for p in self.passes)})"

    __repr__ = __str__

    def __call__(self, graph: Graph) -> Graph:
        for p in self.passes:
            graph = p(graph)
            if self.verify:
                try:
                    graph.verify()
                except GraphError as exc:
                    raise GraphError(f"after pass {p.name}: {exc}") from exc
            self._dump(p.name, graph)
        return graph

    def _dump(self, name: str, graph: Graph) -> None:
        if self.dump_after is None:
            return
        if callable(self.dump_after):
            self.dump_after(name, graph)
            return
        if name != self.dump_after:
            return
        text = f"# after {name}\n{graph}\n"
        if self.dump_to is None or not isinstance(self.dump_to, str):
            (self.dump_to or sys.stderr).write(text)
        else:
            with open(self.dump_to, "a", encoding="utf-8") as f:
                f.write(text)
