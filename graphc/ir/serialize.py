"""Graph files: one zip holding `graph.json` and one `.npy` member per initializer.

Loading never unpickles (`allow_pickle=False`, so it runs no code from the file) and checks
everything it reads against a fixed schema: any fault in the file, from a bad zip to an array
whose dtype or shape differs from its declared type, is a GraphFileError. Saving is atomic
(a temporary file in the same folder, then os.replace), so a crash never leaves half a file,
and deterministic (fixed member timestamps), so the same graph gives the same bytes.
"""
from __future__ import annotations

import io
import json
import os
import zipfile
import zlib

import numpy as np

from .. import dtypes
from ..atomic import atomic_write
from .errors import GraphError, GraphFileError
from .graph import Graph
from .types import TensorType

FORMAT = "graphc.graph"
VERSION = 1
_GRAPH_MEMBER = "graph.json"
_NPY_HEADER_MAX = 16384  # read_array refuses headers over 10000 bytes
_EPOCH = (1980, 1, 1, 0, 0, 0)


def save(graph: Graph, path) -> None:
    path = os.fspath(path)
    tensors: dict[str, np.ndarray] = {}
    doc = {"format": FORMAT, "version": VERSION, "graph": _encode_graph(graph, tensors)}
    with atomic_write(path) as f:
        with zipfile.ZipFile(f, "w") as zf:
            _write_member(zf, _GRAPH_MEMBER, json.dumps(doc, indent=1).encode(), zipfile.ZIP_DEFLATED)
            for member, array in tensors.items():
                buf = io.BytesIO()
                np.lib.format.write_array(buf, array, allow_pickle=False)
                _write_member(zf, member, buf.getvalue(), zipfile.ZIP_STORED)


def load(path, verify: bool = True) -> Graph:
    """Read a graph file; with `verify`, a graph breaking the IR invariants is refused too."""
    path = os.fspath(path)
    try:
        with zipfile.ZipFile(path) as zf:
            graph = _decode_file(zf)
        if verify:
            graph.verify()
    except GraphFileError as exc:
        raise GraphFileError(f"{path}: {exc}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RecursionError,
            GraphError, ValueError, TypeError, KeyError) as exc:
        # whatever the builder, json, zipfile or NumPy said about the bytes, it is the file's fault
        raise GraphFileError(f"{path}: not a valid graph file: {type(exc).__name__}: {exc}") from None
    return graph


def _write_member(zf: zipfile.ZipFile, name: str, data: bytes, compression: int) -> None:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.compress_type = compression
    zf.writestr(info, data)


# ---- encoding ------------------------------------------------------------------------------

def _encode_graph(graph: Graph, tensors: dict) -> dict:
    inits = []
    for name, array in graph.initializers.items():
        member = f"tensors/{len(tensors)}.npy"
        tensors[member] = array
        inits.append({"name": name, "type": _encode_type(graph.type_of(name)), "data": member})
    return {
        "name": graph.name,
        "inputs": [{"name": v, "type": _encode_type(graph.type_of(v))} for v in graph.inputs],
        "initializers": inits,
        "nodes": [{
            "op": n.op,
            "inputs": list(n.inputs),
            "outputs": [{"name": v, "type": _encode_type(graph.type_of(v))} for v in n.outputs],
            "attrs": {k: _encode_attr(n.attrs[k]) for k in sorted(n.attrs)},
            "source": n.source,
            "subgraph": None if n.subgraph is None else _encode_graph(n.subgraph, tensors),
        } for n in graph.nodes()],
        "outputs": list(graph.outputs),
    }


def _encode_type(t: TensorType) -> dict:
    return {"dtype": t.dtype.short, "shape": list(t.shape)}


def _encode_attr(v):
    if isinstance(v, dtypes.dtype):
        return {"dtype": v.short}
    if isinstance(v, tuple):
        return [_encode_attr(x) for x in v]
    return v


# ---- decoding: every field checked, so a tampered file fails here, not later ---------------

