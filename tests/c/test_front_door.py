"""Where the C runtime is chosen: graphc.compile(runtime=), the CLI's --runtime and its
--report, and graphc.onnx.prepare(runtime=)."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

import graphc
from graphc import runtimes

from ..cli.models import cli

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")


@pytest.mark.parametrize("device, runtime, name", [
    (None, None, "numpy"), ("cpu", None, "numpy"), ("cpu", "c", "c"), (None, "c", "c"), ("c", None, "c"),
    ("cuda", None, "cuda"), ("cuda:0", "cuda", "cuda"), ("numpy", "c", "c")])
def test_device_and_runtime_pick_the_executor(device, runtime, name):
    assert runtimes.resolve(device, runtime) == name


@pytest.mark.parametrize("device, runtime, message", [
    ("cuda", "c", "runtime 'c' runs on the cpu device, not on 'cuda'"),
    ("cpu", "cuda", "runtime 'cuda' runs on the cuda device, not on 'cpu'"),
    ("cpu", "tpu", "unknown runtime 'tpu'")])
def test_a_runtime_that_does_not_run_on_the_device_is_refused(device, runtime, message):
    with pytest.raises(ValueError, match=message):
        graphc.compile(lambda x: x + 1, device=device, runtime=runtime)


def test_compile_with_runtime_c_runs_natively_and_matches_numpy():
    model = graphc.nn.Sequential(graphc.nn.Linear(6, 5), graphc.nn.ReLU(), graphc.nn.Linear(5, 2))
    x = graphc.randn(3, 6)
    fast, ref = graphc.compile(model, runtime="c"), graphc.compile(model)
    np.testing.assert_allclose(fast(x).numpy(), ref(x).numpy(), rtol=1e-6, atol=1e-6)
    assert fast.runtime.name == "c" and type(fast.runtime).__name__ == "CRuntime"


def test_cli_runs_and_reports_on_the_c_runtime(tmp_path):
    path = os.path.join(EXAMPLES, "cifar_net.py")
    r = cli("run", path, "--runtime", "c", "--steps", "2", "--check", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "on c" in r.stdout and "check OK" in r.stdout
    r = cli("compile", path, "--runtime", "c", "--report", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    native = json.loads(r.stdout)["runtime"]
    assert native["name"] == "c" and native["numpy_nodes"] == 0 and native["native_calls"] == 1
    assert native["native_nodes"] > 10 and native["build_seconds"] >= 0


def test_report_lists_the_nodes_that_run_on_numpy(tmp_path):
    model = tmp_path / "cum.py"
    model.write_text("import graphc\nmodel = lambda x: graphc.cumsum(x, 0).exp()\n"
                     "example_inputs = (graphc.randn(4, 3),)\n")
    r = cli("compile", model, "--runtime", "c", "--report", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "1 on NumPy" in r.stdout and "(CumSum) runs on NumPy: no C code for this op yet" in r.stdout
    assert "built in" in r.stdout


def test_onnx_prepare_runs_on_the_c_runtime(tmp_path):
    onnx = pytest.importorskip("onnx")
    import graphc.onnx
    model = graphc.nn.Sequential(graphc.nn.Conv2d(3, 4, 3), graphc.nn.ReLU(), graphc.nn.Flatten(),
                                 graphc.nn.Linear(4 * 6 * 6, 5)).eval()
    x = graphc.randn(2, 3, 8, 8)
    graphc.onnx.export(model, (x,), str(tmp_path / "m.onnx"))
    ref = graphc.onnx.prepare(str(tmp_path / "m.onnx")).run([x.numpy()])[0]
    rep = graphc.onnx.prepare(onnx.load(str(tmp_path / "m.onnx")), runtime="c")
    assert rep.runtime.name == "c"
    np.testing.assert_allclose(rep.run([x.numpy()])[0], ref, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="runtime 'cuda' runs on the cuda device"):
        graphc.onnx.prepare(str(tmp_path / "m.onnx"), runtime="cuda")
