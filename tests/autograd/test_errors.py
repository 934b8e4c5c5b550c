"""Bad input: errors name the op, the shapes and the user's line, and change nothing."""
import pytest

import graphc as torch


def test_shape_error_names_op_shapes_and_line():
    a = torch.ones(2, 3)
    b = torch.ones(4, 5)
    with pytest.raises(torch.ShapeError) as info:
        a.mm(b)  # the line the message must name
    msg = str(info.value)
    assert "MatMul" in msg and "f32[2,3]" in msg and "f32[4,5]" in msg
    assert "test_errors.py" in msg and "a.mm(b)" in msg


def test_broadcast_error_is_a_runtime_error():
    with pytest.raises(RuntimeError, match="Add.*not broadcastable"):
        torch.ones(2, 3) + torch.ones(4)


def test_failed_in_place_op_writes_nothing():
    a = torch.ones(2, 3)
    before = a.tolist()
    version = a._version[0]
    with pytest.raises(RuntimeError):
        a.add_(torch.ones(4, 3))
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        a.add_(torch.ones(5, 2, 3))
    assert a.tolist() == before and a._version[0] == version


def test_int_tensor_cannot_take_float_result_in_place():
    a = torch.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        a.add_(0.5)
    assert a.tolist() == [1, 2]
