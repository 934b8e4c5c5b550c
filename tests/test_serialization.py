"""graphc.save / graphc.load: round trips, safety (never unpickle), damaged files, atomic writes."""
import io
import json
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import graphc
from graphc import nn
from graphc.serialization import LoadError


def _equal(a, b):
    if isinstance(a, graphc.Tensor):
        return (type(a) is type(b) and a.dtype is b.dtype and a.requires_grad == b.requires_grad
                and np.array_equal(a.detach().numpy(), b.detach().numpy()))
    if isinstance(a, np.ndarray):
        return type(b) is np.ndarray and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, dict):
        return type(a) is type(b) and list(a) == list(b) and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and np.isnan(a):
        return np.isnan(b)
    return type(a) is type(b) and a == b


OBJECTS = {
    "tensor": graphc.arange(12, dtype=graphc.float32).reshape(3, 4),
    "int64": graphc.tensor([[1, -2], [3, 4]]),
    "bool": graphc.tensor([True, False]),
    "scalar": graphc.tensor(2.5, dtype=graphc.float64),
    "empty": graphc.zeros(0, 3),
    "requires_grad": graphc.ones(2, requires_grad=True),
    "nested": {"a": [graphc.ones(2), (1, 2.5, "x", None, True)], 3: {"deep": graphc.zeros(1)},
               (1, "k"): float("inf"), 0.5: float("nan")},
    "plain": [1, -2**70, 1e-300, "ünïcode", b"" == b"", None],
    "numpy": {"arr": np.arange(5, dtype=np.int16), "scalar": np.float32(1.25)},
    "meta": [graphc.float16, graphc.device("cpu")],
}


@pytest.mark.parametrize("name", OBJECTS)
def test_round_trip(tmp_path, name):
    path = tmp_path / "obj.pt"
    graphc.save(OBJECTS[name], path)
    assert _equal(OBJECTS[name], graphc.load(path))


