"""Elementwise ops: arithmetic, comparisons, unary math, activations, clamp, where and cast.

Each op's VJP sits next to its kernel; `expr` is the scalar C++ expression the CUDA code
generator fuses ({0}, {1} are inputs, {name} an attribute).
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..dispatch import dispatch
from ..ir.types import TensorType
from ..tensor import Tensor, inplace_method
from .base import (as_tensors, broadcast_shapes, infer_broadcast, infer_compare,
                   infer_float_unary, infer_same, result_dtype, same_dtype, scalar_tensor,
                   unbroadcast)
from .registry import NOT_DIFFERENTIABLE, REQUIRED, Op, register

__all__ = ["mul", "pow", "maximum", "minimum", "add", "sub", "div", "rsub", "true_divide",
           "floor_divide", "remainder", "fmod", "eq", "lt", "gt", "le", "ge", "ne",
           "logical_and", "logical_or", "logical_xor", "logical_not", "equal", "neg", "abs",
           "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "reciprocal", "erf", "relu",
           "sign", "floor", "ceil", "round", "trunc", "leaky_relu", "rsqrt", "square", "log1p",
           "expm1", "log2", "log10", "tan", "softplus", "silu", "gelu", "elu", "hardtanh",
           "relu6", "clamp", "clip", "where"]


def _quiet(fn):
    """NaN/inf follow IEEE rules silently, as in PyTorch (NumPy would warn)."""
    def kernel(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    kernel.__wrapped__ = fn  # runtimes call the ufunc itself with out= (they silence errors)
    return kernel


def _numeric(infer, name):
    """`infer`, refusing bool inputs: ONNX defines these ops on numbers only."""
    def checked(types, **attrs):
        if any(t.dtype is dtypes.bool_ for t in types):
            raise TypeError(f"{name} does not take bool inputs")
        return infer(types, **attrs)
    return checked


def _ew(name, kernel, vjp, expr, infer=infer_broadcast, **kw) -> Op:
    return register(Op(name, infer, kernel, vjp, expr=expr, elementwise=True, **kw))


# ---- binary arithmetic --------------------------------------------------------------------

def _add_vjp(ctx, g):
    a, b = ctx.in_types
    return unbroadcast(g, a.shape), unbroadcast(g, b.shape)


def _sub_vjp(ctx, g):
    a, b = ctx.in_types
    return unbroadcast(g, a.shape), unbroadcast(neg(g), b.shape) if ctx.needs_input_grad[1] else None


def _mul_vjp(ctx, g):
    a, b = ctx.inputs
    return (unbroadcast(mul(g, b), a.shape) if ctx.needs_input_grad[0] else None,
            unbroadcast(mul(g, a), b.shape) if ctx.needs_input_grad[1] else None)


def _div_vjp(ctx, g):
    a, b = ctx.inputs
    ga = unbroadcast(div(g, b), a.shape) if ctx.needs_input_grad[0] else None
    gb = unbroadcast(neg(div(mul(g, a), mul(b, b))), b.shape) if ctx.needs_input_grad[1] else None
    return ga, gb


def _pow_vjp(ctx, g):
    a, b = ctx.inputs
    ga = gb = None
    if ctx.needs_input_grad[0]:
        if b._value is not None and b._value.ndim == 0 and b._value == 2:  # x**2: no pow needed
            ga = unbroadcast(mul(g, mul(a, b)), a.shape)
        else:
            ga = unbroadcast(mul(mul(g, b), pow(a, sub(b, scalar_tensor(1, b.dtype)))), a.shape)
    if ctx.needs_input_grad[1]:
        (out,) = ctx.outputs
        safe_log = where(gt(a, scalar_tensor(0, a.dtype)), log(a), scalar_tensor(0, a.dtype))
        gb = unbroadcast(mul(mul(g, out), safe_log), b.shape)
    return ga, gb


def _minmax_vjp(cmp):
    """Gradient of maximum/minimum: to the winner, split evenly on ties (as PyTorch)."""

    def vjp(ctx, g):
        a, b = ctx.inputs
        half = scalar_tensor(0.5, g.dtype)
        wins_a = add(cast(cmp(a, b), g.dtype), mul(cast(eq(a, b), g.dtype), half))
        ga = unbroadcast(mul(g, wins_a), a.shape) if ctx.needs_input_grad[0] else None
        gb = unbroadcast(sub(g, mul(g, wins_a)), b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb

    return vjp


ADD = _ew("Add", np.add, _add_vjp, "({0} + {1})", saves=((), ()), grad_name="AddBackward0")
SUB = _ew("Sub", np.subtract, _sub_vjp, "({0} - {1})", saves=((), ()), infer=_numeric(infer_broadcast, "Sub"))
MUL = _ew("Mul", np.multiply, _mul_vjp, "({0} * {1})")
def _div_kernel(a, b):
    """Integer Div truncates toward zero, as ONNX and C (the front end divides floats only)."""
    if a.dtype.kind not in "iu":
        return np.divide(a, b)
    q = np.floor_divide(a, b)
    return q + ((np.remainder(a, b) != 0) & ((a < 0) != (b < 0))).astype(q.dtype)


DIV = _ew("Div", _quiet(_div_kernel), _div_vjp, "({0} / {1})", infer=_numeric(infer_broadcast, "Div"))
POW = _ew("Pow", _quiet(np.power), _pow_vjp, "pow({0}, {1})", saves=((0, 1), (0,)),
          infer=_numeric(infer_broadcast, "Pow"))
MAX = _ew("Max", np.maximum, None, "max({0}, {1})", grad_name="MaximumBackward0")
MIN = _ew("Min", np.minimum, None, "min({0}, {1})", grad_name="MinimumBackward0")


_OPERANDS = (Tensor, bool, int, float, np.generic)  # what PyTorch's arithmetic takes


def _check_operands(name: str, a, b) -> None:
    for position, arg in ((1, a), (2, b)):
        if not isinstance(arg, _OPERANDS):
            raise TypeError(f"{name}(): argument {'input' if position == 1 else 'other'} "
                            f"(position {position}) must be Tensor or Number, not {type(arg).__name__}")
    if name == "sub" and any(isinstance(arg, bool) or (isinstance(arg, Tensor) and arg.dtype is dtypes.bool_)
                             for arg in (a, b)):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                           "trying to invert a mask, use the `~` or `logical_not()` operator instead.")


def _binary(op):
    def fn(a, b, *, out=None):
        if out is None:
            try:  # fast paths: two concrete tensors of one dtype; a float tensor and a number
                if type(b) is float or type(b) is int:
                    if a._np_dtype.kind == "f":
                        return dispatch(op, [a, scalar_tensor(b, a.dtype)], _NO_ATTRS)
                elif type(a) is float or type(a) is int:
                    if b._np_dtype.kind == "f":
                        return dispatch(op, [scalar_tensor(a, b.dtype), b], _NO_ATTRS)
                elif a._np_dtype is b._np_dtype:
                    return dispatch(op, [a, b], _NO_ATTRS)
            except AttributeError:
                pass
        _check_operands(op.name.lower(), a, b)
        return _to_out(dispatch(op, as_tensors(a, b), _NO_ATTRS), out)

    return fn


_NO_ATTRS: dict = {}


def _to_out(result: Tensor, out: Tensor | None) -> Tensor:
    """PyTorch's ``out=``: write the result into an existing tensor."""
    if out is None:
        return result
    with _no_grad():
        if tuple(out.shape) != tuple(result.shape):
            out._value = np.empty(result.shape, out.dtype.np)
        return out._set_from(result)


