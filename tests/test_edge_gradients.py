"""Gradients at the edges where a naive chain rule gives NaN but PyTorch gives a subgradient."""
import numpy as np
import pytest

import graphc

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("make", [
    lambda m: m.zeros(3, requires_grad=True),
    lambda m: m.tensor([3.0, 0.0, 4.0], requires_grad=True),
], ids=["all-zero", "regular"])
def test_norm_gradient(make):
    grads = []
    for m in (graphc, torch):
        x = make(m)
        x.norm().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)
    assert np.isfinite(grads[0]).all()


def test_cross_entropy_with_every_target_ignored_has_zero_gradient():
    results = []
    for m in (graphc, torch):
        x = m.zeros(2, 3, requires_grad=True)
        loss = m.nn.functional.cross_entropy(x, m.tensor([-100, 1]) * m.tensor([1, 0]) - m.tensor([0, 100]))
        loss.backward()
        results.append((loss.item(), x.grad.numpy(), str(x.grad)))
    assert np.isnan(results[0][0]) and np.isnan(results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    assert results[0][2] == results[1][2]  # no negative zeros in the printed gradient
