"""Export: valid ONNX that ONNX Runtime runs to graphc's results; import gives the same graph back."""
import subprocess
import sys

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")

import graphc  # noqa: E402
import graphc.onnx as gonnx  # noqa: E402
from graphc import nn  # noqa: E402
from graphc.ir import Graph, TensorType  # noqa: E402
from graphc import dtypes  # noqa: E402


def _mlp(x, w1, w2):
    h = graphc.relu(graphc.matmul(x, w1))
    return graphc.softmax(graphc.matmul(h, w2), -1) if hasattr(graphc, "softmax") else graphc.tanh(h @ w2)


def _ops_mix(x):
    y = x.reshape(4, 6).transpose(0, 1)
    z = graphc.clamp(y, -0.5, 0.5) + y.sum(1, keepdim=True) * y.mean()
    return graphc.cat([z, z.max(0, keepdim=True).values], 0).exp(), x.argmax()


def _ort(model, arrays):
    ort = pytest.importorskip("onnxruntime")
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    return sess.run(None, dict(zip(names, arrays)))


def _check_round_trip(fn, *arrays, tmp_path):
    tensors = [graphc.tensor(a) for a in arrays]
    graph = graphc.trace(fn, *tensors)
    path = tmp_path / "m.onnx"
    model = gonnx.export(fn, path, *tensors)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    expected = graphc.runtimes.get("numpy").prepare(graph)(*arrays)
    for got, want in zip(_ort(model, arrays), expected):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    back = gonnx.load(path)
    for got, want in zip(graphc.runtimes.get("numpy").prepare(back)(*arrays), expected):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    for got, want in zip(gonnx.run_model(str(path), list(arrays)), expected):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_mlp_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    _check_round_trip(_mlp, rng.standard_normal((8, 5), np.float32), rng.standard_normal((5, 7), np.float32),
                      rng.standard_normal((7, 3), np.float32), tmp_path=tmp_path)


def test_shape_and_reduce_ops_round_trip(tmp_path):
    _check_round_trip(_ops_mix, np.random.default_rng(1).standard_normal((2, 3, 4)).astype(np.float32),
                      tmp_path=tmp_path)


def test_module_parameters_become_initializers(tmp_path):
    model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))
    x = graphc.randn(3, 4)
    proto = gonnx.export(model, tmp_path / "lin.onnx", x)
    assert {"0.weight", "0.bias", "1.weight", "1.bias"} <= {t.name for t in proto.graph.initializer}
    np.testing.assert_allclose(_ort(proto, [x.numpy()])[0], model(x).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_integer_sum_keeps_graphc_dtype(tmp_path):
    _check_round_trip(lambda x: x.sum(0), np.arange(12, dtype=np.int32).reshape(3, 4), tmp_path=tmp_path)


def test_compiled_function_exports_its_graph(tmp_path):
    f = graphc.compile(lambda x: graphc.sigmoid(x) * 2)
    x = graphc.randn(5)
    proto = gonnx.export(f, tmp_path / "c.onnx", x)
    np.testing.assert_allclose(_ort(proto, [x.numpy()])[0], f(x).numpy(), rtol=1e-6)


def test_graphc_only_op_is_refused_with_its_name():
    g = Graph("g")
    g.add_input("x", TensorType((3,), dtypes.int64))
    g.add_node("graphc.OneHot", ["x"], [TensorType((3, 4), dtypes.int64)], {"num_classes": 4}, name="y")
    g.set_outputs(["y"])
    with pytest.raises(gonnx.OnnxError, match=r"graphc\.OneHot"):
        gonnx.export(g)


def test_flip_and_trunc_decompose(tmp_path):
    _check_round_trip(lambda x: graphc.trunc(graphc.flip(x, [0])), np.linspace(-3, 3, 10, dtype=np.float32).reshape(5, 2),
                      tmp_path=tmp_path)


def test_import_graphc_does_not_import_onnx():
    code = "import sys, graphc, graphc.onnx; assert 'onnx' not in sys.modules, 'onnx imported eagerly'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_backend_api_shape():
    assert gonnx.supports_device("CPU") and not gonnx.supports_device("FPGA")
    x = np.ones((2, 3), np.float32)
    node = onnx.helper.make_node("Relu", ["x"], ["y"])
    np.testing.assert_array_equal(gonnx.run_node(node, [x - 2])[0], np.zeros((2, 3), np.float32))
