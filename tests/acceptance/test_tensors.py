"""tensorqs_tutorial.py and the 60-minute blitz tensor_tutorial.py, on PyTorch and on graphc."""
import pytest

from .harness import compare

pytest.importorskip("torch")


def test_tensorqs_initializing(tmp_path):
    compare("""
    import torch
    import numpy as np

    data = [[1, 2], [3, 4]]
    x_data = torch.tensor(data)
    np_array = np.array(data)
    x_np = torch.from_numpy(np_array)
    print(x_data, x_np, x_data.dtype, x_np.dtype)
    x_ones = torch.ones_like(x_data)
    print(f"Ones Tensor: \\n {x_ones} \\n")
    x_rand = torch.rand_like(x_data, dtype=torch.float)
    print(x_rand.shape, x_rand.dtype)
    shape = (2, 3,)
    rand_tensor = torch.rand(shape)
    ones_tensor = torch.ones(shape)
    zeros_tensor = torch.zeros(shape)
    print(rand_tensor.shape)
    print(f"Ones Tensor: \\n {ones_tensor} \\n")
    print(f"Zeros Tensor: \\n {zeros_tensor}")
    tensor = torch.rand(3, 4)
    print(f"Shape of tensor: {tensor.shape}")
    print(f"Datatype of tensor: {tensor.dtype}")
    print(f"Device tensor is stored on: {tensor.device}")
    if torch.cuda.is_available():
        tensor = tensor.to("cuda")
    if torch.accelerator.is_available():
        tensor = tensor.to(torch.accelerator.current_accelerator())
    print(tensor.device)
    """)


def test_tensorqs_random_prints_have_pytorch_layout():
    compare("""
    import torch
    x_data = torch.tensor([[1, 2], [3, 4]])
    x_rand = torch.rand_like(x_data, dtype=torch.float)
    print(f"Random Tensor: \\n {x_rand} \\n")
    print(f"Random Tensor: \\n {torch.rand((2, 3,))} \\n")
    print(torch.randn(4, 5))
    print(torch.empty(5, 3).shape)
    """, mask_numbers=True)


def test_tensorqs_operations():
    compare("""
    import torch
    import numpy as np

    tensor = torch.ones(4, 4)
    print(f"First row: {tensor[0]}")
    print(f"First column: {tensor[:, 0]}")
    print(f"Last column: {tensor[..., -1]}")
    tensor[:, 1] = 0
    print(tensor)
    t1 = torch.cat([tensor, tensor, tensor], dim=1)
    print(t1)
    y1 = tensor @ tensor.T
    y2 = tensor.matmul(tensor.T)
    y3 = torch.rand_like(y1)
    r = torch.matmul(tensor, tensor.T, out=y3)
    print(y1, y2, y3, r is y3)
    z1 = tensor * tensor
    z2 = tensor.mul(tensor)
    z3 = torch.rand_like(tensor)
    r = torch.mul(tensor, tensor, out=z3)
    print(z1, z2, z3, r is z3)
    agg = tensor.sum()
    agg_item = agg.item()
    print(agg_item, type(agg_item))
    print(f"{tensor} \\n")
    tensor.add_(5)
    print(tensor)
    t = torch.ones(5)
    print(f"t: {t}")
    n = t.numpy()
    print(f"n: {n}")
    t.add_(1)
    print(f"t: {t}")
    print(f"n: {n}")
    n = np.ones(5)
    t = torch.from_numpy(n)
    np.add(n, 1, out=n)
    print(f"t: {t}")
    print(f"n: {n}")
    """)


def test_blitz_tensor_tutorial():
    compare("""
    import torch
    import numpy as np

    x = torch.empty(5, 3)
    print(x.shape)
    x = torch.zeros(5, 3, dtype=torch.long)
    print(x)
    x = torch.tensor([5.5, 3])
    print(x)
    x = x.new_ones(5, 3, dtype=torch.double)
    print(x)
    x = torch.randn_like(x, dtype=torch.float)
    print(x.size(), x.dtype)
    x = torch.arange(15, dtype=torch.float32).reshape(5, 3) / 7
    y = torch.linspace(0, 1, 15).view(5, 3)
    print(x + y)
    print(torch.add(x, y))
    result = torch.empty(5, 3)
    torch.add(x, y, out=result)
    print(result)
    y.add_(x)
    print(y)
    print(x[:, 1])
    x = torch.arange(16.).reshape(4, 4)
    y = x.view(16)
    z = x.view(-1, 8)
    print(x.size(), y.size(), z.size())
    x = torch.tensor([0.25])
    print(x)
    print(x.item())
    a = torch.ones(5)
    print(a)
    b = a.numpy()
    print(b)
    a.add_(1)
    print(a)
    print(b)
    a = np.ones(5)
    b = torch.from_numpy(a)
    np.add(a, 1, out=a)
    print(a)
    print(b)
    if torch.cuda.is_available():
        device = torch.device("cuda")
        y = torch.ones_like(x, device=device)
        x = x.to(device)
        z = x + y
        print(z)
        print(z.to("cpu", torch.double))
    print(x.to("cpu", torch.double))
    print(x.to(torch.device("cpu")))
    """)


