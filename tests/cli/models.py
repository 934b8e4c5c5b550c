"""Small model files for the CLI and visualizer tests (written to a tmp dir by each test)."""
from __future__ import annotations

import os
import subprocess
import sys

MLP = '''\
import graphc
import graphc.nn as nn
import graphc.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


graphc.manual_seed(0)
model = Net()
example_inputs = (graphc.randn(5, 8),)
example_targets = (graphc.randint(0, 4, (5,)),)


def loss(out, y):
    return F.cross_entropy(out, y)
'''

FORWARD_ONLY = '''\
import graphc


def model(x, w):
    return (x @ w).relu().sum(1)


example_inputs = (graphc.randn(4, 3), graphc.randn(3, 6))
'''

DEEP = '''\
import graphc
import graphc.nn as nn
import graphc.nn.functional as F


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc = nn.Linear(d, d)

    def forward(self, x):
        return x + F.relu(self.fc(x))


class Deep(nn.Module):
    def __init__(self, d=8, n=40):
        super().__init__()
        self.layers = nn.ModuleList([Block(d) for _ in range(n)])
        self.head = nn.Linear(d, 3)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.head(x)


model = Deep()
example_inputs = (graphc.randn(4, 8),)
example_targets = (graphc.randint(0, 3, (4,)),)


def loss(out, y):
    return F.cross_entropy(out, y)
'''

SHAPE_ERROR = '''\
import graphc
import graphc.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(12, 4)

    def forward(self, x):
        h = self.fc1(x)
        return self.fc2(h)


model = Net()
example_inputs = (graphc.randn(5, 8),)
'''
SHAPE_ERROR_LINE = 13

SYNTAX_ERROR = "import graphc\nmodel = (\nexample_inputs = ()\n"

MISSING_MODEL = '''\
import graphc
import graphc.nn as nn

modle = nn.Linear(2, 3)
example_inputs = (graphc.randn(4, 2),)
'''

MISSING_INPUTS = "import graphc.nn as nn\nmodel = nn.Linear(2, 3)\n"


def write(folder, name: str, source: str) -> str:
    path = os.path.join(folder, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(source)
    return path


def cli(*args, cwd, env=None) -> subprocess.CompletedProcess:
    """Run `graphc ARGS` in a fresh interpreter, as a user would."""
    full_env = dict(os.environ, **(env or {}))
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    full_env["PYTHONPATH"] = root + os.pathsep + full_env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "graphc.cli", *map(str, args)], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=300)
