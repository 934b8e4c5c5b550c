"""graphc.save / graphc.load: tensors and nested containers in a file that loading cannot run code from.

The file is a zip archive holding ``data.json`` -- the object's structure as a tree of typed
nodes, with a format name and version -- and one ``tensors/<id>.npy`` per distinct tensor (or
NumPy array). Loading reads JSON and ``np.load(allow_pickle=False)`` only; it never unpickles, so
a file written by ``torch.save`` (a pickle) is refused rather than executed. Saving writes a
temporary file next to the target and renames it into place, so a failed save leaves any earlier
file untouched.

Node types: none, bool, int, float (its repr, so inf/nan and every bit survive), str, list,
tuple, dict (items as [key node, value node] pairs, ``ordered`` for OrderedDict), tensor (id,
dtype, shape, requires_grad, parameter, device), ndarray (id, dtype, shape, scalar), dtype, device.
"""
from __future__ import annotations

import io
import json
import os
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

from . import dtypes
from .atomic import atomic_write
from .device import device as Device
from .errors import GraphcError
from .tensor import Tensor

FORMAT = "graphc.save"
VERSION = 1
_META = "data.json"
_LIMIT_32 = 2**31 - 2**20  # members near 2 GiB need zip64 headers


class LoadError(GraphcError):
    """A file graphc.load cannot read: damaged, of another format or version, or unsafe (pickle)."""


# ---- save ----------------------------------------------------------------------------------

class _Encoder:
    """Turns an object into a JSON tree plus the list of arrays it refers to, failing on anything else."""

    def __init__(self):
        self.arrays: list[np.ndarray] = []
        self._tensor_ids: dict[int, int] = {}
        self._keep: list = []  # objects whose id() is memoised must stay alive while saving
        self._open: set[int] = set()

    def encode(self, obj, where: str) -> dict:
        if obj is None:
            return {"type": "none"}
        if isinstance(obj, bool):
            return {"type": "bool", "value": obj}
        if isinstance(obj, int):
            return {"type": "int", "value": int(obj)}
        if isinstance(obj, float):
            return {"type": "float", "value": repr(float(obj))}
        if isinstance(obj, str):
            return {"type": "str", "value": obj}
        if isinstance(obj, Tensor):
            return self._tensor(obj)
        if isinstance(obj, (np.ndarray, np.generic)):
            return self._ndarray(obj, where)
        if isinstance(obj, dtypes.dtype):
            return {"type": "dtype", "value": obj.name}
        if isinstance(obj, Device):
            return {"type": "device", "value": str(obj)}
        if isinstance(obj, (list, tuple, dict)):
            return self._container(obj, where)
        raise TypeError(f"graphc.save cannot save an object of type {type(obj).__name__} (at {where}); "
                        "it saves tensors, NumPy arrays, numbers, strings, bools, None, dtypes, "
                        "devices, and lists, tuples and dicts of them")

    def _container(self, obj, where: str) -> dict:
        if isinstance(obj, tuple) and hasattr(obj, "_fields"):
            raise TypeError(f"graphc.save cannot save a namedtuple ({type(obj).__name__}, at {where})")
        if id(obj) in self._open:
            raise ValueError(f"graphc.save cannot save a container that contains itself (at {where})")
        self._open.add(id(obj))
        try:
            if isinstance(obj, dict):
                items = [[self.encode(k, f"{where} key {k!r}"), self.encode(v, f"{where}[{k!r}]")]
                         for k, v in obj.items()]
                return {"type": "dict", "ordered": isinstance(obj, OrderedDict), "items": items}
            return {"type": type(obj).__name__ if type(obj) in (list, tuple) else _base(obj),
                    "items": [self.encode(x, f"{where}[{i}]") for i, x in enumerate(obj)]}
        finally:
            self._open.discard(id(obj))

    def _tensor(self, t: Tensor) -> dict:
        from .nn.modules.parameter import Parameter

        value = t._concrete("graphc.save")
        return {"type": "tensor", "id": self._array_id(t, value), "dtype": t.dtype.name,
                "shape": list(value.shape), "requires_grad": bool(t.requires_grad),
                "parameter": isinstance(t, Parameter), "device": str(t.device)}

    def _ndarray(self, a, where: str) -> dict:
        arr = np.asarray(a)
        if arr.dtype.hasobject or arr.dtype.kind not in "biuf":
            raise TypeError(f"graphc.save cannot save a NumPy array of dtype {arr.dtype} (at {where})")
        return {"type": "ndarray", "id": self._array_id(a, arr), "dtype": arr.dtype.name,
                "shape": list(arr.shape), "scalar": isinstance(a, np.generic)}

    def _array_id(self, obj, value: np.ndarray) -> int:
        """One member per object, so a tensor saved twice loads back as one tensor."""
        key = id(obj)
        if key not in self._tensor_ids:
            self._tensor_ids[key] = len(self.arrays)
            self.arrays.append(value)
            self._keep.append(obj)
        return self._tensor_ids[key]


