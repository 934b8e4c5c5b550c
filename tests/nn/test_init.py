"""nn.init: PyTorch's gains, fans and bounds; in place, outside autograd, from graphc's generator."""
import math
import warnings

import numpy as np
import pytest

import graphc
from graphc import nn
from graphc.nn import init

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("name,param", [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                                        ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                                        ("leaky_relu", math.sqrt(5)), ("selu", None)])
def test_calculate_gain_matches_torch(name, param):
    assert init.calculate_gain(name, param) == torch.nn.init.calculate_gain(name, param)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape", [(3, 4), (6, 2, 3, 5), (2, 3, 4)])
def test_fans_match_torch(shape):
    assert (init._calculate_fan_in_and_fan_out(graphc.empty(shape))
            == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape)))


def test_fans_need_two_dims():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(graphc.empty(3))


def _uniform_bound(fn, shape, **kw):
    t = nn.Parameter(graphc.empty(shape))
    assert fn(t, **kw) is t
    assert t.is_leaf and t.grad_fn is None and t.requires_grad
    return np.abs(t.detach().numpy()).max(), t.detach().numpy().std()


def test_uniform_inits_hit_pytorch_bounds():
    shape = (200, 100)
    fan_in, fan_out = 100, 200
    bound, _ = _uniform_bound(init.uniform_, shape, a=-0.3, b=0.3)
    assert 0.29 < bound <= 0.3
    bound, _ = _uniform_bound(init.xavier_uniform_, shape, gain=2.0)
    expected = 2.0 * math.sqrt(6.0 / (fan_in + fan_out))
    assert 0.98 * expected < bound <= expected
    bound, _ = _uniform_bound(init.kaiming_uniform_, shape, a=math.sqrt(5))
    assert 0.98 / math.sqrt(fan_in) < bound <= 1 / math.sqrt(fan_in)
    bound, _ = _uniform_bound(init.kaiming_uniform_, shape, mode="fan_out", nonlinearity="relu")
    expected = math.sqrt(2.0) * math.sqrt(3.0 / fan_out)
    assert 0.98 * expected < bound <= expected


def test_normal_inits_have_pytorch_std():
    shape = (400, 300)
    _, std = _uniform_bound(init.normal_, shape, mean=0.0, std=0.5)
    assert abs(std - 0.5) < 0.01
    _, std = _uniform_bound(init.xavier_normal_, shape)
    assert abs(std / math.sqrt(2.0 / 700) - 1) < 0.02
    _, std = _uniform_bound(init.kaiming_normal_, shape, nonlinearity="relu")
    assert abs(std / (math.sqrt(2.0) / math.sqrt(300)) - 1) < 0.02


def test_constants_and_eye():
    t = nn.Parameter(graphc.empty(2, 3))
    assert init.constant_(t, 0.25).tolist() == [[0.25] * 3] * 2
    assert init.ones_(t).tolist() == [[1.0] * 3] * 2
    assert init.zeros_(t).tolist() == [[0.0] * 3] * 2
    assert init.eye_(t).tolist() == [[1, 0, 0], [0, 1, 0]]
    assert t.grad_fn is None and t.requires_grad
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.eye_(graphc.empty(2, 2, 2))


def test_in_place_bumps_version_and_uses_graphc_generator():
    t = graphc.empty(3, 3)
    version = t._version[0]
    init.normal_(t)
    assert t._version[0] > version
    a = init.uniform_(graphc.empty(5), generator=graphc.Generator().manual_seed(1)).tolist()
    b = init.uniform_(graphc.empty(5), generator=graphc.Generator().manual_seed(1)).tolist()
    graphc.manual_seed(4)
    c = nn.Linear(3, 3).weight.tolist()
    graphc.manual_seed(4)
    assert a == b and c == nn.Linear(3, 3).weight.tolist()


def test_zero_element_tensors_warn():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        init.kaiming_uniform_(graphc.empty(0, 3))
    assert "no-op" in str(caught[0].message)


@pytest.mark.parametrize("layer", ["linear", "conv"])
def test_default_initialisation_of_linear_and_conv2d(layer):
    graphc.manual_seed(0)
    m = nn.Linear(50, 400) if layer == "linear" else nn.Conv2d(8, 64, 3)
    fan_in = 50 if layer == "linear" else 8 * 9
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) and the bias both give this
    assert 0.97 * bound < np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() / (bound / math.sqrt(3)) - 1) < 0.05
