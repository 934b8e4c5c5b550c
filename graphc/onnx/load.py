"""Import an ONNX model as a graphc `Graph`, treating the file as untrusted input.

Every tensor is size-checked before it is read, external data must live inside the model's
folder, nodes are ordered (and cycles refused) by the importer itself, and every error names
the node or tensor at fault. Op translation follows `mapping`.
"""
from __future__ import annotations

import heapq
import os
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from .. import dtypes
from ..ir import Graph, TensorType
from ..ops.registry import REGISTRY
from . import mapping
from ._proto import OnnxError, from_onnx_dtype, np_dtype, onnx

MIN_OPSET = 13
MAX_ELEMENTS = 2**32        # per tensor: anything larger is a hostile or broken file
_EXTERNAL = 1               # TensorProto.DataLocation.EXTERNAL


def load(model, input_shapes: Mapping[str, Sequence[int]] | None = None) -> Graph:
    """The graph of an ONNX model (a path, bytes or a ModelProto).

    `input_shapes` gives concrete shapes for inputs with symbolic dimensions, which graphc's
    static graphs cannot hold. Opsets 13 to the installed onnx's newest are accepted.
    """
    proto, base_dir = read_model(model)
    return Importer(proto, base_dir, input_shapes or {}).run()


def read_model(model):
    """(ModelProto, the folder external data may come from, or None)."""
    mod = onnx()
    if isinstance(model, mod.ModelProto):
        return model, None
    if isinstance(model, (bytes, bytearray)):
        return _parse(bytes(model), "the model bytes"), None
    path = os.fspath(model)
    with open(path, "rb") as f:
        data = f.read()
    return _parse(data, path), os.path.dirname(os.path.abspath(path))


def _parse(data: bytes, where: str):
    mod = onnx()
    proto = mod.ModelProto()
    try:
        proto.ParseFromString(data)
    except Exception as exc:  # protobuf's DecodeError, or a RuntimeWarning-turned-error
        raise OnnxError(f"{where}: not a valid ONNX model (truncated or corrupt protobuf: {exc})") from None
    if not proto.HasField("graph"):
        raise OnnxError(f"{where}: not a valid ONNX model (no graph; truncated or not an ONNX file)")
    return proto


@dataclass(frozen=True)
class OnnxNode:
    """A NodeProto as import rules read it."""

    op_type: str
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attribute: Any
    domain: str


class NeedsConstant(OnnxError):
    """A node needs the value of an input graphc cannot know until run time."""

    def __init__(self, message: str, inputs: tuple[str, ...]):
        super().__init__(message)
        self.inputs = inputs   # the graph inputs it depends on


