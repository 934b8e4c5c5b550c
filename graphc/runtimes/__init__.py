"""Runtimes: executors of compiled graphs, found by name (DESIGN §5).

A runtime is an object with ``prepare(graph, plan=None) -> Executable``; an executable is
called with NumPy arrays (the graph's inputs, in order) and returns the graph's outputs as
arrays. Third parties register one with `register`, or through the ``graphc.runtimes``
entry-point group (the entry point names a zero-argument factory). Each runtime runs on one
device ('cpu' or 'cuda'); a device's default runtime is what `device=` alone selects.
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
_DEVICE: dict[str, str] = {}          # runtime -> the device it runs on
DEFAULT = {"cpu": "numpy", "cuda": "cuda"}


def register(name: str, factory: Callable[[], Runtime], device: str = "cpu") -> None:
    """Make `graphc.compile(..., runtime=name)` use the runtime factory() returns."""
    _FACTORIES[name] = factory
    _DEVICE[name] = device
    _INSTANCES.pop(name, None)


def resolve(device: str | None = None, runtime: str | None = None) -> str:
    """The runtime that runs on `device` ('cpu', 'cuda[:N]', or a runtime's own name, as older
    code spells it): `runtime` when given, which must run there; else the device's default."""
    kind = (device or "cpu").partition(":")[0]
    if runtime is None:
        return DEFAULT.get(kind, kind)
    _load_entry_points()
    if runtime not in _FACTORIES:
        raise ValueError(f"unknown runtime {runtime!r}; available: {', '.join(available())}")
    wanted = _DEVICE.get(kind, kind)
    if device is not None and wanted != _DEVICE[runtime]:
        raise ValueError(f"runtime {runtime!r} runs on the {_DEVICE[runtime]} device, not on {device!r}")
    return runtime


def available() -> list[str]:
    _load_entry_points()
    return sorted(_FACTORIES)


def get(name: str) -> Runtime:
    name = resolve(name)
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
            factory = ep.load()
            register(ep.name, factory, getattr(factory, "device", "cpu"))


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
register("cuda", _cuda, device="cuda")
register("c", _c)
