/* graphc's CUDA emulation header: lets a host C++ compiler build generated CUDA C unmodified.
 *
 * Every CUDA thread of a block runs as a fiber on one OS thread (blocks spread over a pool of
 * OS threads), so __syncthreads() and the warp intrinsics are real rendezvous points, run by
 * the scheduler in emu_runtime.cpp. Shared memory is thread-local storage of the OS thread
 * running the block. The structs below are the ABI between kernels and that runtime.
 */
#ifndef GRAPHC_CUDA_EMU_H
#define GRAPHC_CUDA_EMU_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
#define __shared__ static __thread
#define __constant__ static
#define __managed__
/* __restrict__ is a GNU C++ keyword already. */

struct uint3 { unsigned int x, y, z; };
struct dim3 {
  unsigned int x, y, z;
  dim3(unsigned int x_ = 1, unsigned int y_ = 1, unsigned int z_ = 1) : x(x_), y(y_), z(z_) {}
};

namespace graphc_emu {
struct Block {
  uint3 idx;
  dim3 dim, grid;
  unsigned int nthreads, linear, barrier_epoch;
};
struct Thread {
  uint3 idx;
  Block* block;
  unsigned int linear, lane, warp;
  unsigned int shuffles;     /* warp exchanges done: picks the exchange buffer */
  unsigned int warp_epoch;   /* __syncwarp()s passed: orders memory between lanes */
  int state;
  void* sp;
  uintptr_t stack_lo, stack_hi;
};
}  // namespace graphc_emu

extern "C" {
extern __thread graphc_emu::Thread* graphc_emu_self;
void graphc_emu_syncthreads(void);
void graphc_emu_syncwarp(unsigned int mask);
uint64_t graphc_emu_shfl(unsigned int mask, uint64_t bits, int src_lane);
unsigned int graphc_emu_ballot(unsigned int mask, int predicate);
unsigned int graphc_emu_activemask(void);
void graphc_emu_trap(const char* what);
}

#define threadIdx (graphc_emu_self->idx)
#define blockIdx (graphc_emu_self->block->idx)
#define blockDim (graphc_emu_self->block->dim)
#define gridDim (graphc_emu_self->block->grid)
#define warpSize 32

/* ---- synchronisation and warp intrinsics ------------------------------------------------ */

#define __syncthreads() graphc_emu_syncthreads()
inline void __syncwarp(unsigned int mask = 0xffffffffu) { graphc_emu_syncwarp(mask); }
inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __trap() { graphc_emu_trap("__trap() was called"); }
inline unsigned int __activemask() { return graphc_emu_activemask(); }

template <class T> inline uint64_t graphc_emu_bits(T v) {
  static_assert(sizeof(T) <= 8, "warp shuffles move at most 8 bytes");
  uint64_t b = 0;
  memcpy(&b, &v, sizeof(T));
  return b;
}
template <class T> inline T graphc_emu_value(uint64_t b) {
  T v;
  memcpy(&v, &b, sizeof(T));
  return v;
}
inline int graphc_emu_lane() { return (int)graphc_emu_self->lane; }

template <class T> inline T __shfl_sync(unsigned int mask, T v, int src, int width = 32) {
  const int lane = graphc_emu_lane();
  return graphc_emu_value<T>(graphc_emu_shfl(mask, graphc_emu_bits(v), lane / width * width + src % width));
}
template <class T> inline T __shfl_down_sync(unsigned int mask, T v, unsigned int delta, int width = 32) {
  const int lane = graphc_emu_lane();
  const int src = lane % width + (int)delta < width ? lane + (int)delta : lane;
  return graphc_emu_value<T>(graphc_emu_shfl(mask, graphc_emu_bits(v), src));
}
template <class T> inline T __shfl_up_sync(unsigned int mask, T v, unsigned int delta, int width = 32) {
  const int lane = graphc_emu_lane();
  const int src = lane % width >= (int)delta ? lane - (int)delta : lane;
  return graphc_emu_value<T>(graphc_emu_shfl(mask, graphc_emu_bits(v), src));
}
template <class T> inline T __shfl_xor_sync(unsigned int mask, T v, int lane_mask, int width = 32) {
  const int lane = graphc_emu_lane();
  const int src = lane ^ lane_mask;
  return graphc_emu_value<T>(graphc_emu_shfl(mask, graphc_emu_bits(v), src / width == lane / width ? src : lane));
}
inline unsigned int __ballot_sync(unsigned int mask, int p) { return graphc_emu_ballot(mask, p); }
inline int __any_sync(unsigned int mask, int p) { return graphc_emu_ballot(mask, p) != 0; }
inline int __all_sync(unsigned int mask, int p) {
  return graphc_emu_ballot(mask, p) == (mask & graphc_emu_ballot(mask, 1));
}

