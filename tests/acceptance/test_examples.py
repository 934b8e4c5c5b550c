"""pytorch_with_examples (learning PyTorch with examples): the polynomial fits of sin(x), written
with tensors, autograd, a custom autograd.Function, nn, optim, a Module and a dynamic net."""
import pytest

from .harness import compare

pytest.importorskip("torch")

_INIT = """
import math
A0, B0, C0, D0, E0 = 0.12, -0.4, 0.05, 0.3, 0.01
"""


def test_polynomial_tensor():
    compare(_INIT + """
import torch

dtype = torch.float
device = torch.device("cpu")
x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
y = torch.sin(x)
a = torch.tensor(A0, device=device, dtype=dtype)
b = torch.tensor(B0, device=device, dtype=dtype)
c = torch.tensor(C0, device=device, dtype=dtype)
d = torch.tensor(D0, device=device, dtype=dtype)
learning_rate = 1e-6
for t in range(2000):
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum().item()
    if t % 100 == 99:
        print(t, loss)
    grad_y_pred = 2.0 * (y_pred - y)
    grad_a = grad_y_pred.sum()
    grad_b = (grad_y_pred * x).sum()
    grad_c = (grad_y_pred * x ** 2).sum()
    grad_d = (grad_y_pred * x ** 3).sum()
    a -= learning_rate * grad_a
    b -= learning_rate * grad_b
    c -= learning_rate * grad_c
    d -= learning_rate * grad_d
print(f'Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3')
""", rtol=1e-3)


def test_polynomial_tensor_random_init():
    compare("""
import math
import torch

dtype = torch.float
device = "cuda" if torch.cuda.is_available() else "cpu"
torch.set_default_device(device)
x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
y = torch.sin(x)
a = torch.randn((), dtype=dtype)
b = torch.randn((), device=device, dtype=dtype)
print(a.shape, a.dtype, a.dim())
""", mask_numbers=True)


def test_polynomial_autograd():
    compare(_INIT + """
import torch

dtype = torch.float
device = "cuda" if torch.cuda.is_available() else "cpu"
x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype, device=device)
y = torch.sin(x)
a = torch.tensor(A0, dtype=dtype, requires_grad=True)
b = torch.tensor(B0, dtype=dtype, requires_grad=True)
c = torch.tensor(C0, dtype=dtype, requires_grad=True)
d = torch.tensor(D0, dtype=dtype, requires_grad=True)
learning_rate = 1e-6
for t in range(2000):
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(t, loss.item())
    loss.backward()
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad
        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None
print(f'Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3')
""", rtol=1e-3)


def test_polynomial_custom_function():
    compare("""
import math
import torch


class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


dtype = torch.float
device = torch.device("cpu")
x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
y = torch.sin(x)
a = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
b = torch.full((), -1.0, device=device, dtype=dtype, requires_grad=True)
c = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
d = torch.full((), 0.3, device=device, dtype=dtype, requires_grad=True)
learning_rate = 5e-6
for t in range(2000):
    P3 = LegendrePolynomial3.apply
    y_pred = a + b * P3(c + d * x)
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(t, loss.item())
    loss.backward()
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad
        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None
print(f'Result: y = {a.item()} + {b.item()} * P3({c.item()} + {d.item()} x)')
print(P3(c + d * x).grad_fn.name(), LegendrePolynomial3.apply(x[:2]))
""", rtol=1e-3)


_NN_INIT = """
with torch.no_grad():
    model[0].weight.copy_(torch.tensor([[0.1, -0.2, 0.05]]))
    model[0].bias.fill_(0.01)
"""


def test_polynomial_nn():
    compare("""
import math
import torch

x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)
p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)
print(xx.shape, xx.dtype)
model = torch.nn.Sequential(
    torch.nn.Linear(3, 1),
    torch.nn.Flatten(0, 1)
)
""" + _NN_INIT + """
loss_fn = torch.nn.MSELoss(reduction='sum')
learning_rate = 1e-6
for t in range(2000):
    y_pred = model(xx)
    loss = loss_fn(y_pred, y)
    if t % 100 == 99:
        print(t, loss.item())
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for param in model.parameters():
            param -= learning_rate * param.grad
linear_layer = model[0]
print(f'Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + {linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3')
print(model, loss.grad_fn)
""", rtol=1e-3)


