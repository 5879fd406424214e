"""The Quickstart demo runs and prints certified minimizers (published optima)."""
from gmp.demo import main


def test_demo_prints_certified_camel_and_floudas_optima(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    # six-hump camel: f* = -1.0316284535 at (±0.0898420, ∓0.7126564) [Dixon–Szegő 1978]
    assert "certified optimum -1.0316284 at 2 atoms" in out
    # Floudas 4.10 / Lasserre 2001 Ex. 5: f* = -5.5080 at (2.3295, 3.1785)
    assert "certified optimum -5.5080" in out
    assert "certified=True" in out
