"""modelfile.Runner in-process: eager and compiled runs from the same start, and the comparison."""
from __future__ import annotations

import numpy as np

from graphc.modelfile import Runner, load

from . import models


def test_runs_start_from_the_same_weights_and_compare(tmp_path):
    runner = Runner(load(models.write(tmp_path, "m.py", models.MLP)))
    eager = runner.run(4, compiled=False)
    runner.reset()
    compiled = runner.run(4, compiled=True)
    ok, text = runner.compare(eager, compiled)
    assert ok and text.startswith("check OK") and len(compiled.losses) == 4
    compiled.params["fc1.weight"] = compiled.params["fc1.weight"] + 1e-2
    ok, text = runner.compare(eager, compiled)
    assert not ok and "fc1.weight differs" in text


def test_optimizer_factory_from_the_model_file(tmp_path):
    source = models.MLP + "\n\ndef optimizer(params):\n    return graphc.optim.SGD(params, lr=0.5)\n"
    mf = load(models.write(tmp_path, "m.py", source))
    opt = mf.make_optimizer()
    assert opt.param_groups[0]["lr"] == 0.5
    before = mf.model.fc1.weight.detach().numpy().copy()
    mf.train_step(opt)(*mf.step_args())
    assert not np.allclose(before, mf.model.fc1.weight.detach().numpy())
