/* The emulator's stand-in for CUDA's cuda_fp16.h: half lives in graphc_cuda_emu.h. */
#include "graphc_cuda_emu.h"