def _decode_file(zf: zipfile.ZipFile) -> Graph:
    names = zf.namelist()
    if len(set(names)) != len(names):
        raise GraphFileError("repeated zip members")
    doc = json.loads(zf.read(_GRAPH_MEMBER))
    _fields(doc, {"format": str, "version": int, "graph": dict}, "the file")
    if doc["format"] != FORMAT:
        raise GraphFileError(f"format {doc['format']!r} is not {FORMAT!r}")
    if doc["version"] != VERSION:
        raise GraphFileError(f"graph file version {doc['version']} is not "
                             f"supported (this graphc reads version {VERSION})")
    used = {_GRAPH_MEMBER}
    graph = _decode_graph(doc["graph"], zf, used)
    extra = set(names) - used
    if extra:
        raise GraphFileError(f"unexpected members {sorted(extra)}")
    return graph


def _decode_graph(d, zf: zipfile.ZipFile, used: set) -> Graph:
    _fields(d, {"name": str, "inputs": list, "initializers": list, "nodes": list, "outputs": list}, "graph")
    g = Graph(d["name"])
    for i in d["inputs"]:
        _fields(i, {"name": str, "type": dict}, "graph input")
        g.add_input(i["name"], _decode_type(i["type"]))
    for i in d["initializers"]:
        _fields(i, {"name": str, "type": dict, "data": str}, "initializer")
        g.add_initializer(i["name"], _read_array(zf, i["data"], _decode_type(i["type"]), used))
    for n in d["nodes"]:
        _fields(n, {"op": str, "inputs": list, "outputs": list, "attrs": dict,
                    "source": (str, type(None)), "subgraph": (dict, type(None))}, "node")
        for o in n["outputs"]:
            _fields(o, {"name": str, "type": dict}, "node output")
        sub = None if n["subgraph"] is None else _decode_graph(n["subgraph"], zf, used)
        g.add_node(n["op"], _strings(n["inputs"]), [_decode_type(o["type"]) for o in n["outputs"]],
                   {k: _decode_attr(v) for k, v in n["attrs"].items()}, n["source"],
                   [o["name"] for o in n["outputs"]], sub)
    g.set_outputs(_strings(d["outputs"]))
    return g


def _fields(obj, schema: dict, what: str) -> None:
    if not isinstance(obj, dict) or set(obj) != set(schema):
        keys = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
        raise GraphFileError(f"a {what} must have exactly the fields {sorted(schema)}, got {keys}")
    for key, kind in schema.items():
        if not isinstance(obj[key], kind) or (kind is int and isinstance(obj[key], bool)):
            raise GraphFileError(f"{what} field {key!r} has the wrong type: {obj[key]!r}")


def _strings(items) -> list[str]:
    if not all(isinstance(s, str) for s in items):
        raise GraphFileError(f"expected a list of names, got {items!r}")
    return items


def _decode_type(d) -> TensorType:
    _fields(d, {"dtype": str, "shape": list}, "type")
    if not all(type(s) is int and s >= 0 for s in d["shape"]):
        raise GraphFileError(f"bad shape {d['shape']!r}")
    return TensorType(tuple(d["shape"]), dtypes.from_short(d["dtype"]))


def _decode_attr(v):
    if isinstance(v, list):
        return tuple(_decode_attr(x) for x in v)
    if isinstance(v, dict):
        _fields(v, {"dtype": str}, "dtype attribute")
        return dtypes.from_short(v["dtype"])
    return v  # a JSON scalar; Graph.add_node rejects anything else


def _read_array(zf: zipfile.ZipFile, member: str, ty: TensorType, used: set) -> np.ndarray:
    info = zf.getinfo(member)
    if info.file_size > ty.nbytes + _NPY_HEADER_MAX:  # refuse before inflating a zip bomb
        raise GraphFileError(f"member {member} is too large for {ty}")
    used.add(member)
    array = np.lib.format.read_array(io.BytesIO(zf.read(info)), allow_pickle=False)
    if array.dtype != ty.dtype.np or array.shape != ty.shape:
        raise GraphFileError(f"member {member} holds {array.dtype}{list(array.shape)}, "
                             f"the graph declares {ty}")
    return array
