"""`graphc compile MODEL --emit-c DIR`: the standalone program builds with the one-line command
it writes, runs with no Python, and gives the NumPy runtime's outputs."""
from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest

import graphc
from graphc import cli as graphc_cli, modelfile, runtimes
from graphc.runtimes.c.emit import emit_c

from ..cli.models import cli

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")


@pytest.mark.parametrize("example", ["cifar_net", "two_layer_net", "transfer"])
def test_emitted_program_builds_runs_without_python_and_matches_numpy(tmp_path, example):
    path = os.path.join(EXAMPLES, f"{example}.py")
    r = cli("compile", path, "--emit-c", "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out"
    command = (out / "BUILD").read_text().strip()
    assert command in r.stdout
    done = subprocess.run(command, shell=True, cwd=out, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]

    mf = modelfile.load(path)
    graph = graphc_cli._run_pipeline(graphc_cli._traced(mf, False)[0])[-1][1]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(graph.type_of(v).shape).astype(graph.type_of(v).dtype.np) for v in graph.inputs]
    argv = [str(out / "model"), "weights.bin"]
    for i, a in enumerate(arrays):
        a.tofile(out / f"in{i}.bin")
        argv.append(f"in{i}.bin")
    argv += [f"out{i}.bin" for i in range(len(graph.outputs))]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    ran = subprocess.run(argv, cwd=out, capture_output=True, text=True, env=env)
    assert ran.returncode == 0, ran.stderr
    ref = runtimes.get("numpy").prepare(graph)(*arrays)
    for i, (v, want) in enumerate(zip(graph.outputs, ref)):
        t = graph.type_of(v)
        got = np.fromfile(out / f"out{i}.bin", t.dtype.np).reshape(t.shape)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_the_program_refuses_wrong_sized_input_files(tmp_path):
    graph = graphc.trace(lambda x: (x * 2).relu(), graphc.randn(3, 4))
    _, command = emit_c(graph, tmp_path)
    assert subprocess.run(command, shell=True, cwd=tmp_path).returncode == 0
    np.zeros(5, np.float32).tofile(tmp_path / "x.bin")
    ran = subprocess.run(["./model", "weights.bin", "x.bin", "y.bin"], cwd=tmp_path, capture_output=True, text=True)
    assert ran.returncode == 1 and "x.bin: expected exactly 48 bytes" in ran.stderr
    assert not (tmp_path / "y.bin").exists()


def test_a_graph_with_numpy_only_nodes_is_refused_and_nothing_is_written(tmp_path):
    graph = graphc.trace(lambda x: graphc.cumsum(x, 0).exp(), graphc.randn(4, 3))
    with pytest.raises(ValueError, match=r"nodes without C code, which need Python: .*CumSum"):
        emit_c(graph, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    model = tmp_path / "cum.py"
    model.write_text("import graphc\nmodel = lambda x: graphc.cumsum(x, 0)\nexample_inputs = (graphc.randn(4, 3),)\n")
    r = cli("compile", model, "--emit-c", "out", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("graphc: error: --emit-c: ")


def test_a_graph_drawing_random_numbers_is_refused_and_nothing_is_written(tmp_path):
    graph = graphc.trace(lambda x: graphc.nn.functional.dropout(x, 0.5, training=True), graphc.randn(4, 3))
    with pytest.raises(ValueError, match=r"draws random numbers on every run"):
        emit_c(graph, tmp_path / "out")
    assert not (tmp_path / "out").exists()
