"""Run one tutorial program text twice, on PyTorch and on graphc (``import graphc as torch``), and
compare what each printed, returned and raised, the way the acceptance suite does."""
from __future__ import annotations

import contextlib
import io
import re
import sys
import textwrap
import types

import numpy as np
import pytest

_TO_GRAPHC = [(r"^(\s*)import torch$", r"\1import graphc as torch"),
              (r"^(\s*)import torch\.(\w+(?:\.\w+)*) as (\w+)$", r"\1import graphc.\2 as \3"),
              (r"^(\s*)from torch import ", r"\1from graphc import "),
              (r"^(\s*)from torch\.", r"\1from graphc.")]

_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
_NUMBER = re.compile(r"-?\d+\.\d*(?:e[+-]?\d+)?|-?\d+e[+-]?\d+")
_PADDED_NUMBER = re.compile(r"[ \t]*(?:-?\d+\.\d*(?:e[+-]?\d+)?|-?\d+e[+-]?\d+)")


def to_graphc(src: str) -> str:
    for pattern, repl in _TO_GRAPHC:
        src = re.sub(pattern, repl, src, flags=re.M)
    return src


def run_program(src: str, lib: str, tmp_path=None) -> tuple[str, dict, BaseException | None]:
    """Exec `src` with `torch` = real PyTorch (lib="torch") or graphc; return stdout, globals, error."""
    src = textwrap.dedent(src)
    if lib == "graphc":
        src = to_graphc(src)
    else:
        pytest.importorskip("torch")
    mod = types.ModuleType(f"tutorial_{lib}")
    mod.__dict__["TMP"] = str(tmp_path) if tmp_path is not None else "."
    sys.modules[mod.__name__] = mod  # so that torch.save(model) can pickle the program's classes
    out = io.StringIO()
    err = None
    with contextlib.redirect_stdout(out):
        try:
            exec(compile(src, f"<tutorial:{lib}>", "exec"), mod.__dict__)
        except Exception as e:  # compared across libraries below
            err = e
        finally:
            del sys.modules[mod.__name__]
            lib_module = sys.modules["torch" if lib == "torch" else "graphc"]
            lib_module.set_default_device(None)  # a program's default device must not leak out
    return out.getvalue(), mod.__dict__, err


def normalise(text: str, mask_numbers: bool = False) -> str:
    text = _ADDRESS.sub("0x?", text).replace("graphc", "torch")
    if mask_numbers:
        text = re.sub(r"[ \t]+", " ", _PADDED_NUMBER.sub("#", text))
    return text


def assert_same_output(g_out: str, t_out: str, mask_numbers: bool, rtol: float, atol: float):
    """Equal text; where only printed numbers differ, equal text around them and close numbers."""
    g, t = normalise(g_out), normalise(t_out)
    if g == t:
        return
    assert normalise(g, True) == normalise(t, True), f"graphc printed:\n{g}\nPyTorch printed:\n{t}"
    if not mask_numbers:
        gn = [float(v) for v in _NUMBER.findall(g)]
        tn = [float(v) for v in _NUMBER.findall(t)]
        np.testing.assert_allclose(gn, tn, rtol=rtol, atol=atol,
                                   err_msg=f"graphc printed:\n{g}\nPyTorch printed:\n{t}")


def as_array(value):
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        return value.detach().numpy()
    return np.asarray(value)


def compare(src: str, tmp_path=None, values=(), mask_numbers=False, rtol=1e-5, atol=1e-6,
            same_output=True):
    """Run `src` on both libraries; assert equal normalised stdout, equal exception types and
    close values for the global names in `values`. Returns (torch globals, graphc globals)."""
    if tmp_path:
        for lib in ("torch", "graphc"):
            (tmp_path / lib).mkdir(exist_ok=True)
    t_out, t_ns, t_err = run_program(src, "torch", tmp_path / "torch" if tmp_path else None)
    g_out, g_ns, g_err = run_program(src, "graphc", tmp_path / "graphc" if tmp_path else None)
    if t_err is not None and g_err is None:
        raise AssertionError(f"PyTorch raised {t_err!r}, graphc did not")
    if g_err is not None and t_err is None:
        raise g_err
    if t_err is not None:
        assert type(g_err).__name__ == type(t_err).__name__ or isinstance(g_err, type(t_err)), (
            f"PyTorch raised {t_err!r}, graphc raised {g_err!r}")
    if same_output:
        assert_same_output(g_out, t_out, mask_numbers, rtol, atol)
    for name in values:
        a, b = as_array(g_ns[name]), as_array(t_ns[name])
        assert a.shape == b.shape, name
        assert a.dtype == b.dtype, (name, a.dtype, b.dtype)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=name)
    return t_ns, g_ns
