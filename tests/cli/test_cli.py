"""End-to-end runs of the `graphc` command on small model files, as a subprocess."""
from __future__ import annotations

import json
import os
import shutil
import xml.etree.ElementTree as ET

import pytest

from . import models
from .models import cli, write

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` is not installed")
SVG = "{http://www.w3.org/2000/svg}"


def svg_texts(path) -> list[str]:
    root = ET.parse(path).getroot()
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def svg_clusters(path) -> list[str]:
    root = ET.parse(path).getroot()
    return [g.find(f"{SVG}title").text for g in root.iter(f"{SVG}g") if g.get("class") == "cluster"]


@pytest.fixture
def mlp(tmp_path):
    return write(tmp_path, "mlp.py", models.MLP)


@needs_dot
def test_viz_forward_svg_shows_ops_inputs_and_parameters(tmp_path, mlp):
    r = cli("viz", mlp, "-o", "fwd.svg", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    texts = svg_texts(tmp_path / "fwd.svg")
    assert {"Gemm", "Relu", "x", "fc1.weight", "fc2.bias", "output 0"} <= set(texts)
    assert "f32[5,16]" in texts  # edges carry shape and dtype


@needs_dot
def test_viz_default_output_name(tmp_path, mlp):
    r = cli("viz", mlp, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "mlp.svg").exists() and "wrote mlp.svg" in r.stdout


@needs_dot
def test_viz_fused_training_step_has_clusters(tmp_path, mlp):
    r = cli("viz", mlp, "--train-step", "--after", "fuse", "-o", "step.svg", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    clusters = svg_clusters(tmp_path / "step.svg")
    assert clusters and all(c.startswith("cluster_") for c in clusters)
    texts = svg_texts(tmp_path / "step.svg")
    assert any("graphc.Fused" in t for t in texts)
    assert "loss" in texts and any(t.startswith("new model.fc1.weight") for t in texts)
    assert "MatMul" in texts  # the backward pass is in the step


@needs_dot
def test_viz_unfused_graph_has_no_clusters(tmp_path, mlp):
    r = cli("viz", mlp, "--train-step", "-o", "step.svg", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert svg_clusters(tmp_path / "step.svg") == []


@needs_dot
def test_viz_grad_fn_chain(tmp_path, mlp):
    r = cli("viz", mlp, "--grad-fn", "-o", "grad.svg", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    texts = svg_texts(tmp_path / "grad.svg")
    assert texts.count("AccumulateGrad") == 4
    assert {"fc1.weight", "fc2.bias", "AddmmBackward0", "NllLossBackward0", "output"} <= set(texts)
    assert "512 B" in texts  # fc1.weight (16x8 f32) is saved for the backward pass


@needs_dot
def test_viz_plan_annotations(tmp_path, mlp):
    r = cli("viz", mlp, "--train-step", "--after", "fuse", "--plan", "-o", "plan.svg", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    texts = svg_texts(tmp_path / "plan.svg")
    assert any(t.startswith("@") and "B" in t for t in texts)
    assert any("arena" in t for t in texts)


def test_viz_memory_svg(tmp_path, mlp):
    r = cli("viz", mlp, "--train-step", "--memory", "-o", "mem.svg", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    root = ET.parse(tmp_path / "mem.svg").getroot()
    rects = [e for e in root.iter(f"{SVG}rect") if e.get("class") == "buffer"]
    report = json.loads(cli("compile", mlp, "--report", "--json", cwd=tmp_path).stdout)
    assert rects and report["arena_bytes"] > 0
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "execution step" in texts and "arena offset (bytes)" in texts
    assert any(f"arena {report['arena_bytes'] / 1024:.1f} KiB" in (t or "") for t in texts)


def test_viz_memory_refuses_other_formats(tmp_path, mlp):
    r = cli("viz", mlp, "--memory", "-o", "mem.png", cwd=tmp_path)
    assert r.returncode == 2 and "SVG only" in r.stderr


def test_dot_output_needs_no_dot_binary(tmp_path, mlp):
    empty = tmp_path / "bin"
    empty.mkdir()
    r = cli("viz", mlp, "-o", "g.dot", cwd=tmp_path, env={"PATH": str(empty)})
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    r = cli("viz", mlp, "--grad-fn", "-o", "grad.gv", cwd=tmp_path, env={"PATH": str(empty)})
    assert r.returncode == 0, r.stderr
    assert "AccumulateGrad" in (tmp_path / "grad.gv").read_text()


def test_svg_without_dot_says_how_to_install_and_keeps_old_file(tmp_path, mlp):
    empty = tmp_path / "bin"
    empty.mkdir()
    out = tmp_path / "g.svg"
    out.write_text("earlier drawing")
    r = cli("viz", mlp, "-o", "g.svg", cwd=tmp_path, env={"PATH": str(empty)})
    assert r.returncode == 2
    assert "apt-get install graphviz" in r.stderr and r.stderr.count("\n") == 1
    assert out.read_text() == "earlier drawing"
    assert sorted(os.listdir(tmp_path)) == ["bin", "g.svg", "mlp.py"]  # no temporary file left


def test_failed_trace_leaves_earlier_file_intact(tmp_path):
    path = write(tmp_path, "bad.py", models.SHAPE_ERROR)
    out = tmp_path / "g.dot"
    out.write_text("earlier drawing")
    r = cli("viz", path, "-o", "g.dot", cwd=tmp_path)
    assert r.returncode == 2 and out.read_text() == "earlier drawing"


@pytest.mark.parametrize("source, where, words", [
    (models.SYNTAX_ERROR, "bad.py:2", "SyntaxError"),
    (models.SHAPE_ERROR, f"bad.py:{models.SHAPE_ERROR_LINE}", "ShapeError: Gemm"),
    (models.MISSING_MODEL, "bad.py:4", "no `model` defined (did you mean `modle`"),
    (models.MISSING_INPUTS, "bad.py:1", "no `example_inputs` defined"),
], ids=["syntax", "shape", "missing-model", "missing-inputs"])
@pytest.mark.parametrize("command", [["viz", "-o", "x.dot"], ["run"], ["compile", "--report"]])
def test_model_file_errors_are_one_line_with_file_and_line(tmp_path, source, where, words, command):
    path = write(tmp_path, "bad.py", source)
    r = cli(command[0], path, *command[1:], cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.startswith(f"graphc: error: {where}: ") and words in r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_debug_shows_the_traceback(tmp_path):
    path = write(tmp_path, "bad.py", models.SHAPE_ERROR)
    r = cli("viz", path, "-o", "x.dot", "--debug", cwd=tmp_path)
    assert r.returncode == 2
    assert "Traceback" in r.stderr and f"bad.py:{models.SHAPE_ERROR_LINE}: ShapeError" in r.stderr


def test_missing_file(tmp_path):
    r = cli("run", tmp_path / "nope.py", cwd=tmp_path)
    assert r.returncode == 2 and "nope.py: cannot read the model file" in r.stderr


def test_run_trains_with_progress_and_check(tmp_path, mlp):
    r = cli("run", mlp, "--steps", "4", "--check", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "after 4 training steps on numpy" in r.stdout and "check OK" in r.stdout
    assert "train: [" in r.stderr and "loss=" in r.stderr
    first, last = r.stdout.split("loss ")[1].split(" after")[0].split(" -> ")
    assert float(last) < float(first)


def test_run_forward_only_model_with_bench(tmp_path):
    path = write(tmp_path, "fwd.py", models.FORWARD_ONLY)
    r = cli("run", path, "--steps", "3", "--check", "--bench", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "forward on numpy: output float32[4]" in r.stdout and "check OK" in r.stdout
    lines = r.stdout.splitlines()
    assert any(l.startswith("eager") and l.endswith("ms") for l in lines)
    assert any(l.startswith("compiled") and l.endswith("ms") for l in lines)


@pytest.mark.cuda
def test_run_cifar_net_on_the_emulated_cuda_device_matches_numpy(tmp_path):
    example = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "cifar_net.py")
    emulate = os.environ.get("GRAPHC_CUDA_EMULATE") or "1"
    r = cli("run", example, "--device", "cuda", "--steps", "3", "--check", cwd=tmp_path,
            env={"GRAPHC_CUDA_EMULATE": emulate})
    assert r.returncode == 0, r.stderr
    assert "after 3 training steps on cuda" in r.stdout and "check OK" in r.stdout


def test_run_cuda_without_gpu_says_why(tmp_path, mlp):
    import graphc

    if graphc.cuda.is_available():
        pytest.skip("a GPU is available here")
    r = cli("run", mlp, "--device", "cuda", cwd=tmp_path)
    assert r.returncode == 2
    assert "CUDA is not available" in r.stderr and graphc.cuda.why_unavailable() in r.stderr


def test_compile_report_json_figures(tmp_path, mlp):
    r = cli("compile", mlp, "--report", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    figures = json.loads(r.stdout)
    assert set(figures) == {"nodes", "fused_kernels", "arena_bytes", "lower_bound_bytes", "no_reuse_bytes"}
    assert figures["fused_kernels"] >= 1
    assert 0 < figures["lower_bound_bytes"] <= figures["arena_bytes"] <= figures["no_reuse_bytes"]


def test_compile_report_text_lists_every_pass(tmp_path, mlp):
    from graphc.passes import DEFAULT_PIPELINE

    r = cli("compile", mlp, "--report", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for name in ["traced"] + [p.name for p in DEFAULT_PIPELINE.passes]:
        assert any(line.split()[:1] == [name] and "nodes" in line for line in r.stdout.splitlines())
    assert "arena_bytes" in r.stdout and "training step" in r.stdout


def test_compile_saves_a_graph_file(tmp_path, mlp):
    import graphc.ir

    r = cli("compile", mlp, "-o", "mlp.graphc", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    graph = graphc.ir.load(tmp_path / "mlp.graphc")
    assert [graph.type_of(v).shape for v in graph.outputs] == [(5, 4)]


def test_compile_onnx(tmp_path, mlp):
    onnx = pytest.importorskip("onnx")
    r = cli("compile", mlp, "-o", "mlp.onnx", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    model = onnx.load(str(tmp_path / "mlp.onnx"))
    assert "Gemm" in {n.op_type for n in model.graph.node}


def test_compile_needs_something_to_do(tmp_path, mlp):
    r = cli("compile", mlp, cwd=tmp_path)
    assert r.returncode == 2 and "-o OUT" in r.stderr


def test_unknown_pass_is_a_usage_error(tmp_path, mlp):
    r = cli("viz", mlp, "--after", "nosuchpass", "-o", "x.dot", cwd=tmp_path)
    assert r.returncode == 2 and "no such pass" in r.stderr


def test_help_lists_the_commands(tmp_path):
    r = cli("--help", cwd=tmp_path)
    assert r.returncode == 0 and all(c in r.stdout for c in ("viz", "run", "compile"))


EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")


@needs_dot
@pytest.mark.parametrize("name", ["lenet.py", "two_layer_net.py", "cifar_net.py"])
def test_examples(tmp_path, name):
    path = os.path.abspath(os.path.join(EXAMPLES, name))
    if not os.path.exists(path):
        pytest.skip(f"examples/{name} does not exist yet")
    r = cli("viz", path, "--grad-fn", "-o", "grad.svg", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "AccumulateGrad" in svg_texts(tmp_path / "grad.svg")
    r = cli("viz", path, "-o", "fwd.svg", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    if "def loss" in open(path, encoding="utf-8").read():
        r = cli("viz", path, "--train-step", "--after", "fuse", "-o", "step.svg", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert svg_clusters(tmp_path / "step.svg")
        r = cli("viz", path, "--train-step", "--memory", "-o", "mem.svg", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert any(e.get("class") == "buffer" for e in ET.parse(tmp_path / "mem.svg").getroot().iter(f"{SVG}rect"))


def test_batch_option_resizes_the_examples(tmp_path, mlp):
    small = json.loads(cli("compile", mlp, "--report", "--json", cwd=tmp_path).stdout)
    big = json.loads(cli("compile", mlp, "--report", "--json", "--batch", "64", cwd=tmp_path).stdout)
    assert big["nodes"] == small["nodes"]
    assert big["no_reuse_bytes"] > small["no_reuse_bytes"]


@pytest.mark.parametrize("argv, message", [
    (["run", "{mlp}", "--device", "tpu"], "--device tpu: no such device or runtime; available: "),
    (["viz", "{mlp}", "-o", "/nonexistent_dir/x.svg"], "-o /nonexistent_dir/x.svg: the folder /nonexistent_dir does not exist"),
    (["compile", "{mlp}", "-o", "/nonexistent_dir/x.onnx"], "the folder /nonexistent_dir does not exist"),
    (["run", "{mlp}", "--batch", "0"], "--batch must be at least 1, got 0"),
    (["compile", "{mlp}", "--report", "--batch", "-3"], "--batch must be at least 1, got -3"),
    (["run", "{mlp}", "--steps", "0"], "--steps must be at least 1"),
    (["run", "{mlp}", "--device", "cuda", "--runtime", "c"], "--runtime c: runtime 'c' runs on the cpu device, not on 'cuda'"),
    (["compile", "{mlp}", "--report", "--runtime", "fast"], "--runtime fast: unknown runtime 'fast'; available: "),
])
def test_every_usage_error_is_one_line_with_exit_2(tmp_path, mlp, argv, message):
    r = cli(*[a.format(mlp=mlp) for a in argv], cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("graphc: error: ") and message in lines[0], r.stderr
    assert ".tmp" not in r.stderr and not os.path.exists("/nonexistent_dir")


def test_a_file_that_cannot_be_written_is_named_not_its_temporary(tmp_path):
    from graphc.atomic import write_atomic

    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(NotADirectoryError, match=f"cannot write {blocker}/x.svg") as info:
        write_atomic(blocker / "x.svg", b"data")
    assert ".tmp" not in str(info.value)
