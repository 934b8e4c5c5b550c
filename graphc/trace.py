"""Recording define-by-run code into a static Graph through the dispatcher's recording hook.

While a `Recorder` is active every op that `dispatch` runs becomes a graph node. Tensors are
mapped to value names by identity; a tensor the recorder has not seen (a Python scalar turned
into a 0-d tensor, a captured global) becomes a constant initializer. An in-place op is
recorded as a pure op whose result replaces the tensor's value for later reads; when tracing
ends, every mutated graph input's final value is a graph output (functionalization).
"""
from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass, field

from .errors import GraphcError, user_frame, user_location
from .ir import Graph
from .state import STATE
from .tensor import Tensor


class TracerWarning(UserWarning):
    """The traced graph holds only the path taken: a Python decision read a tensor's value."""


class TraceError(GraphcError):
    """The function could not be recorded."""


class Recorder:
    """The hook `dispatch` calls while tracing: appends nodes to `graph`."""

    def __init__(self, graph: Graph, *, capture_as_inputs: bool = False, state_names=None):
        self.graph = graph
        self.names: dict[int, str] = {}
        self.origin: dict[int, str] = {}   # tensor id -> the graph input it was bound to
        self.alive: list[Tensor] = []      # keeps recorded tensors alive so ids stay unique
        self.fresh: set[int] = set()       # tensors made during the trace (factories, scalars)
        self.captured: list[tuple[str, Tensor]] = []
        self.warned: set[str] = set()
        self.capture_as_inputs = capture_as_inputs
        self.state_names = state_names or {}
        self.source_override: str | None = None
        self.output_names = None  # exact names for the next recorded node's outputs (replays)

    def bind(self, t: Tensor, name: str, *, origin: bool = False) -> None:
        self.names[id(t)] = name
        self.alive.append(t)
        if origin:
            self.origin[id(t)] = name

    def note_fresh(self, t: Tensor) -> None:
        """t was made during the trace from Python data: it is a constant, not captured state."""
        self.fresh.add(id(t))
        self.alive.append(t)

    def name_of(self, t: Tensor) -> str:
        name = self.names.get(id(t))
        if name is None:
            if t._value is None:
                raise TraceError(f"a symbolic tensor of type {t._ir_type} was used that the trace did "
                                 "not produce")
            if id(t) in self.fresh or not self.capture_as_inputs:
                hint = "c" if id(t) in self.fresh else self.state_names.get(id(t), "captured")
                name = self.graph.add_initializer(self.graph.fresh_name(hint), t._value)
                self.bind(t, name)
            else:
                name = self.graph.fresh_name(self.state_names.get(id(t), "captured"))
                self.graph.add_input(name, t._ir_type)
                self.bind(t, name, origin=True)
                self.captured.append((name, t))
        return name

    def record(self, op, attrs, inputs, outs) -> None:
        in_names = [self.name_of(t) for t in inputs]
        source = self.source_override or user_location()
        names, self.output_names = self.output_names, None
        out_names = self.graph.add_node(op.name, in_names, [o._ir_type for o in outs], attrs,
                                        source=source, name=names)
        for o, n in zip(outs, out_names):
            self.bind(o, n)

    def alias(self, new: Tensor, old: Tensor) -> None:
        name = self.names.get(id(old))
        if name is not None:
            self.bind(new, name)

    def rebind(self, tensor: Tensor, new: Tensor) -> None:
        self.bind(tensor, self.name_of(new))

    def on_concrete_use(self, tensor: Tensor, what: str) -> None:
        name = self.names.get(id(tensor))
        if name is None or name in self.graph.initializers:
            return
        where = user_location()
        if where in self.warned:
            return
        self.warned.add(where)
        frame = user_frame()
        warnings.warn_explicit(
            f"{what}() reads the value of traced tensor %{name}: the graph records only the path "
            "taken for this example input, so Python control flow that depends on it is not "
            "captured", TracerWarning, frame.f_code.co_filename if frame else "<unknown>",
            frame.f_lineno if frame else 0)

    def mutations(self) -> dict[str, str]:
        """graph input name -> the value that input holds now, for inputs changed in place."""
        out = {}
        for tid, origin in self.origin.items():
            now = self.names[tid]
            if now != origin:
                out[origin] = now
        return out


@dataclass
class Traced:
    """A trace with what is needed to call it like the original function."""

    graph: Graph
    out_tree: object                     # the output structure, tensors replaced by output indices
    params: list = field(default_factory=list)       # (name, Tensor) bound to graph inputs after user inputs
    mutations: dict = field(default_factory=dict)    # input name -> output index of its final value
    results: list = field(default_factory=list)      # the outputs the tracing run computed