def _base(obj) -> str:
    return "list" if isinstance(obj, list) else "tuple"


def _write_zip(fh, root: dict, arrays: list[np.ndarray]) -> None:
    with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as zf:
        meta = {"format": FORMAT, "version": VERSION, "root": root}
        zf.writestr(_META, json.dumps(meta, allow_nan=False, separators=(",", ":")))
        for i, arr in enumerate(arrays):
            with zf.open(f"tensors/{i}.npy", "w", force_zip64=arr.nbytes > _LIMIT_32) as member:
                np.lib.format.write_array(member, np.asarray(arr), allow_pickle=False)


def save(obj, f) -> None:
    """Write obj to f (a path or a writable binary file object) in graphc's safe format."""
    encoder = _Encoder()
    root = encoder.encode(obj, "obj")

    if isinstance(f, (str, os.PathLike)):
        with atomic_write(f) as fh:
            _write_zip(fh, root, encoder.arrays)
    else:
        _write_zip(f, root, encoder.arrays)


# ---- load ----------------------------------------------------------------------------------

class _Decoder:
    def __init__(self, zf: zipfile.ZipFile, name: str, map_location):
        self.zf, self.name, self.map_location = zf, name, map_location
        self._members = set(zf.namelist())
        self._loaded: dict[int, object] = {}

    def fail(self, reason: str) -> LoadError:
        return LoadError(f"graphc.load: {self.name} is not a valid graphc file: {reason}")

    def decode(self, node):
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            raise self.fail(f"malformed node {str(node)[:80]!r}")
        kind = node["type"]
        if kind == "none":
            return None
        if kind in ("bool", "int", "str"):
            return self._scalar(node, {"bool": bool, "int": int, "str": str}[kind])
        if kind == "float":
            return float(self._scalar(node, str))
        if kind in ("list", "tuple"):
            items = node.get("items")
            if not isinstance(items, list):
                raise self.fail(f"{kind} node without items")
            out = [self.decode(x) for x in items]
            return out if kind == "list" else tuple(out)
        if kind == "dict":
            return self._dict(node)
        if kind == "tensor":
            return self._tensor(node)
        if kind == "ndarray":
            arr = self._array(node)
            return arr[()] if node.get("scalar") else arr
        if kind == "dtype":
            name = self._scalar(node, str)
            if name not in {d.name for d in dtypes.ALL}:
                raise self.fail(f"unknown dtype {name!r}")
            return dtypes.from_name(name)
        if kind == "device":
            try:
                return Device(self._scalar(node, str))
            except RuntimeError as exc:
                raise self.fail(str(exc)) from None
        raise self.fail(f"unknown node type {kind!r}")

    def _scalar(self, node, cls):
        value = node.get("value")
        if type(value) is not cls:
            raise self.fail(f"{node['type']} node holds {type(value).__name__}")
        return value

    def _dict(self, node) -> dict:
        items = node.get("items")
        if not isinstance(items, list) or not all(isinstance(p, list) and len(p) == 2 for p in items):
            raise self.fail("dict node without [key, value] items")
        out = OrderedDict() if node.get("ordered") else {}
        for k, v in items:
            key = self.decode(k)
            try:
                out[key] = self.decode(v)
            except TypeError:
                raise self.fail(f"unhashable dict key {key!r}") from None
        return out

    def _array(self, node) -> np.ndarray:
        i = node.get("id")
        if type(i) is not int or i < 0:
            raise self.fail(f"bad tensor id {i!r}")
        member = f"tensors/{i}.npy"
        if member not in self._members:
            raise self.fail(f"missing member {member}")
        try:
            with self.zf.open(member) as fh:
                arr = np.lib.format.read_array(fh, allow_pickle=False)
        except ValueError as exc:
            raise self.fail(f"{member}: {exc}") from None
        if arr.dtype.hasobject or arr.dtype.kind not in "biuf":
            raise self.fail(f"{member}: unsupported dtype {arr.dtype}")
        if not arr.dtype.isnative:
            arr = arr.astype(arr.dtype.newbyteorder("="))
        if arr.dtype.name != node.get("dtype") or list(arr.shape) != node.get("shape"):
            raise self.fail(f"{member} holds {arr.dtype.name}{list(arr.shape)} but data.json says "
                            f"{node.get('dtype')}{node.get('shape')}")
        return arr

    def _tensor(self, node) -> Tensor:
        key = node.get("id")
        if isinstance(key, int) and key in self._loaded:
            return self._loaded[key]
        arr = self._array(node)
        try:
            dtypes.from_numpy(arr.dtype)
        except (TypeError, ValueError, KeyError):
            raise self.fail(f"tensors/{key}.npy: dtype {arr.dtype} is not a graphc dtype") from None
        t = self._place(Tensor._make(arr), str(node.get("device", "cpu")))
        requires_grad = bool(node.get("requires_grad"))
        if node.get("parameter"):
            from .nn.modules.parameter import Parameter

            t = Parameter(t, requires_grad=requires_grad)
        elif requires_grad:
            t.requires_grad_(True)
        self._loaded[key] = t
        return t

    def _place(self, t: Tensor, saved: str) -> Tensor:
        """PyTorch's map_location: None, a device, a {saved: new} dict, or fn(tensor, saved)."""
        loc = self.map_location
        if callable(loc):
            out = loc(t, saved)
            return t if out is None else out
        if isinstance(loc, dict):
            target = loc.get(saved, saved)
        else:
            target = saved if loc is None else loc
        dev = Device(target)
        if dev.type == "cuda":
            from . import cuda

            if not cuda.is_available():
                raise RuntimeError("Attempting to deserialize object on a CUDA device but "
                                   "graphc.cuda.is_available() is False. If you are running on a CPU-only "
                                   "machine, please use graphc.load with map_location='cpu' to map "
                                   "your tensors to the CPU.")
        return t.to(dev) if dev != t.device else t


