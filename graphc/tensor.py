"""The Tensor: a NumPy array (or, while tracing without data, just a type) plus autograd state.

Every computation goes through `dispatch`; this class holds state, conversions and the in-place
machinery. Op methods (``x.exp()``, ``x + y``) are bound from the op modules' METHODS tables.
"""
from __future__ import annotations

import numpy as np

from . import dtypes
from .device import CPU, as_device, place
from .state import STATE
from .ir.types import TensorType
from .size import Size


class Tensor:
    __slots__ = ("_value", "_version", "__weakref__", "__dict__")
    # Per-tensor state that most tensors never change lives as class defaults: creating a tensor
    # (the eager hot path) then sets only the value and the version counter.
    _aval = None
    requires_grad = False
    grad = None
    grad_fn = None
    _output_nr = 0
    _accum = None
    _device = CPU
    _base = None

    def __init__(self, *args, dtype=None, device=None, requires_grad: bool = False):
        """``Tensor(data)`` copies data as float32; ``Tensor(2, 3)`` is uninitialised (zeros)."""
        from .factories import as_array

        if len(args) == 1 and not isinstance(args[0], int):
            value = as_array(args[0], dtype or dtypes.get_default_dtype())
        else:
            value = np.zeros(args, (dtype and dtypes.as_dtype(dtype) or dtypes.get_default_dtype()).np)
        _init(self, value)
        if STATE.recorder is not None:
            STATE.recorder.note_fresh(self)
        if device is not None:
            place(self, device)
        if requires_grad:
            self.requires_grad_(True)

    # -- construction -------------------------------------------------------------------
    @classmethod
    def _make(cls, value: np.ndarray) -> "Tensor":
        t = _new(cls)
        t._value = value
        t._version = [0]
        return t

    @classmethod
    def _abstract(cls, ty: TensorType) -> "Tensor":
        """A value known only by its type (tracing without data, the autodiff pass)."""
        t = object.__new__(cls)
        _init(t, None)
        t._aval = ty
        return t

    def _owned(self) -> "Tensor":
        """A tensor with memory of its own, for storing as ``.grad`` (which may be written in
        place). While tracing, values are immutable graph values, so an alias will do."""
        if STATE.recorder is not None:
            return self.detach()
        t = Tensor._make(self._value.copy())
        t._device = self._device
        return t

    # -- type and shape -------------------------------------------------------------------
    @property
    def _ir_type(self) -> TensorType:
        v = self._value
        if v is None:
            return self._aval
        return TensorType(v.shape, dtypes.from_numpy(v.dtype))

    @property
    def type(self) -> TensorType:
        """The IR type (graphc code reads ``_ir_type``, which holds no reference to the tensor);
        also callable the PyTorch way: ``x.type()`` names the tensor type, ``x.type(torch.float)``
        casts."""
        ty = _CallableType(*self._ir_type)
        ty._tensor = self
        return ty

    @property
    def shape(self) -> Size:
        v = self._value
        return Size(v.shape if v is not None else self._aval.shape)

    def size(self, dim: int | None = None):
        shape = self.shape
        return shape if dim is None else shape[_wrap_dim(dim, len(shape))]

    @property
    def dtype(self) -> dtypes.dtype:
        v = self._value
        return dtypes.from_numpy(v.dtype) if v is not None else self._aval.dtype

    @property
    def _np_dtype(self):
        """The value's NumPy dtype, for the ops' fast paths (a deferred value is not fetched for it)."""
        return self._value.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def dim(self) -> int:
        return len(self.shape)

    ndimension = dim

    def numel(self) -> int:
        return self.shape.numel()

    nelement = numel

    def element_size(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.numel() * self.dtype.itemsize

    @property
    def device(self):
        return self._device

    @property
    def is_cuda(self) -> bool:
        return self._device.type == "cuda"

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def is_contiguous(self) -> bool:
        return bool(self._concrete("is_contiguous").flags.c_contiguous)

    def stride(self, dim: int | None = None):
        v = self._concrete("stride")
        strides = tuple(s // v.itemsize for s in v.strides)
        return strides if dim is None else strides[_wrap_dim(dim, v.ndim)]

    def data_ptr(self) -> int:
        return self._concrete("data_ptr").__array_interface__["data"][0]

    # -- values ---------------------------------------------------------------------------
    def _concrete(self, what: str) -> np.ndarray:
        v = self._value
        if v is None:
            raise RuntimeError(f"{what}() needs a concrete value, but this tensor is symbolic "
                               f"({self._aval}) because it is being traced without data")
        if STATE.recorder is not None:
            STATE.recorder.on_concrete_use(self, what)
        return v

    def numpy(self, *, force: bool = False) -> np.ndarray:
        if self._device is not CPU and self._device != CPU:
            raise TypeError(f"can't convert {self._device} device type tensor to numpy. Use "
                            "Tensor.cpu() to copy the tensor to host memory first.")
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self._concrete("numpy")

    __array_priority__ = 1000  # NumPy's operators defer to the tensor's reflected ones, as for torch

    def __array__(self, dtype=None, copy=None):
        v = self._concrete("__array__")
        return v if dtype is None else v.astype(dtype)

    def item(self):
        v = self._concrete("item")
        if v.size != 1:
            raise RuntimeError(f"a Tensor with {v.size} elements cannot be converted to Scalar")
        return v.reshape(()).item()

    def tolist(self):
        return self._concrete("tolist").tolist()

    def __bool__(self) -> bool:
        v = self._concrete("bool")
        if v.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(v.reshape(()))

    def __float__(self) -> float:
        return float(self._scalar("float"))

    def __int__(self) -> int:
        return int(self._scalar("int"))

    def __index__(self) -> int:
        if self.dtype.is_floating_point or self.dtype is dtypes.bool_:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._scalar("index"))

    def _scalar(self, what):
        v = self._concrete(what)
        if v.size != 1:
            raise RuntimeError("only one element tensors can be converted to Python scalars")
        return v.reshape(()).item()

    def __len__(self) -> int:
        shape = self.shape
        if not shape:
            raise TypeError("len() of a 0-d tensor")
        return shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        from .printing import tensor_repr

        return tensor_repr(self)

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        if self.ndim == 0 and self._value is not None:
            return format(self.item(), spec)
        return format(repr(self), spec)

    def __reduce_ex__(self, protocol):
        from .factories import _rebuild

        return (_rebuild, (self._concrete("pickle"), self.requires_grad))

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support "
                               "the deepcopy protocol at the moment")
        t = Tensor._make(self._value.copy())
        t._device = self._device
        t.requires_grad = self.requires_grad
        if self.grad is not None:
            t.grad = self.grad.__deepcopy__(memo)
        if type(self) is not Tensor:
            t.__class__ = type(self)
        t.__dict__.update(self.__dict__)
        memo[id(self)] = t
        return t

    # -- autograd -------------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if not self.is_leaf:
            raise RuntimeError("you can only change requires_grad flags of leaf variables.")
        if requires_grad and not (self.dtype.is_floating_point):
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self.requires_grad = requires_grad
        return self

    def detach(self) -> "Tensor":
        t = Tensor._make(self._value) if self._value is not None else Tensor._abstract(self._aval)
        t._version = self._version
        t._device = self._device
        t._base = self
        if STATE.recorder is not None:
            STATE.recorder.alias(t, self)
        return t

    def detach_(self) -> "Tensor":
        self.grad_fn = None
        self.requires_grad = False
        return self

    @property
    def data(self) -> "Tensor":
        t = self.detach()
        t._base = None
        return t

    @data.setter
    def data(self, other: "Tensor") -> None:
        self._value = other._value
        self._aval = other._aval
        self._version = other._version

    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False, inputs=None):
        from .autograd import backward

        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)

    def retain_grad(self) -> None:
        if self.grad_fn is None:
            if not self.requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        import weakref

        node = self.grad_fn
        node._retained = {**(node._retained or {}), self._output_nr: weakref.ref(self)}

    @property
    def retains_grad(self) -> bool:
        node = self.grad_fn
        return bool(node is not None and node._retained and self._output_nr in node._retained)

    def register_hook(self, hook):
        """Call hook(grad) when this tensor's gradient is computed; a non-None result replaces it."""
        from .autograd.graph import gradient_edge

        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        node, nr = gradient_edge(self)
        entry = (nr, hook)
        node._hooks = (node._hooks or []) + [entry]
        if self.grad_fn is None:
            self.__dict__["_hooked_accum"] = node  # keep the leaf's AccumulateGrad (and hook) alive
        return _RemovableHandle(node, entry)

    def register_post_accumulate_grad_hook(self, hook):
        """Call hook(self) after a backward pass has accumulated into this leaf's .grad."""
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        hooks = self.__dict__.setdefault("_post_accumulate_hooks", [])
        hooks.append(hook)
        return _ListHandle(hooks, hook)

    def t_(self) -> "Tensor":
        """Transpose a tensor of at most 2 dimensions in place (its value is re-laid out, so views
        of it no longer share its memory)."""
        if self.ndim > 2:
            raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        if self.requires_grad and STATE.grad_enabled:
            raise RuntimeError("graphc: t_() on a tensor that requires grad is not supported; use t()")
        self._value = np.ascontiguousarray(self._value.T)
        self._version[0] += 1
        return self

    # -- in-place machinery ----------------------------------------------------------------
    def _check_inplace(self) -> None:
        if STATE.grad_enabled and self.requires_grad and self.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")

    def _set_from(self, out: "Tensor") -> "Tensor":
        """Make `out` (a freshly computed result) the new value of self, in place."""
        if out.shape != self.shape:
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast "
                               f"shape {list(out.shape)}")
        if out.dtype is not self.dtype:
            if not np.can_cast(out.dtype.np, self.dtype.np, "same_kind"):
                raise RuntimeError(f"result type {out.dtype.name} can't be cast to the desired "
                                   f"output type {self.dtype.name}")
            from .ops.elementwise import cast

            out = cast(out, self.dtype)
        node = out.grad_fn
        if node is not None:
            if self._base is not None and self._base.requires_grad:
                raise RuntimeError("graphc does not support differentiable in-place operations on a "
                                   "view of a tensor that requires grad; write out-of-place instead")
            self._snapshot_into(node)
        if self._value is not None and out._value is not None:
            np.copyto(self._value, out._value)
        self._version[0] += 1
        if node is not None:
            self.grad_fn = node
            self._output_nr = out._output_nr
            self.requires_grad = True
            outs = getattr(node, "_saved_out", ())
            for i, o in enumerate(outs):
                if o is out:
                    outs[i] = self
                    node._versions[len(node._saved_in) + i] = self._version[0]
        if STATE.recorder is not None:
            STATE.recorder.rebind(self, out)
        return self

    def _snapshot_into(self, node) -> None:
        """The op that produced self's new value may have saved self: give it the old value."""
        saved = getattr(node, "_saved_in", ())
        for i, t in enumerate(saved):
            if t is self:
                snap = Tensor._make(self._value.copy()) if self._value is not None else Tensor._abstract(self._aval)
                snap.grad_fn, snap._output_nr, snap.requires_grad = self.grad_fn, self._output_nr, self.requires_grad
                if STATE.recorder is not None:
                    STATE.recorder.alias(snap, self)
                saved[i] = snap
                node._versions[i] = 0

    def _accumulate(self, g: "Tensor") -> None:
        """``self += g`` for gradient accumulation, without autograd."""
        if self._value is not None and g._value is not None and STATE.recorder is None:
            np.add(self._value, g._value, out=self._value, casting="unsafe")
            self._version[0] += 1
        else:
            with _no_grad():
                self._set_from(self + g)

    # -- device and dtype -----------------------------------------------------------------
    def to(self, *args, **kwargs) -> "Tensor":
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        for a in args:
            if isinstance(a, dtypes.dtype):
                dtype = a
            elif isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            else:
                device = a
        out = self
        if device is not None:
            dev = as_device(device)
            if dev != self._device:  # the copy runs on the destination (a download or an upload)
                if self.requires_grad:
                    out = self.clone()
                    place(out, dev)
                else:
                    out = self.detach()
                    place(out, dev)
                    out = out.clone()
        if dtype is not None and dtypes.as_dtype(dtype) is not out.dtype:
            from .ops.elementwise import cast

            out = cast(out, dtypes.as_dtype(dtype))
        if copy and out is self:
            out = self.clone()
        return out

    def cpu(self) -> "Tensor":
        return self.to("cpu")

    def cuda(self, device=None) -> "Tensor":
        return self.to(device or "cuda")

    def type_as(self, other: "Tensor") -> "Tensor":
        return self.to(other.dtype)

    def float(self) -> "Tensor":
        return self.to(dtypes.float32)

    def double(self) -> "Tensor":
        return self.to(dtypes.float64)

    def half(self) -> "Tensor":
        return self.to(dtypes.float16)

    def long(self) -> "Tensor":
        return self.to(dtypes.int64)

    def int(self) -> "Tensor":
        return self.to(dtypes.int32)

    def bool(self) -> "Tensor":
        return self.to(dtypes.bool_)


