"""A dependency-free progress bar for training loops (examples, `graphc run`)."""
from __future__ import annotations

import sys
import time


class Progress:
    """Iterate with a one-line bar on stderr: ``for step in Progress(range(n), "train"): ...``.

    `set(**metrics)` shows the latest figures (e.g. loss) after the bar. The bar is redrawn
    at most 10 times a second, and only when stderr is a terminal or `force` is set; otherwise
    one summary line is printed at the end.
    """

    def __init__(self, iterable, desc: str = "", total: int | None = None, *, stream=None,
                 force: bool = False, width: int = 24):
        self.iterable = iterable
        self.desc = desc
        self.total = total if total is not None else _len(iterable)
        self.stream = stream or sys.stderr
        self.live = force or getattr(self.stream, "isatty", lambda: False)()
        self.width = width
        self.metrics: dict[str, float] = {}
        self.count = 0
        self._start = self._drawn = 0.0

    def set(self, **metrics) -> None:
        self.metrics.update({k: float(v) for k, v in metrics.items()})

    def __iter__(self):
        self._start = time.perf_counter()
        for item in self.iterable:
            yield item
            self.count += 1
            now = time.perf_counter()
            if self.live and now - self._drawn > 0.1:
                self._drawn = now
                self.stream.write("\r" + self.line())
                self.stream.flush()
        self.stream.write(("\r" if self.live else "") + self.line() + "\n")
        self.stream.flush()

    def line(self) -> str:
        elapsed = time.perf_counter() - self._start
        rate = self.count / elapsed if elapsed > 0 else 0.0
        if self.total:
            filled = int(self.width * self.count / self.total)
            bar = f"[{'#' * filled}{'.' * (self.width - filled)}] {self.count}/{self.total}"
        else:
            bar = f"{self.count}"
        shown = " ".join(f"{k}={v:.4g}" for k, v in self.metrics.items())
        return f"{self.desc + ': ' if self.desc else ''}{bar} {elapsed:.1f}s {rate:.1f} it/s {shown}".rstrip()


def _len(iterable):
    try:
        return len(iterable)
    except TypeError:
        return None
