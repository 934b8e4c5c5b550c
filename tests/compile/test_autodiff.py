"""The autodiff pass: for every op case, the differentiated graph run on the numpy runtime
equals eager autograd; applying it twice gives second derivatives."""
import numpy as np
import pytest

import graphc
from graphc import runtimes
from graphc.passes.autodiff import autodiff

from ..ops.test_ops import CASES, _flat

GRAD_CASES = [c for c in CASES if c.grad and c.fd and "Dropout" not in c.ops]  # random masks differ


def _run(graph, arrays):
    return runtimes.get("numpy").prepare(graph)(*arrays)


@pytest.mark.parametrize("case", GRAD_CASES, ids=[c.id for c in GRAD_CASES])
def test_autodiff_graph_equals_eager_autograd(case):
    arrays = [a.astype(np.float64) if a.dtype.kind == "f" else a
              for a in case.args(np.random.default_rng(11))]
    xs = [graphc.tensor(a) for a in arrays]

    def fn(*inputs):
        return case.fn(graphc, *inputs)

    forward = graphc.trace(fn, *xs)
    wrt = [forward.inputs[i] for i in case.grad]
    float_outs = [v for v in forward.outputs if forward.type_of(v).dtype.is_floating_point]
    graph = autodiff(forward, outputs=float_outs, wrt=wrt)
    cot_rng = np.random.default_rng(2)
    cotangents = [cot_rng.standard_normal(forward.type_of(v).shape) for v in float_outs
                  if forward.type_of(v).shape]
    results = _run(graph, arrays + cotangents)
    grads = results[len(forward.outputs):]

    leaves = [graphc.tensor(a).requires_grad_(i in case.grad) if a.dtype.kind == "f" else graphc.tensor(a)
              for i, a in enumerate(arrays)]
    outs = [o for o in _flat(fn(*leaves)) if o.dtype.is_floating_point]
    it = iter(cotangents)
    loss = sum((o * graphc.tensor(next(it))).sum() if o.ndim else o for o in outs)
    loss.backward()
    for g, i in zip(grads, case.grad):
        np.testing.assert_allclose(g, leaves[i].grad.numpy(), rtol=1e-7, atol=1e-9)


def test_second_order_by_applying_twice():
    def f(x):
        return (x.sin() * x).sum()

    x = np.array([0.3, -1.2, 2.0])
    g1 = autodiff(graphc.trace(f, graphc.tensor(x)))
    grad_only = g1.copy()
    grad_only.set_outputs([g1.outputs[1]])
    g2 = autodiff(grad_only, outputs=[g1.outputs[1]], wrt=[g1.inputs[0]])
    cot = np.ones(3)
    (_, hess_vec) = _run(g2, [x, cot])
    np.testing.assert_allclose(hess_vec, 2 * np.cos(x) - x * np.sin(x), rtol=1e-12)


def test_unused_input_gets_zero_and_unused_branch_is_pruned():
    def f(x, y):
        unused = (y * 3).exp()
        return (x * 2).sum()

    g = autodiff(graphc.trace(f, graphc.ones(3), graphc.ones(2)))
    assert "= Exp(" not in str(g)
    out, gx, gy = _run(g, [np.ones(3, np.float32), np.ones(2, np.float32)])
    assert gx.tolist() == [2.0] * 3 and gy.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("name", ["two_layer_net", "lenet", "cifar_net", "custom_relu", "transfer"])
def test_autodiff_of_every_example_equals_eager_autograd(name, capsys):
    """The loss of each example, traced and differentiated by the pass with respect to every
    parameter, run on the numpy runtime: equal to loss.backward() in eager mode."""
    from ..golden.procedure import load_example, make_data

    mod = load_example(name, "graphc")
    data = make_data(mod)
    mod.model.load_state_dict({k[5:]: graphc.from_numpy(v.copy()) for k, v in data.items()
                               if k.startswith("init.")})
    batch = [graphc.from_numpy(data[k]) for k in sorted(data) if k.startswith(("input.", "target."))]
    n_in, model, loss = len(mod.example_inputs), mod.model, mod.loss

    def loss_of(*tensors):
        return loss(model(*tensors[:n_in]), *tensors[n_in:])

    params = dict(model.named_parameters())
    with graphc.no_grad():
        forward = graphc.trace(loss_of, *batch)  # parameters: initializers named model.<key>
    graph = autodiff(forward, outputs=[forward.outputs[0]], wrt=[f"model.{k}" for k in params])
    grads = _run(graph, [t.numpy() for t in batch])[len(forward.outputs):]

    mod.model.load_state_dict({k[5:]: graphc.from_numpy(v.copy()) for k, v in data.items()
                               if k.startswith("init.")})
    loss_of(*batch).backward()
    for (pname, p), g in zip(params.items(), grads):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=pname)
