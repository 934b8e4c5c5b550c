"""Golden pass cases: tests/passes/golden/<pass>/<case>.txt holds the input graph text, a line
`----`, and the expected graph text after the pass. `# init %name = value` lines before the
input fill an initializer with a constant (the text form carries no data; default zeros)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from graphc import passes
from graphc.ir import Graph

GOLDEN = Path(__file__).parent / "golden"
SEPARATOR = "----"
_INIT = re.compile(r"#\s*init\s+%(\S+)\s*=\s*(\S+)\s*$")


@dataclass
class GoldenCase:
    path: Path
    pass_name: str
    header: list[str]
    input_text: str
    expected_text: str

    def graph(self) -> Graph:
        skeleton = Graph.parse(self.input_text)
        data = {}
        for line in self.header:
            m = _INIT.match(line)
            if m:
                t = skeleton.type_of(m.group(1))
                data[m.group(1)] = np.full(t.shape, float(m.group(2))).astype(t.dtype.np)
        return Graph.parse(self.input_text, data)

    def run_pass(self) -> Graph:
        return passes.Pipeline([getattr(passes, self.pass_name)], verify=True)(self.graph())

    def write(self, expected: str) -> None:
        text = "\n".join(self.header + [self.input_text.strip(), SEPARATOR, expected.strip()]) + "\n"
        self.path.write_text(text, encoding="utf-8")


def load(path: Path) -> GoldenCase:
    lines = path.read_text(encoding="utf-8").splitlines()
    header = []
    while lines and lines[0].startswith("#"):
        header.append(lines.pop(0))
    if SEPARATOR in lines:
        i = lines.index(SEPARATOR)
        before, after = lines[:i], lines[i + 1:]
    else:
        before, after = lines, []
    return GoldenCase(path, path.parent.name, header, "\n".join(before), "\n".join(after).strip())


def all_cases() -> list[GoldenCase]:
    return [load(p) for p in sorted(GOLDEN.glob("*/*.txt"))]
