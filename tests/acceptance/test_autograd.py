"""autogradqs_tutorial.py and the blitz autograd_tutorial.py, on PyTorch and on graphc."""
import pytest

from .harness import compare

pytest.importorskip("torch")

_WEIGHTS = """
import numpy as np
rng = np.random.default_rng(0)
W0 = rng.standard_normal((5, 3)).astype(np.float32)
B0 = rng.standard_normal(3).astype(np.float32)
"""


def test_autogradqs_tutorial():
    compare(_WEIGHTS + """
import torch

x = torch.ones(5)  # input tensor
y = torch.zeros(3)  # expected output
w = torch.tensor(W0, requires_grad=True)
b = torch.tensor(B0, requires_grad=True)
z = torch.matmul(x, w)+b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
print(f"Gradient function for z = {z.grad_fn}")
print(f"Gradient function for loss = {loss.grad_fn}")
loss.backward()
print(w.grad)
print(b.grad)
z = torch.matmul(x, w)+b
print(z.requires_grad)
with torch.no_grad():
    z = torch.matmul(x, w)+b
print(z.requires_grad)
z = torch.matmul(x, w)+b
z_det = z.detach()
print(z_det.requires_grad)
inp = torch.eye(4, 5, requires_grad=True)
out = (inp+1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"First call\\n{inp.grad}")
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\\nSecond call\\n{inp.grad}")
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\\nCall after zeroing gradients\\n{inp.grad}")
""", values=("loss",))


def test_autogradqs_random_init_and_second_backward_error():
    compare("""
import torch

x = torch.ones(5)
y = torch.zeros(3)
w = torch.randn(5, 3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
z = torch.matmul(x, w)+b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
print(w, b, z, loss)
loss.backward()
print(w.grad.shape, b.grad.shape, w.is_leaf, z.is_leaf, loss.grad_fn.name())
try:
    loss.backward()
except RuntimeError:
    print("second backward refused")
""", mask_numbers=True)


def test_blitz_autograd_tutorial_old():
    compare("""
import torch

x = torch.ones(2, 2, requires_grad=True)
print(x)
y = x + 2
print(y)
print(y.grad_fn)
z = y * y * 3
out = z.mean()
print(z, out)
a = torch.tensor([[0.5, -2.0], [3.0, 0.25]])
a = ((a * 3) / (a - 1))
print(a.requires_grad)
a.requires_grad_(True)
print(a.requires_grad)
b = (a * a).sum()
print(b.grad_fn)
out.backward()
print(x.grad)
x = torch.tensor([0.3, -0.7, 1.1], requires_grad=True)
y = x * 2
while y.data.norm() < 1000:
    y = y * 2
print(y)
v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
y.backward(v)
print(x.grad)
print(x.requires_grad)
print((x ** 2).requires_grad)
with torch.no_grad():
    print((x ** 2).requires_grad)
print(x.requires_grad)
y = x.detach()
print(y.requires_grad)
print(x.eq(y).all())
""")


def test_blitz_autograd_tutorial_new():
    compare("""
import torch
from torch import nn, optim

a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)
Q = 3*a**3 - b**2
external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)
print(9*a**2 == a.grad)
print(-2*b == b.grad)
x = torch.rand(5, 5)
y = torch.rand(5, 5)
z = torch.rand((5, 5), requires_grad=True)
a = x + y
print(f"Does `a` require gradients?: {a.requires_grad}")
b = x + z
print(f"Does `b` require gradients?: {b.requires_grad}")

model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
model.fc = nn.Linear(4, 10)
for param in model.parameters():
    param.requires_grad = False
model.fc = nn.Linear(4, 10)
optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
print([p.requires_grad for p in model.parameters()])
print(model)
""")


def test_autograd_grad_and_hooks():
    compare("""
import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = (x ** 3).sum()
g, = torch.autograd.grad(y, x, create_graph=True)
print(g, g.grad_fn is not None)
g2, = torch.autograd.grad(g.sum(), x)
print(g2)
w = torch.tensor([[1., 2.], [3., 4.]], requires_grad=True)
out = (w @ w).sum()
out.backward(retain_graph=True)
print(w.grad)
out.backward()
print(w.grad)
w.grad = None
h = w * 2
h.retain_grad()
h.sum().backward()
print(h.grad, w.grad)
x = torch.tensor(2.0, requires_grad=True)
y = x * x
print(y, y.grad_fn, y.grad_fn.next_functions)
y.backward()
print(x.grad, x.grad.item())
with torch.no_grad():
    x -= 0.1 * x.grad
print(x, x.requires_grad, x.is_leaf)
x.grad.zero_()
print(x.grad)
with torch.enable_grad():
    print(torch.is_grad_enabled())
with torch.set_grad_enabled(False):
    print(torch.is_grad_enabled(), (x * 2).requires_grad)
print(torch.is_grad_enabled())
""")