/* ---- half ------------------------------------------------------------------------------- */

inline unsigned short graphc_emu_f2h(float f) { /* round to nearest even, as cvt.rn.f16.f32 */
  uint32_t x;
  memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return (unsigned short)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0u));
  if (ax >= 0x477ff000u) return (unsigned short)(sign | 0x7c00u); /* rounds past 65504 */
  if (ax < 0x38800000u) { /* subnormal or zero in half */
    if (ax < 0x33000000u) return (unsigned short)sign;
    const uint32_t mant = (ax & 0x7fffffu) | 0x800000u;
    const int shift = 126 - (int)(ax >> 23); /* value / 2^-24 */
    const uint32_t half_ulp = 1u << (shift - 1);
    uint32_t r = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1);
    if (rem > half_ulp || (rem == half_ulp && (r & 1u))) r++;
    return (unsigned short)(sign | r);
  }
  uint32_t r = ((ax >> 13) - (112u << 10));
  const uint32_t rem = ax & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) r++;
  return (unsigned short)(sign | r);
}
inline float graphc_emu_h2f(unsigned short h) {
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu, x;
  if (e == 0x1f) x = sign | 0x7f800000u | (m << 13);
  else if (e) x = sign | ((e + 112u) << 23) | (m << 13);
  else if (!m) x = sign;
  else {
    e = 113;
    while (!(m & 0x400u)) { m <<= 1; --e; }
    x = sign | (e << 23) | ((m & 0x3ffu) << 13);
  }
  float f;
  memcpy(&f, &x, 4);
  return f;
}

struct __half {
  unsigned short x;
  __half() = default;
  __half(float f) : x(graphc_emu_f2h(f)) {}
  __half(double f) : x(graphc_emu_f2h((float)f)) {}
  __half(int i) : x(graphc_emu_f2h((float)i)) {}
  operator float() const { return graphc_emu_h2f(x); }
};
typedef __half half;
inline float __half2float(__half h) { return graphc_emu_h2f(h.x); }
inline __half graphc_emu_half_bits(unsigned short b) { __half h; h.x = b; return h; }
inline __half __float2half_rn(float f) { return graphc_emu_half_bits(graphc_emu_f2h(f)); }
inline __half __float2half(float f) { return __float2half_rn(f); }
inline __half __double2half(double d) { return __float2half_rn((float)d); }
inline unsigned short __half_as_ushort(__half h) { return h.x; }
inline __half __ushort_as_half(unsigned short b) { return graphc_emu_half_bits(b); }

/* ---- atomics: real atomic operations (blocks run in parallel on OS threads) --------------- */

