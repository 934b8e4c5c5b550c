"""neural_networks_tutorial.py and buildmodel_tutorial.py, on PyTorch and on graphc, with weights
and inputs made in NumPy so that both print the same numbers."""
import pytest

from .harness import compare

pytest.importorskip("torch")

_SEED = """
import numpy as np

def seed_params(model, seed=0):
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            bound = 1 / np.sqrt(p[0].numel() if p.dim() > 1 else p.shape[0])
            p.copy_(torch.from_numpy(rng.uniform(-bound, bound, tuple(p.shape)).astype(np.float32)))

def data(*shape, seed=1):
    return torch.from_numpy(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))
"""


def test_neural_networks_tutorial():
    compare("""
import torch
import torch.nn as nn
import torch.nn.functional as F
""" + _SEED + """

class Net(nn.Module):

    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, input):
        c1 = F.relu(self.conv1(input))
        s2 = F.max_pool2d(c1, (2, 2))
        c3 = F.relu(self.conv2(s2))
        s4 = F.max_pool2d(c3, 2)
        s4 = torch.flatten(s4, 1)
        f5 = F.relu(self.fc1(s4))
        f6 = F.relu(self.fc2(f5))
        output = self.fc3(f6)
        return output


net = Net()
seed_params(net)
print(net)
params = list(net.parameters())
print(len(params))
print(params[0].size())
input = data(1, 1, 32, 32)
out = net(input)
print(out)
net.zero_grad()
out.backward(data(1, 10, seed=2))
output = net(input)
target = data(10, seed=3)
target = target.view(1, -1)
criterion = nn.MSELoss()
loss = criterion(output, target)
print(loss)
print(loss.grad_fn)  # MSELoss
print(loss.grad_fn.next_functions[0][0])  # Linear
# The tutorial also prints loss.grad_fn.next_functions[0][0].next_functions[0][0]: PyTorch's
# AddmmBackward0 lists (bias, input, weight) and shows the bias's AccumulateGrad; graphc's Gemm
# lists (input, weight, bias) and shows ReluBackward0 (a known difference, left out here).
net.zero_grad()
print('conv1.bias.grad before backward')
print(net.conv1.bias.grad)
loss.backward()
print('conv1.bias.grad after backward')
print(net.conv1.bias.grad)
learning_rate = 0.01
for f in net.parameters():
    f.data.sub_(f.grad.data * learning_rate)
import torch.optim as optim
optimizer = optim.SGD(net.parameters(), lr=0.01)
print(optimizer)
for _ in range(3):
    optimizer.zero_grad()
    output = net(input)
    loss = criterion(output, target)
    loss.backward()
    optimizer.step()
    print(loss.item())
""", values=("output",), rtol=1e-4, atol=1e-5)


def test_buildmodel_tutorial():
    compare("""
import os
import torch
from torch import nn
from torch.utils.data import DataLoader
""" + _SEED + """
device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
print(f"Using {device} device")


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28*28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


model = NeuralNetwork().to(device)
seed_params(model)
print(model)
X = torch.from_numpy(np.random.default_rng(5).random((1, 28, 28), dtype=np.float32)).to(device)
logits = model(X)
pred_probab = nn.Softmax(dim=1)(logits)
y_pred = pred_probab.argmax(1)
print(f"Predicted class: {y_pred}")
print(pred_probab)
input_image = torch.from_numpy(np.random.default_rng(6).random((3, 28, 28), dtype=np.float32))
print(input_image.size())
flatten = nn.Flatten()
flat_image = flatten(input_image)
print(flat_image.size())
layer1 = nn.Linear(in_features=28*28, out_features=20)
seed_params(layer1, 7)
hidden1 = layer1(flat_image)
print(hidden1.size())
print(f"Before ReLU: {hidden1}\\n\\n")
hidden1 = nn.ReLU()(hidden1)
print(f"After ReLU: {hidden1}")
seq_modules = nn.Sequential(
    flatten,
    layer1,
    nn.ReLU(),
    nn.Linear(20, 10)
)
seed_params(seq_modules, 8)
logits = seq_modules(input_image)
softmax = nn.Softmax(dim=1)
pred_probab = softmax(logits)
print(pred_probab, pred_probab.sum(1))
print(f"Model structure: {model}\\n\\n")
for name, param in model.named_parameters():
    print(f"Layer: {name} | Size: {param.size()} | Values : {param[:2]} \\n")
""", rtol=1e-4, atol=1e-6)


def test_module_api():
    compare("""
import torch
from torch import nn
""" + _SEED + """

model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3), nn.LogSoftmax(dim=1))
seed_params(model)
print(model, model[0], model[-1], len(model), model[1:3])
print([n for n, _ in model.named_modules()], [n for n, _ in model.named_children()])
print(list(model.state_dict().keys()), model.state_dict()["0.weight"].shape)
print(sum(p.numel() for p in model.parameters() if p.requires_grad))
print(model.training)
model.eval()
print(model.training, model[2].training)
x = data(5, 4)
print(model(x))
model.train()
print(model.training)
model.requires_grad_(False)
print(model[0].weight.requires_grad)
layer = nn.Linear(3, 2, bias=False)
print(layer, layer.bias, layer.weight.shape, layer.in_features, layer.out_features)
print(nn.Conv2d(3, 6, kernel_size=3, stride=2, padding=1), nn.MaxPool2d(2, 2), nn.BatchNorm2d(6))
print(nn.CrossEntropyLoss(), nn.MSELoss(reduction="sum"), nn.Softmax(dim=1), nn.Flatten(0, 1))
print(nn.ModuleList([nn.Linear(2, 2), nn.Tanh()]), nn.ModuleDict({"a": nn.Sigmoid()}))
print(nn.Embedding(10, 3), nn.LayerNorm(4), nn.Dropout(p=0.2), nn.Identity(), nn.LeakyReLU(0.1))
p = nn.Parameter(torch.ones(2))
print(p, isinstance(p, torch.Tensor), p.requires_grad)
loss_fn = nn.CrossEntropyLoss()
logits = data(4, 3, seed=3).requires_grad_()
y = torch.tensor([0, 2, 1, 2])
loss = loss_fn(logits, y)
print(loss, loss.grad_fn)
loss.backward()
print(logits.grad)
print(nn.functional.one_hot(y), nn.functional.softmax(logits, dim=-1).sum(-1))
""", rtol=1e-4, atol=1e-6)
