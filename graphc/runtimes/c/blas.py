"""BLAS for the C runtime: OpenBLAS from the `scipy-openblas32` wheel (`pip install
'graphc[c]'`), whose symbols carry a `scipy_` prefix. Without it MatMul runs on NumPy.

OpenBLAS runs single-threaded here: the generated loops share the cores through OpenMP, and two
thread pools on the same cores spin against each other (cifar_net's step at batch 64 took
14.5 ms with both, 4.9 ms with OpenBLAS on one thread, 5.5 ms with OpenMP on one)."""
from __future__ import annotations

import ctypes
import functools
import glob
import os

DECLS = """extern "C" {
void scipy_cblas_sgemm(int, int, int, int, int, int, float, const float*, int, const float*, int, float,
                       float*, int);
void scipy_cblas_dgemm(int, int, int, int, int, int, double, const double*, int, const double*, int, double,
                       double*, int);
void scipy_openblas_set_num_threads(int);
}
"""


@functools.lru_cache(maxsize=1)
def blas() -> tuple[list[str], str] | None:
    """(link flags, library folder), or None when the wheel is not installed."""
    try:
        import scipy_openblas32 as ob
    except ImportError:
        return None
    lib = ob.get_lib_dir()
    return [f"-L{lib}", f"-l{ob.get_library()}", f"-Wl,-rpath,{lib}"], lib


@functools.lru_cache(maxsize=1)
def one_thread() -> None:
    """Make OpenBLAS single-threaded in this process (see the module's docstring)."""
    found = blas()
    if found is not None:
        lib = next(iter(sorted(glob.glob(os.path.join(found[1], "lib*openblas*.so*")))), None)
        if lib:
            ctypes.CDLL(lib).scipy_openblas_set_num_threads(1)


__all__ = ["DECLS", "blas", "one_thread"]
