"""Which CUDA driver the runtime talks to: PyCUDA on a real GPU, or graphc's emulator when
``GRAPHC_CUDA_EMULATE`` is set (``1``: run; ``check``: run and check every access). Both offer
the same part of ``pycuda.driver``; only loading a module differs (a cubin from nvcc, or the
source built by the host compiler)."""
from __future__ import annotations

import os


def emulated() -> bool:
    return os.environ.get("GRAPHC_CUDA_EMULATE", "").lower() not in ("", "0")


def driver():
    """The driver module, initialised (on a GPU: with the device's primary context)."""
    if emulated():
        from .emulator import driver as drv

        drv.init()
        return drv
    import pycuda.autoprimaryctx  # noqa: F401  (the device's primary context, shared with others)
    import pycuda.driver as drv

    return drv


def load_module(module):
    """`module` (a compiler.Module) loaded on the current driver."""
    drv = driver()
    if emulated():
        return drv.module_from_source(module.source, explain=module.explain)
    from .compiler import compile_module

    major, minor = drv.Context.get_device().compute_capability()
    return drv.module_from_buffer(compile_module(module, f"sm_{major}{minor}"))


__all__ = ["driver", "emulated", "load_module"]
