"""DataLoader: batching, shuffling, collation, and worker processes giving the same batches."""
import collections

import numpy as np
import pytest

import graphc
from graphc.utils.data import (BatchSampler, DataLoader, Dataset, IterableDataset, RandomSampler,
                               SequentialSampler, Subset, TensorDataset, default_collate,
                               get_worker_info, random_split)


class Squares(Dataset):
    """Samples of mixed kinds: a dict with a tensor, a NumPy array, a float, an int and a string."""

    def __len__(self):
        return 23

    def __getitem__(self, i):
        return {"x": graphc.full((2,), float(i)), "arr": np.arange(3) * i, "f": i / 2, "i": i * i,
                "name": f"s{i}"}


class Failing(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5:
            raise KeyError(f"no item {i}")
        return i


class Stream(IterableDataset):
    """Shards itself across workers, as PyTorch's documentation recommends."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))


class WorkerIds(Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        info = get_worker_info()
        return -1 if info is None else info.id


def _same(a, b):
    if isinstance(a, graphc.Tensor):
        return isinstance(b, graphc.Tensor) and a.dtype is b.dtype and np.array_equal(a.numpy(), b.numpy())
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def test_tensor_dataset_batches_and_len():
    x = graphc.arange(10 * 3, dtype=graphc.float32).reshape(10, 3)
    y = graphc.arange(10)
    ds = TensorDataset(x, y)
    assert len(ds) == 10 and _same(ds[4], (x[4], y[4]))
    loader = DataLoader(ds, batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [len(b[0]) for b in batches] == [4, 4, 2]
    assert isinstance(batches[0], list)
    np.testing.assert_array_equal(batches[2][0].numpy(), x.numpy()[8:])
    loader = DataLoader(ds, batch_size=4, drop_last=True)
    assert len(loader) == 2 and [len(b[1]) for b in loader] == [4, 4]
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(x, graphc.arange(3))


def test_shuffle_is_a_permutation_reproducible_with_a_generator():
    ds = TensorDataset(graphc.arange(50))
    orders = []
    for _ in range(2):
        g = graphc.Generator().manual_seed(7)
        orders.append(graphc.cat([b[0] for b in DataLoader(ds, batch_size=8, shuffle=True, generator=g)]).tolist())
    assert orders[0] == orders[1] and sorted(orders[0]) == list(range(50)) and orders[0] != list(range(50))
    graphc.manual_seed(3)
    loader = DataLoader(ds, batch_size=50, shuffle=True)
    first, second = next(iter(loader))[0].tolist(), next(iter(loader))[0].tolist()
    assert first != second  # a new permutation each epoch


def test_default_collate_matches_torch_types():
    batch = [Squares()[i] for i in range(3)]
    out = default_collate(batch)
    assert out["x"].shape == (3, 2) and out["x"].dtype is graphc.float32
    assert out["arr"].dtype is graphc.int64 and out["arr"].tolist() == [[0, 0, 0], [0, 1, 2], [0, 2, 4]]
    assert out["f"].dtype is graphc.float64 and out["f"].tolist() == [0.0, 0.5, 1.0]
    assert out["i"].dtype is graphc.int64 and out["i"].tolist() == [0, 1, 4]
    assert out["name"] == ["s0", "s1", "s2"]
    pairs = default_collate([(np.float32(1.5), True), (np.float32(2.5), False)])
    assert isinstance(pairs, list) and pairs[0].dtype is graphc.float32 and pairs[1].dtype is graphc.bool
    Point = collections.namedtuple("Point", "x y")
    p = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(p, Point) and p.x.tolist() == [1, 3] and p.y.dtype is graphc.float64
    assert default_collate([[1, 2], [3, 4]])[1].tolist() == [2, 4]
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([object()])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([np.array(["a"]), np.array(["b"])])


def test_collate_against_torch():
    pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate

    batch = [{"a": (np.arange(4, dtype=np.float32) + i, i, 0.5 * i), "s": "x"} for i in range(3)]
    ours, theirs = default_collate(batch), torch_collate(batch)
    assert ours.keys() == theirs.keys() and ours["s"] == theirs["s"]
    assert type(ours["a"]) is type(theirs["a"]) is list
    for o, t in zip(ours["a"], theirs["a"]):
        assert o.dtype.name == str(t.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(o.numpy(), t.numpy())


def test_no_batching_converts_samples():
    loader = DataLoader(Squares(), batch_size=None)
    sample = next(iter(loader))
    assert isinstance(sample["arr"], graphc.Tensor) and sample["f"] == 0.0 and len(loader) == 23


@pytest.mark.parametrize("shuffle", [False, True])
def test_workers_give_the_same_batches(shuffle):
    def batches(workers):
        g = graphc.Generator().manual_seed(11)
        return list(DataLoader(Squares(), batch_size=4, shuffle=shuffle, generator=g, num_workers=workers))

    single, multi = batches(0), batches(2)
    assert len(single) == 6 and _same(single, multi)


def test_workers_really_are_other_processes():
    ids = [b.tolist() for b in DataLoader(WorkerIds(), batch_size=2, num_workers=2)]
    assert ids == [[0, 0], [1, 1], [0, 0]]
    assert next(iter(DataLoader(WorkerIds(), batch_size=2)))[0].item() == -1


def test_persistent_workers_serve_several_epochs():
    loader = DataLoader(TensorDataset(graphc.arange(10)), batch_size=3, num_workers=2, persistent_workers=True)
    epochs = [[b[0].tolist() for b in loader] for _ in range(3)]
    partial = iter(loader)
    next(partial)
    epochs.append([b[0].tolist() for b in loader])  # an epoch abandoned half way is drained
    assert all(e == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]] for e in epochs)


def test_worker_errors_are_reraised_with_their_type():
    with pytest.raises(KeyError, match="in DataLoader worker process 1"):
        list(DataLoader(Failing(), batch_size=1, num_workers=2))


def test_worker_init_fn_runs_in_each_worker():
    seen = []
    loader = DataLoader(WorkerIds(), batch_size=3, num_workers=2, worker_init_fn=lambda i: seen.append(i))
    assert [b.tolist() for b in loader] == [[0, 0, 0], [1, 1, 1]]
    assert seen == []  # appended in the workers, not here


@pytest.mark.parametrize("workers", [0, 2])
def test_iterable_dataset(workers):
    loader = DataLoader(Stream(10), batch_size=3, num_workers=workers)
    items = sorted(x for b in loader for x in b.tolist())
    assert items == list(range(10))
    with pytest.raises(ValueError, match="expected unspecified shuffle"):
        DataLoader(Stream(3), shuffle=True)


def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    g = graphc.Generator().manual_seed(0)
    perm = list(RandomSampler(range(6), generator=g))
    assert sorted(perm) == list(range(6))
    draws = list(RandomSampler(range(3), replacement=True, num_samples=40, generator=g))
    assert len(draws) == 40 and set(draws) <= {0, 1, 2}
    assert list(BatchSampler(range(7), 3, drop_last=False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(BatchSampler(range(7), 3, drop_last=True)) == 2
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(range(3), 0, False)


def test_argument_errors():
    ds = TensorDataset(graphc.arange(4))
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_size=2, batch_sampler=BatchSampler(range(4), 2, False))
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="persistent_workers option needs num_workers > 0"):
        DataLoader(ds, persistent_workers=True)


def test_random_split_and_subset():
    ds = TensorDataset(graphc.arange(10))
    a, b = random_split(ds, [0.7, 0.3], generator=graphc.Generator().manual_seed(1))
    assert (len(a), len(b)) == (7, 3)
    assert sorted(int(x[0]) for x in [*a, *b]) == list(range(10))
    assert Subset(ds, [4, 2])[1][0].item() == 2
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(ds, [3, 3])
