"""graphc.compile: trace once per input signature, run the static graph on a runtime.

The compiled callable keeps the module (and any optimizer) as the source of truth: its
parameters and buffers are graph inputs read afresh on every call, and values the graph
changed in place (functionalized mutations) are written back after every call. On a runtime
that keeps state on its device (CUDA), the write-back is deferred until Python reads the
tensor, and state the device already holds is not sent again.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import runtimes
from .passes import DEFAULT_PIPELINE, plan_memory
from .runtimes.deferred import defer, device_copy_is_current, host_array, sync_mark
from .tensor import Tensor
from .trace import Traced, _flatten_inputs, trace_call, unflatten


def _describe(value) -> str:
    if isinstance(value, Tensor):
        return f"{value._ir_type}{' requires_grad' if value.requires_grad else ''}"
    return repr(value)


def signature(fn, args) -> tuple:
    """What a trace depends on: each argument's type (or value, for non-tensors) and the
    module's training flag."""
    entries = []
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            entries.append((f"input {i}", (tuple(a.shape), a.dtype.name, a.requires_grad)))
        elif isinstance(a, (list, tuple, dict)):
            entries.append((f"input {i}", tuple(_describe(t) for t in _flatten_inputs(a))))
        else:
            entries.append((f"input {i}", ("value", repr(a))))
    if hasattr(fn, "training"):
        entries.append(("module training flag", fn.training))
    return tuple(entries)


def _diff(old: tuple, new: tuple) -> str:
    if old is None:
        return "first call"
    if len(old) != len(new):
        return f"number of inputs changed from {len(old)} to {len(new)}"
    reasons = [f"{name}: {_fmt(a)} -> {_fmt(b)}" for (name, a), (_, b) in zip(old, new) if a != b]
    return "; ".join(reasons)


def _fmt(entry) -> str:
    if isinstance(entry, tuple) and len(entry) == 3 and isinstance(entry[0], tuple):
        shape, dtype, grad = entry
        return f"{dtype}{list(shape)}{' requires_grad' if grad else ''}"
    return str(entry)


@dataclass
class _Entry:
    traced: Traced
    executable: object
    synced: dict = field(default_factory=dict)  # state input position -> deferred.sync_mark


def _run_resident(entry: _Entry, arrays: list) -> list:
    """One call on a runtime that keeps state on its device (runtimes/deferred.py): state whose
    device copy is current is not sent again, and updated state stays there, its host tensor
    deferred until Python reads it. Only the batch goes in and the results come out."""
    traced, exe = entry.traced, entry.executable
    first = len(arrays)
    for k, (_, t) in enumerate(traced.params):
        current = device_copy_is_current(t, entry.synced.get(first + k))
        arrays.append(None if current else t._value)
        entry.synced[first + k] = sync_mark(t)
    outs = exe.run(arrays)
    for i in exe.resident:
        t = traced.params[i - first][1]
        t._version[0] += 1
        defer(t, lambda t, i=i: exe.fetch(i, host_array(t)))
        entry.synced[i] = sync_mark(t)
    return outs


