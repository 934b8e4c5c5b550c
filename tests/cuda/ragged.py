"""Op cases at sizes that are not multiples of the block size (256) and take more than one
block, so every kernel template runs its tails and its block indexing: the op tables' cases
are small, these borrow their functions at larger, ragged shapes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass
class Ragged:
    id: str
    fn: Callable
    make: Callable  # rng -> input arrays
    grad: tuple = (0,)

    def args(self, rng):
        return self.make(rng)


def _randn(*shape):
    return lambda rng: [rng.standard_normal(shape).astype(np.float32)]


def _with_ints(shape, high, ishape):
    return lambda rng: [rng.standard_normal(shape).astype(np.float32), rng.integers(0, high, ishape)]


def _perm_index(rows, cols, k):
    return lambda rng: [rng.standard_normal((rows, cols)).astype(np.float32),
                        np.stack([rng.permutation(cols)[:k] for _ in range(rows)]),
                        rng.standard_normal((rows, k)).astype(np.float32)]


CASES = [
    Ragged("trunc", lambda m, x: m.trunc(x * 3), _randn(7, 113)),
    Ragged("adaptive-avg-pool", lambda m, x: m.nn.functional.adaptive_avg_pool2d(x, (5, 7)), _randn(3, 37, 11, 13)),
    Ragged("argmax-argmin", lambda m, x: x.max(dim=1)[0] + x.min(dim=1).values, _randn(301, 7)),
    Ragged("concat", lambda m, x: m.cat([x, x * 2, x[:, :5]], 1), _randn(37, 11)),
    Ragged("flip", lambda m, x: x.flip(0, 2), _randn(5, 13, 11)),
    Ragged("softmax-epilogue", lambda m, x: m.nn.functional.softmax(x, dim=1) * 3, _randn(37, 19, 3)),
    Ragged("softmax-rows", lambda m, x: m.nn.functional.log_softmax(x, dim=-1), _randn(301, 19)),
    Ragged("index-select", lambda m, x, i: x.index_select(0, i), _with_ints((23, 31), 23, (37,))),
    Ragged("gather", lambda m, x, i: m.gather(x, 1, i), _with_ints((37, 15), 15, (37, 11))),
    Ragged("nll", lambda m, x, t: m.nn.functional.nll_loss(x.log_softmax(1), t), _with_ints((301, 7), 7, (301,))),
    Ragged("nll-unreduced", lambda m, x, t: m.nn.functional.nll_loss(x, t, reduction="none"),
           _with_ints((301, 7), 7, (301,))),
    Ragged("nonzero", lambda m, x: m.nonzero(x > 0), _randn(13, 29), grad=()),
    Ragged("one-hot", lambda m, i: m.nn.functional.one_hot(i, 11),
           lambda rng: [rng.integers(0, 11, (7, 43))], grad=()),
    Ragged("pad", lambda m, x: m.nn.functional.pad(x, (1, 2, -1, 3), value=1.5), _randn(3, 37, 11)),
    Ragged("scatter", lambda m, x, i, s: x.scatter(1, i, s), _perm_index(37, 17, 9), grad=(0, 2)),
    Ragged("slice", lambda m, x: x.narrow(1, 3, 250) * 2, _randn(3, 301)),
    Ragged("tile", lambda m, x: m.tile(x, (3, 2)), _randn(23, 11)),
    Ragged("topk", lambda m, x: m.topk(x, 3, dim=1).values, _randn(301, 9)),
    Ragged("trilu", lambda m, x: x.tril() + x.triu(1) * 2, _randn(3, 19, 17)),
]

# Templates that run in one block by design: a scan in one thread, a total over all rows.
SINGLE_BLOCK = {"nonzero", "nll", "nll_total"}
