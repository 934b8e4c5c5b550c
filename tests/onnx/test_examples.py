"""Every example's forward graph exports to ONNX that ONNX Runtime runs to graphc's NumPy
runtime's results, and the exported file imports back to a graph that runs to the same."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import graphc  # noqa: E402
import graphc.onnx as gonnx  # noqa: E402
from tests.golden.procedure import load_example  # noqa: E402

EXAMPLES = ["two_layer_net", "lenet", "cifar_net", "custom_relu", "transfer", "data_parallel"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_forward_round_trip(name, tmp_path):
    mod = load_example(name, "graphc")
    model = mod.model.eval()  # training-mode BatchNorm/Dropout are not inference graphs
    inputs = list(mod.example_inputs)
    arrays = [t.numpy() for t in inputs]
    graph = graphc.trace(model, *inputs)
    expected = graphc.runtimes.get("numpy").prepare(graph)(*arrays)
    path = tmp_path / f"{name}.onnx"
    proto = gonnx.export(model, path, *inputs)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    got = sess.run(None, {i.name: a for i, a in zip(sess.get_inputs(), arrays)})
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)
    back = gonnx.load(path)
    for g, e in zip(graphc.runtimes.get("numpy").prepare(back)(*arrays), expected):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)
