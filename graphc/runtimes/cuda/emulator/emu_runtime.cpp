/* graphc's CUDA emulator runtime: runs kernels built against graphc_cuda_emu.h on the CPU.
 *
 * A launch hands its blocks to a pool of OS threads. A block's threads are fibers on one OS
 * thread, started lazily in order and switched only where CUDA threads rendezvous
 * (__syncthreads, warp shuffles, votes, __syncwarp), so a kernel without barriers costs one
 * switch per thread and reuses one stack. A rendezvous that can never complete (a barrier some
 * threads returned before reaching) is reported, not waited for.
 *
 * In checking mode the kernels are compiled with -fsanitize=thread, which makes the compiler
 * call __tsan_read4(addr) etc. before every memory access; this file defines those hooks itself
 * (no sanitizer runtime is loaded) and checks each access of device memory against a shadow:
 * inside an argument's bytes (the runtime marks them per launch, so an overrun into a
 * neighbouring value or a red zone is caught), written before read, and not racing with another
 * thread's access since the last barrier (or in another block of the same launch). Shared
 * memory gets the same race and read-before-write checks, per block.
 */
#include "graphc_cuda_emu.h"

#include <signal.h>
#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <ucontext.h>

namespace {

using graphc_emu::Block;
using graphc_emu::Thread;

enum State { NEW, RUNNABLE, AT_BARRIER, AT_WARP, DONE, ABORTED };
constexpr size_t STACK_BYTES = 256 * 1024;
constexpr int MAX_THREADS = 1024;
constexpr int MAX_ARGS = 64;

/* ---- context switching ------------------------------------------------------------------- */

#if defined(__x86_64__) && !defined(GRAPHC_EMU_UCONTEXT)
#define GRAPHC_EMU_ASM_SWITCH 1
extern "C" void graphc_emu_switch(void** save, void* next);
asm(R"(
.text
.globl graphc_emu_switch
.hidden graphc_emu_switch
.type graphc_emu_switch,@function
graphc_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
.size graphc_emu_switch, .-graphc_emu_switch
)");

void* fiber_stack(uintptr_t hi, void (*entry)()) {
  uint64_t* sp = reinterpret_cast<uint64_t*>(hi & ~uintptr_t(15));
  *--sp = 0;                                   /* entry's return address: never used */
  *--sp = reinterpret_cast<uint64_t>(entry);   /* where graphc_emu_switch's ret goes */
  for (int i = 0; i < 6; ++i) *--sp = 0;       /* rbp rbx r12-r15 */
  *--sp = 0x1f80ull | (0x037full << 32);       /* mxcsr, x87 control word */
  return sp;
}
#else
/* Elsewhere fibers are ucontexts (slower: swapcontext also saves the signal mask). */
struct UContext { ucontext_t uc; };
extern "C" void graphc_emu_switch(void** save, void* next) {
  UContext** from = reinterpret_cast<UContext**>(save);
  if (!*from) *from = new UContext();
  swapcontext(&(*from)->uc, &static_cast<UContext*>(next)->uc);
}
void* fiber_stack(uintptr_t hi, void (*entry)(), uintptr_t lo, void* reuse) {
  UContext* c = reuse ? static_cast<UContext*>(reuse) : new UContext();
  getcontext(&c->uc);
  c->uc.uc_stack.ss_sp = reinterpret_cast<void*>(lo);
  c->uc.uc_stack.ss_size = hi - lo;
  c->uc.uc_link = nullptr;
  makecontext(&c->uc, entry, 0);
  return c;
}
#endif

/* ---- integer division by zero: a GPU gives all ones, x86 traps ------------------------------ */

#if defined(__x86_64__)
struct sigaction previous_fpe;

/* Completes a trapping div/idiv inside a kernel as the GPU does (quotient all ones, remainder
 * the dividend; the most negative value divided by -1 stays itself) and steps over it. */
void on_fpe(int sig, siginfo_t* info, void* raw) {
  ucontext_t* uc = static_cast<ucontext_t*>(raw);
  greg_t* r = uc->uc_mcontext.gregs;
  const uint8_t* ip = reinterpret_cast<const uint8_t*>(r[REG_RIP]);
  bool wide = false, half_word = false;
  int n = 0;
  if (graphc_emu_self) {
    for (;; ++n) {
      if (ip[n] == 0x66) half_word = true;
      else if ((ip[n] & 0xf0) == 0x40) wide = (ip[n] & 8) != 0;
      else if (ip[n] != 0x67 && ip[n] != 0xf2 && ip[n] != 0xf3) break;
    }
  }
  const uint8_t op = graphc_emu_self ? ip[n] : 0, modrm = graphc_emu_self ? ip[n + 1] : 0;
  const int kind = (modrm >> 3) & 7;
  if (!graphc_emu_self || (op != 0xf7 && op != 0xf6) || (kind != 6 && kind != 7)) {
    sigaction(SIGFPE, &previous_fpe, nullptr); /* not ours: let the previous handler see it */
    raise(sig);
    return;
  }
  const int mod = modrm >> 6, rm = modrm & 7;
  int len = n + 2;
  if (mod != 3 && rm == 4) {
    const uint8_t sib = ip[len++];
    if (mod == 0 && (sib & 7) == 5) len += 4;
  }
  if (mod == 1) len += 1;
  else if (mod == 2 || (mod == 0 && rm == 5)) len += 4;
  const int bits = op == 0xf6 ? 8 : wide ? 64 : half_word ? 16 : 32;
  const uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
  const uint64_t dividend = uint64_t(r[REG_RAX]) & mask, lowest = 1ull << (bits - 1);
  const bool overflow = kind == 7 && dividend == lowest;
  const uint64_t q = overflow ? lowest : mask, rem = overflow ? 0 : dividend;
  if (bits == 8) r[REG_RAX] = greg_t((uint64_t(r[REG_RAX]) & ~0xffffull) | (rem << 8) | q);
  else if (bits == 16) {
    r[REG_RAX] = greg_t((uint64_t(r[REG_RAX]) & ~0xffffull) | q);
    r[REG_RDX] = greg_t((uint64_t(r[REG_RDX]) & ~0xffffull) | rem);
  } else {
    r[REG_RAX] = greg_t(q);
    r[REG_RDX] = greg_t(rem);
  }
  r[REG_RIP] += len;
  (void)info;
}

void catch_division_traps() {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fpe;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGFPE, &sa, &previous_fpe);
}
#else
void catch_division_traps() {} /* AArch64's sdiv/udiv give 0 and never trap */
#endif

