"""Module mechanics against PyTorch: registration, traversal order, state_dict, repr, to(), hooks."""
import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import graphc
from graphc import nn

torch = pytest.importorskip("torch")


def lenet(m):
    """The tutorial's LeNet (1x32x32 input, 3x3 convs), for graphc or torch."""

    class Net(m.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = m.nn.Conv2d(1, 6, 3)
            self.conv2 = m.nn.Conv2d(6, 16, 3)
            self.fc1 = m.nn.Linear(16 * 6 * 6, 120)
            self.fc2 = m.nn.Linear(120, 84)
            self.fc3 = m.nn.Linear(84, 10)

        def forward(self, x):
            F = m.nn.functional
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = m.flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    return Net()


def zoo(m):
    """Every layer kind, nested in containers, with non-default options."""
    n = m.nn

    class Block(n.Module):
        def __init__(self):
            super().__init__()
            self.conv = n.Conv2d(3, 8, kernel_size=(3, 5), stride=2, padding=1, dilation=(1, 2), groups=1, bias=False)
            self.same = n.Conv2d(8, 8, 3, padding="same", groups=4)
            self.bn = n.BatchNorm2d(8, momentum=None, affine=False)
            self.pools = n.ModuleList([n.MaxPool2d(2), n.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
                                       n.AvgPool2d(2, stride=1), n.AdaptiveAvgPool2d((1, 1)), n.AdaptiveAvgPool2d(2)])
            self.register_buffer("scale", m.ones(1))
            self.register_buffer("cache", m.zeros(2), persistent=False)

    return n.Sequential(OrderedDict([
        ("block", Block()),
        ("acts", n.ModuleDict({"relu": n.ReLU(), "inplace": n.ReLU(inplace=True), "leaky": n.LeakyReLU(0.2),
                               "sig": n.Sigmoid(), "tanh": n.Tanh(), "gelu": n.GELU(approximate="tanh"),
                               "sm": n.Softmax(dim=1), "lsm": n.LogSoftmax(-1)})),
        ("flat", n.Flatten()), ("unflat", n.Unflatten(1, (2, 4))),
        ("drop", n.Dropout(0.25)), ("bn1", n.BatchNorm1d(16)), ("ln", n.LayerNorm([4, 5], eps=1e-6)),
        ("emb", n.Embedding(10, 3, padding_idx=0)), ("emb2", n.Embedding(5, 2, max_norm=1.0, sparse=True)),
        ("id", n.Identity()), ("fc", n.Linear(16, 4, bias=False)),
        ("heads", n.ModuleList([n.Linear(4, 4) for _ in range(3)] + [n.Linear(4, 2)])),
        ("losses", n.ModuleList([n.MSELoss(), n.L1Loss(reduction="sum"), n.CrossEntropyLoss(label_smoothing=0.1),
                                 n.NLLLoss(), n.BCELoss(), n.BCEWithLogitsLoss(pos_weight=m.ones(2)),
                                 n.SmoothL1Loss(beta=0.5)])),
        ("empty", n.Sequential()),
    ]))


@pytest.mark.parametrize("build", [lenet, zoo])
def test_repr_state_dict_and_parameter_order_match_torch(build):
    ours, theirs = build(graphc), build(torch)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [tuple(p.shape) for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]


def test_dir_lists_registered_names():
    names = dir(zoo(graphc).block)
    assert {"conv", "same", "bn", "pools", "scale", "cache", "forward", "training"} <= set(names)
    assert names == sorted(names) and not [n for n in dir(nn.Sequential(nn.ReLU())) if n[0].isdigit()]


def test_parameter():
    p = nn.Parameter(graphc.tensor([1.0, 2.0]))
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0]))).replace("torch", "graphc")
    assert str(p) == repr(p) and p.requires_grad and p.is_leaf and isinstance(p, graphc.Tensor)
    data = graphc.zeros(3)
    q = nn.Parameter(data, requires_grad=False)
    data.add_(1)
    assert q.tolist() == [1.0, 1.0, 1.0] and not q.requires_grad  # shares memory
    assert type(q * 2) is graphc.Tensor
    r = pickle.loads(pickle.dumps(p))
    assert isinstance(r, nn.Parameter) and r.tolist() == [1.0, 2.0] and r.requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(graphc.tensor([1, 2]))


