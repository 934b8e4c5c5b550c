"""`graphc compile MODEL --device cuda --emit-cuda DIR` writes every kernel of an example's
compiled training step, and nvcc compiles each one (no GPU needed)."""
import os
import shutil
import subprocess

import pytest

from .models import cli

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")


@pytest.mark.parametrize("example", ["cifar_net.py", "two_layer_net.py"])
def test_emit_cuda_writes_kernels_that_nvcc_compiles(tmp_path, example):
    out = tmp_path / "kernels"
    r = cli("compile", os.path.join(EXAMPLES, example), "--device", "cuda", "--emit-cuda", str(out),
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    kernels = sorted(p for p in out.glob("*.cu") if p.name != "graph.cu")
    assert len(kernels) > 5 and (out / "kernels.txt").exists()
    assert any("Fused" in p.name or "fused" in p.read_text() for p in kernels)
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("nvcc is not installed")
    done = subprocess.run([nvcc, "-ptx", "-arch=sm_90", str(out / "graph.cu"), "-o", str(tmp_path / "g.ptx")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