/* ---- device allocations and their shadow --------------------------------------------------- */

enum : uint8_t { ACCESSIBLE = 1, WRITTEN = 2 };

struct Cell {          /* who last wrote and read a byte: launch, thread (+1, 0 = nobody), epoch */
  uint32_t wl, wt, we, rl, rt, re;
};
constexpr uint32_t ATOMIC = 0x80000000u;

struct Alloc {
  uintptr_t base = 0;     /* what the driver hands out; GUARD bytes on each side are ours */
  size_t size = 0;
  uint8_t* state = nullptr;
  Cell* cells = nullptr;
};
constexpr size_t GUARD = 4096;

std::mutex allocs_mu;
std::vector<Alloc*> allocs; /* sorted by base */
bool checking = false;

Alloc* find_alloc(uintptr_t a) {
  auto it = std::upper_bound(allocs.begin(), allocs.end(), a,
                             [](uintptr_t x, const Alloc* al) { return x < al->base - GUARD; });
  if (it == allocs.begin()) return nullptr;
  Alloc* al = *(it - 1);
  return a < al->base + al->size + GUARD ? al : nullptr;
}

/* ---- launches -------------------------------------------------------------------------------- */

struct Launch {
  void* fn;
  int nargs;
  uint64_t args[MAX_ARGS];
  dim3 grid, block;
  uint64_t nblocks;
  unsigned nthreads;
  uint32_t id;
  const char* name;
  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mu;
  std::string error;
};

struct Warp {
  unsigned exists, arrived, mask;
  uint64_t slots[2][32];
};

struct Worker {
  Block block;
  Thread threads[MAX_THREADS];
  Warp warps[MAX_THREADS / 32];
  unsigned barrier_arrived, done;
  void* barrier_site;
  void* sched_sp = nullptr;
  std::vector<std::pair<uintptr_t, uintptr_t>> free_stacks;
  std::unordered_map<uintptr_t, Cell> shared_cells; /* shared-memory shadow, per block */
  Launch* launch = nullptr;
};

__thread Worker* tl_worker;

Worker* worker() {
  if (!tl_worker) tl_worker = new Worker();
  return tl_worker;
}

std::string dim_text(unsigned x, unsigned y, unsigned z) {
  return "(" + std::to_string(x) + "," + std::to_string(y) + "," + std::to_string(z) + ")";
}