def _arg_names(fn, n: int) -> list[str]:
    target = fn.forward if hasattr(fn, "forward") and not inspect.isfunction(fn) else fn
    try:
        params = [p for p in inspect.signature(target).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        names = [p.name for p in params][:n]
    except (TypeError, ValueError):
        names = []
    return names + [f"input{i}" for i in range(len(names), n)]


def _flatten_inputs(args):
    """Tensors found in args (nested tuples/lists/dicts), in order."""
    out = []
    stack = [args]
    while stack:
        x = stack.pop()
        if isinstance(x, Tensor):
            out.append(x)
        elif isinstance(x, (list, tuple)):
            stack.extend(reversed(x))
        elif isinstance(x, dict):
            stack.extend(reversed(list(x.values())))
    return out


def _flatten_outputs(out, recorder: Recorder, names: list[str], tensors: list[Tensor]):
    """Replace tensors by output indices, keeping tuples, lists, dicts and other leaves."""
    if isinstance(out, Tensor):
        names.append(recorder.name_of(out))
        tensors.append(out)
        return len(names) - 1
    if isinstance(out, tuple) and hasattr(out, "_fields"):
        return type(out)(*(_flatten_outputs(x, recorder, names, tensors) for x in out))
    if isinstance(out, (tuple, list)):
        return type(out)(_flatten_outputs(x, recorder, names, tensors) for x in out)
    if isinstance(out, dict):
        return {k: _flatten_outputs(v, recorder, names, tensors) for k, v in out.items()}
    return ("const", out)


def unflatten(tree, values):
    """Rebuild the output structure from `values` (indexed by output position)."""
    if isinstance(tree, int):
        return values[tree]
    if isinstance(tree, tuple) and len(tree) == 2 and tree[0] == "const":
        return tree[1]
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return type(tree)(*(unflatten(x, values) for x in tree))
    if isinstance(tree, (tuple, list)):
        return type(tree)(unflatten(x, values) for x in tree)
    if isinstance(tree, dict):
        return {k: unflatten(v, values) for k, v in tree.items()}
    return tree


def module_state(fn) -> list:
    """(state_dict name, tensor) of a module's parameters and buffers (empty for functions)."""
    if not hasattr(fn, "named_parameters"):
        return []
    state = list(fn.named_parameters()) + [(n, b) for n, b in fn.named_buffers() if b is not None]
    return state


def state_names(fn) -> dict[int, str]:
    """Readable names for tensors a function reaches through modules and optimizers it closes
    over or reads as globals: ``model.fc1.weight``, ``optimizer.state.0.momentum_buffer``."""
    code = getattr(fn, "__code__", None)
    found = {}
    if code is not None:
        cells = dict(zip(code.co_freevars, (c.cell_contents for c in (fn.__closure__ or ()))))
        found.update({k: v for k, v in fn.__globals__.items() if k in code.co_names})
        found.update(cells)
    names: dict[int, str] = {}
    for var, obj in found.items():
        if isinstance(obj, Tensor):
            names.setdefault(id(obj), var)
        elif hasattr(obj, "named_parameters") and hasattr(obj, "state_dict"):
            for key, t in obj.state_dict(keep_vars=True).items():
                names.setdefault(id(t), f"{var}.{key}")
        elif hasattr(obj, "param_groups") and hasattr(obj, "state"):
            params = [p for g in obj.param_groups for p in g["params"]]
            for i, p in enumerate(params):
                names.setdefault(id(p), f"{var}.param{i}")
                for key, t in obj.state.get(p, {}).items():
                    if isinstance(t, Tensor):
                        names.setdefault(id(t), f"{var}.state.{i}.{key}")
    return names


def trace_call(fn, args, *, params_as_inputs: bool, name: str | None = None) -> Traced:
    """Record fn(*args). Tensors in args become graph inputs; module state becomes initializers
    (or inputs after the user's, with params_as_inputs). With params_as_inputs, any other tensor that existed before the
    trace and that the function reads (a closed-over model's weights, optimizer state) becomes
    an input too, so the compiled graph reads its current value on every call."""
    graph = Graph(name or getattr(fn, "__name__", None) or type(fn).__name__)
    rec = Recorder(graph, capture_as_inputs=params_as_inputs, state_names=state_names(fn))
    tensors = _flatten_inputs(args)
    for arg_name, t in zip(_arg_names(fn, len(tensors)), tensors):
        if id(t) in rec.names:
            continue
        graph.add_input(arg_name, t._ir_type)
        rec.bind(t, arg_name, origin=True)
    state = [(n, t) for n, t in module_state(fn) if id(t) not in rec.names]
    for state_name, t in state:
        if params_as_inputs:
            graph.add_input(state_name, t._ir_type)
        else:
            graph.add_initializer(state_name, t._value)
        rec.bind(t, state_name, origin=params_as_inputs)
    prev = STATE.recorder
    if prev is not None:
        raise TraceError("graphc.trace cannot be nested")
    STATE.recorder = rec
    try:
        out = fn(*args)
    finally:
        STATE.recorder = prev
    names: list[str] = []
    results: list[Tensor] = []
    tree = _flatten_outputs(out, rec, names, results)
    mutations = {}
    for origin, now in rec.mutations().items():
        mutations[origin] = len(names)
        names.append(now)
    graph.set_outputs(names)
    graph.verify()
    params = state + rec.captured if params_as_inputs else []
    return Traced(graph, tree, params, mutations, [t.detach() for t in results])


def trace(fn, *example_inputs) -> Graph:
    """Record fn(*example_inputs) (a function or an nn.Module) into a static Graph.

    Parameters and buffers become initializers named by their state_dict keys; outputs are
    flattened in order; values of inputs changed in place are extra outputs after them.
    ``trace(matrix)`` with a single tensor is PyTorch's ``torch.trace``: the diagonal's sum.
    """
    if isinstance(fn, Tensor) and not example_inputs:
        return fn.trace()
    return trace_call(fn, example_inputs, params_as_inputs=False).graph


def is_tracing() -> bool:
    return STATE.recorder is not None
