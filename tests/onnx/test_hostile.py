"""Corrupt or hostile ONNX files fail with clear errors and read nothing outside the model's folder."""
import os

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import graphc.onnx as gonnx  # noqa: E402
from graphc.onnx import OnnxError  # noqa: E402


def _model(nodes, inputs, outputs, inits=(), opset=18):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def _vi(name, shape, t=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, t, shape)


def _relu_model(shape=(2, 3)):
    return _model([helper.make_node("Relu", ["x"], ["y"])], [_vi("x", shape)], [_vi("y", shape)])


def test_truncated_protobuf(tmp_path):
    w = numpy_helper.from_array(np.ones((4, 4), np.float32), "w")
    data = _model([helper.make_node("MatMul", ["x", "w"], ["y"])], [_vi("x", [4, 4])], [_vi("y", [4, 4])],
                  [w]).SerializeToString()
    path = tmp_path / "t.onnx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(OnnxError, match="truncated|not produced|not defined"):
        gonnx.load(path)
    path.write_bytes(b"\xff\xff\xff garbage")
    with pytest.raises(OnnxError, match="not a valid ONNX model"):
        gonnx.load(path)


def test_negative_dimension():
    m = _relu_model()
    m.graph.input[0].type.tensor_type.shape.dim[0].dim_value = -5
    with pytest.raises(OnnxError, match="negative dimension -5"):
        gonnx.load(m)


def test_huge_dimension_is_refused_before_reading():
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2**40, 2**20], raw_data=b"\0" * 16)
    m = _model([helper.make_node("Add", ["x", "w"], ["y"])], [_vi("x", [1])], [_vi("y", [1])], [w])
    with pytest.raises(OnnxError, match="initializer 'w'.*more than graphc accepts"):
        gonnx.load(m)
    m = _relu_model()
    m.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 2**62
    with pytest.raises(OnnxError, match="graph input 'x'.*elements"):
        gonnx.load(m)


def test_initializer_data_shorter_than_its_shape():
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[100], raw_data=b"\0" * 8)
    m = _model([helper.make_node("Add", ["x", "w"], ["y"])], [_vi("x", [100])], [_vi("y", [100])], [w])
    with pytest.raises(OnnxError, match="holds 8 bytes"):
        gonnx.load(m)


def test_node_cycle():
    nodes = [helper.make_node("Relu", ["b"], ["a"], name="first"),
             helper.make_node("Neg", ["a"], ["b"], name="second")]
    m = _model(nodes, [_vi("x", [2])], [_vi("a", [2])])
    with pytest.raises(OnnxError, match="cycle.*'first'.*'second'|cycle.*'second'.*'first'"):
        gonnx.load(m)


def _external(location, tmp_path, secret):
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4])
    w.data_location = TensorProto.EXTERNAL
    w.external_data.add(key="location", value=location)
    m = _model([helper.make_node("Add", ["x", "w"], ["y"])], [_vi("x", [4])], [_vi("y", [4])], [w])
    folder = tmp_path / "model"
    folder.mkdir(exist_ok=True)
    path = folder / "m.onnx"
    path.write_bytes(m.SerializeToString())
    return path


@pytest.mark.parametrize("location", ["/etc/passwd", "../secret.bin", "sub/../../secret.bin", "link.bin"])
def test_external_data_outside_the_folder(tmp_path, location, monkeypatch):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.arange(4, dtype=np.float32).tobytes())
    path = _external(location, tmp_path, secret)
    os.symlink(secret, path.parent / "link.bin")
    opened = []
    real_open = open

    def spy(file, *args, **kwargs):
        opened.append(os.path.realpath(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", spy)
    with pytest.raises(OnnxError, match="outside the model's folder"):
        gonnx.load(path)
    assert all(p.startswith(os.path.realpath(path.parent)) for p in opened), opened


def test_external_data_inside_the_folder_loads(tmp_path):
    path = _external("w.bin", tmp_path, None)
    (path.parent / "w.bin").write_bytes(np.arange(4, dtype=np.float32).tobytes())
    out = gonnx.run_model(path, [np.ones(4, np.float32)])[0]
    np.testing.assert_array_equal(out, np.arange(4, dtype=np.float32) + 1)
    (path.parent / "w.bin").write_bytes(b"\0" * 8)
    with pytest.raises(OnnxError, match="holds 8 bytes"):
        gonnx.load(path)


def test_dynamic_shape_needs_concrete_shapes():
    m = _relu_model(("batch", 3))
    with pytest.raises(OnnxError, match="dynamic shape \\[batch, 3\\].*input_shapes"):
        gonnx.load(m)
    g = gonnx.load(m, input_shapes={"x": (5, 3)})
    assert g.type_of("x").shape == (5, 3)
    out = gonnx.prepare(m).run([np.full((7, 3), -1, np.float32)])[0]  # the backend specializes per shape
    assert out.shape == (7, 3) and not out.any()


def test_unsupported_op_names_the_node():
    m = _model([helper.make_node("Det", ["x"], ["y"], name="det0")], [_vi("x", [3, 3])], [_vi("y", [])])
    with pytest.raises(OnnxError, match=r"node 'det0' \(Det\).*Det"):
        gonnx.load(m)


def test_unsupported_attribute_value_names_the_node():
    n = helper.make_node("Constant", [], ["y"], name="c", value_string="hi")
    m = _model([n], [], [_vi("y", [])])
    with pytest.raises(OnnxError, match=r"node 'c' \(Constant\).*string"):
        gonnx.load(m)


def test_unsupported_dtype_names_the_value():
    m = _model([helper.make_node("Relu", ["x"], ["y"])], [_vi("x", [2], TensorProto.BFLOAT16)],
               [_vi("y", [2], TensorProto.BFLOAT16)])
    with pytest.raises(OnnxError, match="graph input 'x'.*BFLOAT16"):
        gonnx.load(m)


def test_shape_input_must_be_constant():
    n = helper.make_node("Reshape", ["x", "s"], ["y"], name="rs")
    m = _model([n], [_vi("x", [2, 3]), _vi("s", [2], TensorProto.INT64)], [_vi("y", [3, 2])])
    with pytest.raises(OnnxError, match=r"node 'rs' \(Reshape\): input 1 \(shape\) %s must be a constant"):
        gonnx.load(m)
    # the backend specializes on the value instead
    out = gonnx.run_model(m, [np.arange(6, dtype=np.float32).reshape(2, 3), np.array([3, 2])])[0]
    assert out.shape == (3, 2)


def test_old_opset_with_changed_op_is_refused():
    m = _model([helper.make_node("Relu", ["x"], ["y"])], [_vi("x", [2])], [_vi("y", [2])], opset=5)
    with pytest.raises(OnnxError, match="opset 5 defines Relu version"):
        gonnx.load(m)