def _no_grad():
    from ..autograd.grad_mode import no_grad

    return no_grad()


_add = _binary(ADD)
_sub = _binary(SUB)
mul = _binary(MUL)
pow = _binary(POW)
maximum = _binary(MAX)
minimum = _binary(MIN)


def add(a, b, *, alpha=1, out=None):
    return _add(a, mul(b, alpha) if alpha != 1 else b, out=out)


def sub(a, b, *, alpha=1, out=None):
    return _sub(a, mul(b, alpha) if alpha != 1 else b, out=out)


def div(a, b, *, rounding_mode=None, out=None):
    """True division (integers divide as floats), or 'floor'/'trunc' rounding as PyTorch."""
    _check_operands("div", a, b)
    d = result_dtype(a, b)
    if not d.is_floating_point and rounding_mode is None:
        d = dtypes.get_default_dtype()
    x, y = as_tensors(a, b, dtype=d)
    if rounding_mode is None:
        return _to_out(dispatch(DIV, [x, y], {}), out)
    if d.is_floating_point:
        q = dispatch(DIV, [x, y], {})
        return _to_out(floor(q) if rounding_mode == "floor" else trunc(q), out)
    x2, y2 = as_tensors(x, y, dtype=dtypes.float64)
    q = dispatch(DIV, [x2, y2], {})
    return _to_out(cast(floor(q) if rounding_mode == "floor" else trunc(q), d), out)


