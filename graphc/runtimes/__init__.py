"""Runtimes: executors of compiled graphs, found by name (DESIGN §5).

A runtime is an object with ``prepare(graph, plan=None) -> Executable``; an executable is
called with NumPy arrays (the graph's inputs, in order) and returns the graph's outputs as
arrays. Third parties register one with `register`, or through the ``graphc.runtimes``
entry-point group (the entry point names a zero-argument factory).
"""
from __future__ import annotations

from importlib.metadata import entry_points
from typing import Callable, Protocol


class Executable(Protocol):
    def __call__(self, *arrays): ...


class Runtime(Protocol):
    name: str

    def prepare(self, graph, plan=None) -> Executable: ...


_FACTORIES: dict[str, Callable[[], Runtime]] = {}
_INSTANCES: dict[str, Runtime] = {}
_ALIASES = {"cpu": "numpy"}


def register(name: str, factory: Callable[[], Runtime]) -> None:
    """Make `graphc.compile(..., device=name)` use the runtime factory() returns."""
    _FACTORIES[name] = factory
    _INSTANCES.pop(name, None)


def available() -> list[str]:
    _load_entry_points()
    return sorted(_FACTORIES)


def get(name: str) -> Runtime:
    name = _ALIASES.get(name, name).partition(":")[0]
    runtime = _INSTANCES.get(name)
    if runtime is None:
        if name not in _FACTORIES:
            _load_entry_points()
        if name not in _FACTORIES:
            raise ValueError(f"unknown runtime {name!r}; available: {', '.join(available())}")
        runtime = _INSTANCES[name] = _FACTORIES[name]()
    return runtime


def _load_entry_points() -> None:
    for ep in entry_points(group="graphc.runtimes"):
        if ep.name not in _FACTORIES:
            _FACTORIES[ep.name] = ep.load()


def _numpy():
    from .numpy_runtime import NumpyRuntime

    return NumpyRuntime()


def _cuda():
    from .cuda import CudaRuntime

    return CudaRuntime()


def _c():
    from .c import CRuntime

    return CRuntime()


register("numpy", _numpy)
register("cuda", _cuda)
register("c", _c)
