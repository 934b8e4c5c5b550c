"""The emulated CUDA driver: the part of ``pycuda.driver`` graphc's CUDA runtime uses, running
the generated CUDA C on the CPU (see emu_runtime.cpp for how threads, barriers and warps run).

Device memory is host memory handed out by the emulator runtime; copies are memmoves, counted
each way with the launches (``stats``), so tests can see what a step moves. A module is the
generated source built by the host compiler against graphc_cuda_emu.h, unmodified, and cached
by source hash. In checking mode (``GRAPHC_CUDA_EMULATE=check``) kernels are built with
access hooks and every device-memory and shared-memory access is checked (emu_runtime.cpp).
"""
from __future__ import annotations

import ctypes
import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...hostbuild import build, load

HERE = Path(__file__).resolve().parent
INCLUDE = HERE / "include"
RUNTIME_FLAGS = ["-O2", "-std=c++17", "-pthread"]
KERNEL_FLAGS = ["-O2", "-std=c++17", "-w", "-include", "graphc_cuda_emu.h"]
CHECK_FLAGS = ["-O1", "-std=c++17", "-w", "-include", "graphc_cuda_emu.h", "-fsanitize=thread",
               "-fno-tree-loop-distribute-patterns"]
DYNAMIC_SHARED_BYTES = 48 * 1024
NAME = "graphc CUDA emulator (runs on the CPU; its timings are not GPU figures)"


class Error(Exception):
    """What pycuda.driver.Error is: any failure the driver reports."""


class LaunchError(Error):
    """A kernel faulted; `offset` is the device-memory offset it touched, when there is one."""

    def __init__(self, message: str, offset: int | None = None):
        super().__init__(message)
        self.offset = offset


class LogicError(Error):
    pass


@dataclass
class Stats:
    """Host<->device traffic and launches since the last reset()."""
    htod_bytes: int = 0
    dtoh_bytes: int = 0
    htod_copies: int = 0
    dtoh_copies: int = 0
    dtod_bytes: int = 0
    launches: int = 0

    def reset(self) -> None:
        self.__init__()


stats = Stats()


def checking() -> bool:
    return os.environ.get("GRAPHC_CUDA_EMULATE", "").lower() == "check"


@functools.lru_cache(maxsize=1)
def _runtime() -> ctypes.CDLL:
    lib = load(build((HERE / "emu_runtime.cpp").read_text(), RUNTIME_FLAGS, kind="cuda-emu",
                     include=[INCLUDE], link_flags=["-pthread"]), global_symbols=True)
    u64, p = ctypes.c_uint64, ctypes.c_void_p
    lib.graphc_emu_alloc.restype = u64
    lib.graphc_emu_alloc.argtypes = [ctypes.c_size_t]
    lib.graphc_emu_free.argtypes = [u64]
    lib.graphc_emu_mark_written.argtypes = [u64, ctypes.c_size_t]
    lib.graphc_emu_set_access.argtypes = [u64, ctypes.c_int, p, p]
    lib.graphc_emu_launch.argtypes = [p, ctypes.c_char_p, ctypes.c_int, p, p, p, ctypes.c_char_p, ctypes.c_size_t]
    lib.graphc_emu_configure(int(checking()), int(os.environ.get("GRAPHC_CUDA_EMULATE_THREADS") or os.cpu_count() or 1))
    return lib


def init(flags: int = 0) -> None:
    _runtime()


class Device:
    def __init__(self, ordinal: int = 0):
        if ordinal != 0:
            raise LogicError(f"the emulator has one device; there is no device {ordinal}")

    @staticmethod
    def count() -> int:
        return 1

    def name(self) -> str:
        return NAME + (", checking every access" if checking() else "")

    def compute_capability(self) -> tuple[int, int]:
        return (8, 0)

    def total_memory(self) -> int:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


class Context:
    @staticmethod
    def synchronize() -> None:
        """Launches finish before they return: nothing is ever in flight."""

    @staticmethod
    def get_device() -> Device:
        return Device(0)


class DeviceAllocation:
    def __init__(self, nbytes: int):
        self.nbytes = nbytes
        self._ptr = _runtime().graphc_emu_alloc(nbytes)
        if not self._ptr:
            raise MemoryError(f"the emulator could not allocate {nbytes} bytes of device memory")

    def __int__(self) -> int:
        return self._ptr

    __index__ = __int__

    def free(self) -> None:
        if self._ptr:
            _runtime().graphc_emu_free(self._ptr)
            self._ptr = 0

    def __del__(self):
        self.free()


def mem_alloc(nbytes: int) -> DeviceAllocation:
    return DeviceAllocation(nbytes)


def memcpy_htod(dest, src) -> None:
    a = np.ascontiguousarray(src)
    ctypes.memmove(int(dest), a.ctypes.data, a.nbytes)
    if checking():
        _runtime().graphc_emu_mark_written(int(dest), a.nbytes)
    stats.htod_bytes += a.nbytes
    stats.htod_copies += 1