def rsub(a, b, alpha=1):
    return sub(b, a, alpha=alpha)


def true_divide(a, b):
    return div(a, b)


def floor_divide(a, b):
    return div(a, b, rounding_mode="floor")


def remainder(a, b):
    return sub(a, mul(div(a, b, rounding_mode="floor"), b))


def fmod(a, b):
    return sub(a, mul(div(a, b, rounding_mode="trunc"), b))


# ---- comparisons and logic (no gradient) -------------------------------------------------

def _cmp(name, kernel, expr) -> Op:
    return _ew(name, kernel, NOT_DIFFERENTIABLE, expr, infer=infer_compare)


EQUAL = _cmp("Equal", np.equal, "({0} == {1})")
LESS = _cmp("Less", np.less, "({0} < {1})")
GREATER = _cmp("Greater", np.greater, "({0} > {1})")
LESS_EQUAL = _cmp("LessOrEqual", np.less_equal, "({0} <= {1})")
GREATER_EQUAL = _cmp("GreaterOrEqual", np.greater_equal, "({0} >= {1})")


def _infer_logic(types, **_):
    for t in types:
        if t.dtype is not dtypes.bool_:
            raise ValueError(f"expected bool inputs, got {t.dtype.name}")
    return infer_broadcast(types)


AND = _ew("And", np.logical_and, NOT_DIFFERENTIABLE, "({0} && {1})", infer=_infer_logic)
OR = _ew("Or", np.logical_or, NOT_DIFFERENTIABLE, "({0} || {1})", infer=_infer_logic)
XOR = _ew("Xor", np.logical_xor, NOT_DIFFERENTIABLE, "({0} != {1})", infer=_infer_logic)
NOT = _ew("Not", np.logical_not, NOT_DIFFERENTIABLE, "(!{0})", infer=_infer_logic)

eq = _binary(EQUAL)
lt = _binary(LESS)
gt = _binary(GREATER)
le = _binary(LESS_EQUAL)
ge = _binary(GREATER_EQUAL)


def ne(a, b):
    return logical_not(eq(a, b))


def _as_bool(t):
    return t if isinstance(t, Tensor) and t.dtype is dtypes.bool_ else cast(as_tensors(t)[0], dtypes.bool_)


def logical_and(a, b):
    return dispatch(AND, [_as_bool(a), _as_bool(b)], {})


def logical_or(a, b):
    return dispatch(OR, [_as_bool(a), _as_bool(b)], {})


def logical_xor(a, b):
    return dispatch(XOR, [_as_bool(a), _as_bool(b)], {})


def logical_not(a):
    return dispatch(NOT, [_as_bool(a)], {})


def equal(a: Tensor, b: Tensor) -> bool:
    return tuple(a.shape) == tuple(b.shape) and bool(eq(a, b).all())


# ---- unary math -------------------------------------------------------------------------

def _unary(name, kernel, vjp, expr, saves=((0,), ()), infer=infer_float_unary, **kw) -> Op:
    return _ew(name, kernel, vjp, expr, infer=infer, saves=saves, **kw)


def _out(ctx):
    return ctx.outputs[0]


def _sigmoid(x):
    return (np.tanh(x * 0.5) + 1) * np.asarray(0.5, x.dtype)


NEG = _unary("Neg", np.negative, lambda ctx, g: (neg(g),), "(-{0})", saves=((), ()),
             infer=_numeric(infer_same, "Neg"))
ABS = _unary("Abs", np.abs, lambda ctx, g: (mul(g, sign(ctx.inputs[0])),), "abs({0})", infer=infer_same)
EXP = _unary("Exp", _quiet(np.exp), lambda ctx, g: (mul(g, _out(ctx)),), "exp({0})", saves=((), (0,)))
LOG = _unary("Log", _quiet(np.log), lambda ctx, g: (div(g, ctx.inputs[0]),), "log({0})")
SQRT = _unary("Sqrt", _quiet(np.sqrt), lambda ctx, g: (div(g, mul(_out(ctx), 2)),), "sqrt({0})", saves=((), (0,)))
SIN = _unary("Sin", np.sin, lambda ctx, g: (mul(g, cos(ctx.inputs[0])),), "sin({0})")
COS = _unary("Cos", np.cos, lambda ctx, g: (neg(mul(g, sin(ctx.inputs[0]))),), "cos({0})")
TANH = _unary("Tanh", np.tanh, lambda ctx, g: (mul(g, rsub(mul(_out(ctx), _out(ctx)), 1)),),
              "tanh({0})", saves=((), (0,)))
