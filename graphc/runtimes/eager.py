"""Eager ops on a device: each op call runs through the device's runtime as a one-node graph.

The first call of an op with given attributes and input types builds and prepares that graph
(for CUDA: generates and compiles its kernel); later calls reuse the prepared executable. So
eager code on ``device="cuda"`` runs the same generated kernels as a compiled graph.

On a runtime whose executables can take and give device memory (``call_on_device``: CUDA),
each result stays in a device buffer of its own and its host value is deferred until Python
reads it (deferred.py), so a chain of eager ops copies its inputs in once and nothing out
until asked. Elsewhere each call copies its inputs in and its outputs out.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..ir import Graph, TensorType
from ..tensor import Tensor
from .deferred import defer, device_copy_is_current, host_array, sync_mark

_EXECUTABLES: dict = {}


def _freeze(value):
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def one_node_graph(op, attrs: dict, in_types) -> Graph:
    graph = Graph(f"eager_{op.name.rpartition('.')[2]}")
    names = [graph.add_input(f"x{i}", ty) for i, ty in enumerate(in_types)]
    outs = graph.add_node(op.name, names, op.infer(list(in_types), **attrs), attrs,
                          name=[f"y{i}" for i in range(op.n_outputs)])
    graph.set_outputs(outs)
    return graph


def executable(runtime_name: str, op, attrs: dict, in_types):
    key = (runtime_name, op.name, tuple(sorted((k, _freeze(v)) for k, v in attrs.items())), tuple(in_types))
    exe = _EXECUTABLES.get(key)
    if exe is None:
        from ..passes import plan_memory
        from . import get

        graph = one_node_graph(op, attrs, in_types)
        exe = _EXECUTABLES[key] = get(runtime_name).prepare(graph, plan_memory(graph))
    return exe


def run_on_device(device, op, attrs: dict, inputs) -> list:
    """op applied to tensors `inputs` on `device`: its output tensors, placed there."""
    hosts = [host_array(t) for t in inputs]
    in_types = tuple(TensorType(a.shape, dtypes.from_numpy(a.dtype)) for a in hosts)
    exe = executable(device.type, op, attrs, in_types)
    if hasattr(exe, "call_on_device"):
        sources = [_device_copy(t) or t._value for t in inputs]
        outs = [_resident(exe, buf, ty) for buf, ty in zip(exe.call_on_device(sources), exe.output_types)]
    else:
        outs = [Tensor._make(o) for o in exe(*[t._value for t in inputs])]
    for t in outs:
        t._device = device
    return outs


class _DeviceCopy:
    """A tensor's value in a device buffer, current while the tensor's sync mark holds."""

    def __init__(self, buffer, mark):
        self.buffer, self.mark = buffer, mark


def _device_copy(t):
    copy = t.__dict__.get("_device_copy")
    return copy.buffer if copy is not None and device_copy_is_current(t, copy.mark) else None


def _resident(exe, buffer, ty) -> Tensor:
    t = Tensor._make(np.empty(ty.shape, ty.dtype.np))
    t.__dict__["_device_copy"] = _DeviceCopy(buffer, sync_mark(t))
    defer(t, lambda t: exe.copy_to_host(buffer, host_array(t)))
    return t
