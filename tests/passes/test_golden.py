"""Golden text tests for every pass (tests/passes/golden/<pass>/<case>.txt), each also checked
by running the numpy runtime before and after the pass on random inputs.
Regenerate the expectations with `python tools/make_pass_golden.py` and review the diff."""
import pytest

from graphc import passes

from .golden_cases import all_cases
from .helpers import assert_same_results

CASES = all_cases()


def test_every_pass_has_golden_cases():
    assert {c.pass_name for c in CASES} >= {"dce", "cse", "fold_constants", "algebraic", "simplify", "fuse"}


@pytest.mark.parametrize("case", CASES, ids=[f"{c.pass_name}/{c.path.stem}" for c in CASES])
def test_golden(case):
    assert hasattr(passes, case.pass_name), f"{case.path}: no pass named {case.pass_name}"
    assert case.expected_text, f"{case.path} has no expectation: run tools/make_pass_golden.py"
    out = case.run_pass()
    assert str(out) == case.expected_text
    assert str(out.parse(str(out))) == case.expected_text
    before = case.graph()
    assert_same_results(before, out)
    assert str(before) == str(case.graph()), "the pass changed its input graph"
