"""Eager ops on a device: each op call runs through the device's runtime as a one-node graph.

The first call of an op with given attributes and input types builds and prepares that graph
(for CUDA: generates and compiles its kernel); later calls reuse the prepared executable. So
eager code on ``device="cuda"`` runs the same generated kernels as a compiled graph. Tensor
values stay in host memory between ops (each call copies its inputs in and outputs out), which
keeps graphc's tensors one kind of object; keeping them resident on the device is future work.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..ir import Graph, TensorType

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


def run_on_device(device, op, attrs: dict, arrays):
    """op's result(s) for NumPy `arrays`, computed on `device` (what the kernel would return)."""
    in_types = tuple(TensorType(a.shape, dtypes.from_numpy(a.dtype)) for a in arrays)
    outs = executable(device.type, op, attrs, in_types)(*arrays)
    return outs[0] if op.n_outputs == 1 else tuple(outs)
