"""graphc.cuda: whether the CUDA runtime can run here (PyCUDA installed and a GPU present, or
graphc's CPU emulator selected with GRAPHC_CUDA_EMULATE=1)."""
from __future__ import annotations

import functools


def _probe() -> tuple[int, str]:
    """(device count, reason when zero)."""
    from .runtimes.cuda.driver import emulated

    return (1, "") if emulated() else _probe_gpu()


@functools.lru_cache(maxsize=1)
def _probe_gpu() -> tuple[int, str]:
    try:
        import pycuda.driver as drv
    except ImportError:
        return 0, "PyCUDA is not installed (pip install 'graphc[cuda]')"
    try:
        drv.init()
        n = drv.Device.count()
    except Exception as exc:  # no driver, no device: PyCUDA raises its own error types
        return 0, f"the CUDA driver could not start: {exc}"
    return n, "" if n else "no CUDA device was found"


def is_available() -> bool:
    return _probe()[0] > 0


def device_count() -> int:
    return _probe()[0]


def why_unavailable() -> str:
    return _probe()[1]


def is_emulated() -> bool:
    """True when "cuda" runs on graphc's CPU emulator (GRAPHC_CUDA_EMULATE), not a GPU."""
    from .runtimes.cuda.driver import emulated

    return emulated()


def get_device_name(device: int = 0) -> str:
    _require()
    from .runtimes.cuda.driver import driver

    return driver().Device(device).name()


def _require() -> None:
    if not is_available():
        raise RuntimeError(f"CUDA is not available: {why_unavailable()}")


def manual_seed(seed: int) -> None:
    """Accepted for PyTorch compatibility: graphc draws random numbers on the host."""


def manual_seed_all(seed: int) -> None:
    """Accepted for PyTorch compatibility: graphc draws random numbers on the host."""