std::string where(const Thread* t) {
  const Block* b = t->block;
  return "kernel " + std::string(tl_worker->launch->name) + ", block " +
         dim_text(b->idx.x, b->idx.y, b->idx.z) + ", thread " + dim_text(t->idx.x, t->idx.y, t->idx.z);
}

void record(Launch* L, const std::string& message) {
  std::lock_guard<std::mutex> g(L->error_mu);
  if (!L->failed.exchange(true)) L->error = message;
}

void yield(Thread* t) { graphc_emu_switch(&t->sp, tl_worker->sched_sp); }

[[noreturn]] void fail(Thread* t, const std::string& what) {
  record(tl_worker->launch, where(t) + ": " + what);
  t->state = ABORTED;
  yield(t);
  __builtin_unreachable();
}

/* Calls a kernel with its 64-bit arguments (pointers and integers: all passed as integer-class
 * arguments by the x86-64 and AArch64 calling conventions). */
template <size_t... I> void call_with(void* fn, const uint64_t* a, std::index_sequence<I...>) {
  reinterpret_cast<void (*)(decltype((void)I, uint64_t())...)>(fn)(a[I]...);
}
template <size_t... N> constexpr auto callers(std::index_sequence<N...>) {
  return std::array<void (*)(void*, const uint64_t*), sizeof...(N)>{
      [](void* fn, const uint64_t* a) { call_with(fn, a, std::make_index_sequence<N>()); }...};
}
const auto CALLERS = callers(std::make_index_sequence<MAX_ARGS + 1>());

[[noreturn]] void fiber_main() {
  Thread* t = graphc_emu_self;
  Launch* L = tl_worker->launch;
  CALLERS[L->nargs](L->fn, L->args);
  t->state = DONE;
  tl_worker->done++;
  yield(t);
  __builtin_unreachable();
}

std::pair<uintptr_t, uintptr_t> take_stack(Worker* w) {
  if (!w->free_stacks.empty()) {
    auto s = w->free_stacks.back();
    w->free_stacks.pop_back();
    return s;
  }
  void* p = mmap(nullptr, STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return {0, 0};
  mprotect(p, 4096, PROT_NONE); /* guard page: an overflow faults instead of corrupting */
  const uintptr_t lo = reinterpret_cast<uintptr_t>(p);
  return {lo, lo + STACK_BYTES};
}

std::string ranges(const std::vector<unsigned>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size();) {
    size_t j = i;
    while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) ++j;
    if (!out.empty()) out += ", ";
    out += std::to_string(ids[i]);
    if (j > i) out += "-" + std::to_string(ids[j]);
    i = j + 1;
  }
  return out;
}

std::string block_text(const Block& b) { return dim_text(b.idx.x, b.idx.y, b.idx.z); }

/* No fiber can run: say who waits where and why the wait can never end. */
void deadlock(Worker* w, Launch* L) {
  std::vector<unsigned> at_barrier, at_warp, done;
  for (unsigned i = 0; i < w->block.nthreads; ++i) {
    const int s = w->threads[i].state;
    (s == AT_BARRIER ? at_barrier : s == AT_WARP ? at_warp : done).push_back(i);
  }
  std::string msg = "kernel " + std::string(L->name) + ", block " + block_text(w->block) + ": ";
  if (!at_barrier.empty())
    msg += "__syncthreads() was reached by threads " + ranges(at_barrier) + " of " +
           std::to_string(w->block.nthreads) + ", never by threads " +
           ranges(done.empty() ? at_warp : done) +
           (done.empty() ? " (waiting in a warp operation)" : " (they had returned)") +
           ": a barrier inside a branch that not all threads of the block take";
  else
    msg += "a warp operation (shuffle, vote or __syncwarp) waits in threads " + ranges(at_warp) +
           " for lanes of their warp that had returned (threads " + ranges(done) + ")";
  record(L, msg);
}

/* A failed block's suspended fibers are dropped (kernels hold no resources); their stacks return. */
bool abandon(Worker* w) {
  for (unsigned j = 0; j < w->block.nthreads; ++j) {
    Thread& u = w->threads[j];
    if (u.state == RUNNABLE || u.state == AT_BARRIER || u.state == AT_WARP) {
      w->free_stacks.push_back({u.stack_lo, u.stack_hi});
      u.state = ABORTED;
    }
  }
  return false;
}

