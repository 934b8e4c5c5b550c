"""ONNX's own backend node cases through graphc.onnx: no case in the expected list may regress."""
import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("onnx")

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = Path(__file__).with_name("conformance_expected.txt")


def _tool():
    spec = importlib.util.spec_from_file_location("onnx_conformance", ROOT / "tools" / "onnx_conformance.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def test_no_conformance_regressions():
    tool = _tool()
    results = tool.run_all()
    lost = tool.regressions(results, tool.read_expected(EXPECTED))
    assert not lost, "cases that passed before now fail:\n" + "\n".join(
        r if isinstance(r, str) else f"{r.case}: {r.reason}" for r in lost)


def test_expected_list_is_not_empty():
    assert len(_tool().read_expected(EXPECTED)) > 500
