"""x[idx] and x[idx] = v export as Slice/Reshape/Gather/GatherND and ScatterND: ONNX Runtime
gives exactly graphc's results for every kind of index entry."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import graphc  # noqa: E402
import graphc.onnx as gonnx  # noqa: E402

X = np.arange(120, dtype=np.float32).reshape(4, 5, 6)
I = np.array([[0, 2], [3, -1]], np.int64)
J = np.array([1, 4], np.int64)


def _put(index, value):
    def fn(x, i, j):
        y = x.clone()
        y[index(i, j)] = value() if callable(value) else value
        return y
    return fn


CASES = {
    "int": lambda x, i, j: x[1],
    "negative int and step": lambda x, i, j: x[-1, 2:5:2],
    "slices and None": lambda x, i, j: x[1:3, ::2, None, 4],
    "ellipsis": lambda x, i, j: x[..., 1],
    "all ints": lambda x, i, j: x[1, 2, 3],
    "True": lambda x, i, j: x[True, 1],
    "False": lambda x, i, j: x[False],
    "one tensor": lambda x, i, j: x[:, i],
    "slice then tensor": lambda x, i, j: x[1:, :, j],
    "adjacent tensors": lambda x, i, j: x[:, i, j],
    "leading tensors": lambda x, i, j: x[i, j],
    "separated tensors": lambda x, i, j: x[i, :, j],
    "separated by None": lambda x, i, j: x[i[0], None, 1:3, j],
    "int then tensor": lambda x, i, j: x[2, i, :3],
    "list index": lambda x, i, j: x[[0, 3], 1],
    "put slice": _put(lambda i, j: (1, slice(0, 3)), 7.0),
    "put tensor": _put(lambda i, j: (slice(None), j), lambda: graphc.ones(4, 2, 6)),
    "put adjacent tensors": _put(lambda i, j: (0, i, j), lambda: graphc.arange(2.0)),
    "put broadcast": _put(lambda i, j: (Ellipsis, 2), lambda: graphc.ones(1, 1, 5)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_index_exports(name):
    fn = CASES[name]
    arrays = [X, I, J]
    graph = graphc.trace(fn, *map(graphc.tensor, arrays))
    assert {n.op for n in graph.nodes()} & {"graphc.Index", "graphc.IndexPut"}
    expected = graphc.runtimes.get("numpy").prepare(graph)(*arrays)
    proto = gonnx.export(graph)
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = dict(zip(graph.inputs, arrays))
    got = sess.run(None, {i.name: feeds[i.name] for i in sess.get_inputs()})
    for g, e in zip(got, expected):
        assert g.shape == e.shape
        np.testing.assert_array_equal(g, e)


def test_boolean_mask_is_refused_with_the_node():
    x = graphc.tensor(X)
    graph = graphc.trace(lambda x: x[x > 50], x)
    name = next(n.name for n in graph.nodes() if n.op == "graphc.Index")
    with pytest.raises(gonnx.OnnxError, match=rf"node '{name}' \(graphc\.Index\): indexing with a boolean mask"):
        gonnx.export(graph)
