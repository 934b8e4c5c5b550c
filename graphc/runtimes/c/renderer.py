"""The C renderer: the C-style base (runtimes/cstyle.py) spelled for the host compiler.

Kernels are functions over whole tensors: the CUDA code generator's grid-stride loop becomes
one loop over every element (thread 0 of a grid of one), marked for OpenMP where the work is
large enough to share. The output is C++ (the shared base writes static_cast, and overloaded
max/min/abs keep one spelling per op across dtypes), compiled by g++ or clang++. max/min
propagate NaN, as NumPy's maximum/minimum do: the NumPy runtime is the reference here.
"""
from __future__ import annotations

from ... import dtypes
from ..cstyle import CStyleRenderer

PARALLEL_MIN = 1 << 18  # elements below which a loop is not worth waking threads for (measured)


class CRenderer(CStyleRenderer):
    kernel_prefix = 'extern "C" void'
    constant_prefix = "static const"
    global_id = "0"
    global_size = "1"
    prelude = r"""#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The shared generator's kernels index CUDA-style: here every kernel is thread 0 of one. */
static const struct { unsigned int x, y, z; } threadIdx = {0, 0, 0}, blockIdx = {0, 0, 0},
    blockDim = {1, 1, 1}, gridDim = {1, 1, 1};

template <class A, class B> static inline auto max(A a, B b) -> decltype(a + b) {
  typedef decltype(a + b) T;
  return ((T)a != (T)a) | ((T)a > (T)b) ? (T)a : (T)b;
}
template <class T, class U> static inline void atomic_add(T* p, U v) { *p += v; } /* one thread */
template <class A, class B> static inline auto min(A a, B b) -> decltype(a + b) {
  typedef decltype(a + b) T;
  return ((T)a != (T)a) | ((T)a < (T)b) ? (T)a : (T)b;
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
