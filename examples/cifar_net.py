"""The CIFAR-10 tutorial's classifier (3x32x32 input, 5x5 convolutions) trained on real images.

    python examples/cifar_net.py [--epochs 10] [--batch-size 4]

The images are scikit-learn's bundled handwritten digits, upsampled to 3x32x32 (offline; see
graphc.utils.data.datasets.Digits). Prints the test accuracy.
"""
import argparse

import graphc as torch
import graphc.nn as nn
import graphc.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)  # flatten all dimensions except batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


BATCH = 4
torch.manual_seed(0)
model = Net()
example_inputs = (torch.randn(BATCH, 3, 32, 32),)
example_targets = (torch.randint(0, 10, (BATCH,)),)
criterion = nn.CrossEntropyLoss()


def loss(output, target):
    return criterion(output, target)


def optimizer(params):
    return torch.optim.SGD(params, lr=0.001, momentum=0.9)


def evaluate(net, loader) -> float:
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            predicted = net(images).argmax(1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    return correct / total


def train(epochs: int = 10, batch_size: int = BATCH) -> float:
    from graphc.progress import Progress
    from graphc.utils.data import DataLoader
    from graphc.utils.data.datasets import Digits

    generator = torch.Generator().manual_seed(0)
    trainloader = DataLoader(Digits(train=True), batch_size=batch_size, shuffle=True, generator=generator)
    testloader = DataLoader(Digits(train=False), batch_size=256)
    opt = optimizer(model.parameters())
    for epoch in range(epochs):
        bar = Progress(trainloader, f"epoch {epoch + 1}/{epochs}")
        running = 0.0
        for i, (inputs, labels) in enumerate(bar):
            opt.zero_grad()
            err = loss(model(inputs), labels)
            err.backward()
            opt.step()
            running += err.item()
            if i % 50 == 49:
                bar.set(loss=running / 50)
                running = 0.0
    accuracy = evaluate(model, testloader)
    print(f"Accuracy of the network on the {len(testloader.dataset)} test images: {100 * accuracy:.1f} %")
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=BATCH)
    args = parser.parse_args()
    train(args.epochs, args.batch_size)
