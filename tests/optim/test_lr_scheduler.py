"""Schedulers give PyTorch's learning-rate sequences, float for float."""
import pytest

import graphc
from graphc import optim

torch = pytest.importorskip("torch")


def _lrs(m, make, epochs=12, groups=2):
    params = [{"params": [m.zeros(1, requires_grad=True)], "lr": 0.1 * (g + 1)} for g in range(groups)]
    opt = m.optim.SGD(params, lr=0.1)
    sched = make(m, opt)
    out = [sched.get_last_lr()]
    for _ in range(epochs):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr())
    return out, sched, opt


SCHEDULERS = {
    "StepLR": lambda m, o: m.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR": lambda m, o: m.optim.lr_scheduler.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3),
    "ExponentialLR": lambda m, o: m.optim.lr_scheduler.ExponentialLR(o, gamma=0.9),
    "LambdaLR": lambda m, o: m.optim.lr_scheduler.LambdaLR(o, lambda e: 1 / (e + 1)),
}


@pytest.mark.parametrize("name", SCHEDULERS)
def test_lr_sequence_matches_torch(name):
    ours, sched, opt = _lrs(graphc, SCHEDULERS[name])
    theirs, tsched, _ = _lrs(torch, SCHEDULERS[name])
    assert ours == theirs
    assert sched.last_epoch == tsched.last_epoch == 12
    assert [g["lr"] for g in opt.param_groups] == ours[-1]
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.2]


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR"])
def test_step_with_epoch_uses_closed_form(name):
    _, sched, _ = _lrs(graphc, SCHEDULERS[name], epochs=0)
    _, tsched, _ = _lrs(torch, SCHEDULERS[name], epochs=0)
    for epoch in (4, 7, 10):
        sched.step(epoch)
        with pytest.warns(UserWarning):
            tsched.step(epoch)
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)


def test_state_dict_round_trip():
    _, sched, opt = _lrs(graphc, SCHEDULERS["StepLR"], epochs=4)
    state = sched.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 4
    fresh = optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    fresh.load_state_dict(state)
    assert fresh.last_epoch == 4 and fresh.get_last_lr() == sched.get_last_lr()


def test_rejects_non_optimizer():
    with pytest.raises(TypeError, match="is not an Optimizer"):
        optim.lr_scheduler.StepLR(object(), step_size=1)
