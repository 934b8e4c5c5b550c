import io

import numpy as np
import pytest

import graphc
from graphc.ir import Graph, GraphError, TensorType
from graphc.passes import DEFAULT_PIPELINE, Pipeline, dce, fuse, graph_pass, simplify

CHAIN = """graph g(%x: f32[4]) {
  %a: f32[4] = Exp(%x)
  %b: f32[4] = Tanh(%a)
  %dead: f32[4] = Neg(%x)
  return %b
}"""


def test_pipeline_prints_and_flattens():
    assert str(DEFAULT_PIPELINE) == "Pipeline(simplify, fuse)"
    assert str(Pipeline([dce, Pipeline([simplify, fuse])])) == "Pipeline(dce, simplify, fuse)"


def test_passes_never_mutate_their_input():
    g = Graph.parse(CHAIN)
    text = str(g)
    out = DEFAULT_PIPELINE(g)
    assert str(g) == text and str(out) != text


def test_dump_after_a_named_pass_writes_the_graph_text():
    stream = io.StringIO()
    Pipeline([dce, fuse], dump_after="dce", dump_to=stream)(Graph.parse(CHAIN))
    text = stream.getvalue()
    assert text.startswith("# after dce\n") and "%dead" not in text and "graphc.Fused" not in text
    Graph.parse(text)  # the dump parses back (the header is a comment)


def test_dump_to_a_file_and_to_a_callback(tmp_path):
    path = tmp_path / "dump.txt"
    Pipeline([dce, fuse], dump_after="fuse", dump_to=str(path))(Graph.parse(CHAIN))
    assert "graphc.Fused" in path.read_text()
    seen = []
    Pipeline([dce, fuse], dump_after=lambda name, g: seen.append(name))(Graph.parse(CHAIN))
    assert seen == ["dce", "fuse"]


def test_unknown_dump_after_name_is_rejected():
    with pytest.raises(ValueError, match="no such pass"):
        Pipeline([dce], dump_after="fuse")


def test_verify_names_the_pass_that_broke_the_graph():
    @graph_pass
    def breaks(g):
        g.add_node("Relu", ["nowhere"], [TensorType((4,), graphc.float32)])

    with pytest.raises(GraphError, match="after pass breaks"):
        Pipeline([breaks], verify=True)(Graph.parse(CHAIN))


def test_compile_accepts_a_pipeline():
    x = graphc.randn(64, 33)
    fn = graphc.compile(lambda x: graphc.tanh(x * 2.0) + x, passes=Pipeline([simplify, fuse], verify=True))
    out = fn(x)
    assert any(n.op == "graphc.Fused" for n in fn.graph.nodes())
    np.testing.assert_allclose(out.numpy(), (graphc.tanh(x * 2.0) + x).numpy(), atol=1e-6)
