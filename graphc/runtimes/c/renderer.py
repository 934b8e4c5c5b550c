"""The C renderer: the C-style base (runtimes/cstyle.py) spelled for the host compiler.

Kernels are functions over whole tensors: the CUDA code generator's grid-stride loop becomes
one loop over every element (thread 0 of a grid of one), marked for OpenMP where the work is
large enough to share. The output is C++ (the shared base writes static_cast, and overloaded
max/min/abs keep one spelling per op across dtypes), compiled by g++ or clang++. max/min
propagate NaN, as NumPy's maximum/minimum do: the NumPy runtime is the reference here.
"""
from __future__ import annotations

import ctypes.util
import functools
import os

from ... import dtypes
from ..cstyle import CStyleRenderer

PARALLEL_MIN = 1 << 18  # elements below which a loop is not worth waking threads for (measured)


def threads() -> int:
    """The OpenMP team the generated code is laid out for (kernels keep scratch per thread):
    OMP_NUM_THREADS, else the cores this process may run on."""
    first = os.environ.get("OMP_NUM_THREADS", "").split(",")[0]
    if first.isdigit() and int(first) > 0:
        return int(first)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


MATH = ("exp", "log", "sin", "cos", "tan", "tanh", "sinh", "cosh", "asin", "acos", "atan", "erf", "expm1",
        "log1p", "log2", "log10", "exp2")


@functools.lru_cache(maxsize=1)
def vector_math() -> tuple[str, list[str]]:
    """(declarations, link flags) for glibc's libmvec with GCC: the maths functions it has in
    SIMD (within 4 ulp) declared so, and a loop calling them vectorises (a SiLU ~6x faster);
    nothing elsewhere, where the calls stay scalar."""
    from ..hostbuild import compiler

    name = ctypes.util.find_library("mvec")
    if not name or "g++" not in compiler()[1]:
        return "", []
    lib = ctypes.CDLL(name)
    have = [(f, t) for f in MATH for t, suffix, lanes in (("float", "f", 4), ("double", "", 2))
            if hasattr(lib, f"_ZGVbN{lanes}v_{f}{suffix}") and hasattr(lib, f"_ZGVdN{2 * lanes}v_{f}{suffix}")]
    decls = "".join(f'{t} {f}{"f" if t == "float" else ""}({t}) throw() __attribute__((simd("notinbranch")));\n'
                    for f, t in have)
    return f'/* glibc\'s vector maths (libmvec) */\nextern "C" {{\n{decls}}}\n', ["-lmvec"]


class CRenderer(CStyleRenderer):
    kernel_prefix = 'extern "C" void'
    constant_prefix = "static const"
    global_id = "0"
    global_size = "1"
    prelude = r"""#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The shared generator's kernels index CUDA-style: here every kernel is thread 0 of one. */
static const struct { unsigned int x, y, z; } threadIdx = {0, 0, 0}, blockIdx = {0, 0, 0},
    blockDim = {1, 1, 1}, gridDim = {1, 1, 1};

template <class A, class B> static inline auto max(A a, B b) -> decltype(a + b) {
  typedef decltype(a + b) T;
  const T x = (T)a, y = (T)b, r = x > y ? x : y;
  return x != x ? x : r; /* two selects: GCC vectorises this form, not the one-test form */
}
template <class T, class U> static inline void atomic_add(T* p, U v) { *p += v; } /* one thread */
template <class A, class B> static inline auto min(A a, B b) -> decltype(a + b) {
  typedef decltype(a + b) T;
  const T x = (T)a, y = (T)b, r = x < y ? x : y;
  return x != x ? x : r;
}
"""
    types = {**CStyleRenderer.types}

    def __init__(self, parallel: bool = True):
        super().__init__()
        self.parallel = parallel
        self.types.pop(dtypes.float16, None)  # no half arithmetic here: such nodes run on NumPy

    def ctype(self, dtype) -> str:
        """Booleans are stored as bytes: GCC does not vectorise loads of `bool`, but does of
        `unsigned char` (and the loaded 0/1 still converts to a `bool` compute value)."""
        return "unsigned char" if dtypes.as_dtype(dtype) is dtypes.bool_ else super().ctype(dtype)

    def launch_bounds(self, threads: int) -> str:
        return ""

    def loop_prefix(self, n: int, simd: bool = True) -> str:
        if n < PARALLEL_MIN or not self.parallel:
            return ""
        return f"#pragma omp parallel for{' simd' if simd else ''}\n  "


RENDERER = CRenderer()
SERIAL = CRenderer(parallel=False)  # for loops whose iterations may add into one place