class Importer:
    """Builds the graph; import rules in `mapping` call back into it (the `ctx` they take)."""

    def __init__(self, proto, base_dir: str | None, input_shapes: Mapping[str, Sequence[int]],
                 input_values: Mapping[str, np.ndarray] | None = None):
        self.proto = proto
        self.input_values = dict(input_values or {})
        self.base_dir = base_dir
        self.input_shapes = dict(input_shapes)
        self.opset = _default_opset(proto)
        self.graph = Graph(proto.graph.name or "onnx")
        self.table = mapping.import_table(REGISTRY)
        self._names = _all_names(proto.graph)
        self._fresh = 0
        self._node = None
        self._folded: dict[str, np.ndarray] = {}

    # ---- the model ---------------------------------------------------------------------------

    def run(self) -> Graph:
        g = self.proto.graph
        inits = {t.name: t for t in g.initializer}
        for vi in g.input:
            if vi.name in self.input_values:
                self.graph.add_initializer(vi.name, self.input_values[vi.name])
            elif vi.name not in inits:
                self.graph.add_input(vi.name, self._input_type(vi))
        for name, t in inits.items():
            if name not in self.input_values:
                self.graph.add_initializer(name, self.tensor_array(t, f"initializer {name!r}"))
        self._check_op_versions()
        for node in self._sorted_nodes():
            self._import_node(OnnxNode(node.op_type, node.name, tuple(node.input), tuple(node.output),
                                       node.attribute, node.domain))
        outputs = [o.name for o in g.output]
        defined = self._defined()
        for name in outputs:
            if name not in defined:
                raise OnnxError(f"graph output {name!r} is not produced by any node")
        self.graph.set_outputs(outputs)
        self.graph.verify()
        return self.graph

    def _input_type(self, vi) -> TensorType:
        where = f"graph input {vi.name!r}"
        if not vi.type.HasField("tensor_type"):
            raise OnnxError(f"{where}: only tensor inputs are supported")
        tt = vi.type.tensor_type
        dtype = from_onnx_dtype(tt.elem_type, where)
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
        given = self.input_shapes.get(vi.name)
        if given is not None:
            given = tuple(int(d) for d in given)
            if tt.HasField("shape") and (len(given) != len(dims) or any(
                    d is not None and d != s for d, s in zip(dims, given))):
                raise OnnxError(f"{where}: shape {list(given)} given, but the model declares "
                                f"{_dims_str(tt.shape.dim)}")
            dims = list(given)
        elif not tt.HasField("shape") or None in dims:
            raise OnnxError(f"{where} has dynamic shape {_dims_str(tt.shape.dim) if tt.HasField('shape') else '(unknown rank)'}; "
                            "graphc builds static graphs: pass concrete shapes, e.g. "
                            f"load(path, input_shapes={{{vi.name!r}: (...)}})")
        _check_dims(dims, where)
        return TensorType(tuple(dims), dtype)

    def _check_op_versions(self) -> None:
        """Below opset 13, accept only ops whose definition has not changed since."""
        if self.opset >= MIN_OPSET:
            return
        defs = onnx().defs
        for n in self.proto.graph.node:
            if n.op_type in mapping.ANY_VERSION:
                continue
            try:
                old = defs.get_schema(n.op_type, self.opset).since_version
                new = defs.get_schema(n.op_type, MIN_OPSET).since_version
            except Exception:
                continue  # unknown ops are refused, with the node's name, when imported
            if old != new:
                raise self.error(n, f"the model's opset {self.opset} defines {n.op_type} version {old}; "
                                    f"graphc imports the definitions of opset {MIN_OPSET} and newer")

    def _sorted_nodes(self) -> list:
        """The nodes in dependency order; cycles and undefined inputs are refused."""
        nodes = list(self.proto.graph.node)
        known = self._defined()
        producer: dict[str, int] = {}
        for i, n in enumerate(nodes):
            for v in n.output:
                if v and (v in producer or v in known):
                    raise OnnxError(f"{_describe(n)}: output {v!r} is defined twice")
                if v:
                    producer[v] = i
        deps = []
        for n in nodes:
            mine = set()
            for v in n.input:
                if not v:
                    continue
                if v in producer:
                    mine.add(producer[v])
                elif v not in known:
                    raise OnnxError(f"{_describe(n)}: input {v!r} is not defined by any node, "
                                    "initializer or graph input")
            deps.append(mine)
        users: list[list[int]] = [[] for _ in nodes]
        for i, d in enumerate(deps):
            for j in d:
                users[j].append(i)
        waiting = [len(d) for d in deps]
        ready = [i for i, w in enumerate(waiting) if w == 0]  # a heap: file order where free
        order = []
        while ready:
            i = heapq.heappop(ready)
            order.append(i)
            for u in users[i]:
                waiting[u] -= 1
                if waiting[u] == 0:
                    heapq.heappush(ready, u)
        if len(order) != len(nodes):
            stuck = [nodes[i] for i, w in enumerate(waiting) if w > 0]
            raise OnnxError("the graph has a cycle through nodes "
                            + ", ".join(_describe(n) for n in stuck[:5]))
        return [nodes[i] for i in order]

    def _defined(self) -> set[str]:
        return set(self.graph.inputs) | set(self.graph.initializers) | {
            v for n in self.graph.nx_graph.nodes for v in self.graph.nx_graph.nodes[n]["outputs"]}

    def _import_node(self, node) -> None:
        self._node = node
        if node.domain not in ("", "ai.onnx"):
            raise self.error(node, f"operators of domain {node.domain!r} are not supported")
        for a in node.attribute:
            if a.type in (5, 10):  # GRAPH, GRAPHS: control flow
                raise self.error(node, f"attribute {a.name!r} holds a subgraph; control flow is not supported")
        entry = self.table.get(node.op_type)
        if entry is None:
            raise self.error(node, f"graphc does not implement the ONNX op {node.op_type}")
        op_name, rule = entry
        if op_name is None:
            rule(self, node)
        elif rule.import_ is not None:
            rule.import_(self, node)
        else:
            self._import_default(node, op_name, rule)

    def _import_default(self, node, op_name: str, rule: mapping.Rule) -> None:
        attrs = self.attrs_of(node, op_name, rule)
        by_slot = {ai.slot: ai for ai in rule.inputs}
        for ai in rule.inputs:
            if self.opset < ai.since:
                continue
            value = self.const_input(node, ai.slot, ai.attr, optional=True)
            if value is not None:
                attrs[ai.attr] = _attr_from_array(value, ai.scalar)
        data = [v for i, v in enumerate(node.inputs) if i not in by_slot or self.opset < by_slot[i].since]
        if "" in data:
            raise self.error(node, f"an omitted optional input is not supported for {node.op_type}")
        self.add(op_name, data, attrs, list(node.outputs))

    # ---- the interface import rules use ---------------------------------------------------

    def error(self, node, message: str) -> OnnxError:
        return OnnxError(f"{_describe(node)}: {message}")

    def type_of(self, value: str) -> TensorType:
        return self.graph.type_of(value)

    def attr(self, node, name: str, default: Any = None) -> Any:
        for a in node.attribute:
            if a.name == name:
                return self._attr_value(node, a)
        return default

    def dtype_attr(self, node, name: str) -> dtypes.dtype:
        value = self.attr(node, name)
        if value is None:
            raise self.error(node, f"missing attribute {name!r}")
        try:
            return from_onnx_dtype(int(value), f"{_describe(node)}: attribute {name!r}")
        except OnnxError:
            raise
        except Exception:
            raise self.error(node, f"attribute {name!r} is not a dtype: {value!r}") from None

    def attrs_of(self, node, op_name: str, rule: mapping.Rule | None = None) -> dict[str, Any]:
        """The node's ONNX attributes as graphc attributes of `op_name` (unknown ones refused,
        unless they hold ONNX's default), plus the ONNX defaults graphc does not share."""
        op = REGISTRY[op_name]
        rule = rule or mapping.rule_for(op_name)
        taken = {ai.attr for ai in rule.inputs if self.opset >= ai.since}
        out: dict[str, Any] = {}
        for a in node.attribute:
            value = self._attr_value(node, a)
            if a.name not in op.attrs or a.name in taken:
                if self._is_onnx_default(node, a):
                    continue
                raise self.error(node, f"attribute {a.name}={value!r} is not supported by graphc's {op_name}")
            default = op.attrs[a.name]
            if isinstance(default, bool):
                value = bool(value)
            elif isinstance(default, float) and isinstance(value, int):
                value = float(value)
            out[a.name] = tuple(value) if isinstance(value, list) else value
        types = [self.type_of(v) for v in node.inputs if v]
        for key, value in rule.onnx_defaults.items():
            if key not in out:
                out[key] = value(types) if callable(value) else value
        return out

    def const_input(self, node, slot: int, what: str, optional: bool = False):
        """The value of a constant input (an initializer or a folded Constant), None if omitted."""
        if slot >= len(node.inputs) or not node.inputs[slot]:
            if optional:
                return None
            raise self.error(node, f"input {slot} ({what}) is required")
        name = node.inputs[slot]
        value = self._fold(name)
        if value is None:
            raise NeedsConstant(f"{_describe(node)}: input {slot} ({what}) %{name} must be a constant "
                                "(an initializer or Constant): graphc needs it when it builds the graph",
                                self._upstream_inputs(name))
        return value

    def add(self, op_name: str, inputs: Sequence[str], attrs: Mapping[str, Any],
            outputs: Sequence[str] | None = None) -> list[str]:
        """Add a graphc node; its output types come from the op's shape rule. Outputs not named
        (None, fewer than the op has, or "") get fresh names."""
        node = self._node
        op = REGISTRY[op_name]
        try:
            full = op.complete_attrs(dict(attrs))
        except TypeError as exc:
            raise self.error(node, str(exc)) from None
        in_types = [self.type_of(v) for v in inputs]
        try:
            out_types = [TensorType(tuple(t.shape), t.dtype) for t in op.infer(in_types, **full)]
        except Exception as exc:
            shapes = ", ".join(str(t) for t in in_types)
            raise self.error(node, f"{op_name} rejects inputs ({shapes}): {exc}") from None
        names = list(outputs or ())
        if len(names) > len(out_types):
            raise self.error(node, f"has {len(names)} outputs; graphc's {op_name} gives {len(out_types)}")
        names += [""] * (len(out_types) - len(names))
        names = [v or self._fresh_name(node) for v in names]
        for v, t in zip(names, out_types):
            _check_dims(t.shape, f"{_describe(node)}: output {v!r}")
        return self.graph.add_node(op_name, inputs, out_types, full, source=f"onnx:{_describe(node)}",
                                   name=names)

    def add_const(self, array: np.ndarray, name: str, exact: bool = False) -> str:
        """Add a constant: under `name` exactly, or under a fresh name built from it."""
        array = np.asarray(array)
        try:
            dtypes.from_numpy(array.dtype)
        except TypeError:
            raise self.error(self._node, f"graphc has no dtype for a {array.dtype} constant") from None
        _check_dims(array.shape, f"{_describe(self._node)}: constant")
        return self.graph.add_initializer(name if exact else self._fresh_name(self._node, name), array)

    # ---- tensors --------------------------------------------------------------------------------

    def tensor_array(self, t, where: str) -> np.ndarray:
        """A TensorProto's data, after checking its size, type and (external) location."""
        dims = list(t.dims)
        _check_dims(dims, where)
        dtype = np_dtype(t.data_type, where)
        numel = int(np.prod(dims, dtype=object)) if dims else 1
        nbytes = numel * dtype.itemsize
        if t.data_location == _EXTERNAL:
            raw = self._external_bytes(t, where, nbytes)
        elif t.HasField("raw_data"):
            raw = t.raw_data
            if len(raw) != nbytes:
                raise OnnxError(f"{where}: holds {len(raw)} bytes of data, its shape {dims} needs {nbytes}")
        else:
            mod = onnx()
            try:
                return np.array(mod.numpy_helper.to_array(t)).reshape(dims)
            except Exception as exc:
                raise OnnxError(f"{where}: unreadable data for shape {dims}: {exc}") from None
        return np.frombuffer(raw, dtype.newbyteorder("<")).astype(dtype).reshape(dims)

    def _external_bytes(self, t, where: str, nbytes: int) -> bytes:
        info = {e.key: e.value for e in t.external_data}
        location = info.get("location", "")
        if self.base_dir is None:
            raise OnnxError(f"{where}: its data is in an external file ({location!r}); load the model "
                            "from its path so graphc knows the model's folder")
        if (not location or os.path.isabs(location) or location.startswith(("/", "\\"))
                or ".." in location.replace("\\", "/").split("/") or ":" in location):
            raise OnnxError(f"{where}: external data location {location!r} is outside the model's "
                            "folder (absolute paths and '..' are refused)")
        base = os.path.realpath(self.base_dir)
        path = os.path.realpath(os.path.join(base, location))
        if os.path.commonpath([base, path]) != base:
            raise OnnxError(f"{where}: external data location {location!r} resolves outside the "
                            "model's folder")
        if not os.path.isfile(path):
            raise OnnxError(f"{where}: external data file {location!r} does not exist")
        try:
            offset = int(info.get("offset", 0))
            length = int(info.get("length", nbytes))
        except ValueError:
            raise OnnxError(f"{where}: bad external data offset/length {info}") from None
        size = os.path.getsize(path)
        if offset < 0 or length != nbytes or offset + length > size:
            raise OnnxError(f"{where}: external data needs {nbytes} bytes at offset {offset} "
                            f"(length {length}), but {location!r} holds {size} bytes")
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read(length)

    # ---- internals ------------------------------------------------------------------------------

    def _upstream_inputs(self, value: str) -> tuple[str, ...]:
        """The graph inputs `value` is computed from."""
        seen, todo, found = set(), [value], []
        while todo:
            v = todo.pop()
            if v in seen:
                continue
            seen.add(v)
            if v in self.graph.inputs:
                found.append(v)
            node = self.graph.producer(v)
            if node is not None:
                todo.extend(node.inputs)
        return tuple(sorted(found))

    def _fold(self, value: str, depth: int = 0):
        """The value of `value` when it depends on constants only (a shape computed by Shape,
        Gather, Concat...), computed with graphc's kernels; else None."""
        data = self.graph.initializers.get(value)
        if data is not None or depth > 200:
            return data
        if value in self._folded:
            return self._folded[value]
        node = self.graph.producer(value)
        if node is None:
            return None
        args = [self._fold(v, depth + 1) for v in node.inputs]
        if any(a is None for a in args):
            return None
        from ..runtimes.numpy_runtime import node_kernel

        outs = node_kernel(node)(*args)
        outs = outs if len(node.outputs) > 1 else (outs,)
        self._folded.update(zip(node.outputs, (np.asarray(o) for o in outs)))
        return self._folded[value]

    def _attr_value(self, node, a) -> Any:
        mod = onnx()
        value = mod.helper.get_attribute_value(a)
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        if isinstance(value, mod.TensorProto):
            return self.tensor_array(value, f"{_describe(node)}: attribute {a.name!r}")
        if isinstance(value, list):
            if value and isinstance(value[0], bytes):
                return [v.decode("utf-8", "replace") for v in value]
            if value and not isinstance(value[0], (int, float)):
                raise self.error(node, f"attribute {a.name!r} of this kind is not supported")
        elif not isinstance(value, (int, float)):
            raise self.error(node, f"attribute {a.name!r} of this kind is not supported")
        return value

    def _is_onnx_default(self, node, a) -> bool:
        mod = onnx()
        try:
            schema = mod.defs.get_schema(node.op_type, self.opset, node.domain)
            default = schema.attributes[a.name].default_value
        except Exception:
            return False
        return default.type != 0 and default.name and mod.helper.get_attribute_value(default) == \
            mod.helper.get_attribute_value(a)

    def _fresh_name(self, node, hint: str | None = None) -> str:
        base = hint or (node.outputs[0] if node is not None and node.outputs and node.outputs[0] else "v")
        while True:
            self._fresh += 1
            name = f"{base}__{self._fresh}"
            if name not in self._names:
                self._names.add(name)
                return name


