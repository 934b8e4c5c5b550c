"""Regenerate the expected graphs of the golden pass tests from their inputs.

    python tools/make_pass_golden.py [PASS_OR_FILE ...]

Each tests/passes/golden/<pass>/<case>.txt keeps its header and input; the text after `----`
is replaced by what the pass produces now. Review the diff (git diff tests/passes/golden)
before committing: the files are the specification.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from tests.passes.golden_cases import all_cases  # noqa: E402


def main(selected: list[str]) -> None:
    for case in all_cases():
        if selected and case.pass_name not in selected and str(case.path) not in selected:
            continue
        new = str(case.run_pass())
        if new != case.expected_text:
            case.write(new)
            print(f"updated {case.path}")


if __name__ == "__main__":
    main(sys.argv[1:])
