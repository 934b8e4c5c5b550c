"""Reductions: sum, mean, max, min, prod, argmax, argmin; var/std/logsumexp as compositions."""
from __future__ import annotations

import builtins
from collections import namedtuple

import numpy as np

from .. import dtypes
from ..dispatch import dispatch
from ..ir.types import TensorType
from ..tensor import Tensor
from .base import norm_axes
from .registry import NOT_DIFFERENTIABLE, Op, register

_ATTRS = {"axes": None, "keepdims": True}


__all__ = ["sum", "mean", "prod", "amax", "amin", "argmax", "argmin", "max", "min", "var", "std",
           "var_mean", "std_mean", "logsumexp", "all", "any", "count_nonzero", "norm"]


def _reduced_shape(shape, axes, keepdims):
    axes = norm_axes(axes, len(shape))
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _infer_reduce(out_dtype=None):
    def infer(types, axes, keepdims):
        (t,) = types
        return [TensorType(_reduced_shape(t.shape, axes, keepdims), out_dtype(t.dtype) if out_dtype else t.dtype)]

    return infer


def _sum_dtype(d):
    """Integer and bool sums accumulate in int64, as PyTorch."""
    return d if d.is_floating_point else dtypes.int64


def _np_axes(axes, ndim):
    return norm_axes(axes, ndim)


def _keep(g: Tensor, in_shape, axes, keepdims) -> Tensor:
    """A reduced gradient reshaped so it broadcasts against the input."""
    if keepdims:
        return g
    from .shape import reshape

    return reshape(g, _reduced_shape(in_shape, axes, True))


def _expand_to(g, shape):
    from .shape import expand

    return expand(g, tuple(shape))


def _sum_vjp(ctx, g):
    (t,) = ctx.in_types
    return (_expand_to(_keep(g, t.shape, ctx.attrs["axes"], ctx.attrs["keepdims"]), t.shape),)


def _mean_vjp(ctx, g):
    (t,) = ctx.in_types
    axes = norm_axes(ctx.attrs["axes"], len(t.shape))
    count = int(np.prod([t.shape[a] for a in axes])) if axes else 1
    from .elementwise import div

    return (_expand_to(_keep(div(g, count), t.shape, ctx.attrs["axes"], ctx.attrs["keepdims"]), t.shape),)


def _extreme_vjp(ctx, g):
    """Gradient of max/min over axes: shared evenly between the tied extreme elements."""
    from .elementwise import cast, div, eq, mul

    (x,) = ctx.inputs
    (out,) = ctx.outputs
    axes, keepdims = ctx.attrs["axes"], ctx.attrs["keepdims"]
    mask = cast(eq(x, _keep(out, x.shape, axes, keepdims)), g.dtype)
    count = _keep(dispatch(REDUCE_SUM, [mask], {"axes": axes, "keepdims": keepdims}), x.shape, axes, keepdims)
    return (mul(div(mask, count), _keep(g, x.shape, axes, keepdims)),)


def _prod_vjp(ctx, g):
    from .elementwise import div, mul

    (x,) = ctx.inputs
    (out,) = ctx.outputs
    axes, keepdims = ctx.attrs["axes"], ctx.attrs["keepdims"]
    return (mul(_keep(g, x.shape, axes, keepdims), div(_keep(out, x.shape, axes, keepdims), x)),)


def _np_reduce(fn, out_dtype=None):
    def kernel(x, axes, keepdims):
        ax = _np_axes(axes, x.ndim)
        r = fn(x, axis=ax, keepdims=keepdims)
        return r.astype(out_dtype(dtypes.from_numpy(x.dtype)).np, copy=False) if out_dtype else r

    return kernel


