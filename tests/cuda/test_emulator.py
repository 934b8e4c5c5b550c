"""The CUDA emulator itself: its checks fire on broken kernels, its header covers every CUDA
identifier graphc generates, its driver counts traffic, and "cuda" runs on it unchanged."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import graphc
from graphc.runtimes.cuda.compiler import Module
from graphc.runtimes.cuda.emulator.driver import INCLUDE
from graphc.runtimes.cuda.lower import graph_code
from graphc.runtimes.hostbuild import compiler

from .graphs import case_graph, example_files, op_cases, training_step

pytestmark = pytest.mark.cuda
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=["asm", "ucontext"])
def faults(request):
    env = dict(os.environ, GRAPHC_CUDA_EMULATE="check", PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "tests.cuda.faults", f"--{request.param}"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.splitlines()[-1])


def test_off_by_one_store_is_reported_with_kernel_thread_and_offset(faults):
    msg = faults["off_by_one"]
    assert msg.startswith("kernel off_by_one, block (1,0,0), thread (44,0,0): read of 4 bytes at device offset 1200")
    assert "outside the values this kernel was given" in msg


def test_overrun_inside_the_arena_names_the_node_and_the_value(faults):
    msg = faults["graph_overrun"]
    assert msg.startswith("node ") and "failed on the GPU: kernel " in msg
    assert "(offset " in msg and "0 bytes past the end of %" in msg and "f32[300]" in msg, msg


def test_missing_barrier_in_shared_reduction_is_a_shared_memory_race(faults):
    assert faults["missing_barrier"] == (
        "kernel missing_barrier, block (0,0,0), thread (1,0,0): write of 4 bytes of shared memory races with "
        "the read by thread (0,0,0) of block (0,0,0) (no __syncthreads() orders them, or they are in different "
        "blocks)")


def test_shared_memory_read_before_any_thread_wrote_it_is_reported(faults):
    assert faults["shared_before_written"] == (
        "kernel shared_before_written, block (0,0,0), thread (0,0,0): read of 4 bytes of shared memory reads "
        "bytes that no thread of this block wrote")


def test_barrier_in_divergent_branch_is_reported_not_a_hang(faults):
    assert faults["divergent_barrier"] == (
        "kernel divergent_barrier, block (0,0,0): __syncthreads() was reached by threads 0-199 of 256, "
        "never by threads 200-255 (they had returned): a barrier inside a branch that not all threads "
        "of the block take")


def test_racy_non_atomic_accumulation_is_a_race(faults):
    msg = faults["racy_sum"]
    assert msg.startswith("kernel racy_sum, block (0,0,0), thread (1,0,0): read of 4 bytes at device offset 2048 "
                          "races with the write by thread (0,0,0) of block (0,0,0)")


def test_reading_bytes_nothing_wrote_is_reported(faults):
    assert "reads bytes that no kernel or copy wrote" in faults["uninitialised_read"]


def test_a_correct_shared_reduction_passes_every_check(faults):
    assert faults["correct_reduction"] == "no error"


def _all_kernel_sources() -> dict[str, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graphs = [case_graph(c) for c in op_cases()] + [training_step(p)[0] for p in example_files()]
    return {k.name: k.source for g in graphs for code in graph_code(g) for k in code.kernels}


def test_the_header_declares_every_identifier_the_generated_kernels_use(tmp_path):
    """Every distinct kernel of every op case and example, compiled together against the header
    alone: an identifier it lacks is a compile error naming it."""
    module = Module([])
    src = tmp_path / "all.cu"
    src.write_text(module.source + "\n".join(_all_kernel_sources().values()))
    r = subprocess.run([compiler()[0], "-fsyntax-only", "-std=c++17", "-x", "c++", f"-I{INCLUDE}",
                        "-include", "graphc_cuda_emu.h", str(src)], capture_output=True, text=True)
    missing = sorted(set(re.findall(r"‘(\w+)’ was not declared|'(\w+)' was not declared", r.stderr)))
    assert r.returncode == 0, (missing, r.stderr[-3000:])


def _emulated(monkeypatch):
    monkeypatch.setenv("GRAPHC_CUDA_EMULATE", os.environ.get("GRAPHC_CUDA_EMULATE") or "1")


def test_device_names_the_emulator_so_timings_are_not_read_as_gpu_figures(monkeypatch):
    _emulated(monkeypatch)
    assert graphc.cuda.is_available() and graphc.cuda.is_emulated()
    assert "emulator" in graphc.cuda.get_device_name() and "not GPU figures" in graphc.cuda.get_device_name()


def test_driver_counts_copies_and_launches(monkeypatch):
    _emulated(monkeypatch)
    from graphc import runtimes
    from graphc.runtimes.cuda.emulator.driver import stats

    def f(x):
        return (x * 2).relu().sum()

    graph = graphc.trace(f, graphc.randn(3, 5))
    exe = runtimes.get("cuda").prepare(graph)
    x = np.arange(15, dtype=np.float32).reshape(3, 5) - 7
    stats.reset()
    (out,) = exe(x)
    assert out == pytest.approx(2 * np.maximum(x, 0).sum())
    assert (stats.htod_bytes, stats.dtoh_bytes, stats.htod_copies, stats.dtoh_copies) == (60, 4, 1, 1)
    assert stats.launches >= 1


def test_integer_division_by_zero_gives_the_gpu_result_not_a_crash(monkeypatch):
    _emulated(monkeypatch)
    from graphc.runtimes.cuda.emulator import driver as drv

    fn = drv.module_from_source(r'''
extern "C" __global__ void divide(const int* a, const int* b, int* q) { q[threadIdx.x] = a[threadIdx.x] / b[threadIdx.x]; }
''').get_function("divide")
    a, b = np.array([7, 5, -2 ** 31], np.int32), np.array([2, 0, -1], np.int32)
    mem = [drv.mem_alloc(12) for _ in range(3)]
    drv.memcpy_htod(mem[0], a)
    drv.memcpy_htod(mem[1], b)
    fn.prepared_call((1, 1, 1), (3, 1, 1), *map(int, mem))
    q = np.empty(3, np.int32)
    drv.memcpy_dtoh(q, mem[2])
    assert q.tolist() == [3, -1, -2 ** 31]


def test_warp_shuffles_and_votes_follow_cuda_semantics(monkeypatch):
    _emulated(monkeypatch)
    from graphc.runtimes.cuda.emulator import driver as drv

    fn = drv.module_from_source(r'''
extern "C" __global__ void warp(int* out) {
  const int lane = threadIdx.x % 32, w = threadIdx.x / 32;
  int* o = out + w * 32 * 6;
  o[lane] = __shfl_down_sync(0xffffffffu, lane * 10, 3);
  o[32 + lane] = __shfl_xor_sync(0xffffffffu, lane, 1);
  o[64 + lane] = __shfl_up_sync(0xffffffffu, lane, 2, 8);
  o[96 + lane] = __shfl_sync(0xffffffffu, lane, 5, 16);
  o[128 + lane] = (int)__ballot_sync(0xffffffffu, lane % 3 == 0);
  o[160 + lane] = __any_sync(0xffffffffu, lane == 31) + 2 * __all_sync(0xffffffffu, lane < 31);
}''').get_function("warp")
    mem = drv.mem_alloc(2 * 32 * 6 * 4)
    fn.prepared_call((1, 1, 1), (64, 1, 1), int(mem))
    out = np.empty((2, 6, 32), np.int32)
    drv.memcpy_dtoh(out, mem)
    lane = np.arange(32)
    for w in range(2):
        assert out[w, 0].tolist() == np.where(lane + 3 < 32, (lane + 3) * 10, lane * 10).tolist()
        assert out[w, 1].tolist() == (lane ^ 1).tolist()
        assert out[w, 2].tolist() == np.where(lane % 8 >= 2, lane - 2, lane).tolist()
        assert out[w, 3].tolist() == (lane // 16 * 16 + 5).tolist()
        assert set(out[w, 4].tolist()) == {int(np.int32(np.uint32(sum(1 << l for l in range(0, 32, 3)))))}
        assert out[w, 5].tolist() == [1] * 32


def test_eager_cuda_tensors_run_the_generated_kernels(monkeypatch):
    _emulated(monkeypatch)
    x = graphc.randn(5, 7)
    w = graphc.randn(7, 3, requires_grad=True)
    y = (x.cuda() @ w.cuda()).relu().sum()
    y.backward()
    assert y.is_cuda and w.grad is not None
    ref = (x.numpy() @ w.detach().numpy()).clip(0).sum()
    assert float(y.cpu()) == pytest.approx(float(ref), rel=1e-5)


def test_eager_cuda_tensors_stay_on_the_device_between_ops(monkeypatch):
    _emulated(monkeypatch)
    from graphc.runtimes.cuda.emulator.driver import stats

    x, w = graphc.randn(64, 33), graphc.randn(33, 17)
    stats.reset()
    xc, wc = x.cuda(), w.cuda()
    h = (xc @ wc).relu()
    y = h.exp().sum()
    assert h.shape == (64, 17) and y.dtype is graphc.float32  # metadata needs no copy
    assert (stats.htod_bytes, stats.dtoh_bytes) == (x.numpy().nbytes + w.numpy().nbytes, 0)
    assert float(y.cpu()) == pytest.approx(float(np.exp((x.numpy() @ w.numpy()).clip(0)).sum()), rel=1e-5)
    assert stats.dtoh_bytes == 4
    np.testing.assert_allclose(h.cpu().numpy(), (x.numpy() @ w.numpy()).clip(0), rtol=1e-5, atol=1e-5)


def _compiled_steps(device, steps):
    from .graphs import EXAMPLES, model_namespace

    ns = model_namespace(EXAMPLES / "cifar_net.py")
    model = ns["model"]
    opt = ns["optimizer"](model.parameters())

    def step(x, y):
        opt.zero_grad()
        out = ns["loss"](model(x), y)
        out.backward()
        opt.step()
        return out

    compiled = graphc.compile(step, device=device)
    batch = (*ns["example_inputs"], *ns["example_targets"])
    losses = [float(compiled(*batch)) for _ in range(steps)]
    return compiled, batch, model, opt, losses


def test_compiled_training_step_copies_only_the_batch_in_and_the_loss_out(monkeypatch):
    _emulated(monkeypatch)
    from graphc.runtimes.cuda.emulator.driver import stats

    compiled, batch, model, opt, _ = _compiled_steps("cuda", 3)
    stats.reset()
    loss = compiled(*batch)
    assert stats.htod_bytes == sum(t.numpy().nbytes for t in batch)
    assert stats.dtoh_bytes == loss.numpy().nbytes == 4
    assert stats.htod_copies == len(batch) and stats.dtoh_copies == 1


def test_resident_state_is_written_back_when_python_reads_it(monkeypatch):
    _emulated(monkeypatch)
    from graphc.runtimes.cuda.emulator.driver import stats
    from graphc.runtimes.deferred import is_deferred

    _, _, model, opt, losses = _compiled_steps("cuda", 5)
    _, _, ref_model, ref_opt, ref_losses = _compiled_steps("numpy", 5)
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-4)
    weight = model.conv1.weight
    assert is_deferred(weight) and type(weight) is not graphc.nn.Parameter
    stats.reset()
    state = model.state_dict()
    assert stats.dtoh_copies == 0  # its tensors share the deferred values
    want = ref_model.state_dict()["conv1.weight"].numpy()
    np.testing.assert_allclose(state["conv1.weight"].numpy(), want, rtol=1e-4, atol=1e-6)
    assert stats.dtoh_copies == 1
    with graphc.no_grad():
        assert float(weight.sum()) == pytest.approx(float(want.sum()), rel=1e-4, abs=1e-5)
    assert not is_deferred(weight) and type(weight) is graphc.nn.Parameter
    momentum = next(iter(opt.state.values()))["momentum_buffer"]
    ref_momentum = next(iter(ref_opt.state.values()))["momentum_buffer"]
    np.testing.assert_allclose(momentum.numpy(), ref_momentum.numpy(), rtol=1e-4, atol=1e-6)


def test_state_changed_by_python_between_steps_is_sent_again(monkeypatch):
    _emulated(monkeypatch)
    compiled, batch, model, _, _ = _compiled_steps("cuda", 3)
    with graphc.no_grad():
        for p in model.parameters():
            p.zero_()  # an in-place op: bumps the version, so the device copy is stale
    assert float(compiled(*batch)) == pytest.approx(np.log(10), rel=1e-6)  # zero logits
