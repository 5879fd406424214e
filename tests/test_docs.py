"""The examples in docs/*.md and README.md run and print what the text says they print.

Each fenced code block that contains ``>>>`` is a doctest; the blocks of one file
share their names, in order (like a notebook).

Numbers are compared to the precision written in the text (as pytest's ``NUMBER``
doctest option does): ``-2.000000`` in the text accepts ``-2.0000005``, and ``0.``
accepts ``-0.``, so an example holds on every BLAS kernel set while the digits it
shows are the ones that are meaningful. Text, counts and integers must match exactly.
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
# a float literal with a decimal point or an exponent (integers are compared as text)
FLOAT = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])"
                   r"|(?<![\w.])[-+]?\d+[eE][-+]?\d+(?![\w.])")


def _written_precision(text: str) -> float:
    """Half a unit in the last written digit: ``-2.000000`` -> 5e-7, ``1.5e-3`` -> 5e-5."""
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return 0.5 * 10.0 ** (-decimals + (int(exponent) if exponent else 0))


class NumberChecker(doctest.OutputChecker):
    """Accepts floats that agree with the text to the precision the text writes."""

    def check_output(self, want: str, got: str, optionflags: int) -> bool:
        if super().check_output(want, got, optionflags):
            return True
        wants, gots = list(FLOAT.finditer(want)), list(FLOAT.finditer(got))
        if not wants or len(wants) != len(gots):
            return False
        pieces, last = [], 0
        for w, g in zip(wants, gots):
            close = abs(float(w.group()) - float(g.group())) <= _written_precision(w.group()) * (1 + 1e-9)
            pieces += [got[last:g.start()], w.group() if close else g.group()]
            last = g.end()
        got = "".join(pieces) + got[last:]
        # numpy pads an array's columns for a sign ("[[ 1., -0.]]"): spaces are not compared
        return super().check_output(want.replace(" ", ""), got.replace(" ", ""), optionflags)


def test_number_checker_compares_to_the_written_precision():
    check = NumberChecker().check_output
    assert check("(-1.0, array([[1., 0.]]))\n", "(-1.0, array([[ 1., -0.]]))\n", FLAGS)
    assert check("optimum -2.000000 at 3\n", "optimum -2.0000005 at 3\n", FLAGS)
    assert not check("optimum -2.000000 at 3\n", "optimum -2.000002 at 3\n", FLAGS)
    assert not check("optimum -2.000000 at 4\n", "optimum -2.0000005 at 3\n", FLAGS)
    assert check("w=0.47, w=0.29\n", "w=0.4738, w=0.2942\n", FLAGS)
    assert not check("w=0.47\n", "w=0.4638\n", FLAGS)
    assert check("bound 1.5e-3\n", "bound 0.00152\n", FLAGS)


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_examples_in_docs(path):
    text = path.read_text(encoding="utf-8")
    parser, globs = doctest.DocTestParser(), {}
    runner = doctest.DocTestRunner(checker=NumberChecker(), optionflags=FLAGS)
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