bool run_block(Worker* w, Launch* L, uint64_t b) {
  Block& B = w->block;
  const dim3 g = L->grid, d = L->block;
  B.idx = {unsigned(b % g.x), unsigned(b / g.x % g.y), unsigned(b / (uint64_t(g.x) * g.y))};
  B.dim = d;
  B.grid = g;
  B.nthreads = L->nthreads;
  B.linear = unsigned(b);
  B.barrier_epoch = 0;
  w->barrier_arrived = 0;
  w->done = 0;
  const unsigned n = B.nthreads;
  for (unsigned i = 0; i < n; ++i) {
    Thread& t = w->threads[i];
    t.idx = {i % d.x, i / d.x % d.y, i / (d.x * d.y)};
    t.block = &B;
    t.linear = i;
    t.lane = i % 32;
    t.warp = i / 32;
    t.shuffles = 0;
    t.warp_epoch = 0;
    t.state = NEW;
  }
  for (unsigned k = 0; k < (n + 31) / 32; ++k) {
    const unsigned lanes = std::min(32u, n - 32 * k);
    w->warps[k].exists = lanes == 32 ? 0xffffffffu : (1u << lanes) - 1;
    w->warps[k].arrived = 0;
  }
  if (checking) {
    w->shared_cells.clear();
  }
  for (;;) {
    bool ran = false;
    for (unsigned i = 0; i < n; ++i) {
      Thread& t = w->threads[i];
      if (t.state == NEW) {
        auto s = take_stack(w);
        if (!s.first) {
          record(L, "kernel " + std::string(L->name) + ": out of memory for thread stacks");
          return false;
        }
        t.stack_lo = s.first;
        t.stack_hi = s.second;
#if GRAPHC_EMU_ASM_SWITCH
        t.sp = fiber_stack(s.second, fiber_main);
#else
        t.sp = fiber_stack(s.second, fiber_main, s.first + 4096, t.sp);
#endif
        t.state = RUNNABLE;
      }
      if (t.state != RUNNABLE) continue;
      graphc_emu_self = &t;
      graphc_emu_switch(&w->sched_sp, t.sp);
      graphc_emu_self = nullptr;
      ran = true;
      if (t.state == DONE || t.state == ABORTED) w->free_stacks.push_back({t.stack_lo, t.stack_hi});
      if (L->failed.load(std::memory_order_relaxed)) return abandon(w);
    }
    if (w->done == n) return true;
    if (!ran) {
      deadlock(w, L);
      return abandon(w);
    }
  }
}

void run_blocks(Worker* w, Launch* L) {
  w->launch = L;
  for (;;) {
    const uint64_t b = L->next.fetch_add(1);
    if (b >= L->nblocks || L->failed.load(std::memory_order_relaxed)) break;
    if (!run_block(w, L, b)) break;
  }
  w->launch = nullptr;
}

/* ---- the pool of OS threads running blocks ------------------------------------------------ */

struct Pool {
  std::mutex mu;
  std::condition_variable wake, finished;
  std::vector<std::thread> threads;
  Launch* launch = nullptr;
  uint64_t generation = 0;
  unsigned busy = 0;

  void start(unsigned n) {
    for (unsigned i = 0; i < n; ++i) threads.emplace_back([this] { loop(); });
  }
  void loop() {
    uint64_t seen = 0;
    for (;;) {
      Launch* L;
      {
        std::unique_lock<std::mutex> g(mu);
        wake.wait(g, [&] { return generation != seen; });
        seen = generation;
        L = launch;
      }
      run_blocks(worker(), L);
      std::lock_guard<std::mutex> g(mu);
      if (--busy == 0) finished.notify_all();
    }
  }
  void run(Launch* L) {
    {
      std::lock_guard<std::mutex> g(mu);
      launch = L;
      busy = unsigned(threads.size());
      ++generation;
    }
    wake.notify_all();
    run_blocks(worker(), L);
    std::unique_lock<std::mutex> g(mu);
    finished.wait(g, [&] { return busy == 0; });
  }
};

Pool* pool = nullptr;
unsigned pool_threads = 0;
std::atomic<uint32_t> launches{0};

/* ---- checking: the access hooks ------------------------------------------------------------ */

uint32_t thread_id(const Thread* t) { return t->block->linear * t->block->nthreads + t->linear + 1; }

uint32_t epoch(const Thread* t) { return (t->block->barrier_epoch << 16) | (t->warp_epoch & 0xffffu); }