def _mean_kernel(x, axes, keepdims):
    axis = _np_axes(axes, x.ndim)
    if x.dtype.kind not in "iu":
        return np.mean(x, axis=axis, keepdims=keepdims, dtype=x.dtype)
    # integers: a wide sum divided with truncation toward zero (NumPy's mean in the input's own
    # dtype would wrap around)
    total = np.sum(x, axis=axis, keepdims=keepdims, dtype=np.int64)
    count = (x.size // total.size if total.size else 0) or 1  # (this module defines its own max)
    return np.asarray(np.sign(total) * (np.abs(total) // count)).astype(x.dtype)


def _mean_grad_name(attrs, in_types):
    return "MeanBackward0" if attrs["axes"] is None else "MeanBackward1"


def _sum_grad_name(attrs, in_types):
    return "SumBackward0" if attrs["axes"] is None else "SumBackward1"


def _reduce(name, kernel, vjp, infer=None, saves=((), ()), **kw) -> Op:
    return register(Op(name, infer or _infer_reduce(), kernel, vjp, attrs=dict(_ATTRS), saves=saves, **kw))


REDUCE_SUM = _reduce("ReduceSum", _np_reduce(np.sum, _sum_dtype), _sum_vjp,
                     infer=_infer_reduce(_sum_dtype), grad_name=_sum_grad_name)
def _infer_mean(types, _infer=_infer_reduce(), **attrs):
    if types[0].dtype is dtypes.bool_:  # as ONNX and PyTorch: the mean of bools is no bool
        raise TypeError("ReduceMean does not take bool inputs")
    return _infer(types, **attrs)


REDUCE_MEAN = _reduce("ReduceMean", _mean_kernel, _mean_vjp, infer=_infer_mean, grad_name=_mean_grad_name)
def _identity(d: np.dtype, top: bool):
    """The identity of max (top=False) or min over an empty set, as ONNX defines it."""
    if d.kind == "b":
        return top
    if d.kind == "f":
        return np.inf if top else -np.inf
    info = np.iinfo(d)
    return info.max if top else info.min


def _extreme_kernel(fn, top: bool):
    """np.max/np.min; an empty set reduces to -inf/+inf (the lowest/highest value), as in ONNX
    (PyTorch's front-end functions refuse empty reductions before they get here)."""
    def kernel(x, axes, keepdims):
        ax = _np_axes(axes, x.ndim)
        if x.size == 0:
            return fn(x, axis=ax, keepdims=keepdims, initial=_identity(x.dtype, top))
        return fn(x, axis=ax, keepdims=keepdims)

    return kernel


REDUCE_MAX = _reduce("ReduceMax", _extreme_kernel(np.max, False), _extreme_vjp, saves=((0,), (0,)),
                     grad_name=lambda a, t: "MaxBackward1" if a["axes"] is None else "AmaxBackward0")
REDUCE_MIN = _reduce("ReduceMin", _extreme_kernel(np.min, True), _extreme_vjp, saves=((0,), (0,)),
                     grad_name=lambda a, t: "MinBackward1" if a["axes"] is None else "AminBackward0")
REDUCE_PROD = _reduce("ReduceProd", _np_reduce(np.prod, _sum_dtype), _prod_vjp,
                      infer=_infer_reduce(_sum_dtype), saves=((0,), (0,)), grad_name="ProdBackward0")


def _infer_arg(types, axis, keepdims, select_last_index):
    (t,) = types
    if axis is None:
        return [TensorType((), dtypes.int64)]
    return [TensorType(_reduced_shape(t.shape, axis, keepdims), dtypes.int64)]


def _arg_kernel(fn):
    def kernel(x, axis, keepdims, select_last_index):
        if axis is None:
            return np.asarray(fn(x.reshape(-1)), dtype=np.int64)
        ax = norm_axes(axis, x.ndim)[0]
        if select_last_index:
            flipped = np.flip(x, ax)
            r = x.shape[ax] - 1 - fn(flipped, axis=ax, keepdims=keepdims)
        else:
            r = fn(x, axis=ax, keepdims=keepdims)
        return r.astype(np.int64, copy=False)

    return kernel


_ARG_ATTRS = {"axis": None, "keepdims": True, "select_last_index": False}
ARGMAX = register(Op("ArgMax", _infer_arg, _arg_kernel(np.argmax), NOT_DIFFERENTIABLE, attrs=dict(_ARG_ATTRS)))
ARGMIN = register(Op("ArgMin", _infer_arg, _arg_kernel(np.argmin), NOT_DIFFERENTIABLE, attrs=dict(_ARG_ATTRS)))


# ---- front-end functions (PyTorch signatures) -----------------------------------------------

def _dims(dim):
    if dim is None:
        return None
    return (dim,) if isinstance(dim, int) else tuple(dim)


def sum(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    if dtype is not None:
        from .elementwise import cast

        x = cast(x, dtype)
    return dispatch(REDUCE_SUM, [x], {"axes": _dims(dim), "keepdims": keepdim})


def mean(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    if dtype is not None or not x.dtype.is_floating_point:
        if dtype is None:
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a "
                               f"floating point or complex dtype. Got: {x.dtype.name.capitalize()}")
        from .elementwise import cast

        x = cast(x, dtype)
    return dispatch(REDUCE_MEAN, [x], {"axes": _dims(dim), "keepdims": keepdim})


def prod(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return dispatch(REDUCE_PROD, [x], {"axes": _dims(dim), "keepdims": keepdim})


def _check_nonempty(name: str, x: Tensor, axes) -> None:
    """PyTorch refuses max/min over an empty set (the ONNX ops give -inf/+inf)."""
    shape = tuple(x.shape)
    if axes is None and 0 in shape:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                           "Specify the reduction dim with the 'dim' argument.")
    for d in norm_axes(axes, len(shape)):
        if shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def amax(x: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    axes = _dims(dim) or None
    _check_nonempty("amax", x, axes)
    return dispatch(REDUCE_MAX, [x], {"axes": axes, "keepdims": keepdim})


def amin(x: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    axes = _dims(dim) or None
    _check_nonempty("amin", x, axes)
    return dispatch(REDUCE_MIN, [x], {"axes": axes, "keepdims": keepdim})


def argmax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return dispatch(ARGMAX, [x], {"axis": dim, "keepdims": keepdim, "select_last_index": False})


def argmin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return dispatch(ARGMIN, [x], {"axis": dim, "keepdims": keepdim, "select_last_index": False})


def values_indices(name: str) -> type:
    """A (values, indices) namedtuple that prints like PyTorch's torch.return_types.<name>."""
    def __repr__(self):
        return f"graphc.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"

    return type(name, (namedtuple(name, ["values", "indices"]),),
                {"__slots__": (), "__repr__": __repr__, "__str__": __repr__})


def _extreme(name, reduce_op, arg_fn, binary):
    result = values_indices(name)

    def fn(x, dim=None, keepdim: bool = False):
        if isinstance(dim, Tensor):
            return binary(x, dim)
        _check_nonempty(name, x, None if dim is None else (dim,))
        if dim is None:
            return dispatch(reduce_op, [x], {"axes": None, "keepdims": False})
        values = dispatch(reduce_op, [x], {"axes": (dim,), "keepdims": keepdim})
        return result(values, arg_fn(x, dim, keepdim))

    return fn


def _binary_max(a, b):
    from .elementwise import maximum

    return maximum(a, b)


def _binary_min(a, b):
    from .elementwise import minimum

    return minimum(a, b)


max = _extreme("max", REDUCE_MAX, argmax, _binary_max)
min = _extreme("min", REDUCE_MIN, argmin, _binary_min)


def var(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    from .elementwise import div, mul, sub

    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    axes = norm_axes(_dims(dim), x.ndim)
    n = int(np.prod([x.shape[a] for a in axes])) if axes else 1
    centered = sub(x, mean(x, dim=axes, keepdim=True))
    return div(sum(mul(centered, centered), dim=axes, keepdim=keepdim), builtins.max(n - correction, 0))


def std(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    from .elementwise import sqrt

    return sqrt(var(x, dim, unbiased, keepdim, correction=correction))


def var_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


def std_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return std(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


def norm(x: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Vector p-norm over `dim` (all elements by default); 'fro' is the 2-norm."""
    from ..autograd.composite import fused

    return fused("LinalgVectorNormBackward0", lambda t: _norm(t, p, dim, keepdim, dtype), x)


def _norm(x, p, dim, keepdim, dtype):
    from .elementwise import abs, mul, pow, sqrt

    if dtype is not None:
        from .elementwise import cast

        x = cast(x, dtype)
    if p in ("fro", 2, 2.0):
        from .elementwise import gt, where

        # sqrt's derivative is infinite at 0; taking it at 1 where the sum is 0 (and masking the
        # result) gives PyTorch's zero subgradient there instead of 0 * inf = NaN
        s = sum(mul(x, x), dim, keepdim)
        nonzero = gt(s, 0)
        return where(nonzero, sqrt(where(nonzero, s, 1.0)), 0.0)
    if p in (float("inf"), "inf"):
        return amax(abs(x), () if dim is None else dim, keepdim)
    if p in (float("-inf"), "-inf"):
        return amin(abs(x), () if dim is None else dim, keepdim)
    if p == 1:
        return sum(abs(x), dim, keepdim)
    return pow(sum(pow(abs(x), p), dim, keepdim), 1.0 / p)


def logsumexp(x: Tensor, dim, keepdim: bool = False) -> Tensor:
    from .elementwise import add, exp, log, sub

    m = amax(x, dim, keepdim=True)
    from ..autograd.grad_mode import no_grad

    with no_grad():
        m = m.detach()
    out = add(log(sum(exp(sub(x, m)), dim, keepdim=True)), m)
    if not keepdim:
        from .shape import squeeze

        out = squeeze(out, dim)
    return out


def all(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    from .elementwise import cast

    return amin(cast(x, dtypes.bool_), () if dim is None else dim, keepdim)


def any(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    from .elementwise import cast

    return amax(cast(x, dtypes.bool_), () if dim is None else dim, keepdim)


def count_nonzero(x: Tensor, dim=None) -> Tensor:
    from .elementwise import ne

    return sum(ne(x, 0), dim)


METHODS = {
    "sum": sum, "mean": mean, "prod": prod, "amax": amax, "amin": amin, "argmax": argmax,
    "argmin": argmin, "max": max, "min": min, "var": var, "std": std, "logsumexp": logsumexp,
    "all": all, "any": any, "count_nonzero": count_nonzero, "norm": norm,
}