def test_setattr_registration_and_errors():
    m = nn.Module()
    m.w = nn.Parameter(graphc.ones(2))
    m.sub = nn.Linear(2, 2)
    m.register_buffer("buf", graphc.zeros(2))
    m.plain = 3
    assert list(m._parameters) == ["w"] and list(m._modules) == ["sub"] and list(m._buffers) == ["buf"]
    assert m.plain == 3 and "plain" in m.__dict__
    m.buf = graphc.ones(2)  # replaces the buffer
    assert m._buffers["buf"].tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="cannot assign 'graphc.tensor.Tensor' as parameter 'w'"):
        m.w = graphc.ones(2)
    with pytest.raises(TypeError, match="cannot assign 'int' as child module 'sub'"):
        m.sub = 1
    with pytest.raises(TypeError, match="as buffer 'buf'"):
        m.buf = 1.0
    m.w = None
    assert m.w is None and list(m.parameters()) == list(m.sub.parameters())
    with pytest.raises(KeyError, match="attribute 'plain' already exists"):
        m.register_buffer("plain", graphc.zeros(1))
    with pytest.raises(KeyError, match="contain"):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("x", 3)
    with pytest.raises(ValueError, match="Cannot assign non-leaf Tensor"):
        m.register_parameter("z", _non_leaf_param())
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'nope'"):
        m.nope
    del m.sub, m.buf, m.plain
    assert not m._modules and not m._buffers and not hasattr(m, "plain")

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(graphc.ones(1))

    with pytest.raises(AttributeError, match="cannot assign parameters before Module.__init__"):
        Early()


def _non_leaf_param():
    p = nn.Parameter(graphc.ones(1))
    q = p * 2
    q.__class__ = nn.Parameter
    return q


def test_shared_parameters_and_modules_are_listed_once():
    lin = nn.Linear(3, 3)
    model = nn.Sequential(lin, nn.ReLU(), lin)
    tlin = torch.nn.Linear(3, 3)
    tmodel = torch.nn.Sequential(tlin, torch.nn.ReLU(), tlin)
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in tmodel.named_parameters()]
    assert len(list(model.named_parameters(remove_duplicate=False))) == 4
    assert list(model.state_dict()) == list(tmodel.state_dict())
    assert len(list(model.modules())) == 3
    assert [n for n, _ in model.named_parameters(prefix="net")] == ["net.0.weight", "net.0.bias"]
    assert list(model.parameters(recurse=False)) == []


def test_get_submodule_apply_train_eval_requires_grad():
    model = zoo(graphc)
    assert model.get_submodule("block.pools.1") is model.block.pools[1]
    assert model.get_parameter("heads.0.weight") is model.heads[0].weight
    assert model.get_buffer("block.scale") is model.block.scale
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        model.get_submodule("block.nope")
    visited = []
    model.apply(lambda mod: visited.append(type(mod).__name__))
    assert visited[-1] == "Sequential" and visited[0] == "Conv2d"
    assert model.eval() is model and not any(mod.training for mod in model.modules())
    model.train()
    assert all(mod.training for mod in model.modules())
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        model.train("yes")


def test_zero_grad():
    model = nn.Linear(3, 2)
    graphc.ops.linalg.linear(graphc.randn(4, 3), model.weight, model.bias).sum().backward()
    model.zero_grad(set_to_none=False)
    assert model.weight.grad is not None and not model.weight.grad.numpy().any()
    model.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None


