"""What Python operators and the binary functions accept, checked against PyTorch: tensors and
numbers compute; anything else (a tuple, a list, an ndarray, a return_types named tuple)
raises TypeError, never a silently broadcast result."""
from __future__ import annotations

import operator

import numpy as np
import pytest

import graphc

torch = pytest.importorskip("torch")

OPERATORS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow, operator.lt,
             operator.ge, operator.iadd, operator.imul, operator.isub]


def _operands(m):
    x = m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    return x, {
        "tuple": (1, 2, 3), "list": [1.0, 2.0, 3.0], "ndarray": np.array([1.0, 2.0, 3.0]),
        "max-named-tuple": x.max(1, keepdim=True), "sort-named-tuple": x.sort(1),
        "none": None, "str": "a", "int": 2, "float": 0.5, "bool": True, "numpy-scalar": np.float32(2),
        "tensor": m.tensor([1.0, 2.0, 3.0]),
    }


def _outcome(fn):
    try:
        out = fn()
    except (TypeError, RuntimeError) as exc:
        return type(exc).__name__
    return type(out).__name__.replace("Tensor", "tensor")


@pytest.mark.parametrize("op", OPERATORS, ids=lambda o: o.__name__)
@pytest.mark.parametrize("kind", list(_operands(graphc)[1]))
def test_operators_take_what_pytorch_takes(op, kind):
    results = []
    for m in (torch, graphc):
        x, others = _operands(m)
        other = others[kind]
        results.append((_outcome(lambda: op(x.clone(), other)),
                        _outcome(lambda: op(other, x.clone())) if not op.__name__.startswith("i") else None))
    if kind == "ndarray":  # PyTorch takes one for some operators, not others; graphc for none
        assert set(results[1]) <= {"TypeError", "ndarray", None}  # (NumPy may compute, on arrays)
        return
    assert results[1] == results[0]


def test_subtracting_the_named_tuple_max_returns_raises_as_in_pytorch():
    x = graphc.randn(2, 3)
    with pytest.raises(TypeError, match="unsupported operand"):
        x - x.max(1, keepdim=True)
    np.testing.assert_allclose((x - x.max(1, keepdim=True).values).numpy(),
                               x.numpy() - x.numpy().max(1, keepdims=True))


@pytest.mark.parametrize("fn", ["add", "sub", "mul", "div", "maximum"])
def test_binary_functions_refuse_sequences(fn):
    x = graphc.tensor([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="must be Tensor"):
        getattr(graphc, fn)(x, (1, 2, 3))
    with pytest.raises(TypeError):
        getattr(torch, fn)(torch.tensor([1.0, 2.0, 3.0]), (1, 2, 3))
