"""The tutorial's two-layer network (N=64, D_in=1000, H=100, D_out=10) with nn and optim.

    python examples/two_layer_net.py [--steps 500] [--compile]

As a model file (`graphc run examples/two_layer_net.py`) it defines model, example_inputs,
loss, example_targets and optimizer.
"""
import argparse

import graphc as torch

N, D_in, H, D_out = 64, 1000, 100, 10

torch.manual_seed(0)
model = torch.nn.Sequential(
    torch.nn.Linear(D_in, H),
    torch.nn.ReLU(),
    torch.nn.Linear(H, D_out),
)
example_inputs = (torch.randn(N, D_in),)
example_targets = (torch.randn(N, D_out),)
loss_fn = torch.nn.MSELoss(reduction="sum")


def loss(output, target):
    return loss_fn(output, target)


def optimizer(params):
    return torch.optim.SGD(params, lr=1e-4)


def train(steps: int = 500, compiled: bool = False) -> float:
    from graphc.progress import Progress

    opt = optimizer(model.parameters())
    x, y = example_inputs[0], example_targets[0]

    def step(x, y):
        out = loss(model(x), y)
        opt.zero_grad()
        out.backward()
        opt.step()
        return out

    run = torch.compile(step) if compiled else step
    bar = Progress(range(steps), "two_layer_net")
    for t in bar:
        value = run(x, y).item()
        if t % 50 == 0:
            bar.set(loss=value)
    bar.set(loss=value)
    return value


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--compile", action="store_true", help="run the training step compiled")
    args = parser.parse_args()
    final = train(args.steps, args.compile)
    print(f"final loss {final:.6g}")