def test_creation_and_attributes():
    compare("""
    import math
    import torch
    import numpy as np

    print(torch.arange(5), torch.arange(1, 4), torch.arange(1, 2.5, 0.5))
    print(torch.linspace(-math.pi, math.pi, 5))
    print(torch.linspace(-math.pi, math.pi, 2000).shape)
    print(torch.eye(3), torch.eye(2, 3))
    print(torch.full((2, 3), 3.14), torch.full((2,), 7))
    print(torch.zeros(2, 2, dtype=torch.int32), torch.ones(3, dtype=torch.bool))
    print(torch.zeros_like(torch.ones(2, 3)), torch.full_like(torch.ones(2), 5))
    print(torch.tensor(3.5), torch.tensor(7), torch.tensor(True), torch.tensor([]))
    print(torch.tensor([[1., -1.], [1., -1.]]))
    print(torch.tensor(np.array([[1, 2, 3], [4, 5, 6]])))
    print(torch.tensor([1.5, 2], dtype=torch.float64))
    x = torch.tensor([[1, 2, 3], [4, 5, 6]])
    print(x.shape, x.size(), x.size(0), x.size(-1), x.dim(), x.ndim, x.numel(), len(x))
    print(x.dtype, x.device, x.is_leaf, x.requires_grad, x.grad_fn)
    print(x.float().dtype, x.double().dtype, x.long().dtype, x.int().dtype, x.bool().dtype)
    print(x.type(torch.float), x.to(torch.float16).dtype)
    print(x.tolist(), x[1, 2].item(), type(x[1, 2].item()))
    print(torch.is_tensor(x), torch.numel(x), x.is_floating_point())
    print(torch.get_default_dtype(), torch.float32, torch.int64, torch.bool)
    print(repr(torch.device("cpu")), torch.device("cpu").type, str(torch.device("cpu")))
    print(torch.Size([2, 3]), torch.Size([2, 3]) == (2, 3))
    print(torch.zeros(2, 3).shape[1], list(torch.zeros(2, 3).shape))
    """)


def test_indexing_slicing_joining():
    compare("""
    import torch

    x = torch.arange(24.).reshape(2, 3, 4)
    print(x[0], x[:, 1], x[..., -1], x[1, :, ::2], x[:, None].shape, x[x > 20])
    print(x[0, [0, 2]], x[torch.tensor([1, 0])].shape)
    print(torch.cat([x, x], dim=0).shape, torch.cat((x, x), 2).shape, torch.cat([x, x], -1).shape)
    print(torch.stack([x, x]).shape, torch.stack([x, x], dim=1).shape)
    print(torch.hstack([x[0], x[1]]).shape, torch.vstack([x[0], x[1]]).shape)
    print(x.permute(2, 0, 1).shape, x.transpose(0, 1).shape, x.flatten().shape)
    print(x.squeeze().shape, x.unsqueeze(0).shape, x[0].t().shape, x.reshape(-1, 4).shape)
    print(torch.split(x, 2, dim=2)[1].shape, torch.chunk(x, 3, 1)[0].shape)
    print(x.split([1, 3], dim=2)[1].shape)
    y = x.clone()
    y[0, 0, 0] = 100
    y[1] = 0
    y[:, :, 1] = torch.tensor([7., 8., 9.])
    print(y)
    print(torch.where(x > 10, x, torch.zeros_like(x))[1])
    print(x.max(), x.min(), x.mean(), x.sum(0), x.sum(dim=(0, 1)), x.mean(-1, keepdim=True).shape)
    print(x.max(dim=1), torch.max(x, 2)[1], x.argmax(), torch.argmax(x, dim=1))
    print(x.std(), x.var(1), x.prod(), x.abs().sum(), x.norm(), x.exp()[0, 0], x.sqrt()[1, 2])
    print(torch.sort(torch.tensor([3, 1, 2])), torch.topk(torch.tensor([3., 1., 2.]), 2))
    print(x.T.shape if x.dim() == 2 else x.mT.shape)
    """)


def test_arithmetic():
    compare("""
    import torch

    a = torch.tensor([[1., 2.], [3., 4.]])
    b = torch.tensor([[0.5, -1.], [2., 0.25]])
    print(a + b, a - b, a * b, a / b, a ** 2, 2 ** a, -a, a // 3, a % 3, 1 / a, 3 - a)
    print(a @ b, a.mm(b), torch.mm(a, b), a.matmul(b[0]), torch.dot(a[0], b[0]), a @ a.T)
    print(a > 2, a == b, (a > 1) & (a < 4), ~(a > 2), a != 1)
    print(torch.sin(a), torch.cos(a), torch.log(a), torch.tanh(a), torch.sigmoid(a))
    print(torch.clamp(a, 1.5, 3.5), a.clamp(min=2), torch.relu(a - 2), torch.sqrt(a))
    print(a.add(1), a.sub(b), a.div(2), torch.mul(a, 2), a.pow(3), a.neg(), a.exp(), a.abs())
    c = a.clone()
    c.mul_(2)
    c.sub_(1)
    c.div_(4)
    c += 1
    c *= 3
    c -= b
    c /= 2
    print(c)
    c.zero_()
    c.fill_(5)
    print(c, a.int() + 1, a.int() / 2, a.int() * 1.5, (a > 2).sum(), (a > 2).float().mean())
    print(torch.allclose(a, a + 1e-9), torch.equal(a, a.clone()), a.eq(b).all(), a.any())
    x = torch.ones(3, 1) + torch.arange(4.)
    print(x.shape, x)
    """)


def test_bad_shapes_raise_runtime_errors():
    compare("""
    import torch
    try:
        torch.ones(2, 3) @ torch.ones(2, 3)
    except RuntimeError as e:
        print("RuntimeError")
    try:
        torch.ones(2, 3) + torch.ones(4)
    except RuntimeError:
        print("RuntimeError")
    try:
        torch.ones(2, 3).view(4)
    except RuntimeError:
        print("RuntimeError")
    try:
        torch.cat([torch.ones(2, 3), torch.ones(2, 4)])
    except RuntimeError:
        print("RuntimeError")
    try:
        torch.ones(2, 3)[5]
    except IndexError:
        print("IndexError")
    try:
        torch.ones(3).item()
    except RuntimeError:
        print("RuntimeError")
    """)
