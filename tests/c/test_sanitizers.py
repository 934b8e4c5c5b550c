"""GRAPHC_C_SANITIZE=1: generated C built with AddressSanitizer and UndefinedBehaviorSanitizer,
one allocation per value. CI runs every example's training step this way (.ci/run); here a
kernel with an off-by-one bound must be caught, in a child process that preloads the runtime."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from graphc.runtimes.hostbuild import HostBuildError, compiler

try:
    CXX = compiler()[0]
except HostBuildError:
    pytest.skip("no C++ compiler here", allow_module_level=True)

CHILD = r'''
import dataclasses, numpy as np, graphc
from graphc import runtimes
from graphc.runtimes.c import runtime, lower

def off_by_one(graph):
    codes = lower.graph_code(graph)
    k = codes[0].kernels[0]
    codes[0].kernels[0] = dataclasses.replace(k, source=k.source.replace("i < 300;", "i <= 300;"))
    return codes

if {broken}:
    runtime.graph_code = off_by_one
graph = graphc.trace(lambda x: x.exp(), graphc.randn(300))
y = runtimes.get("c").prepare(graph)(np.ones(300, np.float32))[0]
print("ran", float(y.sum()))
'''


def _child(broken: bool):
    lib = subprocess.run([CXX, "-print-file-name=libasan.so"], capture_output=True, text=True).stdout.strip()
    if not os.path.isabs(lib):
        pytest.skip(f"{CXX} has no AddressSanitizer runtime")
    env = dict(os.environ, GRAPHC_C_SANITIZE="1", LD_PRELOAD=lib, ASAN_OPTIONS="detect_leaks=0")
    return subprocess.run([sys.executable, "-c", CHILD.format(broken=broken)], env=env, capture_output=True,
                          text=True, timeout=300)


def test_a_correct_kernel_runs_clean_under_the_sanitizers():
    r = _child(broken=False)
    assert r.returncode == 0 and "ran 815" in r.stdout, r.stderr[-3000:]


def test_an_out_of_bounds_kernel_is_caught_by_address_sanitizer():
    r = _child(broken=True)
    assert r.returncode != 0 and "AddressSanitizer: heap-buffer-overflow" in r.stderr, r.stderr[-3000:]
