"""graphc.onnx.export in PyTorch's convention: export(model, args, f, input_names=,
output_names=, dynamic_axes=), with symbolic batch dimensions checked in ONNX Runtime."""
import warnings

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import graphc  # noqa: E402
import graphc.onnx as gonnx  # noqa: E402
from tests.golden.procedure import load_example  # noqa: E402

from .test_examples import EXAMPLES  # noqa: E402

DYNAMIC = {"x": {0: "batch"}, "y": {0: "batch"}}


def _rows(a, n):
    return np.take(a, np.arange(n) % a.shape[0], axis=0)


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_exports_with_a_dynamic_batch_that_onnxruntime_runs(name, tmp_path):
    mod = load_example(name, "graphc")
    model = mod.model.eval()
    x = mod.example_inputs[0]
    path = tmp_path / "m.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gonnx.export(model, (x,), str(path), input_names=["x"], output_names=["y"], dynamic_axes=DYNAMIC)
    proto = onnx.load(str(path))
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert [o.name for o in proto.graph.output] == ["y"]
    assert not [t.name for t in proto.graph.initializer if "num_batches_tracked" in t.name]
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    for batch in (1, 2, 7):
        a = _rows(x.numpy(), batch)
        with graphc.no_grad():
            want = model(graphc.from_numpy(a)).numpy()
        (got,) = sess.run(None, {"x": a})
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_the_pytorch_form_with_a_single_tensor_and_default_names(tmp_path):
    lin = graphc.nn.Linear(3, 2)
    proto = gonnx.export(lin, graphc.randn(4, 3), tmp_path / "lin.onnx")
    assert [o.name for o in proto.graph.output] == ["output"]
    assert (tmp_path / "lin.onnx").exists()


def test_a_node_that_pins_the_batch_is_named(tmp_path):
    class Pinned(graphc.nn.Module):
        def forward(self, x):
            return x + graphc.ones(x.shape[0], 3)  # a constant of the traced batch size

    with pytest.raises(gonnx.OnnxError, match=r"node '.*' \(Add\) pins 'batch'"):
        gonnx.export(Pinned(), (graphc.randn(2, 3),), tmp_path / "p.onnx", input_names=["x"],
                     dynamic_axes={"x": {0: "batch"}})
    assert not (tmp_path / "p.onnx").exists()


def test_dynamic_axes_must_name_inputs_or_outputs():
    with pytest.raises(ValueError, match="not inputs or outputs"):
        gonnx.export(graphc.nn.Linear(3, 2), (graphc.randn(2, 3),), None, input_names=["x"],
                     dynamic_axes={"z": [0]})
