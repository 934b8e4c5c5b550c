"""Tensor factories: tensor, zeros, ones, full, arange, rand, randn, *_like, from_numpy, ..."""
from __future__ import annotations

import numbers

import numpy as np

from . import dtypes
from .device import place
from .state import STATE
from .random import rng
from .tensor import Tensor


def _dtype_of(data) -> dtypes.dtype:
    """The dtype PyTorch infers for nested Python data."""
    kinds = set()
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(x)
        elif isinstance(x, Tensor):
            kinds.add(x.dtype)
        elif isinstance(x, np.ndarray):
            kinds.add(dtypes.from_numpy(x.dtype))
        elif isinstance(x, (bool, np.bool_)):
            kinds.add(dtypes.bool_)
        elif isinstance(x, numbers.Integral):
            kinds.add(dtypes.int64)
        elif isinstance(x, numbers.Real):
            kinds.add(dtypes.get_default_dtype())
        else:
            raise TypeError(f"Could not infer dtype of {type(x).__name__}")
    if not kinds:
        return dtypes.get_default_dtype()
    floats = [k for k in kinds if k.is_floating_point]
    if floats:
        return max(floats, key=lambda d: d.itemsize) if len(kinds) == len(floats) else dtypes.get_default_dtype()
    return dtypes.int64 if dtypes.int64 in kinds or len(kinds) > 1 else kinds.pop()


def _plain(data):
    if isinstance(data, Tensor):
        return data._concrete("tensor")
    if isinstance(data, (list, tuple)):
        return [_plain(x) for x in data]
    return data


def as_array(data, dtype=None) -> np.ndarray:
    """A new NumPy array holding `data` with PyTorch's dtype inference."""
    if isinstance(data, np.ndarray):
        d = dtypes.as_dtype(dtype) if dtype is not None else dtypes.from_numpy(data.dtype)
    else:
        d = dtypes.as_dtype(dtype) if dtype is not None else _dtype_of(data)
    return np.array(_plain(data), dtype=d.np)


_default_device = None


def set_default_device(device) -> None:
    """The device factory functions put tensors on when given none (None: the CPU)."""
    global _default_device
    _default_device = None if device is None or str(device) == "cpu" else device


def get_default_device():
    from .device import as_device

    return as_device(_default_device)


