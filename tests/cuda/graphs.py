"""Graphs for the CUDA tests: every op-case's forward and backward, single-op graphs over many
dtypes, and the examples' training steps."""
from __future__ import annotations

import importlib
import pkgutil
import re
import runpy
from pathlib import Path

import numpy as np

import graphc
from graphc import dtypes
from graphc.ir import Graph, TensorType
from graphc.ops.registry import REGISTRY
from graphc.passes import DEFAULT_PIPELINE
from graphc.trace import trace_call

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DTYPES = (dtypes.bool_, dtypes.uint8, dtypes.int32, dtypes.int64, dtypes.float16, dtypes.float32, dtypes.float64)


def op_cases():
    from tests.ops import __path__ as ops_path

    return [c for mod in pkgutil.iter_modules(ops_path) if mod.name.startswith("cases_")
            for c in importlib.import_module(f"tests.ops.{mod.name}").CASES]


def case_arrays(case, dtype=np.float32, seed=3):
    return [a.astype(dtype) if a.dtype.kind == "f" else a for a in case.args(np.random.default_rng(seed))]


def case_graph(case, dtype=np.float32) -> Graph:
    """The case's forward, plus the gradients of sum(out**2) when it has differentiable inputs."""
    xs = [graphc.tensor(a) for a in case_arrays(case, dtype)]
    for i in case.grad:
        xs[i].requires_grad_(True)

    def step(*xs):
        outs = case.fn(graphc, *xs)
        outs = list(outs) if isinstance(outs, (tuple, list)) else [outs]
        floats = [o for o in outs if o.dtype.is_floating_point]
        if case.grad and floats:
            loss = sum((o * o).sum() for o in floats)
            grads = graphc.autograd.grad(loss, [xs[i] for i in case.grad], allow_unused=True)
            outs += [g for g in grads if g is not None]
        return tuple(outs)

    return graphc.trace(step, *xs)


def _arity(expr: str) -> int:
    return 1 + max(int(i) for i in re.findall(r"\{(\d+)\}", expr))


SHAPES = {1: [(2, 3, 5)], 2: [(2, 3, 5), (3, 1)], 3: [(3, 5), (2, 1, 5), (1,)]}
ATTRS = {"Cast": [{"to": d} for d in DTYPES], "Clip": [{"min": -0.5, "max": 0.5}, {"min": 0}, {}]}


def elementwise_graphs():
    """One single-node graph per elementwise op, attribute variant and accepted input dtype,
    with broadcasting inputs."""
    out = []
    for name, op in sorted(REGISTRY.items()):
        if not (op.elementwise and op.expr):
            continue
        n = _arity(op.expr)
        for attrs in ATTRS.get(name, [{}]):
            for d in DTYPES:
                ins = [TensorType(s, dtypes.bool_ if name == "Where" and i == 0 else d)
                       for i, s in enumerate(SHAPES[n])]
                try:
                    types = op.infer(ins, **op.complete_attrs(attrs))
                except (ValueError, TypeError):
                    continue
                g = Graph(f"{name}_{d.name}")
                names = [g.add_input(f"x{i}", t) for i, t in enumerate(ins)]
                outs = g.add_node(name, names, types, attrs)
                g.set_outputs(outs)
                out.append(g)
    return out


def _random(t, rng):
    if t.dtype.is_floating_point:
        return rng.standard_normal(t.shape).astype(t.dtype.np)
    if t.dtype.name == "bool":
        return rng.random(t.shape) > 0.5
    return rng.integers(0 if t.dtype.name == "uint8" else -3, 4, t.shape).astype(t.dtype.np)


def variant_arrays(graph, seed: int = 0) -> list:
    """Random inputs for a single-op dtype-variant graph, inside the op's defined domain."""
    rng = np.random.default_rng(seed)
    arrays = [_random(graph.type_of(v), rng) for v in graph.inputs]
    if graph.name.startswith(("Pow", "Div", "Log", "Sqrt", "Reciprocal")):
        arrays = [np.abs(a) + 1 if a.dtype.kind == "f" else a for a in arrays]
    if graph.name.startswith("Pow"):  # integers to negative powers are an error in NumPy
        arrays[1:] = [np.abs(a) if a.dtype.kind == "i" else a for a in arrays[1:]]
    if graph.name.startswith(("Div", "Mod")):  # integer division by zero is undefined (ONNX, C, CUDA)
        arrays[1:] = [np.where(a == 0, 1, a).astype(a.dtype) for a in arrays[1:]]
    return arrays


def reduction_graphs():
    out = []
    for name in ("ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd"):
        op = REGISTRY[name]
        for d in DTYPES:
            for shape, axes, keep in (((4, 3000), (1,), False), ((64, 7, 5), (0, 2), True),
                                      ((5, 40), None, False), ((300, 3), (0,), True)):
                attrs = {"axes": axes, "keepdims": keep}
                try:
                    types = op.infer([TensorType(shape, d)], **attrs)
                except (ValueError, TypeError):
                    continue
                g = Graph(f"{name}_{d.name}")
                x = g.add_input("x", TensorType(shape, d))
                g.set_outputs(g.add_node(name, [x], types, attrs))
                out.append(g)
    return out


def model_namespace(path):
    return runpy.run_path(str(path), run_name="graphc_model")


def training_step(path):
    """(graph after the default pipeline, its example input arrays): one training step of a
    model file (forward, loss, backward, optimizer step), parameters as inputs."""
    ns = model_namespace(path)
    model, inputs = ns["model"], tuple(ns["example_inputs"])
    targets = tuple(ns.get("example_targets", ()))
    opt = ns["optimizer"](model.parameters()) if "optimizer" in ns else None

    def step(*args):
        out = ns["loss"](model(*args[:len(inputs)]), *args[len(inputs):])
        if opt is not None:
            opt.zero_grad()
        out.backward()
        if opt is not None:
            opt.step()
        return out

    step(*inputs, *targets)  # the optimizer makes its state on the first step
    traced = trace_call(step, (*inputs, *targets), params_as_inputs=True)
    return DEFAULT_PIPELINE(traced.graph), traced


def example_files():
    return sorted(p for p in EXAMPLES.glob("*.py") if "def loss" in p.read_text())
