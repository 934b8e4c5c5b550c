"""Every op case, run eagerly and through trace + the numpy runtime, gives equal results."""
import numpy as np
import pytest

import graphc

from ..ops.test_ops import CASES, _flat


DETERMINISTIC = [c for c in CASES if "Dropout" not in c.ops]  # a random mask is drawn per run


@pytest.mark.parametrize("case", DETERMINISTIC, ids=[c.id for c in DETERMINISTIC])
def test_compiled_equals_eager(case):
    arrays = case.args(np.random.default_rng(5))
    xs = [graphc.tensor(a.astype(np.float32) if a.dtype.kind == "f" else a) for a in arrays]

    def fn(*inputs):
        return case.fn(graphc, *inputs)

    eager = _flat(fn(*xs))
    compiled = _flat(graphc.compile(fn)(*xs))
    assert len(eager) == len(compiled)
    for e, c in zip(eager, compiled):
        assert e.dtype == c.dtype and e.shape == c.shape
        np.testing.assert_allclose(c.numpy(), e.numpy(), rtol=1e-6, atol=1e-6)