SIGMOID = _unary("Sigmoid", _sigmoid, lambda ctx, g: (mul(g, mul(_out(ctx), rsub(_out(ctx), 1))),),
                 "(1 / (1 + exp(-{0})))", saves=((), (0,)))
RECIPROCAL = _unary("Reciprocal", _quiet(np.reciprocal), lambda ctx, g: (neg(mul(g, mul(_out(ctx), _out(ctx)))),),
                    "(1 / {0})", saves=((), (0,)))
def _erf_kernel(x):
    from math import erf as scalar_erf

    return np.vectorize(scalar_erf, otypes=[x.dtype])(x) if x.size else x.copy()


ERF = _unary("Erf", _erf_kernel, lambda ctx, g: (mul(g, mul(exp(neg(mul(ctx.inputs[0], ctx.inputs[0]))),
                                                    2 / np.sqrt(np.pi))),), "erf({0})")
RELU = _unary("Relu", lambda x: np.maximum(x, np.zeros((), x.dtype)),
              lambda ctx, g: (where(gt(_out(ctx), 0), g, scalar_tensor(0, g.dtype)),),
              "({0} > 0 ? {0} : 0)", saves=((), (0,)), infer=infer_same)


def _leaky_relu_vjp(ctx, g):
    x = ctx.inputs[0]
    return (where(gt(x, 0), g, mul(g, ctx.attrs["alpha"])),)


LEAKY_RELU = _unary("LeakyRelu", lambda x, alpha: np.where(x > 0, x, x * np.asarray(alpha, x.dtype)),
                    _leaky_relu_vjp, "({0} > 0 ? {0} : {0} * {alpha})", attrs={"alpha": 0.01})


def _zero_grad(ctx, g):
    """Piecewise-constant functions: the gradient is zero almost everywhere (as PyTorch)."""
    from ..factories import zeros_like

    return (zeros_like(g),)


SIGN = _unary("Sign", np.sign, _zero_grad, "(({0} > 0) - ({0} < 0))", saves=((), ()),
              infer=_numeric(infer_same, "Sign"))
FLOOR = _unary("Floor", np.floor, _zero_grad, "floor({0})", saves=((), ()))
CEIL = _unary("Ceil", np.ceil, _zero_grad, "ceil({0})", saves=((), ()))
ROUND = _unary("Round", np.round, _zero_grad, "rint({0})", saves=((), ()))
TRUNC = _unary("graphc.Trunc", np.trunc, _zero_grad, "trunc({0})", saves=((), ()))


def _unary_fn(op, **fixed):
    def fn(x, *, out=None):
        return _to_out(dispatch(op, [x if op.infer is infer_same else _floating(x)], fixed), out)

    fn.__name__ = op.name.lower()
    return fn


def _floating(x: Tensor) -> Tensor:
    return x if x.dtype.is_floating_point else cast(x, dtypes.get_default_dtype())


neg = _unary_fn(NEG)
abs = _unary_fn(ABS)
exp = _unary_fn(EXP)
log = _unary_fn(LOG)
sqrt = _unary_fn(SQRT)
sin = _unary_fn(SIN)
cos = _unary_fn(COS)
tanh = _unary_fn(TANH)
sigmoid = _unary_fn(SIGMOID)
reciprocal = _unary_fn(RECIPROCAL)
erf = _unary_fn(ERF)
relu = _unary_fn(RELU)
sign = _unary_fn(SIGN)
floor = _unary_fn(FLOOR)
ceil = _unary_fn(CEIL)
round = _unary_fn(ROUND)
trunc = _unary_fn(TRUNC)


def leaky_relu(x, negative_slope=0.01):
    return dispatch(LEAKY_RELU, [x], {"alpha": float(negative_slope)})


def rsqrt(x):
    return reciprocal(sqrt(x))


def square(x):
    return mul(x, x)


def log1p(x):
    return log(add(x, 1))


def expm1(x):
    return sub(exp(x), 1)


def log2(x):
    return div(log(x), float(np.log(2)))


def log10(x):
    return div(log(x), float(np.log(10)))


def tan(x):
    return div(sin(x), cos(x))


def softplus(x, beta=1, threshold=20):
    """log(1 + exp(beta x)) / beta, linear above the threshold (as PyTorch)."""
    bx = mul(x, beta)
    return where(gt(bx, threshold), x, div(log1p(exp(minimum(bx, threshold))), beta))


