"""``repr(tensor)``, character for character as PyTorch prints it.

Users paste tensors between graphc and PyTorch sessions and diff the output, so this module
follows ``torch/_tensor_str.py`` (PyTorch 2.13) closely, quirks included. It differs in only
one way: the dtype suffix reads ``dtype=graphc.float64``.
Complex, sparse, quantized and nested layouts do not exist in graphc and are left out.

The pipeline is the same as PyTorch's:

1. if the tensor has more than ``threshold`` elements, keep only ``edgeitems`` rows at each
   end of every dimension (``_summarized``) for choosing the number format;
2. ``_Formatter`` looks at those values once and fixes the format for all of them
   (integer-valued floats as ``1.``, fixed point, or scientific) and one column width;
3. ``_nested`` writes the nested brackets, wrapping 1-d rows at ``linewidth``;
4. ``_add_suffixes`` appends ``dtype=``/``grad_fn=``/``requires_grad=``, wrapping as needed.
"""
from __future__ import annotations

import dataclasses
import math
from contextlib import contextmanager

import numpy as np

from . import dtypes


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrintOptions()

_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Set print options; same arguments, defaults and profiles as ``torch.set_printoptions``.

    As in PyTorch, ``sci_mode`` is always assigned (passing nothing resets it to automatic),
    while the other options keep their value unless given.
    """
    if profile is not None:
        for name, value in _PROFILES[profile].items():
            setattr(PRINT_OPTS, name, value)
    for name, value in dict(precision=precision, threshold=threshold, edgeitems=edgeitems,
                            linewidth=linewidth).items():
        if value is not None:
            setattr(PRINT_OPTS, name, value)
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict:
    """The current options, as keyword arguments that ``set_printoptions`` accepts."""
    return dataclasses.asdict(PRINT_OPTS)


@contextmanager
def printoptions(**kwargs):
    """Change print options for the duration of a ``with`` block."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """Chooses one number format and column width from all the values that will be shown."""

    def __init__(self, values: np.ndarray):
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not self.floating:
            # PyTorch formats every value with str(); the widest is at one of the two ends.
            ends = {flat.min().item(), flat.max().item()} if flat.size else set()
            self.max_width = max([1] + [len(str(v)) for v in ends])
            return
        vals = flat[np.isfinite(flat) & (flat != 0)]
        if vals.size == 0:
            return
        # Decided in float64, as PyTorch does, so float16 cannot overflow at 1e8.
        absvals = np.abs(vals).astype(np.float64)
        lo, hi = float(absvals.min()), float(absvals.max())  # Python floats: inf, not a warning
        self.int_mode = bool(np.all(vals == np.ceil(vals)))
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = bool(hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4)
        else:
            self.sci_mode = PRINT_OPTS.sci_mode
        p = PRINT_OPTS.precision
        if self.sci_mode:
            fmt, extra = f"{{:.{p}e}}", 0
        elif self.int_mode:
            fmt, extra = "{:.0f}", 1  # room for the trailing "." that marks a float
        else:
            fmt, extra = f"{{:.{p}f}}", 0
        # PyTorch formats every value; since rounding is monotonic, the widest string is at the
        # largest or smallest magnitude of either sign, so formatting those four is enough.
        widths = [len(fmt.format(v)) + extra for v in _extremes(vals)]
        self.max_width = max([self.max_width] + widths)

    def width(self) -> int:
        return self.max_width

    def format(self, value) -> str:
        if self.floating:
            if self.sci_mode:
                ret = f"{{:{self.max_width}.{PRINT_OPTS.precision}e}}".format(value)
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{{:.{PRINT_OPTS.precision}f}}".format(value)
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


def _extremes(vals: np.ndarray) -> list[float]:
    """The smallest and largest value of each sign, as Python floats."""
    out = []
    for part in (vals[vals > 0], vals[vals < 0]):
        if part.size:
            out += [float(part.min()), float(part.max())]
    return out


def _summarized(a: np.ndarray) -> np.ndarray:
    """Only the values a summarized print shows (``edgeitems`` at each end of each dim)."""
    e = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        # a[-0:] is the whole array, as in PyTorch; it only matters for edgeitems=0.
        return np.concatenate((a[:e], a[-e:])) if a.shape[0] > 2 * e else a
    if not e:
        return np.empty((0,) * a.ndim, a.dtype)
    rows = list(range(e)) + list(range(len(a) - e, len(a))) if a.shape[0] > 2 * e else range(len(a))
    return np.stack([_summarized(a[i]) for i in rows])


def _vector(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    e = PRINT_OPTS.edgeitems
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / (fmt.width() + 2)))
    if summarize and not e:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * e:
        data = ([fmt.format(v) for v in a[:e].tolist()] + [" ..."]
                + [fmt.format(v) for v in a[-e:].tolist()])
    else:
        data = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    """Brackets within brackets; dimension d is separated by d-1 blank lines, as in PyTorch."""
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector(a, indent, summarize, fmt)
    e = PRINT_OPTS.edgeitems
    if summarize and a.shape[0] > 2 * e:
        slices = ([_nested(a[i], indent + 1, summarize, fmt) for i in range(e)] + ["..."]
                  + [_nested(a[i], indent + 1, summarize, fmt) for i in range(len(a) - e, len(a))])
    else:
        slices = [_nested(a[i], indent + 1, summarize, fmt) for i in range(len(a))]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _values_str(a: np.ndarray, indent: int) -> str:
    summarize = a.size > PRINT_OPTS.threshold
    fmt = _Formatter(_summarized(a) if summarize else a)
    return _nested(a, indent, summarize, fmt)


def _add_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    """Append ``, suffix`` items, moving one to a new line when it would pass ``linewidth``."""
    parts = [text]
    # PyTorch's measure of the last line is one longer than the line; kept so wrapping matches.
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    return "".join(parts) + ")"


def tensor_repr(t) -> str:
    """``repr`` of a graphc Tensor, matching ``repr`` of the equal torch tensor."""
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    device = getattr(t, "_device", None)
    if device is not None and device.type != "cpu":
        suffixes.append(f"device='{device.type}:{device.index or 0}'")
    value = t._value
    dtype = t.dtype
    dtype_suffix = f"dtype=graphc.{dtype.name}"
    default_float = dtypes.get_default_dtype().name
    if value is None:
        # Traced without data: there are no values to show, only the type.
        body = f"<symbolic {t._aval}>"
    elif value.size == 0:
        # NumPy's convention: show the shape unless it is (0,); and with no values to hint
        # at it, every dtype but the default float is named (even int64 and bool).
        if value.ndim != 1:
            suffixes.append(f"size={tuple(value.shape)}")
        if dtype.name != default_float:
            suffixes.append(dtype_suffix)
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(value.shape)}")
        if dtype.name not in (default_float, "int64", "bool"):
            suffixes.append(dtype_suffix)
        body = _values_str(value, indent)
    grad_fn = getattr(t, "grad_fn", None)
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn.name()}>")
    elif getattr(t, "requires_grad", False):
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)
