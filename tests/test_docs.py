"""The examples in docs/*.md and README.md run and print what the text says they print.

Each fenced code block that contains ``>>>`` is a doctest; the blocks of one file
share their names, in order (like a notebook).
"""
import doctest
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
FILES = sorted(p for p in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]
               if ">>>" in p.read_text(encoding="utf-8"))
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_examples_in_docs(path):
    text = path.read_text(encoding="utf-8")
    parser, globs = doctest.DocTestParser(), {}
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for k, block in enumerate(FENCE.findall(text)):
        if ">>>" not in block:
            continue
        line = text[: text.index(block)].count("\n")
        test = parser.get_doctest(block, globs, f"{path.name}[block {k}]", str(path), line)
        runner.run(test, clear_globs=False)
        globs.update(test.globs)  # DocTest copies its globals
    failed, attempted = runner.summarize(verbose=False)
    assert attempted > 0
    assert failed == 0, f"{failed} of {attempted} examples in {path.name} failed (details above)"
