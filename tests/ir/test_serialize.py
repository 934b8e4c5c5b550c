"""Graph files: exact round trips, atomic deterministic writes, and refusal of bad files
(with no code from the file ever run)."""
import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from graphc import dtypes
from graphc.ir import Graph, GraphFileError, TensorType, load, save

from .strategies import graphs, same_initializers
from .test_text import build_mlp


def mlp_with_data() -> Graph:
    """Ops unknown to any registry, so `load`'s verify checks structure only."""
    g = Graph.parse(str(build_mlp()).replace("MatMul", "test.MatMul").replace("Relu", "test.Relu"))
    g.add_initializer("b", np.arange(10, dtype=np.float32))
    g.replace_node("h", attrs={"to": dtypes.float16, "perm": [1, 0], "eps": float("nan")})
    return g


def test_round_trip_keeps_text_data_and_sources(tmp_path):
    g = mlp_with_data()
    g.add_node("Relu", ["y"], [TensorType((64, 10), dtypes.float32)], source="model.py:9", name="z")
    save(g, tmp_path / "g.graphc")
    back = load(tmp_path / "g.graphc", verify=False)
    assert str(back) == str(g) and same_initializers(back, g)
    assert back.node("z").source == "model.py:9"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(graphs())
def test_round_trip_random_graphs(tmp_path, g):
    save(g, tmp_path / "g.graphc")
    back = load(tmp_path / "g.graphc", verify=False)
    assert str(back) == str(g) and same_initializers(back, g)
    assert [n.source for n in back.nodes()] == [n.source for n in g.nodes()]


def test_file_layout_is_a_zip_of_json_and_npy(tmp_path):
    save(mlp_with_data(), tmp_path / "g.graphc")
    with zipfile.ZipFile(tmp_path / "g.graphc") as zf:
        assert zf.namelist() == ["graph.json", "tensors/0.npy"]
        doc = json.loads(zf.read("graph.json"))
    assert (doc["format"], doc["version"]) == ("graphc.graph", 1)
    assert doc["graph"]["initializers"] == [
        {"name": "b", "type": {"dtype": "f32", "shape": [10]}, "data": "tensors/0.npy"}]


