"""A two-layer network whose ReLU is the tutorial's custom `MyReLU` autograd.Function.

    python examples/custom_relu.py [--steps 500]
"""
import argparse

import graphc as torch


class MyReLU(torch.autograd.Function):
    """ReLU with a hand-written backward: saves its input, zeroes the gradient where it was < 0."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


class TwoLayerNet(torch.nn.Module):
    def __init__(self, d_in, h, d_out):
        super().__init__()
        self.linear1 = torch.nn.Linear(d_in, h)
        self.linear2 = torch.nn.Linear(h, d_out)

    def forward(self, x):
        return self.linear2(MyReLU.apply(self.linear1(x)))


N, D_in, H, D_out = 64, 1000, 100, 10
torch.manual_seed(0)
model = TwoLayerNet(D_in, H, D_out)
example_inputs = (torch.randn(N, D_in),)
example_targets = (torch.randn(N, D_out),)


def loss(output, target):
    return (output - target).pow(2).sum()


def optimizer(params):
    return torch.optim.SGD(params, lr=1e-4)


def train(steps: int) -> float:
    from graphc.progress import Progress

    opt = optimizer(model.parameters())
    bar = Progress(range(steps), "custom_relu")
    for _ in bar:
        err = loss(model(*example_inputs), *example_targets)
        opt.zero_grad()
        err.backward()
        opt.step()
        bar.set(loss=err.item())
    return err.item()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    print(f"final loss {train(parser.parse_args().steps):.6g}")
