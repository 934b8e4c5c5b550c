"""BLAS for the C runtime: OpenBLAS from the `scipy-openblas32` wheel (`pip install
'graphc[c]'`), whose symbols carry a `scipy_` prefix. Without it MatMul runs on NumPy."""
from __future__ import annotations

import functools

DECLS = """extern "C" {
void scipy_cblas_sgemm(int, int, int, int, int, int, float, const float*, int, const float*, int, float,
                       float*, int);
void scipy_cblas_dgemm(int, int, int, int, int, int, double, const double*, int, const double*, int, double,
                       double*, int);
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


__all__ = ["DECLS", "blas"]
