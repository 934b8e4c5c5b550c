"""What runs inside a DataLoader worker process, and how its errors travel back.

A worker takes (task index, batch of indices) from its own queue, fetches and collates the
samples, and puts (task index, batch) on the shared result queue; None tells it to exit.
Batches are pickled on the way (tensors as NumPy arrays, see Tensor.__reduce_ex__).
"""
from __future__ import annotations

import os
import queue
import random
import sys
import traceback
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WorkerInfo:
    id: int
    num_workers: int
    seed: int
    dataset: object


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """In a worker process: its id, the number of workers, its seed and its dataset copy; else None."""
    return _worker_info


class ExceptionWrapper:
    """An exception raised in a worker, re-raised in the main process with the worker's traceback."""

    def __init__(self, where: str):
        exc_type, exc, _ = sys.exc_info()
        self.exc_type = exc_type
        self.msg = "".join(traceback.format_exception(exc_type, exc, exc.__traceback__))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.msg}"
        try:
            exc = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exc


@dataclass(frozen=True)
class IterableStop:
    """A worker's iterable dataset is exhausted."""

    worker_id: int


class ResumeIteration:
    """Sent to persistent workers at the start of each epoch after the first."""


class MapFetcher:
    def __init__(self, dataset, auto_collation: bool, collate_fn, drop_last: bool):
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn

    def fetch(self, index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        getitems = getattr(self.dataset, "__getitems__", None)
        data = getitems(index) if callable(getitems) else [self.dataset[i] for i in index]
        return self.collate_fn(data)


class IterableFetcher:
    def __init__(self, dataset, auto_collation: bool, collate_fn, drop_last: bool):
        self.iterator = iter(dataset)
        self.auto_collation, self.collate_fn, self.drop_last = auto_collation, collate_fn, drop_last

    def fetch(self, index):
        if not self.auto_collation:
            return self.collate_fn(next(self.iterator))
        data = []
        for _ in index:
            try:
                data.append(next(self.iterator))
            except StopIteration:
                break
        if not data or (self.drop_last and len(data) < len(index)):
            raise StopIteration
        return self.collate_fn(data)


def make_fetcher(dataset, iterable: bool, auto_collation: bool, collate_fn, drop_last: bool):
    return (IterableFetcher if iterable else MapFetcher)(dataset, auto_collation, collate_fn, drop_last)


def seed_worker(seed: int, worker_id: int) -> None:
    """graphc's default generator and Python's `random` get seed; NumPy's global RNG a derived one."""
    from ... import random as graphc_random

    graphc_random.manual_seed(seed)
    random.seed(seed)
    np.random.seed(np.random.SeedSequence([seed, worker_id]).generate_state(1)[0])


_POLL_INTERVAL = 0.1  # seconds between checks for shutdown while idle


def _tasks(index_queue, done, parent: int):
    """Tasks until None arrives, `done` is set or the main process is gone."""
    while not done.is_set() and os.getppid() == parent:
        try:
            task = index_queue.get(timeout=_POLL_INTERVAL)
        except queue.Empty:
            continue
        if task is None:
            return
        yield task


def worker_loop(dataset, iterable: bool, index_queue, result_queue, done, parent: int,
                auto_collation: bool, collate_fn, drop_last: bool, base_seed: int, init_fn,
                worker_id: int, num_workers: int) -> None:
    global _worker_info
    seed = base_seed + worker_id
    seed_worker(seed, worker_id)
    _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
    init_error = fetcher = None
    try:
        if init_fn is not None:
            init_fn(worker_id)
        fetcher = make_fetcher(dataset, iterable, auto_collation, collate_fn, drop_last)
    except Exception:
        init_error = ExceptionWrapper(f"in DataLoader worker process {worker_id}")
    exhausted = False
    try:
        for task in _tasks(index_queue, done, parent):
            if isinstance(task, ResumeIteration):
                result_queue.put((task, None))
                exhausted = False
                if init_error is None:
                    fetcher = make_fetcher(dataset, iterable, auto_collation, collate_fn, drop_last)
                continue
            idx, index = task
            if init_error is not None:
                data, init_error = init_error, None
            elif exhausted:
                data = IterableStop(worker_id)
            else:
                try:
                    data = fetcher.fetch(index)
                except StopIteration:
                    data, exhausted = IterableStop(worker_id), True
                except Exception:
                    data = ExceptionWrapper(f"in DataLoader worker process {worker_id}")
            result_queue.put((idx, data))
    except KeyboardInterrupt:
        pass
    result_queue.cancel_join_thread()
