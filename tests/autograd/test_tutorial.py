"""The tensor and autograd tutorial's examples, with PyTorch's printed numbers."""
import numpy as np
import pytest

import graphc as torch


def test_mean_of_squares_example():
    x = torch.ones(2, 2, requires_grad=True)
    y = x + 2
    z = y * y * 3
    out = z.mean()
    assert (y.grad_fn.name(), z.grad_fn.name(), out.grad_fn.name()) == (
        "AddBackward0", "MulBackward0", "MeanBackward0")
    assert out.item() == 27.0
    out.backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 2), 4.5, np.float32))
    assert repr(x) == "tensor([[1., 1.],\n        [1., 1.]], requires_grad=True)"
    assert repr(out) == "tensor(27., grad_fn=<MeanBackward0>)"


def test_vector_jacobian_product():
    x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = x * 2
    v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
    y.backward(v)
    np.testing.assert_allclose(x.grad.numpy(), [0.2, 2.0, 0.0002], rtol=1e-6)


def test_requires_grad_flag_and_no_grad():
    x = torch.randn(3, requires_grad=True)
    assert (x ** 2).requires_grad
    with torch.no_grad():
        assert not (x ** 2).requires_grad
    assert x.detach().requires_grad is False
    assert torch.equal(x.detach(), x.detach())


def test_requires_grad_in_place_switch():
    a = torch.randn(2, 2)
    a = ((a * 3) / (a - 1))
    assert a.requires_grad is False
    a.requires_grad_(True)
    b = (a * a).sum()
    assert b.grad_fn.name() == "SumBackward0"


def test_numpy_bridge_shares_memory_both_ways():
    a = torch.ones(5)
    b = a.numpy()
    a.add_(1)
    np.testing.assert_array_equal(b, np.full(5, 2.0))
    c = np.ones(5)
    d = torch.from_numpy(c)
    np.add(c, 1, out=c)
    assert d.tolist() == [2.0] * 5
    d.mul_(3)
    assert c.tolist() == [6.0] * 5


def test_grad_fn_chain_and_accumulate_grad():
    w = torch.randn(3, 3, requires_grad=True)
    x = torch.randn(2, 3)
    y = x.mm(w).relu().sum()
    fn = y.grad_fn
    assert fn.name() == "SumBackward0"
    relu = fn.next_functions[0][0]
    assert relu.name() == "ReluBackward0"
    mm = relu.next_functions[0][0]
    assert mm.name() == "MmBackward0"
    names = [(f.name() if f is not None else None) for f, _ in mm.next_functions]
    assert names == [None, "AccumulateGrad"]
    assert mm.next_functions[1][0].variable is w


def test_grad_accumulates_across_backward_calls():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    (w * 3).sum().backward()
    assert w.grad.tolist() == [6.0, 6.0]
    w.grad.zero_()
    assert w.grad.tolist() == [0.0, 0.0]