def _default_opset(proto) -> int:
    mod = onnx()
    newest = mod.defs.onnx_opset_version()
    versions = [o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")]
    if not versions:
        raise OnnxError("the model imports no version of the default ONNX opset")
    v = versions[0]
    if v > newest:
        raise OnnxError(f"the model uses opset {v}; graphc imports opsets {MIN_OPSET} to {newest} "
                        f"(older ones where an op is unchanged since {MIN_OPSET})")
    return v


def _all_names(g) -> set[str]:
    names = {v.name for v in (*g.input, *g.output, *g.value_info)} | {t.name for t in g.initializer}
    for n in g.node:
        names.update(n.input)
        names.update(n.output)
    return names


def _check_dims(dims, where: str) -> None:
    for d in dims:
        if d < 0:
            raise OnnxError(f"{where}: negative dimension {d} in shape {list(dims)}")
    numel = int(np.prod(dims, dtype=object)) if len(dims) else 1
    if numel > MAX_ELEMENTS:
        raise OnnxError(f"{where}: shape {list(dims)} has {numel} elements, more than graphc "
                        f"accepts from a file ({MAX_ELEMENTS})")


def _dims_str(dims) -> str:
    return "[" + ", ".join(str(d.dim_value) if d.HasField("dim_value") else (d.dim_param or "?")
                           for d in dims) + "]"


def _describe(node) -> str:
    outputs = node.outputs if isinstance(node, OnnxNode) else node.output
    name = node.name or (outputs[0] if outputs else "?")
    return f"node {name!r} ({node.op_type})"


def _attr_from_array(value: np.ndarray, scalar: bool):
    flat = np.ravel(value)
    if scalar:
        if flat.size != 1:
            raise OnnxError(f"expected one value, got shape {list(value.shape)}")
        return flat[0].item()
    return tuple(v.item() for v in flat)