template <class T, class U, class F> inline T graphc_emu_cas_loop(T* p, F update) {
  U* u = reinterpret_cast<U*>(p);
  U old = __atomic_load_n(u, __ATOMIC_RELAXED), next;
  do {
    T v = graphc_emu_value<T>((uint64_t)old);
    next = (U)graphc_emu_bits(update(v));
  } while (!__atomic_compare_exchange_n(u, &old, next, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
  return graphc_emu_value<T>((uint64_t)old);
}

#define GRAPHC_EMU_INT_ATOMICS(T)                                                                  \
  inline T atomicAdd(T* p, T v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }         \
  inline T atomicSub(T* p, T v) { return __atomic_fetch_sub(p, v, __ATOMIC_RELAXED); }         \
  inline T atomicAnd(T* p, T v) { return __atomic_fetch_and(p, v, __ATOMIC_RELAXED); }         \
  inline T atomicOr(T* p, T v) { return __atomic_fetch_or(p, v, __ATOMIC_RELAXED); }           \
  inline T atomicXor(T* p, T v) { return __atomic_fetch_xor(p, v, __ATOMIC_RELAXED); }         \
  inline T atomicExch(T* p, T v) { return __atomic_exchange_n(p, v, __ATOMIC_RELAXED); }       \
  inline T atomicCAS(T* p, T cmp, T v) {                                                         \
    __atomic_compare_exchange_n(p, &cmp, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);          \
    return cmp;                                                                                  \
  }                                                                                              \
  inline T atomicMax(T* p, T v) { return graphc_emu_cas_loop<T, T>(p, [v](T o) { return o > v ? o : v; }); } \
  inline T atomicMin(T* p, T v) { return graphc_emu_cas_loop<T, T>(p, [v](T o) { return o < v ? o : v; }); }
GRAPHC_EMU_INT_ATOMICS(int)
GRAPHC_EMU_INT_ATOMICS(unsigned int)
GRAPHC_EMU_INT_ATOMICS(long long)
GRAPHC_EMU_INT_ATOMICS(unsigned long long)
#undef GRAPHC_EMU_INT_ATOMICS
inline unsigned short atomicCAS(unsigned short* p, unsigned short cmp, unsigned short v) {
  __atomic_compare_exchange_n(p, &cmp, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  return cmp;
}
inline float atomicAdd(float* p, float v) { return graphc_emu_cas_loop<float, uint32_t>(p, [v](float o) { return o + v; }); }
inline double atomicAdd(double* p, double v) { return graphc_emu_cas_loop<double, uint64_t>(p, [v](double o) { return o + v; }); }
inline __half atomicAdd(__half* p, __half v) {
  return graphc_emu_cas_loop<__half, unsigned short>(p, [v](__half o) { return __float2half_rn((float)o + (float)v); });
}
inline float atomicExch(float* p, float v) { return graphc_emu_cas_loop<float, uint32_t>(p, [v](float) { return v; }); }

/* ---- math: CUDA's overloads where C++ has none, with the GPU's NaN rules for max/min ------ */

template <class T> struct graphc_emu_is_float { static const bool value = false; };
template <> struct graphc_emu_is_float<float> { static const bool value = true; };
template <> struct graphc_emu_is_float<double> { static const bool value = true; };
template <class A, class B> inline auto max(A a, B b) -> decltype(a + b) {
  typedef decltype(a + b) T;
  if (graphc_emu_is_float<T>::value) return (T)fmax((T)a, (T)b);
  return (T)a > (T)b ? (T)a : (T)b;
}
template <class A, class B> inline auto min(A a, B b) -> decltype(a + b) {
  typedef decltype(a + b) T;
  if (graphc_emu_is_float<T>::value) return (T)fmin((T)a, (T)b);
  return (T)a < (T)b ? (T)a : (T)b;
}
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __saturatef(float x) { return x < 0.f ? 0.f : (x > 1.f ? 1.f : x); }
inline float rsqrtf(float x) { return 1.f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float __frcp_rn(float x) { return 1.f / x; }
inline int __float_as_int(float f) { return graphc_emu_value<int>(graphc_emu_bits(f)); }
inline float __int_as_float(int i) { return graphc_emu_value<float>(graphc_emu_bits(i)); }
inline unsigned int __float_as_uint(float f) { return graphc_emu_value<unsigned int>(graphc_emu_bits(f)); }
inline float __uint_as_float(unsigned int i) { return graphc_emu_value<float>(graphc_emu_bits(i)); }
inline long long __double_as_longlong(double d) { return graphc_emu_value<long long>(graphc_emu_bits(d)); }
inline double __longlong_as_double(long long i) { return graphc_emu_value<double>(graphc_emu_bits(i)); }
inline int __popc(unsigned int x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x ? __builtin_clz((unsigned)x) : 32; }
inline int __ffs(int x) { return __builtin_ffs(x); }
template <class T> inline T __ldg(const T* p) { return *p; }

#endif
