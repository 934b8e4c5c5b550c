"""Every example against golden outputs computed by PyTorch (tools/make_golden.py), eager and
compiled on every available runtime; PyTorch is not needed here."""
import os

import numpy as np
import pytest

import graphc
from graphc import runtimes

from .golden.procedure import EXAMPLES, load_example, run

GOLDEN = os.path.join(os.path.dirname(__file__), "golden")


def _golden(name):
    with np.load(os.path.join(GOLDEN, f"{name}.npz"), allow_pickle=False) as f:
        data = dict(f)
    inputs = {k: v for k, v in data.items() if not k.startswith("expect.")}
    expect = {k[7:]: v for k, v in data.items() if k.startswith("expect.")}
    return inputs, expect


def _check(result, expect):
    assert sorted(result) == sorted(expect)
    for key, want in expect.items():
        np.testing.assert_allclose(result[key], want, rtol=2e-4, atol=2e-5, err_msg=key)


@pytest.mark.parametrize("name", EXAMPLES)
def test_eager_matches_pytorch_golden(name, capsys):
    data, expect = _golden(name)
    _check(run(graphc, load_example(name, "graphc"), data), expect)


@pytest.mark.parametrize("device", ["numpy", "c", pytest.param("cuda", marks=[
    pytest.mark.cuda, pytest.mark.skipif(not graphc.cuda.is_available(), reason="no CUDA GPU / emulator here")])])
@pytest.mark.parametrize("name", EXAMPLES)
def test_compiled_matches_pytorch_golden(name, device, capsys, monkeypatch):
    data, expect = _golden(name)
    monkeypatch.setattr(graphc, "compile", lambda fn, _c=graphc.compile: _c(fn, device=device))
    _check(run(graphc, load_example(name, "graphc"), data, compiled=True), expect)
