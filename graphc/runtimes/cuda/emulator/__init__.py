"""graphc's CUDA emulator: the generated CUDA C, built by the host compiler against
include/graphc_cuda_emu.h and run on the CPU by emu_runtime.cpp, behind a stand-in for the
part of pycuda.driver the runtime uses (driver.py). Selected with GRAPHC_CUDA_EMULATE."""
