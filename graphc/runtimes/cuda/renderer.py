"""The CUDA C renderer: the C-style base (runtimes/cstyle.py) with CUDA's spellings."""
from __future__ import annotations

from ... import dtypes
from ..cstyle import CStyleRenderer


class CUDARenderer(CStyleRenderer):
    """CUDA C: `extern "C" __global__` kernels, half through cuda_fp16.h, warp shuffles."""

    kernel_prefix = 'extern "C" __global__ void'
    prelude = """#include <cuda_fp16.h>

__device__ __forceinline__ void atomic_add(float* p, float v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(double* p, double v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(half* p, float v) { atomicAdd(p, __float2half_rn(v)); }
__device__ __forceinline__ void atomic_add(int* p, int v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(long long* p, long long v) {
  atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
}
"""
    constant_prefix = "__device__ const"
    shared = "__shared__"
    barrier = "__syncthreads();"
    global_id = "(blockIdx.x * (long long)blockDim.x + threadIdx.x)"
    global_size = "((long long)gridDim.x * blockDim.x)"

    def load(self, ptr: str, index: str, dtype) -> str:
        if dtypes.as_dtype(dtype) is dtypes.float16:
            return f"__half2float({ptr}[{index}])"
        return f"{ptr}[{index}]"

    def store(self, ptr: str, index: str, value: str, dtype) -> str:
        if dtypes.as_dtype(dtype) is dtypes.float16:
            return f"{ptr}[{index}] = __float2half_rn({value});"
        return f"{ptr}[{index}] = {value};"

    def shuffle_down(self, value: str, offset: str) -> str:
        return f"__shfl_down_sync(0xffffffffu, {value}, {offset})"

    def shuffle_xor(self, value: str, mask: str) -> str:
        return f"__shfl_xor_sync(0xffffffffu, {value}, {mask})"

    def launch_bounds(self, threads: int) -> str:
        return f"__launch_bounds__({threads}) "

    def loop_prefix(self, n: int, simd: bool = True) -> str:
        return ""