def silu(x):
    return mul(x, sigmoid(x))


def gelu(x, approximate="none"):
    if approximate == "tanh":
        inner = mul(add(x, mul(pow(x, 3), 0.044715)), float(np.sqrt(2 / np.pi)))
        return mul(mul(x, 0.5), add(tanh(inner), 1))
    return mul(mul(x, 0.5), add(erf(div(x, float(np.sqrt(2)))), 1))


def elu(x, alpha=1.0):
    return where(gt(x, 0), x, mul(expm1(minimum(x, 0)), alpha))


def hardtanh(x, min_val=-1.0, max_val=1.0):
    return clamp(x, min_val, max_val)


def relu6(x):
    return clamp(x, 0, 6)


# ---- clamp, where, cast -------------------------------------------------------------------

def _clip_kernel(x, min, max):
    if min is None and max is None:  # np.clip then calls np.positive, which refuses bool
        return x.copy()
    return np.clip(x, None if min is None else np.asarray(min, x.dtype),
                   None if max is None else np.asarray(max, x.dtype))


def _clip_vjp(ctx, g):
    x = ctx.inputs[0]
    lo, hi = ctx.attrs["min"], ctx.attrs["max"]
    keep = None
    if lo is not None:
        keep = ge(x, lo)
    if hi is not None:
        keep = le(x, hi) if keep is None else logical_and(keep, le(x, hi))
    return (g if keep is None else where(keep, g, scalar_tensor(0, g.dtype)),)


CLIP = _ew("Clip", _clip_kernel, _clip_vjp, "min(max({0}, {min}), {max})", infer=infer_same,
           attrs={"min": None, "max": None}, grad_name="ClampBackward1")


def clamp(x, min=None, max=None, *, out=None):
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        y = x if min is None else maximum(x, min)
        return _to_out(y if max is None else minimum(y, max), out)
    if min is None and max is None:
        raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
    conv = float if x.dtype.is_floating_point else int
    return _to_out(dispatch(CLIP, [x], {"min": None if min is None else conv(min),
                                       "max": None if max is None else conv(max)}), out)


clip = clamp


def _infer_where(types, **_):
    c, a, b = types
    if c.dtype is not dtypes.bool_:
        raise ValueError(f"condition must be bool, got {c.dtype.name}")
    return [TensorType(broadcast_shapes(c.shape, a.shape, b.shape), same_dtype([a, b]))]


def _where_vjp(ctx, g):
    c = ctx.inputs[0]
    a, b = ctx.in_types[1], ctx.in_types[2]
    zero = scalar_tensor(0, g.dtype)
    ga = unbroadcast(where(c, g, zero), a.shape) if ctx.needs_input_grad[1] else None
    gb = unbroadcast(where(c, zero, g), b.shape) if ctx.needs_input_grad[2] else None
    return None, ga, gb


WHERE = _ew("Where", np.where, _where_vjp, "({0} ? {1} : {2})", infer=_infer_where,
            saves=((0,), ()), grad_name="WhereBackward0")


def where(condition, x=None, y=None):
    if x is None and y is None:
        from .index import nonzero

        return nonzero(condition, as_tuple=True)
    a, b = as_tensors(x, y)
    return dispatch(WHERE, [_as_bool(condition), a, b], {})


def _infer_cast(types, to):
    return [TensorType(types[0].shape, to)]


def _cast_kernel(x, to):
    return x.astype(to.np)


def _cast_vjp(ctx, g):
    src = ctx.in_types[0].dtype
    return (cast(g, src) if src.is_floating_point else None,)


CAST = _ew("Cast", _cast_kernel, _cast_vjp, "static_cast<{to}>({0})", infer=_infer_cast,
           attrs={"to": REQUIRED}, saves=((), ()), grad_name="ToCopyBackward0")


def cast(x: Tensor, to) -> Tensor:
    return dispatch(CAST, [x], {"to": dtypes.as_dtype(to)})


MAX.vjp = _minmax_vjp(gt)
MIN.vjp = _minmax_vjp(lt)


# ---- composites: tests and blends written with the ops above --------------------------------

def isnan(x):
    return ne(x, x)


def isinf(x):
    return eq(abs(x), float("inf"))


def isfinite(x):
    return logical_not(logical_or(isnan(x), isinf(x)))


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    a, b = as_tensors(a, b)
    close = logical_or(eq(a, b), le(abs(sub(a, b)), add(mul(abs(b), rtol), atol)))
    return logical_or(close, logical_and(isnan(a), isnan(b))) if equal_nan else close


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(isclose(a, b, rtol, atol, equal_nan).all())


