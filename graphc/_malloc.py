"""Keep freed large blocks in the process on glibc Linux, so big temporaries do not page-fault.

By default glibc serves blocks of 128 KiB or more with mmap and hands them back to the kernel
on free (and trims the heap top soon after), so every large NumPy temporary of a training step
faults its pages in again, which costs more than the arithmetic on it. Raising the mmap and
trim thresholds lets freed blocks be reused, as PyTorch's allocator does. Set
GRAPHC_NO_MALLOC_TUNING=1 to leave malloc alone.
"""
from __future__ import annotations

import ctypes
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 32 << 20  # glibc's largest allowed value on 64-bit
_TRIM_THRESHOLD = 256 << 20  # keep up to this much free memory at the heap top


def tune() -> bool:
    """Apply the thresholds once; True if glibc accepted them."""
    if os.environ.get("GRAPHC_NO_MALLOC_TUNING") or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
