"""DataLoader: batches from a dataset, in the main process or in worker processes.

With ``num_workers > 0`` the main process draws the batches of indices (so shuffling is the same
as with ``num_workers=0``), hands them round-robin to worker processes, and returns the results
in the order the indices were drawn: the batches are identical for any number of workers.
"""
from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import queue
import time

from ...random import rng
from . import worker as _worker
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler, _InfiniteConstantSampler

_STATUS_CHECK_INTERVAL = 5.0  # seconds between checks that the workers are still alive


class DataLoader:
    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None, sampler=None,
                 batch_sampler=None, num_workers: int = 0, collate_fn=None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing. Let "
                             "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None.")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            for name, value in (("shuffle", shuffle), ("sampler", sampler), ("batch_sampler", batch_sampler)):
                if value not in (None, False):
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified {name} option, "
                                     f"but got {name}={value}")
        elif sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        if sampler is None:
            if iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.collate_fn = collate_fn or (default_collate if batch_sampler is not None else default_convert)
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.prefetch_factor = prefetch_factor if num_workers == 0 or prefetch_factor is not None else 2
        self.persistent_workers = persistent_workers
        self._iterator = None

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    @property
    def _iterable(self) -> bool:
        return isinstance(self.dataset, IterableDataset)

    def __iter__(self):
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        if not self.persistent_workers:
            return _MultiProcessIter(self)
        if self._iterator is None:
            self._iterator = _MultiProcessIter(self)
        else:
            self._iterator._reset(self)
        return self._iterator

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)

    def _base_seed(self) -> int:
        """Drawn once per epoch from the loader's generator (or the default), as PyTorch does."""
        return int(rng(self.generator).integers(2**63 - 1))

    def _fetcher(self):
        return _worker.make_fetcher(self.dataset, self._iterable, self._auto_collation, self.collate_fn,
                                    self.drop_last)


class _SingleProcessIter:
    def __init__(self, loader: DataLoader):
        loader._base_seed()
        self._loader = loader
        self._sampler_iter = iter(loader._index_sampler)
        self._fetcher = loader._fetcher()

    def __iter__(self):
        return self

    def __len__(self) -> int:
        return len(self._loader)

    def __next__(self):
        return self._fetcher.fetch(next(self._sampler_iter))


class _MultiProcessIter:
    """Keeps prefetch_factor tasks per worker in flight and re-orders results by task index."""

    def __init__(self, loader: DataLoader):
        ctx = loader.multiprocessing_context
        if ctx is None:
            ctx = multiprocessing.get_context()
        elif isinstance(ctx, str):
            ctx = multiprocessing.get_context(ctx)
        self._loader = loader
        self._n = loader.num_workers
        self._timeout = loader.timeout
        self._persistent = loader.persistent_workers
        self._results = ctx.Queue()
        self._done = ctx.Event()
        self._index_queues, self._workers = [], []
        base_seed = loader._base_seed()
        for i in range(self._n):
            index_queue = ctx.Queue()
            index_queue.cancel_join_thread()
            w = ctx.Process(target=_worker.worker_loop, daemon=True,
                            args=(loader.dataset, loader._iterable, index_queue, self._results,
                                  self._done, os.getpid(), loader._auto_collation, loader.collate_fn, loader.drop_last, base_seed,
                                  loader.worker_init_fn, i, self._n))
            w.start()
            self._index_queues.append(index_queue)
            self._workers.append(w)
        self._shutdown = False
        self._reset(loader, first=True)

    def _reset(self, loader: DataLoader, first: bool = False) -> None:
        self._sampler_iter = iter(loader._index_sampler)
        self._send_idx = self._rcvd_idx = 0
        self._task_info: dict[int, tuple] = {}  # task -> (worker,) or (worker, data) when early
        self._active = [True] * self._n
        self._cycle = itertools.cycle(range(self._n))
        if not first:
            self._resume_workers()
        for _ in range(loader.prefetch_factor * self._n):
            self._put_task()

    def _resume_workers(self) -> None:
        """Drain the last epoch's leftovers and restart each persistent worker's dataset iterator."""
        for q in self._index_queues:
            q.put(_worker.ResumeIteration())
        acks = 0
        while acks < self._n:
            task, _ = self._get()
            acks += isinstance(task, _worker.ResumeIteration)

    def __iter__(self):
        return self

    def __len__(self) -> int:
        return len(self._loader)

    def _put_task(self) -> None:
        for _ in range(self._n):
            w = next(self._cycle)
            if self._active[w]:
                break
        else:
            return
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        self._index_queues[w].put((self._send_idx, index))
        self._task_info[self._send_idx] = (w,)
        self._send_idx += 1

    def __next__(self):
        while True:
            while self._rcvd_idx < self._send_idx:
                info = self._task_info[self._rcvd_idx]
                if len(info) == 2 or self._active[info[0]]:
                    break
                del self._task_info[self._rcvd_idx]  # its worker's iterable ran out
                self._rcvd_idx += 1
            else:
                if not self._persistent:
                    self._shutdown_workers()
                raise StopIteration
            if len(self._task_info[self._rcvd_idx]) == 2:
                return self._deliver(self._task_info.pop(self._rcvd_idx)[1])
            idx, data = self._get()
            if isinstance(data, _worker.IterableStop):
                self._active[data.worker_id] = False
                self._put_task()
            elif idx != self._rcvd_idx:
                self._task_info[idx] += (data,)
            else:
                del self._task_info[idx]
                return self._deliver(data)

    def _deliver(self, data):
        self._rcvd_idx += 1
        self._put_task()
        if isinstance(data, _worker.ExceptionWrapper):
            data.reraise()
        return data

    def _get(self):
        """The next result from any worker; fails if a worker died or `timeout` passed."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait = _STATUS_CHECK_INTERVAL if deadline is None else min(_STATUS_CHECK_INTERVAL, deadline - time.monotonic())
            try:
                return self._results.get(timeout=max(wait, 0))
            except queue.Empty:
                dead = [w for w in self._workers if not w.is_alive()]
                if dead:
                    self._shutdown_workers()
                    pids = ", ".join(str(w.pid) for w in dead)
                    raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly") from None
                if deadline is not None and time.monotonic() >= deadline:
                    raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds") from None

    def _shutdown_workers(self) -> None:
        """Also runs from __del__, possibly after the queues were finalised: `done` alone suffices."""
        if self._shutdown:
            return
        self._shutdown = True
        self._done.set()
        for q in self._index_queues:
            with contextlib.suppress(ValueError, OSError):
                q.put(None)
        for w in self._workers:
            w.join(timeout=_STATUS_CHECK_INTERVAL)
            if w.is_alive():
                w.terminate()
        for q in (*self._index_queues, self._results):
            q.cancel_join_thread()
            q.close()

    def __del__(self):
        if not getattr(self, "_shutdown", True):
            self._shutdown_workers()