def test_load_state_dict_strict_errors_match_torch():
    ours, theirs = lenet(graphc), lenet(torch)
    sd = {k: graphc.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    assert repr(ours.load_state_dict(sd)) == "<All keys matched successfully>"
    for k in sd:
        np.testing.assert_array_equal(ours.state_dict()[k].numpy(), theirs.state_dict()[k].numpy())

    def both(make_sd, strict=True):
        results = []
        for m, model, src in ((graphc, ours, sd), (torch, theirs, theirs.state_dict())):
            try:
                results.append(model.load_state_dict(make_sd(m, dict(src)), strict=strict))
            except RuntimeError as exc:
                results.append(str(exc).replace("torch.", "graphc."))
        return results

    def broken(m, d):
        d.pop("conv1.bias")
        d["fc9.weight"] = d["fc1.weight"]
        d["fc1.weight"] = m.zeros(3, 3)
        return d

    a, b = both(broken)
    assert "Missing key(s)" in a and "size mismatch for fc1.weight" in a and a == b
    a, b = both(lambda m, d: {**d, "extra": m.zeros(1)}, strict=False)
    assert a == (b.missing_keys, b.unexpected_keys) == ([], ["extra"])
    a, b = both(lambda m, d: {k: v for k, v in d.items() if k != "fc3.bias"}, strict=False)
    assert a.missing_keys == b.missing_keys == ["fc3.bias"]
    a, b = both(lambda m, d: {**d, "conv1.weight": 3.0})
    assert "expected" in a and "received <class 'float'>" in a
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        ours.load_state_dict([1, 2])


def test_load_state_dict_copies_in_place_or_assigns():
    model = nn.Linear(2, 2)
    weight = model.weight
    src = {"weight": graphc.ones(2, 2, dtype=graphc.float64), "bias": graphc.zeros(2)}
    model.load_state_dict(src)
    assert model.weight is weight and model.weight.dtype is graphc.float32 and model.weight.tolist() == [[1, 1], [1, 1]]
    model.load_state_dict({k: v.float() for k, v in src.items()}, assign=True)
    assert model.weight is not weight and isinstance(model.weight, nn.Parameter) and model.weight.requires_grad


def test_state_dict_detaches_and_keep_vars():
    model = nn.Linear(2, 2)
    sd = model.state_dict()
    assert type(sd) is OrderedDict and not sd["weight"].requires_grad
    assert type(sd["weight"]) is graphc.Tensor
    sd["weight"].add_(1)  # shares memory with the parameter, as in PyTorch
    assert np.array_equal(sd["weight"].numpy(), model.weight.detach().numpy())
    assert model.state_dict(keep_vars=True)["weight"] is model.weight
    assert list(model.state_dict(prefix="m.")) == ["m.weight", "m.bias"]


def test_batchnorm_buffers_and_old_checkpoints():
    bn, tbn = nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    assert list(bn.state_dict()) == list(tbn.state_dict())
    assert bn.num_batches_tracked.dtype is graphc.int64 and bn.num_batches_tracked.item() == 0
    old = {k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
    assert bn.load_state_dict(old).missing_keys == []
    assert list(nn.BatchNorm1d(2, track_running_stats=False).state_dict()) == ["weight", "bias"]


def test_to_float_double_keep_parameter_identity():
    model = nn.Sequential(nn.Linear(2, 2), nn.Embedding(3, 2))
    model.register_buffer("steps", graphc.tensor(3))
    weight = model[0].weight
    model[0].weight.grad = graphc.ones(2, 2)
    assert model.double() is model
    assert model[0].weight is weight and weight.dtype is graphc.float64 and weight.grad.dtype is graphc.float64
    assert model.steps.dtype is graphc.int64
    model.to(graphc.float32)
    assert weight.dtype is graphc.float32
    model.to("cpu", dtype=graphc.float64)
    assert weight.dtype is graphc.float64 and model.float() is model and weight.dtype is graphc.float32
    assert model.cpu() is model and weight.device == graphc.device("cpu")
    with pytest.raises(TypeError, match="floating point"):
        model.to(graphc.int64)
    if not graphc.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            model.to("cuda")


def test_forward_hooks_and_call():
    model = nn.Linear(2, 2)
    seen = []
    h1 = model.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    h2 = model.register_forward_hook(lambda mod, args, out: seen.append(out) or out + 1)
    out = model(graphc.ones(1, 2))
    np.testing.assert_allclose(out.detach().numpy(), model.bias.detach().numpy()[None] + 1, rtol=1e-6)
    assert len(seen) == 1
    h1.remove()
    h2.remove()
    assert not model._forward_hooks and not model._forward_pre_hooks
    with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
        nn.Module()(1)


class Picklable(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 2))
        self.register_buffer("extra", graphc.arange(3))


def test_deepcopy_and_pickle():
    model = Picklable()
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert repr(clone) == repr(model)
        for (n, a), (_, b) in zip(model.state_dict().items(), clone.state_dict().items()):
            assert np.array_equal(a.numpy(), b.numpy()), n
        assert isinstance(clone.body[0].weight, nn.Parameter) and clone.body[0].weight is not model.body[0].weight


def test_containers():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear) and isinstance(seq[1:], nn.Sequential)
    assert list(seq[1:]._modules) == ["1", "2"]
    seq.append(nn.Sigmoid())
    assert list(seq._modules) == ["0", "1", "2", "3"]
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"] and isinstance(seq[1], nn.Linear)
    seq[0] = nn.Identity()
    assert isinstance(seq[0], nn.Identity)
    seq.insert(1, nn.Tanh())
    assert [type(m).__name__ for m in seq] == ["Identity", "Tanh", "Linear", "Sigmoid"]
    with pytest.raises(IndexError, match="index 7 is out of range"):
        seq[7]
    named = nn.Sequential(OrderedDict([("a", nn.ReLU()), ("b", nn.Tanh())]))
    assert list(named._modules) == ["a", "b"] and isinstance(named[1], nn.Tanh)
    lst = nn.ModuleList([nn.ReLU()])
    lst += [nn.Tanh()]
    lst.append(nn.Sigmoid()).extend([nn.Identity()])
    assert len(lst) == 4 and isinstance(lst[-1], nn.Identity) and len(lst[1:3]) == 2
    lst.insert(0, nn.GELU())
    assert isinstance(lst[0], nn.GELU) and list(lst._modules) == ["0", "1", "2", "3", "4"]
    d = nn.ModuleDict({"x": nn.ReLU()})
    d["y"] = nn.Tanh()
    d.update([("z", nn.Sigmoid())])
    assert list(d) == ["x", "y", "z"] and "y" in d and len(d) == 3 and isinstance(d.pop("x"), nn.ReLU)
    assert list(d.keys()) == ["y", "z"]
