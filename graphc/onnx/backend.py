"""The ONNX backend API (the shape of `onnxruntime.backend`), executing on graphc's runtimes.

    rep = graphc.onnx.prepare("model.onnx")       # BackendRep
    outputs = rep.run([x])                         # list of NumPy arrays, in output order

Models with symbolic input dimensions are imported once per distinct set of input shapes, and
models that feed a graph input where graphc needs a constant (a Reshape's shape, TopK's k) once
per distinct value of that input: graphc's graphs are static, so the backend specializes them.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import runtimes
from ..passes import DEFAULT_PIPELINE
from ._proto import OnnxError
from .load import Importer, NeedsConstant, read_model

_DEVICES = {"CPU": "cpu"}


def supports_device(device: str) -> bool:
    return device.upper().partition(":")[0] in _DEVICES


class BackendRep:
    """A prepared model: `run(inputs)` executes it on graphc's runtime for `device` ('numpy',
    the reference, unless `runtime` names another, such as 'c'), after the pass pipeline
    (`passes`: None for graphc.passes.DEFAULT_PIPELINE, or a callable on graphs)."""

    def __init__(self, model, device: str = "CPU", runtime: str | None = None, passes=None):
        if not supports_device(device):
            raise ValueError(f"graphc's ONNX backend supports devices {sorted(_DEVICES)}, not {device!r}")
        self.runtime = runtimes.get(runtimes.resolve(_DEVICES[device.upper().partition(":")[0]], runtime))
        self.passes = DEFAULT_PIPELINE if passes is None else passes
        self.proto, self._base = read_model(model)
        inits = {t.name for t in self.proto.graph.initializer}
        self.input_names = [vi.name for vi in self.proto.graph.input if vi.name not in inits]
        self.output_names = [vi.name for vi in self.proto.graph.output]
        self._static = all(_is_static(vi) for vi in self.proto.graph.input if vi.name not in inits)
        self._constant_inputs: list[str] = []   # graph inputs graphc specializes on
        self._prepared: dict[Any, Any] = {}
        if self._static:
            try:
                self._prepared[None] = self._prepare({}, {})
            except NeedsConstant as exc:
                if not exc.inputs:
                    raise
                self._constant_inputs.extend(exc.inputs)

    def _prepare(self, shapes, values):
        graph = self.passes(Importer(self.proto, self._base, shapes, values).run())
        return graph, self.runtime.prepare(graph)

    def run(self, inputs, **kwargs) -> list[np.ndarray]:
        arrays = dict(zip(self.input_names, self._arrays(inputs)))
        while True:
            values = {n: arrays[n] for n in self._constant_inputs}
            key = None if self._static and not values else (
                () if self._static else tuple(a.shape for a in arrays.values()),
                tuple((a.dtype.str, a.shape, a.tobytes()) for a in values.values()))
            if key in self._prepared:
                break
            try:
                shapes = {} if self._static else {n: a.shape for n, a in arrays.items()}
                self._prepared[key] = self._prepare(shapes, values)
                break
            except NeedsConstant as exc:
                new = [v for v in exc.inputs if v not in self._constant_inputs]
                if not new:
                    raise
                self._constant_inputs.extend(new)
        graph, executable = self._prepared[key]
        feed = [a for n, a in arrays.items() if n not in self._constant_inputs]
        for name, a in zip(graph.inputs, feed):
            t = graph.type_of(name)
            if a.shape != tuple(t.shape) or a.dtype != t.dtype.np:
                raise OnnxError(f"input {name!r}: expected {t}, got {a.dtype}{list(a.shape)}")
        return list(executable(*feed))

    def _arrays(self, inputs) -> list[np.ndarray]:
        if isinstance(inputs, dict):
            missing = [n for n in self.input_names if n not in inputs]
            if missing:
                raise OnnxError(f"missing inputs {missing}")
            inputs = [inputs[n] for n in self.input_names]
        elif isinstance(inputs, np.ndarray):
            inputs = [inputs]
        inputs = [np.asarray(a) for a in inputs]
        if len(inputs) != len(self.input_names):
            raise OnnxError(f"the model takes {len(self.input_names)} inputs {self.input_names}, "
                            f"got {len(inputs)}")
        return inputs


def _is_static(vi) -> bool:
    tt = vi.type.tensor_type
    return tt.HasField("shape") and all(d.HasField("dim_value") for d in tt.shape.dim)


def prepare(model, device: str = "CPU", runtime: str | None = None, passes=None, **kwargs) -> BackendRep:
    return BackendRep(model, device, runtime, passes)


def run_model(model, inputs, device: str = "CPU", **kwargs) -> list[np.ndarray]:
    return prepare(model, device).run(inputs)


def run_node(node, inputs, device: str = "CPU", **kwargs) -> list[np.ndarray]:
    """Run one NodeProto on `inputs` (as `onnx.backend.base.Backend.run_node`)."""
    from ._proto import onnx

    h = onnx().helper
    ins = [h.make_tensor_value_info(n, h.np_dtype_to_tensor_dtype(np.asarray(a).dtype), np.shape(a))
           for n, a in zip(node.input, inputs)]
    outs = [h.make_empty_tensor_value_info(n) for n in node.output]
    model = h.make_model(h.make_graph([node], "node", ins, outs))
    return prepare(model, device).run(list(inputs))
