#!/usr/bin/env bash
# PyCUDA for a lent GPU machine, then the CUDA tests and benchmark (see ../shared/gpu-wheels/README.md).
#
#   tools/gpu/build_pycuda.sh stage   here: copy the wheels and pycuda's sdist into .gpu/ (git-ignored),
#                                     to be sent along with the checkout (the device tool's carry: [".gpu"])
#   tools/gpu/build_pycuda.sh run     on the GPU machine: build pycuda into a temporary site dir, run
#                                     `pytest -m cuda` and tools/bench_cuda.py (figures to $OUT or .)
set -euo pipefail
cd "$(dirname "$0")/../.."

case "${1:-run}" in
  stage)
    src="${GPU_WHEELS:-../shared/gpu-wheels}"
    rm -rf .gpu && mkdir -p .gpu && cp "$src"/*.whl "$src"/*.tar.gz .gpu/
    echo "staged $(ls .gpu | wc -l) files in .gpu/"
    ;;
  run)
    nvcc_bin="$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)"
    export CUDA_ROOT="${CUDA_ROOT:-$(dirname "$(dirname "$nvcc_bin")")}"
    export PATH="$CUDA_ROOT/bin:$PATH"
    site="${PYCUDA_SITE:-$(mktemp -d)}"
    if ! PYTHONPATH="$site" python3 -c "import pycuda" 2>/dev/null; then
      start=$(date +%s)
      python3 -m pip install -q --no-index --no-build-isolation --target "$site" \
          --find-links .gpu .gpu/*.whl .gpu/pycuda-*.tar.gz
      echo "pycuda built in $(( $(date +%s) - start ))s into $site"
    fi
    export PYTHONPATH="$site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
    python3 -c "import graphc.cuda as c; print('cuda devices:', c.device_count(), c.why_unavailable())"
    status=0
    python3 -m pytest -m cuda -q -p no:warnings -p no:cacheprovider -x tests/cuda "${@:2}" || status=$?
    python3 tools/bench_cuda.py --json "${OUT:-.}/bench_cuda.json" || status=$?
    exit $status
    ;;
  *)
    echo "usage: $0 stage|run [pytest args]" >&2
    exit 2
    ;;
esac