def memcpy_dtoh(dest: np.ndarray, src) -> None:
    if not dest.flags.c_contiguous:
        raise LogicError("memcpy_dtoh needs a contiguous destination array")
    ctypes.memmove(dest.ctypes.data, int(src), dest.nbytes)
    stats.dtoh_bytes += dest.nbytes
    stats.dtoh_copies += 1


def memcpy_dtod(dest, src, size: int) -> None:
    """Device to device: no host traffic, so not in `stats`' host counts."""
    ctypes.memmove(int(dest), int(src), size)
    if checking():
        _runtime().graphc_emu_mark_written(int(dest), size)
    stats.dtod_bytes += size


def set_access(allocation, ranges) -> None:
    """Checking mode: only these (offset, nbytes) ranges of `allocation` may be touched by the
    next launches (None: all of it), so an overrun into a neighbouring value is caught."""
    if not checking():
        return
    lib = _runtime()
    if ranges is None:
        lib.graphc_emu_set_access(int(allocation), -1, None, None)
        return
    offs = np.array([o for o, _ in ranges], np.uint64)
    sizes = np.array([n for _, n in ranges], np.uint64)
    lib.graphc_emu_set_access(int(allocation), len(offs), offs.ctypes.data, sizes.ctypes.data)


_EXTERN_SHARED = re.compile(r"extern\s+__shared__\s+(?:__align__\(\d+\)\s+)?([\w\s]+?)\s+(\w+)\s*\[\s*\]\s*;")


def _dynamic_shared(source: str) -> str:
    """Definitions for the `extern __shared__ T name[];` arrays a module declares: per OS thread,
    so each block running on it has its own."""
    defs = {m.group(2): m.group(1) for m in _EXTERN_SHARED.finditer(source)}
    return "".join(f"\n__thread {t} {name}[{DYNAMIC_SHARED_BYTES} / sizeof({t})] __attribute__((aligned(16)));"
                   for name, t in defs.items())


class Module:
    def __init__(self, path: Path):
        self._lib = load(path)

    def get_function(self, name: str) -> "Function":
        try:
            fn = getattr(self._lib, name)
        except AttributeError:
            raise LogicError(f"the module has no kernel named {name}") from None
        return Function(name, ctypes.cast(fn, ctypes.c_void_p).value)


def module_from_source(source: str, explain=None) -> Module:
    """Build CUDA C `source` for the emulator (cached by hash), as nvcc + module_from_buffer would."""
    _runtime()
    flags = CHECK_FLAGS if checking() else KERNEL_FLAGS
    return Module(build(source + _dynamic_shared(source), flags, kind="cuda-emu", include=[INCLUDE],
                        explain=explain))


def _dim3(v) -> ctypes.Array:
    v = tuple(int(x) for x in v) + (1,) * (3 - len(v))
    return (ctypes.c_uint * 3)(*v)


class Function:
    def __init__(self, name: str, address: int):
        self.name = name
        self._address = address
        self._name = name.encode()
        self._arg_format = None

    def prepare(self, arg_types) -> "Function":
        if any(c not in "PQqIiLl" for c in arg_types):
            raise LogicError(f"kernel {self.name}: the emulator passes 64-bit or 32-bit integer and "
                             f"pointer arguments only, not {arg_types!r}")
        self._arg_format = arg_types
        return self

    def prepared_call(self, grid, block, *args, shared_size: int = 0) -> None:
        if self._arg_format is not None and len(args) != len(self._arg_format):
            raise LogicError(f"kernel {self.name} was prepared for {len(self._arg_format)} arguments, got {len(args)}")
        if shared_size > DYNAMIC_SHARED_BYTES:
            raise LaunchError(f"kernel {self.name}: {shared_size} bytes of dynamic shared memory asked for; "
                              f"the emulator has {DYNAMIC_SHARED_BYTES}")
        values = (ctypes.c_uint64 * max(len(args), 1))(*[int(a) & (2 ** 64 - 1) for a in args])
        error = ctypes.create_string_buffer(4096)
        stats.launches += 1
        if _runtime().graphc_emu_launch(self._address, self._name, len(args), values, _dim3(grid), _dim3(block),
                                        error, len(error)):
            message = error.value.decode(errors="replace")
            m = re.search(r" \[offset=(\d+)\]", message)
            raise LaunchError(message.replace(m.group(0), "") if m else message,
                              int(m.group(1)) if m else None)


__all__ = ["Context", "Device", "DeviceAllocation", "Error", "LaunchError", "LogicError", "Module", "Stats",
           "checking", "init", "mem_alloc", "memcpy_dtod", "memcpy_dtoh", "memcpy_htod", "module_from_source",
           "set_access", "stats"]
