"""Transfer learning, as in the PyTorch tutorial, at a size that trains in seconds.

    python examples/transfer.py

A small conv net with BatchNorm is first trained on digits 0-4 (the "pretrained" backbone);
then everything is frozen but a new last layer, which is trained on digits 5-9 with SGD and a
StepLR schedule. Prints the accuracy on held-out images of 5-9.
"""
import graphc as torch
import graphc.nn as nn
from graphc.optim import lr_scheduler


class SmallConvNet(nn.Module):
    def __init__(self, num_classes: int = 5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.AdaptiveAvgPool2d((2, 2)),
        )
        self.fc = nn.Linear(16 * 2 * 2, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


torch.manual_seed(0)
model = SmallConvNet()
example_inputs = (torch.randn(16, 1, 8, 8),)
example_targets = (torch.randint(0, 5, (16,)),)
criterion = nn.CrossEntropyLoss()


def loss(output, target):
    return criterion(output, target)


def optimizer(params):
    return torch.optim.SGD(params, lr=0.01, momentum=0.9)


def _subset(train: bool, labels):
    from graphc.utils.data.datasets import Digits

    data = Digits(train=train, size=8, channels=1)
    keep = [i for i, t in enumerate(data.targets) if t in labels]
    x = torch.from_numpy(data.images[keep])
    y = torch.from_numpy(data.targets[keep] - min(labels))
    return torch.utils.data.TensorDataset(x, y)


def fit(net, params, dataset, epochs, scheduler_step=None):
    from graphc.progress import Progress
    from graphc.utils.data import DataLoader

    opt = optimizer(params)
    sched = lr_scheduler.StepLR(opt, step_size=scheduler_step or epochs, gamma=0.1)
    loader = DataLoader(dataset, batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(0))
    for epoch in range(epochs):
        net.train()
        bar = Progress(loader, f"epoch {epoch + 1}/{epochs} lr={sched.get_last_lr()[0]:.4g}")
        for inputs, labels in bar:
            opt.zero_grad()
            err = loss(net(inputs), labels)
            err.backward()
            opt.step()
            bar.set(loss=err.item())
        sched.step()


def accuracy(net, dataset) -> float:
    net.eval()
    x, y = dataset.tensors
    with torch.no_grad():
        return (net(x).argmax(1) == y).float().mean().item()


def main() -> float:
    fit(model, model.parameters(), _subset(True, range(0, 5)), epochs=3)
    print(f"backbone accuracy on digits 0-4: {100 * accuracy(model, _subset(False, range(0, 5))):.1f} %")
    for p in model.parameters():
        p.requires_grad = False
    model.fc = nn.Linear(model.fc.in_features, 5)  # new layer: requires_grad=True by default
    fit(model, model.fc.parameters(), _subset(True, range(5, 10)), epochs=6, scheduler_step=3)
    acc = accuracy(model, _subset(False, range(5, 10)))
    print(f"transfer accuracy on digits 5-9 (only the last layer trained): {100 * acc:.1f} %")
    return acc


if __name__ == "__main__":
    main()
