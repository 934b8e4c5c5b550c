"""Every registry op: VJP against central finite differences, values and gradients against
PyTorch, the shape rule against what the kernel produced, and the registry's completeness."""
from __future__ import annotations

import importlib
import pkgutil

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import graphc
from graphc.dispatch import STATE
from graphc.ops.registry import NOT_DIFFERENTIABLE, REGISTRY

from . import __path__ as _here

CASES = [c for mod in pkgutil.iter_modules(_here) if mod.name.startswith("cases_")
         for c in importlib.import_module(f"{__package__}.{mod.name}").CASES]
IDS = [c.id for c in CASES]


def _flat(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _run(m, case, arrays, dtype):
    """Forward and gradients of sum(out * cotangent) on module m (graphc or torch)."""
    xs = []
    for i, a in enumerate(arrays):
        t = m.tensor(a.astype(dtype) if a.dtype.kind == "f" else a)
        if i in case.grad:
            t.requires_grad_(True)
        xs.append(t)
    outs = _flat(case.fn(m, *xs))
    if not case.grad:
        return [o.detach().numpy() for o in outs], []
    cot = np.random.default_rng(1)
    loss = sum((o * m.tensor(cot.standard_normal(tuple(o.shape)).astype(dtype))).sum()
               for o in outs if o.dtype.is_floating_point)
    loss.backward()
    grads = [xs[i].grad.numpy() if xs[i].grad is not None else np.zeros(arrays[i].shape) for i in case.grad]
    return [o.detach().numpy() for o in outs], grads


def _loss64(case, arrays):
    outs = _flat(case.fn(graphc, *[graphc.tensor(a) for a in arrays]))
    cot = np.random.default_rng(1)
    return sum(float((o.numpy().astype(np.float64) * cot.standard_normal(tuple(o.shape))).sum())
               for o in outs if o.dtype.is_floating_point)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_vjp_matches_finite_differences(case, seed):
    if not (case.fd and case.grad):
        return
    arrays = case.args(np.random.default_rng(seed))
    _, grads = _run(graphc, case, arrays, np.float64)
    eps = 1e-6
    for gi, i in enumerate(case.grad):
        num = np.zeros(arrays[i].shape)
        for idx in np.ndindex(arrays[i].shape):
            plus = [a.copy() for a in arrays]
            minus = [a.copy() for a in arrays]
            plus[i][idx] += eps
            minus[i][idx] -= eps
            num[idx] = (_loss64(case, plus) - _loss64(case, minus)) / (2 * eps)
        np.testing.assert_allclose(grads[gi], num, rtol=1e-5, atol=1e-6,
                                   err_msg=f"{case.id}: gradient of input {i}")


@pytest.mark.parametrize("case", [c for c in CASES if c.torch], ids=[c.id for c in CASES if c.torch])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_pytorch(case, dtype):
    torch = pytest.importorskip("torch")
    arrays = case.args(np.random.default_rng(7))
    ours, our_grads = _run(graphc, case, arrays, dtype)
    theirs, their_grads = _run(torch, case, arrays, dtype)
    tol = case.atol if dtype == np.float64 else max(case.atol, 1e-4)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, a.dtype, b.shape, b.dtype)
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    for a, b in zip(our_grads, their_grads):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


class _TypeChecker:
    """A recorder that checks each op's shape rule against the output its kernel produced."""

    def __init__(self):
        self.seen = set()

    def record(self, op, attrs, inputs, outs):
        expect = op.infer([t.type for t in inputs], **attrs)
        got = [o.type for o in outs]
        assert list(expect) == got, f"{op.name} {attrs}: shape rule says {expect}, kernel gave {got}"
        self.seen.add(op.name)

    def on_concrete_use(self, tensor, what):
        pass

    def note_fresh(self, tensor):
        pass

    def alias(self, new, old):
        pass

    def rebind(self, tensor, new):
        pass


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_shape_rule_matches_kernel(case):
    checker = _TypeChecker()
    STATE.recorder = checker
    try:
        _run(graphc, case, case.args(np.random.default_rng(3)), np.float32)
    finally:
        STATE.recorder = None
    missing = set(case.ops) - checker.seen
    assert not missing, f"case {case.id} never ran {sorted(missing)}"


def test_registry_is_complete():
    """Every op has every field its users need, and a test case that exercises it."""
    covered = {name for c in CASES for name in c.ops}
    problems = []
    for name, op in sorted(REGISTRY.items()):
        if not callable(op.infer) or not callable(op.kernel):
            problems.append(f"{name}: missing shape rule or kernel")
        if not (callable(op.vjp) or op.vjp is NOT_DIFFERENTIABLE):
            problems.append(f"{name}: missing VJP rule")
        if op.elementwise and not op.expr:
            problems.append(f"{name}: elementwise op without a scalar expression")
        if not op.grad_name:
            problems.append(f"{name}: missing grad_fn name")
        if name not in covered:
            problems.append(f"{name}: no test case in tests/ops/cases_*.py")
    assert not problems, "\n".join(problems)
