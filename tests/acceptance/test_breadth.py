"""Commonly used PyTorch APIs beyond the tutorials' core, each run on PyTorch and on graphc:
schedulers, Adagrad, the extra layers and losses, typed constructors, finfo/iinfo, unique & co."""
import pytest

from .harness import compare

pytest.importorskip("torch")

_SEED = """
import numpy as np

def seed_params(model, seed=0):
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, tuple(p.shape)).astype(np.float32)))

def data(*shape, seed=1):
    return torch.from_numpy(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))
"""


@pytest.mark.parametrize("make", [
    "lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.01)",
    "lr_scheduler.LinearLR(opt, start_factor=0.25, total_iters=4)",
    "lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=3)",
    "lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=12)",
    "lr_scheduler.MultiplicativeLR(opt, lambda e: 0.9)",
    "lr_scheduler.SequentialLR(opt, [lr_scheduler.LinearLR(opt, 0.5, total_iters=2), "
    "lr_scheduler.CosineAnnealingLR(opt, T_max=5)], milestones=[3])",
])
def test_schedulers(make):
    compare("""
import torch
from torch.optim import lr_scheduler
w = torch.nn.Parameter(torch.ones(3))
opt = torch.optim.SGD([w], lr=0.1, momentum=0.9)
sched = """ + make + """
for epoch in range(10):
    opt.zero_grad()
    (w * w).sum().backward()
    opt.step()
    sched.step()
    print(epoch, sched.get_last_lr(), opt.param_groups[0]['lr'], opt.param_groups[0]['momentum'])
""", rtol=1e-12, atol=0)


def test_reduce_lr_on_plateau():
    compare("""
import torch
w = torch.nn.Parameter(torch.ones(3))
opt = torch.optim.Adam([w], lr=0.1)
sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode='min', factor=0.5, patience=2, threshold=0.01,
                                                   cooldown=1, min_lr=0.01)
for epoch, loss in enumerate([1.0, 0.9, 0.95, 0.91, 0.92, 0.93, 0.8, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9, 0.91]):
    sched.step(loss)
    print(epoch, opt.param_groups[0]['lr'], sched.get_last_lr(), sched.num_bad_epochs)
""", rtol=1e-12, atol=0)


def test_adagrad_training():
    compare("""
import torch
import torch.nn as nn
""" + _SEED + """
model = nn.Sequential(nn.Conv1d(2, 4, 3, padding=1), nn.GroupNorm(2, 4), nn.SiLU(), nn.MaxPool1d(2),
                      nn.AvgPool1d(2), nn.AdaptiveAvgPool1d(2), nn.Flatten(), nn.Linear(8, 3), nn.ELU(),
                      nn.Softplus(), nn.Hardtanh(-0.5, 2.0), nn.Mish(), nn.ReLU6())
seed_params(model)
print(model)
opt = torch.optim.Adagrad(model.parameters(), lr=0.1, lr_decay=0.01, weight_decay=0.001)
x, y = data(5, 2, 8), data(5, 3, seed=2)
for step in range(4):
    opt.zero_grad()
    loss = nn.HuberLoss(delta=0.5)(model(x), y) + nn.SmoothL1Loss()(model(x), y)
    loss.backward()
    opt.step()
    print(step, round(loss.item(), 5))
out = model(x).detach()
""", values=("out",), rtol=1e-4, atol=1e-5)