def test_polynomial_optim_rmsprop():
    """The optim variant: RMSprop, which graphc lacked."""
    compare("""
import math
import torch

x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)
p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)
model = torch.nn.Sequential(
    torch.nn.Linear(3, 1),
    torch.nn.Flatten(0, 1)
)
""" + _NN_INIT + """
loss_fn = torch.nn.MSELoss(reduction='sum')
learning_rate = 1e-3
optimizer = torch.optim.RMSprop(model.parameters(), lr=learning_rate)
print(optimizer)
# 600 of the tutorial's 2000 steps: past ~700, RMSprop at this rate hops around the optimum by
# about lr, so float rounding (even PyTorch's own, float32 vs float64) decides the printed digits.
for t in range(600):
    y_pred = model(xx)
    loss = loss_fn(y_pred, y)
    if t % 100 == 99:
        print(t, loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
linear_layer = model[0]
print(f'Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + {linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3')
""", rtol=1e-3, atol=1e-5)


def test_rmsprop_options():
    compare("""
import torch
import numpy as np

rng = np.random.default_rng(1)
W = rng.standard_normal((4, 3)).astype(np.float32)
X = rng.standard_normal((8, 3)).astype(np.float32)
for kw in [dict(), dict(momentum=0.9), dict(centered=True), dict(weight_decay=0.1, alpha=0.9),
           dict(momentum=0.5, centered=True, eps=1e-6)]:
    w = torch.nn.Parameter(torch.tensor(W))
    opt = torch.optim.RMSprop([w], lr=0.01, **kw)
    for _ in range(5):
        opt.zero_grad()
        loss = (torch.tensor(X) @ w.T).tanh().pow(2).sum()
        loss.backward()
        opt.step()
    print(kw, w.detach().numpy().round(5).tolist())
print(sorted(opt.state_dict()["param_groups"][0]))
print(sorted(opt.state_dict()["state"][0]))
""", rtol=1e-4, atol=1e-5)


def test_polynomial_module():
    compare(_INIT + """
import torch


class Polynomial3(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.tensor(A0))
        self.b = torch.nn.Parameter(torch.tensor(B0))
        self.c = torch.nn.Parameter(torch.tensor(C0))
        self.d = torch.nn.Parameter(torch.tensor(D0))

    def forward(self, x):
        return self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3

    def string(self):
        return f'y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3'


x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)
model = Polynomial3()
criterion = torch.nn.MSELoss(reduction='sum')
optimizer = torch.optim.SGD(model.parameters(), lr=1e-6)
for t in range(2000):
    y_pred = model(x)
    loss = criterion(y_pred, y)
    if t % 100 == 99:
        print(t, loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(f'Result: {model.string()}')
print(list(model.state_dict()), model)
""", rtol=1e-3)


def test_dynamic_net():
    compare(_INIT + """
import random
import torch


class DynamicNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.tensor(A0))
        self.b = torch.nn.Parameter(torch.tensor(B0))
        self.c = torch.nn.Parameter(torch.tensor(C0))
        self.d = torch.nn.Parameter(torch.tensor(D0))
        self.e = torch.nn.Parameter(torch.tensor(E0))

    def forward(self, x):
        y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
        for exp in range(4, random.randint(4, 6)):
            y = y + self.e * x ** exp
        return y

    def string(self):
        return f'y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3 + {self.e.item()} x^4 ? + {self.e.item()} x^5 ?'


random.seed(0)
x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)
model = DynamicNet()
criterion = torch.nn.MSELoss(reduction='sum')
optimizer = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
for t in range(3000):
    y_pred = model(x)
    loss = criterion(y_pred, y)
    if t % 200 == 199:
        print(t, loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(f'Result: {model.string()}')
""", rtol=2e-3)