class Compiled:
    """The callable `graphc.compile` returns."""

    def __init__(self, fn, device: str = "numpy", passes=None):
        self.fn = fn
        self.device = device
        self.passes = passes
        self.runtime = runtimes.get(device)
        self._cache: dict[tuple, _Entry] = {}
        self._warmed_up = False
        self._last_sig = None
        self.graph = None
        self.plan = None
        self.retrace_log: list[str] = []

    def __call__(self, *args):
        sig = signature(self.fn, args)
        entry = self._cache.get(sig)
        if entry is None:
            self.retrace_log.append(_diff(self._last_sig, sig))
            self._last_sig = sig
            traced = self._trace(args)
            if traced.mutations:
                # Tracing ran this call's step for real (state changed in place), so its
                # results are this call's results. The first such trace is discarded: state
                # made lazily by that step (optimizer buffers) only exists after it has run.
                if self._warmed_up:
                    self._cache[sig] = self._prepare(traced)
                else:
                    self._last_sig = None
                    self.retrace_log[-1] += " (warm-up: the step changes state in place, so it " \
                                            "is traced again on the next call)"
                self._warmed_up = True
                return unflatten(traced.out_tree, traced.results)
            entry = self._cache[sig] = self._prepare(traced)
        self._last_sig = sig
        traced = entry.traced
        arrays = [t._value for t in _flatten_inputs(args)]
        if getattr(self.runtime, "resident", False):
            outs = _run_resident(entry, arrays)
        else:
            arrays += [t._value for _, t in traced.params]
            outs = entry.executable(*arrays)
            self._write_back(traced, outs)
        return unflatten(traced.out_tree, [None if o is None else Tensor._make(o) for o in outs])

    def _trace(self, args) -> Traced:
        traced = trace_call(self.fn, args, params_as_inputs=True)
        passes = DEFAULT_PIPELINE if self.passes is None else self.passes
        traced.graph = passes(traced.graph) if callable(passes) else _run_passes(passes, traced.graph)
        self.graph = traced.graph
        return traced

    def _prepare(self, traced: Traced) -> _Entry:
        self.plan = plan_memory(traced.graph)
        if not getattr(self.runtime, "donates", False):
            return _Entry(traced, self.runtime.prepare(traced.graph, self.plan))
        params = dict(traced.params)
        donate = {name: index for name, index in traced.mutations.items() if name in params}
        return _Entry(traced, self.runtime.prepare(traced.graph, self.plan, donate=donate))

    def _write_back(self, traced: Traced, outs) -> None:
        by_name = dict(traced.params)
        for name, index in traced.mutations.items():
            t = by_name.get(name)
            if t is not None:
                if outs[index] is not t._value:  # else the runtime wrote it in place (donated)
                    np.copyto(t._value, outs[index])
                t._version[0] += 1


def _run_passes(passes, graph):
    for p in passes:
        graph = p(graph)
    return graph


MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


def compile(fn=None, device: str = "numpy", passes=None, *, runtime: str | None = None, fullgraph: bool = False,
            dynamic=None, backend=None, mode=None, options=None, disable: bool = False):
    """Compile fn (a function or nn.Module): traces on the first call for each input
    signature, runs the pass pipeline (`passes`: a Pipeline, a list of passes, or None for
    graphc.passes.DEFAULT_PIPELINE), plans memory, caches the prepared executable, and returns
    graphc Tensors with the original output structure. `device` is 'cpu' or 'cuda' (or, as
    before, a runtime's name); `runtime` picks the executor there: on the cpu 'numpy' (the
    default, the reference) or 'c' (generated native code), on cuda 'cuda'.

    torch.compile's keywords, with their meaning here: without `fn` it returns a decorator;
    `disable=True` returns fn itself; `backend` may name a graphc runtime, and 'inductor' (the
    default) or 'aot_eager' mean `device`'s runtime, 'eager' runs fn uncompiled; `fullgraph`
    holds always (tracing captures the whole function, there are no graph breaks); shapes are
    always specialised, so `dynamic` does not change anything: a new shape retraces; `mode`
    and `options` tune PyTorch's Inductor and are accepted without effect."""
    if mode is not None and mode not in MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(MODES)}")
    if backend is not None and not isinstance(backend, str):
        raise TypeError("graphc.compile: a custom backend callable is not supported; "
                        "name a graphc runtime ('numpy', 'cuda', ...) or 'inductor'/'eager'")
    if fn is None:
        return lambda f: compile(f, device, passes, runtime=runtime, fullgraph=fullgraph, dynamic=dynamic,
                                 backend=backend, mode=mode, options=options, disable=disable)
    if disable or backend == "eager":
        return fn
    if backend not in (None, "inductor", "aot_eager"):
        device = backend
    return Compiled(fn, runtimes.resolve(device, runtime), passes)