_new = object.__new__

_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
               "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


class _CallableType(TensorType):
    """A tensor's TensorType that also answers PyTorch's ``Tensor.type(dtype=None)``."""

    def __call__(self, dtype=None, non_blocking: bool = False, **kwargs):
        t = self._tensor
        if dtype is None:
            return f"torch.{_TYPE_NAMES.get(t.dtype.name, t.dtype.name)}Tensor"
        if isinstance(dtype, str):
            names = {f"torch.{v}Tensor": k for k, v in _TYPE_NAMES.items()}
            if dtype not in names:
                raise ValueError(f"invalid type: '{dtype}'")
            dtype = dtypes.from_name(names[dtype])
        return t.to(dtypes.as_dtype(dtype))

    def __repr__(self) -> str:
        return f"TensorType(shape={self.shape!r}, dtype={self.dtype!r})"


def _init(t: Tensor, value) -> None:
    t._value = value
    t._version = [0]


def _wrap_dim(dim: int, ndim: int) -> int:
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def _no_grad():
    from .autograd.grad_mode import no_grad

    return no_grad()


class _RemovableHandle:
    def __init__(self, node, entry):
        self.node, self.entry = node, entry

    def remove(self):
        self.node._hooks = [h for h in self.node._hooks or [] if h is not self.entry]


class _ListHandle:
    def __init__(self, hooks: list, hook):
        self.hooks, self.hook = hooks, hook

    def remove(self):
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


def inplace_method(fn):
    """The in-place method ``name_`` of an op function: checks, computes, then writes self."""
    def method(self, *args, **kwargs):
        self._check_inplace()
        return self._set_from(fn(self, *args, **kwargs))

    method.__name__ = fn.__name__ + "_"
    return method


def bind_methods(table: dict) -> None:
    """Attach op functions as Tensor methods (called once per op module, at import)."""
    for name, fn in table.items():
        setattr(Tensor, name, fn)
