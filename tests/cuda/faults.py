"""Deliberately broken kernels, run by test_emulator.py in a subprocess in checking mode
(GRAPHC_CUDA_EMULATE=check): prints, as JSON, the error the emulator reported for each, or
"no error". With --ucontext the emulator switches fibers with ucontext, as off x86-64."""
from __future__ import annotations

import json

import numpy as np

N = 300  # not a multiple of the block size, and more than one block of 256

KERNELS = {
    "off_by_one": r'''
extern "C" __global__ void off_by_one(const float* x, float* y) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i <= 300; i += (long long)gridDim.x * blockDim.x)
    y[i] = 2 * x[i];
}''',
    "missing_barrier": r'''
extern "C" __global__ void missing_barrier(const float* x, float* y) {
  __shared__ float s[256];
  s[threadIdx.x] = x[threadIdx.x];
  __syncthreads();
  for (int stride = 128; stride > 0; stride >>= 1) {
    if (threadIdx.x < stride) s[threadIdx.x] += s[threadIdx.x + stride];
  }
  if (threadIdx.x == 0) y[0] = s[0];
}''',
    "shared_before_written": r'''
extern "C" __global__ void shared_before_written(const float* x, float* y) {
  __shared__ float s[256];
  if (threadIdx.x < 128) s[threadIdx.x] = x[threadIdx.x];
  __syncthreads();
  y[threadIdx.x] = s[255 - threadIdx.x];
}''',
    "divergent_barrier": r'''
extern "C" __global__ void divergent_barrier(const float* x, float* y) {
  if (threadIdx.x < 200) {
    y[threadIdx.x] = x[threadIdx.x];
    __syncthreads();
  }
}''',
    "racy_sum": r'''
extern "C" __global__ void racy_sum(const float* x, float* y) {
  const long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
  if (i < 300) y[0] += x[i];
}''',
    "uninitialised_read": r'''
extern "C" __global__ void uninitialised_read(const float* x, float* y) {
  const long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
  if (i < 300) y[i] = x[i] + y[i];
}''',
    "correct_reduction": r'''
extern "C" __global__ void correct_reduction(const float* x, float* y) {
  __shared__ float s[256];
  s[threadIdx.x] = x[threadIdx.x];
  __syncthreads();
  for (int stride = 128; stride > 0; stride >>= 1) {
    if (threadIdx.x < stride) s[threadIdx.x] += s[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) atomicAdd(y, s[0]);
}''',
}


def run(name: str) -> str:
    from graphc.runtimes.cuda.emulator import driver as drv

    fn = drv.module_from_source(KERNELS[name]).get_function(name)
    fn.prepare("PP")
    x = np.arange(N, dtype=np.float32)
    # x and y inside one allocation, y right after x: an overrun of x would land in y
    mem = drv.mem_alloc(4096)
    base = int(mem)
    xs, ys = base, base + 2048
    drv.memcpy_htod(xs, x)
    if name != "uninitialised_read":
        drv.memcpy_htod(ys, np.zeros(N, np.float32))
    drv.set_access(mem, [(0, x.nbytes), (2048, x.nbytes)])
    try:
        fn.prepared_call((2, 1, 1), (256, 1, 1), xs, ys)
    except drv.Error as exc:
        return str(exc)
    return "no error"


def graph_overrun() -> str:
    """A compiled graph whose generated kernel is made to run one element too far: the error
    names the node, and the value whose red zone the store hit."""
    import graphc
    from graphc.runtimes.cuda import runtime

    graph = graphc.trace(lambda x: (x * 2).exp() + 1, graphc.randn(N))
    codes = runtime.graph_code(graph)
    for code in codes:
        for k in code.kernels:
            object.__setattr__(k, "source", k.source.replace(f"< {N};", f"<= {N};"))
    runtime.graph_code = lambda g: codes
    try:
        runtime.CudaExecutable(graph)(np.ones(N, np.float32))
    except runtime.CudaRunError as exc:
        return str(exc)
    return "no error"


if __name__ == "__main__":
    import sys

    if "--ucontext" in sys.argv:  # the portable fibers other CPUs use, on this one
        from graphc.runtimes.cuda.emulator import driver

        driver.RUNTIME_FLAGS = [*driver.RUNTIME_FLAGS, "-DGRAPHC_EMU_UCONTEXT"]
    results = {name: run(name) for name in KERNELS}
    results["graph_overrun"] = graph_overrun()
    print(json.dumps(results))