/* Whether an earlier access by thread `who` (+1) at `ep` may run at the same time as thread t now. */
bool concurrent(const Launch* L, uint32_t launch, uint32_t who, uint32_t ep, const Thread* t) {
  who &= ~ATOMIC;
  if (!who || launch != L->id || who == thread_id(t)) return false;
  const unsigned n = t->block->nthreads, other = (who - 1) % n;
  if ((who - 1) / n != t->block->linear) return true;
  if ((ep >> 16) != t->block->barrier_epoch) return false;
  return other / 32 != t->warp || (ep & 0xffffu) == (t->warp_epoch & 0xffffu);
}

std::string thread_text(const Launch* L, uint32_t who) {
  who = (who & ~ATOMIC) - 1;
  const unsigned n = L->nthreads, i = who % n;
  const uint64_t b = who / n;
  return "thread " + dim_text(i % L->block.x, i / L->block.x % L->block.y, i / (L->block.x * L->block.y)) +
         " of block " + dim_text(unsigned(b % L->grid.x), unsigned(b / L->grid.x % L->grid.y),
                                 unsigned(b / (uint64_t(L->grid.x) * L->grid.y)));
}

/* Describes an access for an error message: built only when a check fails. */
struct Access {
  size_t n;
  bool write, atomic, shared;
  size_t offset;
  std::string text() const {
    const std::string verb = atomic ? "atomic access" : write ? "write" : "read";
    return verb + " of " + std::to_string(n) + " bytes " +
           (shared ? std::string("of shared memory") : "at device offset " + std::to_string(offset));
  }
  std::string tag() const { return shared ? "" : " [offset=" + std::to_string(offset) + "]"; }
};

void check_race(Thread* t, Cell& c, const Access& x) {
  Launch* L = tl_worker->launch;
  const uint32_t me = thread_id(t), ep = epoch(t);
  const char* why = " (no __syncthreads() orders them, or they are in different blocks)";
  if (!(x.atomic && (c.wt & ATOMIC)) && concurrent(L, c.wl, c.wt, c.we, t))
    fail(t, x.text() + " races with the " + ((c.wt & ATOMIC) ? "atomic " : "") + "write by " +
                thread_text(L, c.wt) + why + x.tag());
  if (x.write && !x.atomic && concurrent(L, c.rl, c.rt, c.re, t))
    fail(t, x.text() + " races with the read by " + thread_text(L, c.rt) + why + x.tag());
  if (x.write) {
    c.wl = L->id;
    c.wt = me | (x.atomic ? ATOMIC : 0);
    c.we = ep;
  } else if (!(c.rt != me && concurrent(L, c.rl, c.rt, c.re, t))) {
    c.rl = L->id; /* keep a concurrent reader from another thread: a later write must see it */
    c.rt = me;
    c.re = ep;
  }
}

void check_access(void* p, size_t n, bool write, bool atomic) {
  Thread* t = graphc_emu_self;
  if (!t || !checking) return;
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  if (a >= t->stack_lo && a < t->stack_hi) return;
  Worker* w = tl_worker;
  const uintptr_t wl = reinterpret_cast<uintptr_t>(w);
  if ((a >= wl && a < wl + sizeof(Worker)) || a == reinterpret_cast<uintptr_t>(&graphc_emu_self)) return;
  Alloc* al = find_alloc(a);
  if (al) {
    const Access x{n, write, atomic, false, size_t(a - al->base)};
    if (a < al->base || a + n > al->base + al->size)
      fail(t, x.text() + ", outside the " + std::to_string(al->size) + "-byte allocation" + x.tag());
    const uint8_t* st = al->state + x.offset;
    for (size_t i = 0; i < n; ++i)
      if (!(st[i] & ACCESSIBLE)) fail(t, x.text() + ", outside the values this kernel was given" + x.tag());
    if (!write)
      for (size_t i = 0; i < n; ++i)
        if (!(st[i] & WRITTEN)) fail(t, x.text() + " reads bytes that no kernel or copy wrote" + x.tag());
    for (size_t i = 0; i < n; ++i) {
      check_race(t, al->cells[x.offset + i], x);
      if (write) al->state[x.offset + i] |= WRITTEN;
    }
    return;
  }
  const Access x{n, write, atomic, true, 0};
  for (size_t i = 0; i < n; ++i) {
    auto cell = w->shared_cells.try_emplace(a + i);
    if (cell.second && !write) fail(t, x.text() + " reads bytes that no thread of this block wrote");
    check_race(t, cell.first->second, x);
  }
}

}  // namespace

