"""Op semantics ONNX needs beyond PyTorch's front end: Pad's edge/reflect/wrap modes (with their
gradient), ScatterElements' mul/max/min reductions, max/min over an empty set, unsigned dtypes."""
import numpy as np
import pytest

import graphc
from graphc import dtypes
from graphc.dispatch import dispatch
from graphc.ir import TensorType
from graphc.ops.gather import SCATTER_ELEMENTS
from graphc.ops.pad import PAD
from graphc.ops.reduce import REDUCE_MAX, REDUCE_MIN

NP_MODE = {"edge": "edge", "reflect": "reflect", "wrap": "wrap"}


@pytest.mark.parametrize("mode", ["edge", "reflect", "wrap"])
@pytest.mark.parametrize("pads", [(1, 2, 2, 0), (0, -1, 3, 1)])
def test_pad_modes_values_and_gradient(mode, pads):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4))
    x = graphc.tensor(a, requires_grad=True)
    y = dispatch(PAD, [x], {"pads": pads, "mode": mode, "value": 0.0})
    cropped = a[max(-pads[0], 0):3 - max(-pads[2], 0), max(-pads[1], 0):4 - max(-pads[3], 0)]
    want = np.pad(cropped, [(max(pads[0], 0), max(pads[2], 0)), (max(pads[1], 0), max(pads[3], 0))], NP_MODE[mode])
    np.testing.assert_array_equal(y.detach().numpy(), want)
    w = rng.standard_normal(want.shape)
    (y * graphc.tensor(w)).sum().backward()
    fd = np.zeros_like(a)
    for i in np.ndindex(a.shape):  # the op is linear: unit perturbations give the gradient
        e = np.zeros_like(a)
        e[i] = 1.0
        fd[i] = (dispatch(PAD, [graphc.tensor(e)], {"pads": pads, "mode": mode, "value": 0.0}).numpy() * w).sum()
    np.testing.assert_allclose(x.grad.numpy(), fd, atol=1e-12)


def test_reflect_pad_wider_than_the_input_is_a_shape_error():
    with pytest.raises(ValueError, match="reflect padding of 3 does not fit dimension 1 of size 3"):
        PAD.infer([TensorType((2, 3), dtypes.float32)], pads=(0, 3, 0, 0), mode="reflect", value=0.0)


@pytest.mark.parametrize("reduction,ufunc", [("mul", np.multiply), ("max", np.maximum), ("min", np.minimum)])
def test_scatter_elements_reductions(reduction, ufunc):
    data = np.arange(1.0, 7.0).reshape(2, 3)
    index = np.array([[0, 0, 2], [1, 1, 1]])
    updates = np.array([[2.0, 3.0, -1.0], [0.5, 9.0, 4.0]])
    got = dispatch(SCATTER_ELEMENTS, [graphc.tensor(data), graphc.tensor(index), graphc.tensor(updates)],
                   {"axis": 1, "reduction": reduction}).numpy()
    want = data.copy()
    for r in range(2):
        for c in range(3):
            want[r, index[r, c]] = ufunc(want[r, index[r, c]], updates[r, c])
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype,low", [(np.float32, -np.inf), (np.int32, np.iinfo(np.int32).min), (np.bool_, False)])
def test_reduce_max_min_of_an_empty_set_are_onnx_identities(dtype, low):
    x = graphc.tensor(np.zeros((2, 0), dtype))
    hi = np.inf if dtype == np.float32 else np.iinfo(dtype).max if dtype != np.bool_ else True
    np.testing.assert_array_equal(dispatch(REDUCE_MAX, [x], {"axes": (1,), "keepdims": False}).numpy(), [low, low])
    np.testing.assert_array_equal(dispatch(REDUCE_MIN, [x], {"axes": (1,), "keepdims": False}).numpy(), [hi, hi])


@pytest.mark.parametrize("call,error,message", [
    (lambda m: m.zeros(0).max(), RuntimeError, r"max\(\): Expected reduction dim to be specified"),
    (lambda m: m.zeros(0, 3).min(), RuntimeError, r"min\(\): Expected reduction dim to be specified"),
    (lambda m: m.zeros(2, 0).max(1), IndexError, r"max\(\): Expected reduction dim 1 to have non-zero size"),
    (lambda m: m.zeros(0, 3).amax(0), IndexError, r"amax\(\): Expected reduction dim 0 to have non-zero size"),
    (lambda m: m.zeros(0, 3).amin(), RuntimeError, r"amin\(\): Expected reduction dim to be specified"),
])
def test_front_end_refuses_empty_max_min_like_pytorch(call, error, message):
    torch = pytest.importorskip("torch")
    for m in (graphc, torch):
        with pytest.raises(error, match=message):
            call(m)
    assert graphc.zeros(0, 3).max(1).values.shape == (0,)  # reducing a non-empty dim is fine


@pytest.mark.parametrize("name", ["uint16", "uint32", "uint64"])
def test_unsigned_dtypes(name):
    d = dtypes.from_name(name)
    assert not d.is_signed and not d.is_floating_point
    a = np.array([1, 5, 250], d.np)
    x = graphc.tensor(a)
    assert x.dtype is d
    np.testing.assert_array_equal((x + x).numpy(), a + a)
    assert dtypes.promote_types(d, dtypes.float32) is dtypes.float32
    with pytest.raises(TypeError, match="Promotion for uint16, uint32, uint64 types is not supported"):
        dtypes.promote_types(d, dtypes.int64)