def test_writes_are_deterministic_and_atomic(tmp_path, monkeypatch):
    path = tmp_path / "g.graphc"
    save(mlp_with_data(), path)
    first = path.read_bytes()
    save(mlp_with_data(), path)
    assert path.read_bytes() == first

    def fail(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(np.lib.format, "write_array", fail)
    with pytest.raises(OSError, match="disk full"):
        save(mlp_with_data(), path)
    assert path.read_bytes() == first  # the old file is untouched
    assert os.listdir(tmp_path) == ["g.graphc"]  # and no temporary file is left behind


# ---- refusals ---------------------------------------------------------------------------------

class Payload:
    """Unpickling this creates a marker file: proof that code from a file ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def members_of(path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def write_members(path, members: dict) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.graphc"
    save(mlp_with_data(), path)
    return path


def edit_json(path, edit) -> None:
    members = members_of(path)
    doc = json.loads(members["graph.json"])
    edit(doc)
    members["graph.json"] = json.dumps(doc)
    write_members(path, members)


def test_payload_is_live(tmp_path):
    """The control: the payload used below really does create its marker when unpickled."""
    pickle.loads(pickle.dumps(Payload(tmp_path / "control")))
    assert (tmp_path / "control").exists()


def test_raw_pickle_file_is_refused_without_running_it(tmp_path):
    path, marker = tmp_path / "evil.graphc", tmp_path / "marker"
    path.write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(GraphFileError, match="not a valid graph file: BadZipFile"):
        load(path)
    assert not marker.exists()


def test_object_array_member_is_refused_without_running_it(good, tmp_path):
    marker = tmp_path / "marker"
    buf = io.BytesIO()
    np.save(buf, np.array([Payload(marker)] * 10, dtype=object), allow_pickle=True)
    members = members_of(good)
    members["tensors/0.npy"] = buf.getvalue()
    write_members(good, members)
    with pytest.raises(GraphFileError, match="Object arrays cannot be loaded"):
        load(good)
    assert not marker.exists()


def test_unknown_version_and_format(good):
    edit_json(good, lambda doc: doc.update(version=2))
    with pytest.raises(GraphFileError, match="version 2 is not supported"):
        load(good)
    edit_json(good, lambda doc: doc.update(version=1, format="onnx"))
    with pytest.raises(GraphFileError, match="format 'onnx' is not 'graphc.graph'"):
        load(good)


def test_truncated_file(good):
    data = good.read_bytes()
    for size in (0, 10, len(data) // 2, len(data) - 1):
        good.write_bytes(data[:size])
        with pytest.raises(GraphFileError, match=f"{good.name}: not a valid graph file"):
            load(good)


def test_corrupted_bytes_fail_the_checksum(good):
    data = bytearray(good.read_bytes())
    data[data.index(b"\x93NUMPY") + 150] ^= 0xFF  # inside the stored array data
    good.write_bytes(bytes(data))
    with pytest.raises(GraphFileError, match="Bad CRC"):
        load(good)


def test_missing_and_extra_members(good):
    members = members_of(good)
    write_members(good, {**members, "extra.bin": b"hi"})
    with pytest.raises(GraphFileError, match=r"unexpected members \['extra.bin'\]"):
        load(good)
    del members["tensors/0.npy"]
    write_members(good, members)
    with pytest.raises(GraphFileError, match="tensors/0.npy"):
        load(good)
    write_members(good, {})
    with pytest.raises(GraphFileError, match="graph.json"):
        load(good)


def set_in(path_keys, value):
    def edit(doc):
        obj = doc["graph"]
        for k in path_keys[:-1]:
            obj = obj[k]
        obj[path_keys[-1]] = value
    return edit


@pytest.mark.parametrize("edit, message", [
    (lambda doc: doc.update(graph=[]), "field 'graph' has the wrong type"),
    (lambda doc: doc["graph"]["nodes"][0].pop("op"), "a node must have exactly the fields"),
    (lambda doc: doc["graph"]["nodes"][0].update(extra=1), "a node must have exactly the fields"),
    (set_in(["nodes", 0, "inputs"], [1]), "expected a list of names"),
    (set_in(["inputs", 0, "type", "shape"], [-1]), "bad shape"),
    (set_in(["inputs", 0, "type", "shape"], [True]), "bad shape"),
    (set_in(["inputs", 0, "type", "dtype"], "c64"), "unknown dtype 'c64'"),
    (set_in(["nodes", 0, "attrs", "perm"], {"code": "x"}), "dtype attribute must have exactly"),
    (set_in(["nodes", 0, "outputs", 0, "name"], "x"), "value %x is already defined"),
    (set_in(["initializers", 0, "type", "shape"], [11]), r"holds float32\[10\], the graph declares f32\[11\]"),
    (set_in(["initializers", 0, "type", "dtype"], "i32"), r"holds float32\[10\], the graph declares i32\[10\]"),
    (set_in(["outputs"], ["nowhere"]), "output %nowhere is not defined"),
])
def test_json_not_matching_the_schema(good, edit, message):
    edit_json(good, edit)
    with pytest.raises(GraphFileError, match=message):
        load(good)


def test_oversized_member_refused_before_inflating(good):
    members = members_of(good)
    buf = io.BytesIO()
    np.save(buf, np.zeros(100_000, np.float32))
    members["tensors/0.npy"] = buf.getvalue()
    write_members(good, members)
    with pytest.raises(GraphFileError, match=r"tensors/0.npy is too large for f32\[10\]"):
        load(good)


def test_invalid_graph_refused_unless_verify_is_off(tmp_path):
    g = mlp_with_data()
    g.add_node("Relu", ["ghost"], [TensorType((1,), dtypes.float32)])
    save(g, tmp_path / "g.graphc")
    with pytest.raises(GraphFileError, match="uses %ghost, which nothing defines"):
        load(tmp_path / "g.graphc")
    assert str(load(tmp_path / "g.graphc", verify=False)) == str(g)