def lerp(start, end, weight):
    return add(start, mul(weight, sub(end, start)))


def sinh(x):
    return div(sub(exp(x), exp(neg(x))), 2)


def cosh(x):
    return div(add(exp(x), exp(neg(x))), 2)


def addcmul(x, t1, t2, *, value=1):
    return add(x, mul(mul(t1, t2), value))


def addcdiv(x, t1, t2, *, value=1):
    return add(x, mul(div(t1, t2), value))


multiply, subtract, divide, negative, absolute = mul, sub, div, neg, abs
__all__ += ["isnan", "isinf", "isfinite", "isclose", "allclose", "lerp", "sinh", "cosh",
            "addcmul", "addcdiv", "multiply", "subtract", "divide", "negative", "absolute"]


def _operator(fn, reflected: bool = False):
    """A Python operator as PyTorch's: NotImplemented for an operand that is neither a tensor
    nor a number (a list, a tuple, a return_types named tuple, an ndarray), so Python raises
    its TypeError instead of graphc computing something meaningless."""
    def method(self, other):
        if not isinstance(other, _OPERANDS):
            return NotImplemented
        return fn(other, self) if reflected else fn(self, other)
    return method


def _operators(table: dict) -> dict:
    """__op__, __rop__ and (where given) __iop__ for each name -> (function, in-place method)."""
    out = {}
    for name, (fn, inplace) in table.items():
        out[f"__{name}__"], out[f"__r{name}__"] = _operator(fn), _operator(fn, reflected=True)
        if inplace is not None:
            out[f"__i{name}__"] = _operator(inplace)
    return out


def _masked_fill(self, mask, value):
    return where(mask, value if isinstance(value, Tensor) else scalar_tensor(value, self.dtype), self)


_FUNCTIONS = {
    "add": add, "sub": sub, "mul": mul, "div": div, "pow": pow, "maximum": maximum,
    "minimum": minimum, "eq": eq, "ne": ne, "lt": lt, "gt": gt, "le": le, "ge": ge,
    "neg": neg, "abs": abs, "exp": exp, "log": log, "sqrt": sqrt, "sin": sin, "cos": cos,
    "tanh": tanh, "sigmoid": sigmoid, "reciprocal": reciprocal, "relu": relu, "sign": sign,
    "floor": floor, "ceil": ceil, "round": round, "trunc": trunc, "erf": erf, "clamp": clamp,
    "clip": clamp, "rsqrt": rsqrt, "square": square, "log1p": log1p, "expm1": expm1,
    "log2": log2, "log10": log10, "tan": tan, "remainder": remainder, "fmod": fmod,
    "floor_divide": floor_divide, "true_divide": true_divide, "logical_and": logical_and,
    "logical_or": logical_or, "logical_xor": logical_xor, "logical_not": logical_not,
    "masked_fill": _masked_fill, "multiply": mul, "subtract": sub, "divide": div,
    "greater": gt, "less": lt, "negative": neg, "absolute": abs, "lerp": lerp, "sinh": sinh,
    "cosh": cosh, "addcmul": addcmul, "addcdiv": addcdiv,
}

METHODS = {
    **_FUNCTIONS,
    **{name + "_": inplace_method(fn) for name, fn in _FUNCTIONS.items()
       if name not in ("eq", "ne", "lt", "gt", "le", "ge", "greater", "less")},
    "leaky_relu": leaky_relu, "where": lambda self, cond, other: where(cond, self, other),
    "equal": equal, "maximum": maximum, "minimum": minimum, "isnan": isnan, "isinf": isinf,
    "isfinite": isfinite, "isclose": isclose, "allclose": allclose,
    **_operators({
        "add": (_add, inplace_method(add)), "sub": (_sub, inplace_method(sub)), "mul": (mul, inplace_method(mul)),
        "truediv": (div, inplace_method(div)), "floordiv": (floor_divide, None), "mod": (remainder, None),
        "pow": (pow, inplace_method(pow)), "and": (logical_and, None), "or": (logical_or, None),
        "xor": (logical_xor, None)}),
    **{f"__{name}__": _operator(fn) for name, fn in (("eq", eq), ("ne", ne), ("lt", lt), ("gt", gt),
                                                      ("le", le), ("ge", ge))},
    "__neg__": neg, "__abs__": abs, "__pos__": lambda self: self, "__invert__": logical_not,
}