/* ---- the ABI the kernels call --------------------------------------------------------------- */

extern "C" {

__thread Thread* graphc_emu_self;

void graphc_emu_syncthreads(void) {
  Thread* t = graphc_emu_self;
  Worker* w = tl_worker;
  void* site = __builtin_return_address(0);
  if (w->barrier_arrived == 0) w->barrier_site = site;
  else if (checking && site != w->barrier_site)
    fail(t, "threads of one block wait at different __syncthreads() calls (a barrier in a divergent branch)");
  if (++w->barrier_arrived == w->block.nthreads) {
    w->barrier_arrived = 0;
    w->block.barrier_epoch++;
    for (unsigned i = 0; i < w->block.nthreads; ++i)
      if (w->threads[i].state == AT_BARRIER) w->threads[i].state = RUNNABLE;
    return;
  }
  t->state = AT_BARRIER;
  yield(t);
}

/* Waits until every lane of `mask` in this warp arrived; the last to arrive wakes the others. */
static void warp_rendezvous(Thread* t, unsigned mask) {
  Worker* w = tl_worker;
  Warp& W = w->warps[t->warp];
  const unsigned need = mask & W.exists;
  if (!((need >> t->lane) & 1u))
    fail(t, "a warp operation's mask does not include the calling lane " + std::to_string(t->lane));
  if (W.arrived == 0) W.mask = need;
  else if (W.mask != need)
    fail(t, "lanes of one warp call a warp operation with different masks");
  W.arrived |= 1u << t->lane;
  if (W.arrived == need) {
    W.arrived = 0;
    for (unsigned l = 0; l < 32; ++l)
      if ((need >> l) & 1u) {
        Thread& u = w->threads[t->warp * 32 + l];
        if (u.state == AT_WARP) u.state = RUNNABLE;
      }
    return;
  }
  t->state = AT_WARP;
  yield(t);
}

uint64_t graphc_emu_shfl(unsigned int mask, uint64_t bits, int src) {
  Thread* t = graphc_emu_self;
  Warp& W = tl_worker->warps[t->warp];
  const unsigned slot = t->shuffles++ & 1u;
  W.slots[slot][t->lane] = bits;
  warp_rendezvous(t, mask);
  if (src < 0 || src >= 32 || !((W.mask >> src) & 1u)) return bits;
  return W.slots[slot][src];
}

unsigned int graphc_emu_ballot(unsigned int mask, int predicate) {
  Thread* t = graphc_emu_self;
  Warp& W = tl_worker->warps[t->warp];
  const unsigned slot = t->shuffles++ & 1u;
  W.slots[slot][t->lane] = predicate != 0;
  warp_rendezvous(t, mask);
  unsigned out = 0;
  for (unsigned l = 0; l < 32; ++l)
    if (((W.mask >> l) & 1u) && W.slots[slot][l]) out |= 1u << l;
  return out;
}

void graphc_emu_syncwarp(unsigned int mask) {
  Thread* t = graphc_emu_self;
  warp_rendezvous(t, mask);
  t->warp_epoch++;
}

unsigned int graphc_emu_activemask(void) {
  Thread* t = graphc_emu_self;
  unsigned out = 0;
  for (unsigned l = 0; l < 32 && t->warp * 32 + l < t->block->nthreads; ++l) {
    const int s = tl_worker->threads[t->warp * 32 + l].state;
    if (s != DONE && s != ABORTED) out |= 1u << l;
  }
  return out;
}

void graphc_emu_trap(const char* what) { fail(graphc_emu_self, what); }

/* ---- the ABI the Python driver calls ------------------------------------------------------- */

void graphc_emu_configure(int check, int threads) {
  checking = check != 0;
  catch_division_traps();
  const unsigned want = checking ? 1u : unsigned(std::max(1, threads));
  if (!pool) {
    pool = new Pool();
    pool->start(want - 1);
    pool_threads = want;
  }
}

uintptr_t graphc_emu_alloc(size_t size) {
  uint8_t* raw = static_cast<uint8_t*>(aligned_alloc(4096, ((size + 2 * GUARD) + 4095) / 4096 * 4096));
  if (!raw) return 0;
  memset(raw, 0xff, size + 2 * GUARD); /* uninitialised device memory reads as NaN / -1 */
  Alloc* al = new Alloc();
  al->base = reinterpret_cast<uintptr_t>(raw) + GUARD;
  al->size = size;
  if (checking) {
    al->state = static_cast<uint8_t*>(calloc(size + 1, 1));
    al->cells = static_cast<Cell*>(calloc(size + 1, sizeof(Cell)));
    if (!al->state || !al->cells) return 0;
    memset(al->state, ACCESSIBLE, size);
  }
  std::lock_guard<std::mutex> g(allocs_mu);
  allocs.insert(std::upper_bound(allocs.begin(), allocs.end(), al,
                                 [](const Alloc* x, const Alloc* y) { return x->base < y->base; }),
                al);
  return al->base;
}

void graphc_emu_free(uintptr_t base) {
  std::lock_guard<std::mutex> g(allocs_mu);
  for (auto it = allocs.begin(); it != allocs.end(); ++it)
    if ((*it)->base == base) {
      free(reinterpret_cast<void*>(base - GUARD));
      free((*it)->state);
      free((*it)->cells);
      delete *it;
      allocs.erase(it);
      return;
    }
}

/* Copies in mark bytes written; a kernel's arguments are the only bytes it may touch. */
void graphc_emu_mark_written(uintptr_t a, size_t n) {
  Alloc* al = find_alloc(a);
  if (!al || !al->state) return;
  for (size_t i = 0; i < n && a - al->base + i < al->size; ++i) al->state[a - al->base + i] |= WRITTEN;
}

void graphc_emu_set_access(uintptr_t base, int n, const uint64_t* offsets, const uint64_t* sizes) {
  Alloc* al = find_alloc(base);
  if (!al || !al->state) return;
  if (n < 0) {
    for (size_t i = 0; i < al->size; ++i) al->state[i] |= ACCESSIBLE;
    return;
  }
  for (size_t i = 0; i < al->size; ++i) al->state[i] &= uint8_t(~ACCESSIBLE);
  for (int k = 0; k < n; ++k)
    for (uint64_t i = offsets[k]; i < offsets[k] + sizes[k] && i < al->size; ++i) al->state[i] |= ACCESSIBLE;
}

/* Runs a kernel to completion; 0 when it succeeded, else the error is in `error`. */
int graphc_emu_launch(void* fn, const char* name, int nargs, const uint64_t* args, const unsigned* grid,
                      const unsigned* block, char* error, size_t error_size) {
  Launch L;
  L.fn = fn;
  L.name = name;
  L.nargs = nargs;
  memcpy(L.args, args, sizeof(uint64_t) * size_t(nargs));
  L.grid = dim3(grid[0], grid[1], grid[2]);
  L.block = dim3(block[0], block[1], block[2]);
  L.nblocks = uint64_t(grid[0]) * grid[1] * grid[2];
  L.nthreads = block[0] * block[1] * block[2];
  L.id = ++launches;
  if (L.nthreads == 0 || L.nthreads > MAX_THREADS || nargs > MAX_ARGS || L.nblocks == 0) {
    snprintf(error, error_size, "kernel %s: invalid launch (grid %ux%ux%u, block %ux%ux%u, %d arguments)", name,
             grid[0], grid[1], grid[2], block[0], block[1], block[2], nargs);
    return 1;
  }
  if (pool_threads > 1 && L.nblocks > 1) pool->run(&L);
  else run_blocks(worker(), &L);
  if (L.failed) {
    snprintf(error, error_size, "%s", L.error.c_str());
    return 1;
  }
  return 0;
}

/* ---- the hooks -fsanitize=thread makes checked kernels call --------------------------------- */

#define GRAPHC_EMU_ACCESS(N)                                                                     \
  void __tsan_read##N(void* p) { check_access(p, N, false, false); }                            \
  void __tsan_write##N(void* p) { check_access(p, N, true, false); }                            \
  void __tsan_unaligned_read##N(void* p) { check_access(p, N, false, false); }                  \
  void __tsan_unaligned_write##N(void* p) { check_access(p, N, true, false); }                  \
  void __tsan_volatile_read##N(void* p) { check_access(p, N, false, false); }                   \
  void __tsan_volatile_write##N(void* p) { check_access(p, N, true, false); }
GRAPHC_EMU_ACCESS(1)
GRAPHC_EMU_ACCESS(2)
GRAPHC_EMU_ACCESS(4)
GRAPHC_EMU_ACCESS(8)
GRAPHC_EMU_ACCESS(16)
#undef GRAPHC_EMU_ACCESS
void __tsan_read_range(void* p, unsigned long n) { check_access(p, n, false, false); }
void __tsan_write_range(void* p, unsigned long n) { check_access(p, n, true, false); }
void __tsan_func_entry(void*) {}
void __tsan_func_exit(void) {}
void __tsan_init(void) {}
void __tsan_vptr_update(void**, void*) {}
void __tsan_vptr_read(void**) {}
void __tsan_atomic_thread_fence(int) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
void __tsan_atomic_signal_fence(int) {}

#define GRAPHC_EMU_ATOMICS(N, T)                                                                     \
  T __tsan_atomic##N##_load(const volatile T* a, int) {                                             \
    check_access((void*)a, sizeof(T), false, true);                                                 \
    return __atomic_load_n(a, __ATOMIC_SEQ_CST);                                                    \
  }                                                                                                  \
  void __tsan_atomic##N##_store(volatile T* a, T v, int) {                                          \
    check_access((void*)a, sizeof(T), true, true);                                                  \
    __atomic_store_n(a, v, __ATOMIC_SEQ_CST);                                                       \
  }                                                                                                  \
  T __tsan_atomic##N##_exchange(volatile T* a, T v, int) {                                          \
    check_access((void*)a, sizeof(T), true, true);                                                  \
    return __atomic_exchange_n(a, v, __ATOMIC_SEQ_CST);                                             \
  }                                                                                                  \
  T __tsan_atomic##N##_fetch_add(volatile T* a, T v, int) {                                         \
    check_access((void*)a, sizeof(T), true, true);                                                  \
    return __atomic_fetch_add(a, v, __ATOMIC_SEQ_CST);                                              \
  }                                                                                                  \
  T __tsan_atomic##N##_fetch_sub(volatile T* a, T v, int) {                                         \
    check_access((void*)a, sizeof(T), true, true);                                                  \
    return __atomic_fetch_sub(a, v, __ATOMIC_SEQ_CST);                                              \
  }                                                                                                  \
  T __tsan_atomic##N##_fetch_and(volatile T* a, T v, int) {                                         \
    check_access((void*)a, sizeof(T), true, true);                                                  \
    return __atomic_fetch_and(a, v, __ATOMIC_SEQ_CST);                                              \
  }                                                                                                  \
  T __tsan_atomic##N##_fetch_or(volatile T* a, T v, int) {                                          \
    check_access((void*)a, sizeof(T), true, true);                                                  \
    return __atomic_fetch_or(a, v, __ATOMIC_SEQ_CST);                                               \
  }                                                                                                  \
  T __tsan_atomic##N##_fetch_xor(volatile T* a, T v, int) {                                         \
    check_access((void*)a, sizeof(T), true, true);                                                  \
    return __atomic_fetch_xor(a, v, __ATOMIC_SEQ_CST);                                              \
  }                                                                                                  \
  T __tsan_atomic##N##_fetch_nand(volatile T* a, T v, int) {                                        \
    check_access((void*)a, sizeof(T), true, true);                                                  \
    return __atomic_fetch_nand(a, v, __ATOMIC_SEQ_CST);                                             \
  }                                                                                                  \
  int __tsan_atomic##N##_compare_exchange_strong(volatile T* a, T* c, T v, int, int) {             \
    check_access((void*)a, sizeof(T), true, true);                                                  \
    return __atomic_compare_exchange_n(a, c, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);         \
  }                                                                                                  \
  int __tsan_atomic##N##_compare_exchange_weak(volatile T* a, T* c, T v, int, int) {               \
    check_access((void*)a, sizeof(T), true, true);                                                  \
    return __atomic_compare_exchange_n(a, c, v, true, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);          \
  }                                                                                                  \
  T __tsan_atomic##N##_compare_exchange_val(volatile T* a, T c, T v, int, int) {                   \
    check_access((void*)a, sizeof(T), true, true);                                                  \
    __atomic_compare_exchange_n(a, &c, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);               \
    return c;                                                                                        \
  }
GRAPHC_EMU_ATOMICS(8, uint8_t)
GRAPHC_EMU_ATOMICS(16, uint16_t)
GRAPHC_EMU_ATOMICS(32, uint32_t)
GRAPHC_EMU_ATOMICS(64, uint64_t)
#undef GRAPHC_EMU_ATOMICS

}  // extern "C"
