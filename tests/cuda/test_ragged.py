"""Every kernel template at ragged sizes over several blocks, against the NumPy runtime."""
from __future__ import annotations

import re
import warnings
from math import prod

import pytest

import graphc
from graphc.ops.registry import REGISTRY
from graphc.passes import fuse
from graphc.runtimes.cuda.lower import graph_code

from .graphs import case_arrays, case_graph, example_files, op_cases, training_step
from .ragged import CASES, SINGLE_BLOCK
from .test_numeric import _both, _close

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not graphc.cuda.is_available(),
                                 reason="no CUDA GPU / PyCUDA here, and GRAPHC_CUDA_EMULATE is not set")]


def _graph(case, fused):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = case_graph(case)
    return fuse(graph) if fused else graph


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
@pytest.mark.parametrize("fused", [False, True], ids=["nodes", "fused"])
def test_ragged_case_matches_numpy(case, fused):
    graph = _graph(case, fused)
    ref, got = _both(graph, case_arrays(case))
    _close(ref, got, case.id)


def _template(kernel_name: str) -> str:
    """A kernel's template: its name less the source hash; elementwise ops share one, and so do
    the unfused reductions."""
    tag = re.sub(r"_[0-9a-f]{12}(_\w+)?$", "", kernel_name)
    if tag.endswith("_reduce") and tag[:-len("_reduce")] in REGISTRY:
        return "reduction"
    return "elementwise" if tag in REGISTRY or f"graphc.{tag}" in REGISTRY else tag


def _templates(graphs, multi_block: bool) -> set[str]:
    return {_template(k.name) for g in graphs for code in graph_code(g) for k in code.kernels
            if prod(k.grid) > 1 or not multi_block}


def test_every_template_runs_over_more_than_one_block_somewhere():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        small = [g for c in op_cases() for g in (case_graph(c), fuse(case_graph(c)))]
        small += [training_step(p)[0] for p in example_files()]
        dropout = graphc.trace(lambda x: graphc.nn.functional.dropout(x, 0.25, training=True),
                               graphc.randn(64, 1000))  # test_numeric's dropout test
    ragged = [_graph(c, fused) for c in CASES for fused in (False, True)]
    missing = _templates(small, False) - _templates(small + ragged + [dropout], True) - SINGLE_BLOCK
    assert not missing, f"templates never launched with more than one block: {sorted(missing)}"