def _describe(f) -> str:
    if isinstance(f, (str, os.PathLike)):
        return repr(os.fspath(f))
    return repr(getattr(f, "name", "<file object>"))


def _looks_like_pickle(head: bytes) -> bool:
    return head[:1] == b"\x80" or head[:1] in (b"(", b"c", b"}", b"]")


def load(f, map_location=None, pickle_module=None, *, weights_only: bool = True, mmap=None):
    """Read an object written by graphc.save. Never unpickles, whatever `weights_only` says."""
    if pickle_module is not None:
        raise ValueError("graphc.load never unpickles; pickle_module is not supported")
    name = _describe(f)
    fh = open(f, "rb") if isinstance(f, (str, os.PathLike)) else f
    try:
        return _load(fh, name, map_location)
    finally:
        if fh is not f:
            fh.close()


def _load(fh, name: str, map_location):
    def fail(reason: str) -> LoadError:
        return LoadError(f"graphc.load: {name} is not a valid graphc file: {reason}")

    start = fh.tell() if fh.seekable() else 0
    if not fh.seekable():
        fh = io.BytesIO(fh.read())
    head = fh.read(4)
    fh.seek(start)
    if head[:2] != b"PK":
        if _looks_like_pickle(head):
            raise fail("it holds a pickle payload (e.g. written by torch.save); graphc never "
                       "unpickles, since unpickling can run arbitrary code")
        raise fail("not a zip archive" if head else "the file is empty")
    try:
        with zipfile.ZipFile(fh) as zf:
            names = zf.namelist()
            if _META not in names:
                if any(n.endswith(".pkl") for n in names):
                    raise fail("it holds a pickle payload (a torch.save archive); graphc never "
                               "unpickles, since unpickling can run arbitrary code")
                raise fail(f"missing member {_META}")
            meta = json.loads(zf.read(_META).decode("utf-8"))
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise fail(f"{_META} does not name the {FORMAT!r} format")
            if meta.get("version") != VERSION:
                raise fail(f"unsupported format version {meta.get('version')!r} (this graphc reads "
                           f"version {VERSION})")
            return _Decoder(zf, name, map_location).decode(meta.get("root"))
    except LoadError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, UnicodeDecodeError,
            RecursionError, NotImplementedError) as exc:
        raise fail(f"damaged ({type(exc).__name__}: {exc})") from None