def test_state_dicts_round_trip(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    opt = graphc.optim.Adam(model.parameters(), lr=0.01)
    model(graphc.randn(5, 3)).sum().backward()
    opt.step()
    checkpoint = {"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3}
    graphc.save(checkpoint, str(tmp_path / "ckpt.pt"))
    loaded = graphc.load(str(tmp_path / "ckpt.pt"))
    assert type(loaded["model"]) is OrderedDict and list(loaded["model"]) == list(model.state_dict())
    assert loaded["model"]["1.num_batches_tracked"].dtype is graphc.int64
    assert _equal(loaded["optim"], opt.state_dict())
    clone = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    clone.load_state_dict(loaded["model"])
    opt2 = graphc.optim.Adam(clone.parameters(), lr=0.01)
    opt2.load_state_dict(loaded["optim"])
    x = graphc.randn(2, 3)
    np.testing.assert_array_equal(clone.eval()(x).detach().numpy(), model.eval()(x).detach().numpy())


def test_shared_tensors_and_parameters_survive(tmp_path):
    t = graphc.ones(3)
    p = nn.Parameter(graphc.zeros(2))
    graphc.save([t, t, p], tmp_path / "f")
    a, b, q = graphc.load(tmp_path / "f")
    assert a is b and isinstance(q, nn.Parameter) and q.requires_grad


def test_file_objects(tmp_path):
    buf = io.BytesIO()
    graphc.save({"w": graphc.ones(2)}, buf)
    buf.seek(0)
    assert _equal(graphc.load(buf), {"w": graphc.ones(2)})
    with open(tmp_path / "f", "wb") as fh:
        graphc.save([1, 2], fh)
    with open(tmp_path / "f", "rb") as fh:
        assert graphc.load(fh) == [1, 2]


def test_map_location(tmp_path):
    graphc.save(graphc.ones(2), tmp_path / "f")
    assert graphc.load(tmp_path / "f", map_location="cpu").device == graphc.device("cpu")
    seen = []
    graphc.load(tmp_path / "f", map_location=lambda t, loc: seen.append(loc))
    assert seen == ["cpu"]


def test_format_is_zip_of_json_and_npy(tmp_path):
    graphc.save({"w": graphc.ones(2, 3)}, tmp_path / "f")
    with zipfile.ZipFile(tmp_path / "f") as zf:
        assert sorted(zf.namelist()) == ["data.json", "tensors/0.npy"]
        meta = json.loads(zf.read("data.json"))
        assert meta["format"] == "graphc.save" and meta["version"] == 1
        with zf.open("tensors/0.npy") as fh:
            assert np.lib.format.read_array(fh).shape == (2, 3)


def test_unsupported_objects_are_refused_before_writing(tmp_path):
    path = tmp_path / "f"
    graphc.save([1], path)
    with pytest.raises(TypeError, match="cannot save an object of type object"):
        graphc.save({"ok": graphc.ones(1), "bad": object()}, path)
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        graphc.save(loop, path)
    with pytest.raises(TypeError, match="dtype object"):
        graphc.save(np.array([object()]), path)
    assert graphc.load(path) == [1]
    assert os.listdir(tmp_path) == ["f"]


def test_failed_write_leaves_earlier_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "f"
    graphc.save({"v": 1}, path)
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", broken)
    with pytest.raises(OSError, match="disk full"):
        graphc.save({"v": graphc.ones(1000)}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["f"]


def test_saved_file_gets_normal_permissions(tmp_path):
    graphc.save(1, tmp_path / "f")
    mask = os.umask(0)
    os.umask(mask)
    assert os.stat(tmp_path / "f").st_mode & 0o777 == 0o666 & ~mask


class _Boom:
    def __reduce__(self):
        return (open, (str(MARKER), "w"))


MARKER = None


def test_pickle_payloads_are_refused_without_running_code(tmp_path):
    global MARKER
    MARKER = tmp_path / "pwned"
    raw = tmp_path / "evil.pkl"
    raw.write_bytes(pickle.dumps(_Boom()))
    with pytest.raises(LoadError, match="pickle payload"):
        graphc.load(raw, weights_only=False)
    archive = tmp_path / "evil.pt"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps(_Boom()))
    with pytest.raises(LoadError, match="pickle payload"):
        graphc.load(archive)
    npy = io.BytesIO()
    np.save(npy, np.array([_Boom()], dtype=object), allow_pickle=True)
    sneaky = tmp_path / "sneaky.pt"
    graphc.save(graphc.ones(1), sneaky)
    _rewrite(sneaky, {"tensors/0.npy": npy.getvalue()})
    with pytest.raises(LoadError, match="tensors/0.npy"):
        graphc.load(sneaky)
    assert not MARKER.exists()


def test_torch_files_are_refused(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "t.pt"
    torch.save({"w": torch.ones(2)}, path)
    with pytest.raises(LoadError, match="pickle payload"):
        graphc.load(path)


def _rewrite(path, members: dict, drop=()):
    with zipfile.ZipFile(path) as zf:
        items = {n: zf.read(n) for n in zf.namelist() if n not in drop}
    items.update(members)
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in items.items():
            zf.writestr(n, data)


def _meta(**changes):
    meta = {"format": "graphc.save", "version": 1,
            "root": {"type": "tensor", "id": 0, "dtype": "float32", "shape": [3], "requires_grad": False,
                     "parameter": False, "device": "cpu"}}
    meta.update(changes)
    return json.dumps(meta).encode()


DAMAGE = {
    "truncated": (lambda p: p.write_bytes(p.read_bytes()[:-30]), "damaged|not a zip"),
    "empty": (lambda p: p.write_bytes(b""), "empty"),
    "not a zip": (lambda p: p.write_bytes(b"hello world"), "not a zip archive"),
    "wrong version": (lambda p: _rewrite(p, {"data.json": _meta(version=99)}), "unsupported format version 99"),
    "wrong format": (lambda p: _rewrite(p, {"data.json": _meta(format="other")}), "format"),
    "bad json": (lambda p: _rewrite(p, {"data.json": b"{not json"}), "damaged"),
    "missing data.json": (lambda p: _rewrite(p, {}, drop=("data.json",)), "missing member data.json"),
    "missing tensor": (lambda p: _rewrite(p, {}, drop=("tensors/0.npy",)), "missing member tensors/0.npy"),
    "unknown node": (lambda p: _rewrite(p, {"data.json": _meta(root={"type": "lambda"})}), "unknown node type 'lambda'"),
    "shape mismatch": (lambda p: _rewrite(p, {"data.json": _meta(root={"type": "tensor", "id": 0, "dtype": "float32",
                                                                       "shape": [4]})}), "holds float32\\[3\\]"),
    "bad id": (lambda p: _rewrite(p, {"data.json": _meta(root={"type": "tensor", "id": "../x"})}), "bad tensor id"),
    "corrupt npy": (lambda p: _rewrite(p, {"tensors/0.npy": b"\x93NUMPY garbage"}), "tensors/0.npy"),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_files_fail_clearly(tmp_path, damage):
    path = tmp_path / "model.pt"
    graphc.save(graphc.ones(3), path)
    spoil, message = DAMAGE[damage]
    spoil(path)
    with pytest.raises(LoadError, match=message) as info:
        graphc.load(path)
    assert "model.pt" in str(info.value)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        graphc.load(tmp_path / "nope.pt")
