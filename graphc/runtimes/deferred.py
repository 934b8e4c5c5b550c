"""Tensors whose newest value lives in device memory, fetched when Python reads it (DESIGN §5).

A runtime that keeps state on its device between calls (CUDA: a compiled step's parameters,
buffers and optimizer state) marks the host tensor *deferred*: its class becomes a subclass
whose ``_value`` fetches the value from the device the first time anything reads it, then
turns back into the class it was. A tensor Python never looks at is never copied; every
reader (an op, ``.numpy()``, ``state_dict()``, printing) sees the current value. Assigning
``_value`` drops the deferral. Shape and dtype come from the stale host array, unfetched.

The runtime says when its device copy is still current with `device_copy_is_current`: the host
array is the one it last synchronised with and the tensor's version counter (bumped by every
in-place op) has not moved since.
"""
from __future__ import annotations

from .. import dtypes
from ..size import Size
from ..state import STATE
from ..tensor import Tensor

_SLOT = Tensor.__dict__["_value"]  # the slot descriptor: the host value, never fetching
_CLASSES: dict[type, type] = {}


def _deferred_class(cls: type) -> type:
    sub = _CLASSES.get(cls)
    if sub is None:
        def fetch(self):
            fill, mark = self.__dict__.pop("_fetch")
            self.__class__ = cls
            if device_copy_is_current(self, mark):  # else a view already fetched and changed it
                fill(self)
            return _SLOT.__get__(self, cls)

        def assign(self, value):
            self.__dict__.pop("_fetch", None)
            self.__class__ = cls
            _SLOT.__set__(self, value)

        def detach(self):
            if STATE.recorder is not None:
                return cls.detach(self)
            t = Tensor._make(host_array(self))  # shares the stale array: deferred alike
            t._version, t._device, t._base = self._version, self._device, self
            t.__dict__.update({k: v for k, v in self.__dict__.items() if k in ("_fetch", "_device_copy")})
            t.__class__ = _deferred_class(Tensor)
            return t

        sub = _CLASSES[cls] = type(cls.__name__, (cls,), {
            "__slots__": (), "__module__": cls.__module__, "__qualname__": cls.__qualname__,
            "_value": property(fetch, assign), "detach": detach,
            # the stale host array still has the right shape and dtype: asking for them is free
            "shape": property(lambda self: Size(host_array(self).shape)),
            "dtype": property(lambda self: dtypes.from_numpy(host_array(self).dtype)),
            "_np_dtype": property(lambda self: host_array(self).dtype)})
        _CLASSES[sub] = sub
    return sub


def defer(t: Tensor, fill) -> None:
    """Until `t._value` is next read, its host array is stale; `fill(t)` then writes the
    device's value into `host_array(t)` (unless the host value changed in the meantime through
    a view sharing the array: the version counter says so)."""
    t.__dict__["_fetch"] = (fill, sync_mark(t))
    t.__class__ = _deferred_class(type(t))


def is_deferred(t: Tensor) -> bool:
    return "_fetch" in t.__dict__


def host_array(t: Tensor):
    """t's host array as it is, without fetching a deferred value."""
    return _SLOT.__get__(t, type(t))


def sync_mark(t: Tensor) -> tuple:
    """What a runtime remembers when its device copy of `t` equals the host value."""
    return host_array(t), t._version[0]


def device_copy_is_current(t: Tensor, mark) -> bool:
    return mark is not None and mark[0] is host_array(t) and mark[1] == t._version[0]


__all__ = ["defer", "device_copy_is_current", "host_array", "is_deferred", "sync_mark"]