def _finish(value: np.ndarray, device, requires_grad: bool) -> Tensor:
    t = Tensor._make(value)
    if STATE.recorder is not None:
        STATE.recorder.note_fresh(t)
    if device is None:
        device = _default_device
    if device is not None:
        place(t, device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _shape(size) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return tuple(int(s) for s in size)


def _float(dtype) -> np.dtype:
    return (dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()).np


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _finish(as_array(data, dtype), device, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or dtypes.as_dtype(dtype).np == data.dtype):
        return from_numpy(data)
    return tensor(data, dtype, device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with `array` (writes through either are seen by both)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    dtypes.from_numpy(array.dtype)
    return Tensor._make(array)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.zeros(_shape(size), _float(dtype)), device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.ones(_shape(size), _float(dtype)), device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.empty(_shape(size), _float(dtype)), device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    d = dtypes.as_dtype(dtype) if dtype is not None else dtypes.scalar_dtype(fill_value)
    return _finish(np.full(_shape((size,)), fill_value, d.np), device, requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.eye(n, m, dtype=_float(dtype)), device, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        d = dtypes.int64 if is_int else dtypes.get_default_dtype()
    else:
        d = dtypes.as_dtype(dtype)
    n = max(0, int(np.ceil((end - start) / step)))
    return _finish((start + np.arange(n, dtype=np.float64) * step).astype(d.np), device, requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _finish(_linspace(start, end, int(steps), _float(dtype)), device, requires_grad)


def _linspace(start, end, steps: int, dt: np.dtype) -> np.ndarray:
    """PyTorch's values bit for bit: step in the tensor's dtype, the first half counted up from
    start and the second down from end, each with one rounding (its kernel's fused multiply-add)."""
    if steps <= 1 or dt not in (np.float32, np.float64):
        return np.linspace(start, end, steps).astype(dt)
    s, e = dt.type(start), dt.type(end)
    step = (e - s) / dt.type(steps - 1)
    idx = np.arange(steps)
    wide, half = np.longdouble, steps // 2
    out = np.empty(steps, dt)
    out[:half] = wide(s) + wide(step) * idx[:half]
    out[half:] = wide(e) - wide(step) * (steps - 1 - idx[half:])
    return out


def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    value = rng(generator).random(_shape(size), dtype=np.float64).astype(_float(dtype))
    return _finish(value, device, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    value = rng(generator).standard_normal(_shape(size)).astype(_float(dtype))
    return _finish(value, device, requires_grad)


def randint(low, high=None, size=None, generator=None, dtype=None, device=None,
            requires_grad: bool = False) -> Tensor:
    if size is None:
        low, high, size = 0, low, high
    d = dtypes.as_dtype(dtype) if dtype is not None else dtypes.int64
    value = rng(generator).integers(low, high, size=_shape((size,))).astype(d.np)
    return _finish(value, device, requires_grad)


def randperm(n: int, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    d = dtypes.as_dtype(dtype) if dtype is not None else dtypes.int64
    return _finish(rng(generator).permutation(n).astype(d.np), device, requires_grad)


def normal(mean=0.0, std=1.0, size=None, generator=None, dtype=None, device=None) -> Tensor:
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean._value if isinstance(mean, Tensor) else mean
        s = std._value if isinstance(std, Tensor) else std
        value = rng(generator).normal(m, s).astype(np.result_type(m, s, np.float32))
        return _finish(value, device, False)
    return _finish(rng(generator).normal(mean, std, _shape((size,))).astype(_float(dtype)), device, False)


def bernoulli(p: Tensor, generator=None) -> Tensor:
    return Tensor._make((rng(generator).random(p.shape) < p._value).astype(p.dtype.np))


def _like(fn):
    def like(t: Tensor, dtype=None, device=None, requires_grad: bool = False, **kwargs):
        return fn(*t.shape, dtype=dtype or t.dtype, device=device or t.device,
                  requires_grad=requires_grad, **kwargs)

    like.__name__ = fn.__name__ + "_like"
    like.__doc__ = f"``{fn.__name__}`` with the shape, dtype and device of `t`."
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)
rand_like = _like(rand)
randn_like = _like(randn)


def full_like(t: Tensor, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return full(t.shape, fill_value, dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad)


def randint_like(t: Tensor, low, high=None, dtype=None) -> Tensor:
    return randint(low, high, t.shape, dtype=dtype or t.dtype)


def _new(fn):
    def new(self: Tensor, *size, dtype=None, device=None, requires_grad: bool = False):
        return fn(*size, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad)

    new.__name__ = "new_" + fn.__name__
    return new


def _new_tensor(self: Tensor, data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad)


def _new_full(self: Tensor, size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                requires_grad=requires_grad)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(t: Tensor) -> int:
    return t.numel()


def _rebuild(value: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._make(value)
    t.requires_grad = requires_grad
    return t


def _fill_from(self: Tensor, value: np.ndarray) -> Tensor:
    """Overwrite self with fresh data (as a constant when tracing), autograd-aware."""
    self._check_inplace()
    if self.grad_fn is None and STATE.recorder is None:
        np.copyto(self._value, value, casting="unsafe")
        self._version[0] += 1
        return self
    return self._set_from(Tensor._make(np.asarray(value, self.dtype.np)))


def _zero_(self: Tensor) -> Tensor:
    return _fill_from(self, np.zeros((), self.dtype.np))


def _fill_(self: Tensor, value) -> Tensor:
    if isinstance(value, Tensor):
        from .ops.shape import expand

        return _copy_(self, expand(value, tuple(self.shape)))
    return _fill_from(self, np.full(self.shape, value, self.dtype.np))


def _copy_(self: Tensor, src: Tensor, non_blocking: bool = False) -> Tensor:
    """self <- src (broadcast and cast); gradients flow to src through a copy node."""
    from .ops.shape import clone, expand

    src = src if isinstance(src, Tensor) else tensor(src)
    self._check_inplace()
    return self._set_from(clone(expand(src.to(self.dtype), tuple(self.shape))))


def _uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    return _fill_from(self, rng(generator).uniform(a, b, self.shape))


def _normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    return _fill_from(self, rng(generator).normal(mean, std, self.shape))


def _bernoulli_(self: Tensor, p: float = 0.5, generator=None) -> Tensor:
    return _fill_from(self, rng(generator).random(self.shape) < p)


def _random_(self: Tensor, low: int = 0, high: int | None = None, generator=None) -> Tensor:
    if high is None:
        low, high = 0, low
    return _fill_from(self, rng(generator).integers(low, high, self.shape))


def _exponential_(self: Tensor, lambd: float = 1.0, generator=None) -> Tensor:
    return _fill_from(self, rng(generator).exponential(1.0 / lambd, self.shape))


METHODS = {
    "zero_": _zero_, "fill_": _fill_, "copy_": _copy_, "uniform_": _uniform_,
    "normal_": _normal_, "bernoulli_": _bernoulli_, "random_": _random_,
    "exponential_": _exponential_,
    "new_zeros": _new(zeros),
    "new_ones": _new(ones),
    "new_empty": _new(empty),
    "new_tensor": _new_tensor,
    "new_full": _new_full,
}
