"""The backward engine: ordering, freed graphs, higher order, hooks, custom Functions, limits."""
import numpy as np
import pytest

import graphc as torch
from graphc import autograd


def test_second_backward_through_freed_graph_raises():
    x = torch.randn(3, requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = torch.randn(3, requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.exp(x.detach().numpy()), rtol=1e-6)


def test_long_chain_is_iterative():
    x = torch.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert abs(x.grad.item() - 1.0001 ** 10_000) < 1e-2


def test_diamond_accumulates_once_per_path():
    x = torch.tensor(2.0, requires_grad=True)
    a = x * 3
    b = a * a + a
    b.backward()
    assert x.grad.item() == pytest.approx(3 * (2 * 6 + 1))


def test_autograd_grad_does_not_touch_dot_grad():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (x ** 3).sum()
    (g,) = autograd.grad(y, x)
    assert g.tolist() == [3.0, 12.0]
    assert x.grad is None


def test_higher_order_gradients():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (x ** 3).sum()
    (g,) = autograd.grad(y, x, create_graph=True)
    assert g.requires_grad
    (h,) = autograd.grad(g.sum(), x)
    assert h.tolist() == [6.0, 12.0]
    x.grad = None
    z = (x.sin() * x).sum()
    (g1,) = autograd.grad(z, x, create_graph=True)
    g1.sum().backward()
    xv = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.cos(xv) - xv * np.sin(xv), rtol=1e-6)


def test_unused_input_needs_allow_unused():
    x = torch.tensor(1.0, requires_grad=True)
    u = torch.tensor(1.0, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="allow_unused"):
        autograd.grad(y, [x, u], retain_graph=True)
    assert autograd.grad(y, [x, u], allow_unused=True)[1] is None


def test_no_grad_enable_grad_set_grad_enabled_as_decorators():
    x = torch.ones(2, requires_grad=True)

    @torch.no_grad()
    def f():
        return x * 2

    @torch.enable_grad()
    def g():
        return x * 2

    assert not f().requires_grad
    with torch.no_grad():
        assert g().requires_grad
    with torch.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    torch.set_grad_enabled(False)
    assert not torch.is_grad_enabled()
    torch.set_grad_enabled(True)


def test_detach_shares_memory_and_detach_in_place():
    x = torch.randn(3, requires_grad=True)
    y = x * 2
    d = y.detach()
    d.zero_()
    assert y.detach().tolist() == [0.0, 0.0, 0.0]
    y.detach_()
    assert y.grad_fn is None and not y.requires_grad


def test_leaf_in_place_with_grad_raises_and_changes_nothing():
    w = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w.add_(1)
    assert w.tolist() == [1.0, 1.0]
    with torch.no_grad():
        w.add_(1)
    assert w.tolist() == [2.0, 2.0]


def test_modified_saved_tensor_is_detected():
    x = torch.randn(3, requires_grad=True)
    y = x * 1
    z = y * y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_in_place_on_non_leaf_is_differentiable():
    x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x * 2
    y.mul_(y)
    y.sub_(5)
    y.relu_()
    y.sum().backward()
    assert x.grad.tolist() == [0.0, -16.0, 24.0]


def test_retain_grad_and_hooks():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    seen = []
    y.register_hook(lambda g: seen.append(g.tolist()))
    x.register_hook(lambda g: g * 10)
    (y * y).sum().backward()
    assert y.grad.tolist() == [6.0, 12.0]
    assert seen == [[6.0, 12.0]]
    assert x.grad.tolist() == [180.0, 360.0]


class MyReLU(autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        grad = grad_output.clone()
        grad[x < 0] = 0
        return grad


def test_custom_function():
    x = torch.tensor([-1.0, 2.0, -3.0, 4.0], requires_grad=True)
    y = MyReLU.apply(x)
    assert y.grad_fn.name() == "MyReLUBackward"
    (y * torch.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert x.grad.tolist() == [0.0, 2.0, 0.0, 4.0]


def test_custom_function_ctx_fields():
    class Scale(autograd.Function):
        @staticmethod
        def forward(ctx, x, k, flag):
            ctx.k = k
            assert ctx.needs_input_grad == (True, False, False)
            out = x * k
            idx = torch.argmax(x)
            ctx.mark_non_differentiable(idx)
            return out, idx

        @staticmethod
        def backward(ctx, g, g_idx):
            return g * ctx.k, None, None

    x = torch.tensor([1.0, 3.0], requires_grad=True)
    y, i = Scale.apply(x, 2.0, True)
    assert not i.requires_grad
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_backward_of_non_scalar_needs_gradient():
    x = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        (x * 2).backward()


def test_only_floating_point_requires_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        torch.tensor([1, 2]).requires_grad_()
