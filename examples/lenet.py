"""The tutorial's 1-channel LeNet (`Net`: 3x3 convolutions on 32x32 input) with one SGD step.

    python examples/lenet.py
"""
import graphc as torch
import graphc.nn as nn
import graphc.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        # 1 input image channel, 6 output channels, 3x3 square convolution kernel
        self.conv1 = nn.Conv2d(1, 6, 3)
        self.conv2 = nn.Conv2d(6, 16, 3)
        # an affine operation: y = Wx + b
        self.fc1 = nn.Linear(16 * 6 * 6, 120)  # 6*6 from image dimension
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        # Max pooling over a (2, 2) window
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        # If the size is a square you can only specify a single number
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


torch.manual_seed(0)
model = Net()
example_inputs = (torch.randn(1, 1, 32, 32),)
example_targets = (torch.randn(1, 10),)
criterion = nn.MSELoss()


def loss(output, target):
    return criterion(output, target)


def optimizer(params):
    return torch.optim.SGD(params, lr=0.01)


def main() -> None:
    print(model)
    params = list(model.parameters())
    print(len(params), params[0].size())
    out = model(*example_inputs)
    print(out)
    err = loss(out, *example_targets)
    print(err)
    print(err.grad_fn)
    print(err.grad_fn.next_functions[0][0])
    print(err.grad_fn.next_functions[0][0].next_functions[0][0])
    opt = optimizer(model.parameters())
    opt.zero_grad()
    print("conv1.bias.grad before backward", model.conv1.bias.grad)
    err.backward()
    print("conv1.bias.grad after backward", model.conv1.bias.grad)
    opt.step()
    print("loss after one step", loss(model(*example_inputs), *example_targets).item())


if __name__ == "__main__":
    main()