def test_layers_and_losses():
    compare("""
import torch
import torch.nn as nn
import torch.nn.functional as F
""" + _SEED + """
x = data(2, 3, 4, 5)
up = nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False)(x)
near = F.interpolate(x, size=(7, 3))
corner = nn.Upsample(size=(6, 9), mode='bilinear', align_corners=True)(x)
print(nn.Upsample(scale_factor=2), tuple(up.shape), tuple(near.shape))
a, b = data(4, 6), data(4, 6, seed=3)
cos = nn.CosineSimilarity(dim=1)(a, b)
pd = nn.PairwiseDistance()(a, b)
logp = F.log_softmax(a, 1)
kl = nn.KLDivLoss(reduction='batchmean')(logp, F.softmax(b, 1))
target = torch.tensor([1.0, -1.0, 1.0, -1.0])
mr = nn.MarginRankingLoss(margin=0.2)(a[:, 0], b[:, 0], target)
tm = nn.TripletMarginLoss(margin=1.0)(a, b, data(4, 6, seed=4))
probs = torch.sigmoid(a)
bce = nn.BCELoss(weight=torch.linspace(0.5, 1.5, 6))(probs, (b > 0).float())
nll = nn.NLLLoss(weight=torch.tensor([1.0, 2.0, 0.5, 1.0, 1.0, 3.0]))(logp, torch.tensor([0, 5, 2, 1]))
pl = nn.ParameterList([nn.Parameter(torch.ones(2)), nn.Parameter(torch.zeros(2, 3))])
pdict = nn.ParameterDict({'scale': nn.Parameter(torch.ones(3))})
print(pl, pdict, len(list(pl.parameters())), list(pdict.keys()))
prelu = nn.PReLU(3)
pr = prelu(data(2, 3, 4))
ps = nn.PixelShuffle(2)(data(1, 8, 2, 2))
inorm = nn.InstanceNorm1d(3, affine=True)(data(2, 3, 5))
""", values=("up", "near", "corner", "cos", "pd", "kl", "mr", "tm", "bce", "nll", "pr", "ps", "inorm"),
            rtol=1e-5, atol=1e-6)


def test_tensor_functions():
    compare("""
import torch
import numpy as np
print(torch.finfo(torch.float32).eps, torch.finfo(torch.float64).max, torch.finfo().tiny, torch.finfo(torch.float16).bits)
print(torch.iinfo(torch.int64).max, torch.iinfo(torch.int8).min, torch.finfo(torch.float32))
f = torch.FloatTensor([1, 2, 3])
l = torch.LongTensor([[1, 2], [3, 4]])
print(f, l, torch.FloatTensor(2, 3).shape, torch.BoolTensor([True, False]), torch.DoubleTensor([1.5]).dtype)
print(isinstance(f, torch.FloatTensor), isinstance(l, torch.FloatTensor), f.type(torch.LongTensor))
x = torch.tensor([3, 1, 2, 3, 1, 3])
print(torch.unique(x), torch.unique(x, return_inverse=True, return_counts=True))
print(x.unique(return_counts=True), torch.unique_consecutive(torch.tensor([1, 1, 2, 2, 3, 1])))
print(torch.mode(torch.tensor([[1, 2, 2, 3, 3], [4, 4, 1, 1, 5]]), 1))
print(torch.median(torch.tensor([5.0, 1.0, 4.0, 2.0])), torch.is_floating_point(f), torch.numel(l))
y = torch.arange(12.0).reshape(3, 4)
print(torch.cumsum(y, 0), y.cumprod(1), torch.roll(y, 1, 1), torch.tile(y, (1, 2)).shape)
print(torch.repeat_interleave(torch.tensor([1, 2]), 2), torch.repeat_interleave(torch.tensor([2, 1])))
gx, gy = torch.meshgrid(torch.arange(3), torch.arange(2), indexing='xy')
print(gx, gy)
print(torch.diag(torch.tensor([1.0, 2.0])), torch.diagonal(y), y.trace(), torch.diag_embed(torch.ones(2, 2)))
print(torch.einsum('ij->j', y), torch.einsum('ij,ij->', y, y), torch.tensordot(y, y.t(), dims=1).shape)
print(torch.kron(torch.eye(2), torch.ones(2, 2)), torch.clamp_min(y, 5.0)[0], torch.clamp_max(y, 2)[0])
nan = torch.tensor([float('nan'), float('inf'), -float('inf'), 1.0])
print(torch.nan_to_num(nan), torch.nan_to_num(nan, nan=0.5, posinf=2.0), torch.fmax(nan, torch.zeros(4)))
print(torch.masked_fill(y, y > 5, -1.0))
torch.set_printoptions(precision=2)
print(torch.tensor([1.23456, 2.0]))
torch.set_printoptions(precision=4)
""")


def test_weighted_sampler_and_pin_memory():
    compare("""
import torch
from torch.utils.data import DataLoader, TensorDataset, WeightedRandomSampler
ds = TensorDataset(torch.arange(6.0))
sampler = WeightedRandomSampler([0.0, 1.0, 0.0, 1.0, 0.0, 0.0], num_samples=64, replacement=True)
seen = sorted({int(i) for i in sampler})
print(len(sampler), seen)
loader = DataLoader(ds, batch_size=4, sampler=sampler, pin_memory=True)
print(sum(len(b[0]) for b in loader), sorted({v for b in loader for v in b[0].tolist()}))
""")
