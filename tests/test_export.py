"""SDPA sparse and CBF export: write, read back, solve, compare.

Every round trip is checked twice: the matrices read back equal the program's
(the writers print 17 significant digits, so exactly), and the program read
back solves (cvxopt) to the same optimum as the original, which for the
library problems is also the published one. Files from elsewhere (the SDPA
manual's example, a hand-written CBF, MOSEK's CBF writer) are read too.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

import gmp
from gmp.conic import ConicProgram, PSDBlock
from gmp.errors import GMPError, ModelError
from gmp.status import Status
from gmp.testing import get_problem
from gmp_backends import SolverOptions, get_backend
from gmp_backends.export import FormatError, read_cbf, read_sdpa, write_cbf, write_sdpa

pytest.importorskip("cvxopt")

READERS = {"sdpa": (write_sdpa, read_sdpa, "dat-s"), "cbf": (write_cbf, read_cbf, "cbf")}


# -- programs ------------------------------------------------------------------
def vec_of(M: np.ndarray) -> np.ndarray:
    return np.asarray(M, dtype=float).ravel(order="F")


def lmi(coeffs: list[np.ndarray], const: np.ndarray, name: str) -> PSDBlock:
    """mat(F0 + F @ x) ⪰ 0 with ``coeffs[i]`` the matrix of x[i]."""
    d = const.shape[0]
    return PSDBlock(d, sp.csc_matrix(np.column_stack([vec_of(C) for C in coeffs])), vec_of(const), name)


def hand_sdp() -> ConicProgram:
    """min x0 + x1 + x2 + 3 with a 2x2, a 3x3 and a 1x1 LMI, one equality, two inequalities.

    [[x0, 1], [1, x1]] ⪰ 0 and x0 = x1 give x0 = x1 >= 1; the 3x3 block is
    x2 I + T with T the path-graph adjacency (eigenvalues ±√2, 0), so x2 >= √2;
    the 1x1 block is x0 >= 0.5 and the inequalities (x0 + x1 + x2 <= 10,
    -x2 <= 0) are slack: the optimum is 1 + 1 + √2 + 3 = 5 + √2.
    """
    Z2, Z3 = np.zeros((2, 2)), np.zeros((3, 3))
    E00, E11 = np.diag([1.0, 0.0]), np.diag([0.0, 1.0])
    T = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    blocks = (
        lmi([E00, E11, Z2], np.array([[0.0, 1.0], [1.0, 0.0]]), "2x2"),
        lmi([Z3, Z3, np.eye(3)], T, "path 3x3"),
        lmi([np.ones((1, 1)), np.zeros((1, 1)), np.zeros((1, 1))], np.array([[-0.5]]), "x0 >= 1/2"),
    )
    return ConicProgram(
        c=np.array([1.0, 1.0, 1.0]), c0=3.0,
        A_eq=sp.csr_matrix([[1.0, -1.0, 0.0]]), b_eq=np.array([0.0]),
        A_ineq=sp.csr_matrix([[1.0, 1.0, 1.0], [0.0, 0.0, -1.0]]), b_ineq=np.array([10.0, 0.0]),
        psd=blocks, var_names=("a", "b", "c"),
    )


HAND_OPTIMUM = 5.0 + math.sqrt(2.0)


def polynomial_relaxation(name: str, order: int) -> ConicProgram:
    inst = get_problem(name).build()
    mu = gmp.Measure(inst.variables, inst.constraints, mass=1.0)
    program, _ = gmp.build_relaxation(gmp.GMP(gmp.minimize(mu.E(inst.objective))), order)
    return program


def gmp_relaxation(name: str, order: int) -> ConicProgram:
    program, _ = gmp.build_relaxation(get_problem(name).build().gmp, order)
    return program


# name -> (builder, optimum of the *program* (a minimization))
PROGRAMS = {
    "hand_sdp": (hand_sdp, HAND_OPTIMUM),
    "six_hump_camel_order_3": (lambda: polynomial_relaxation("six_hump_camel", 3), -1.0316284535),
    "floudas_4_9_equality_order_3": (
        lambda: polynomial_relaxation("lasserre_2001_floudas_4_9_equality", 3), -16.738893184394648),
    # a maximization: the program minimizes -P(X >= 1)
    "cantelli_two_measures_order_1": (lambda: gmp_relaxation("gmp_cantelli_two_measures", 1), -0.5),
}


def solve(program: ConicProgram) -> float:
    sol = get_backend("cvxopt").run(program, SolverOptions())
    assert sol.status is Status.OPTIMAL, sol.message
    return sol.primal_objective


def assert_same_program(p: ConicProgram, q: ConicProgram, atol: float = 0.0) -> None:
    """Same data, entry by entry (``atol=0``: bit for bit)."""
    close = (lambda a, b: np.array_equal(a, b)) if atol == 0 else (
        lambda a, b: np.allclose(a, b, rtol=0, atol=atol))
    assert (p.n_vars, p.n_eq, p.n_ineq, p.psd_dims) == (q.n_vars, q.n_eq, q.n_ineq, q.psd_dims)
    assert close(p.c, q.c) and p.c0 == q.c0
    assert close(p.A_eq.toarray(), q.A_eq.toarray()) and close(p.b_eq, q.b_eq)
    assert close(p.A_ineq.toarray(), q.A_ineq.toarray()) and close(p.b_ineq, q.b_ineq)
    for a, b in zip(p.psd, q.psd):
        assert close(a.F.toarray(), b.F.toarray()), a.name
        assert close(a.F0, b.F0), a.name


@pytest.fixture(scope="module")
def programs() -> dict[str, ConicProgram]:
    return {name: build() for name, (build, _) in PROGRAMS.items()}


@pytest.fixture(scope="module")
def optima(programs) -> dict[str, float]:
    return {name: solve(p) for name, p in programs.items()}


def test_original_programs_solve_to_the_known_optima(optima):
    for name, (_, known) in PROGRAMS.items():
        assert optima[name] == pytest.approx(known, rel=1e-6, abs=1e-7), name


# -- round trips -----------------------------------------------------------------
@pytest.mark.parametrize("fmt", sorted(READERS))
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_round_trip_same_data_and_same_optimum(fmt, name, programs, optima, tmp_path):
    write, read, ext = READERS[fmt]
    program = programs[name]
    path = write(program, tmp_path / f"{name}.{ext}")
    assert path == tmp_path / f"{name}.{ext}" and path.is_file()
    back = read(path)
    assert_same_program(program, back)
    assert solve(back) == pytest.approx(optima[name], rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("fmt", sorted(READERS))
def test_block_names_survive_sdpa_and_cbf_labels_blocks(fmt, tmp_path):
    write, read, ext = READERS[fmt]
    back = read(write(hand_sdp(), tmp_path / f"h.{ext}"))
    names = [b.name for b in back.psd]
    if fmt == "sdpa":
        assert names == ["2x2", "path 3x3", "x0 >= 1/2"]
    else:  # CBF has no names
        assert names == ["CBF PSDCON 0", "CBF PSDCON 1", "CBF PSDCON 2"]


# -- the SDPA file itself ------------------------------------------------------------
def test_sdpa_layout_of_the_hand_sdp(tmp_path):
    text = write_sdpa(hand_sdp(), tmp_path / "h.dat-s").read_text()
    lines = text.splitlines()
    comments = [ln for ln in lines if ln.startswith("*")]
    assert "* objective constant c0 = 3.0 (not representable in SDPA: add it to the optimal value)" \
        in comments
    body = [ln for ln in lines if not ln.startswith("*")]
    assert body[:4] == ["3 = number of variables", "4 = number of blocks", "2 3 1 -4", "1 1 1"]
    entries = {tuple(ln.split()) for ln in body[4:]}
    # block 1: F_0 = -[[0, 1], [1, 0]] (upper triangle only), F_1 = E00, F_2 = E11
    assert {("0", "1", "1", "2", "-1"), ("1", "1", "1", "1", "1"), ("2", "1", "2", "2", "1")} <= entries
    assert not any(e[1] == "1" and int(e[2]) > int(e[3]) for e in entries)
    # block 4 (diagonal, 4 entries): 10 - x0 - x1 - x2 >= 0, x2 >= 0, then x0 - x1 >= 0, x1 - x0 >= 0
    diag = sorted(e for e in entries if e[1] == "4")
    assert diag == sorted([
        ("0", "4", "1", "1", "-10"), ("1", "4", "1", "1", "-1"), ("2", "4", "1", "1", "-1"),
        ("3", "4", "1", "1", "-1"), ("3", "4", "2", "2", "1"),
        ("1", "4", "3", "3", "1"), ("2", "4", "3", "3", "-1"),
        ("1", "4", "4", "4", "-1"), ("2", "4", "4", "4", "1"),
    ])


def test_sdpa_manual_example_from_elsewhere(tmp_path):
    """example1.dat-s of the SDPA manual (braces, commas, '=' comments): optimum -41.9."""
    path = tmp_path / "example1.dat-s"
    path.write_text(
        '"Example 1: mDim = 3, nBLOCK = 1, {2}"\n'
        "   3  =  mDIM\n   1  =  nBOLCK\n   2  = bLOCKsTRUCT\n{48, -8, 20}\n"
        "0 1 1 1 -11\n0 1 2 2 23\n1 1 1 1 10\n1 1 1 2 4\n2 1 2 2 -8\n3 1 1 2 -8\n3 1 2 2 -2\n")
    program = read_sdpa(path)
    assert program.c0 == 0.0 and program.n_eq == 0 and program.psd_dims == (2,)
    assert program.psd[0].matrix(np.zeros(3)).tolist() == [[11.0, 0.0], [0.0, -23.0]]
    assert solve(program) == pytest.approx(-41.9, rel=1e-7)


def test_sdpa_without_our_comment_reads_diagonal_entries_as_inequalities(tmp_path):
    text = write_sdpa(hand_sdp(), tmp_path / "h.dat-s").read_text()
    plain = tmp_path / "plain.dat-s"
    plain.write_text("\n".join(ln for ln in text.splitlines() if not ln.startswith("*gmp")) + "\n")
    back = read_sdpa(plain)
    assert (back.n_eq, back.n_ineq, back.c0) == (0, 4, 0.0)
    assert solve(back) == pytest.approx(HAND_OPTIMUM - 3.0, rel=1e-7)


def test_sdpa_broken_equality_pairs_are_refused(tmp_path):
    path = write_sdpa(hand_sdp(), tmp_path / "h.dat-s")
    path.write_text(path.read_text().replace("2 4 4 4 1\n", "2 4 4 4 2\n"))
    with pytest.raises(FormatError, match="equality pairs"):
        read_sdpa(path)


def test_sdpa_garbage_is_a_format_error(tmp_path):
    path = tmp_path / "bad.dat-s"
    path.write_text("2\n1\n2\n1 oops\n")
    with pytest.raises(FormatError, match="not an SDPA sparse file") as err:
        read_sdpa(path)
    assert isinstance(err.value, GMPError) and isinstance(err.value, ValueError)


# -- the CBF file itself --------------------------------------------------------------
def test_cbf_layout_of_the_hand_sdp(tmp_path):
    text = write_cbf(hand_sdp(), tmp_path / "h.cbf").read_text()
    sections = [ln for ln in text.splitlines() if ln.isupper() and ln.isalpha()]
    assert sections == ["VER", "OBJSENSE", "MIN", "VAR", "PSDCON", "CON", "OBJACOORD",
                        "OBJBCOORD", "ACOORD", "BCOORD", "HCOORD", "DCOORD"]
    assert "VER\n3\n" in text and "VAR\n3 1\nF 3\n" in text
    assert "PSDCON\n3\n2\n3\n1\n" in text and "CON\n3 2\nL= 1\nL- 2\n" in text
    assert "OBJBCOORD\n3\n" in text
    assert "BCOORD\n1\n1 -10\n" in text          # A_ineq x - b_ineq in L-: b = -10 on row 1
    assert "DCOORD\n4\n0 1 0 1\n1 1 0 1\n1 2 1 1\n2 0 0 -0.5\n" in text  # lower triangle


def test_cbf_from_elsewhere_max_sense_cones_on_variables_and_rows(tmp_path):
    """max x0 + x1 s.t. x >= 0 (VAR L+), 1 - x0 - x1 >= 0 (CON L+), [[1, x0], [x0, 1]] ⪰ 0."""
    path = tmp_path / "foreign.cbf"
    path.write_text(
        "# hand-written\nVER\n1\n\nOBJSENSE\nMAX\n\nVAR\n2 1\nL+ 2\n\nPSDCON\n1\n2\n\n"
        "CON\n1 1\nL+ 1\n\nOBJACOORD\n2\n0 1\n1 1\n\nACOORD\n2\n0 0 -1\n0 1 -1\n\n"
        "BCOORD\n1\n0 1\n\nHCOORD\n1\n0 0 1 0 1\n\nDCOORD\n2\n0 0 0 1\n0 1 1 1\n")
    program = read_cbf(path)
    assert (program.n_vars, program.n_eq, program.n_ineq, program.psd_dims) == (2, 0, 3, (2,))
    assert program.c.tolist() == [-1.0, -1.0]      # maximization, negated
    assert program.psd[0].matrix(np.array([0.5, 0.0])).tolist() == [[1.0, 0.5], [0.5, 1.0]]
    assert solve(program) == pytest.approx(-1.0, rel=1e-7)


@pytest.mark.parametrize("section,match", [
    ("PSDVAR\n1\n2\n", "PSDVAR"), ("INT\n1\n0\n", "INT"), ("CON\n3 1\nQ 3\n", "cone 'Q 3'"),
    ("FOO\n1\n", "unknown CBF section 'FOO'"), ("HCOORD\n2\n0 0 0 0 1\n", "ends inside"),
    ("PSDCON\n1\n2\n\nHCOORD\n1\n0 0 2 0 1\n", "HCOORD entry \\[0.0, 0.0, 2.0, 0.0, 1.0\\] is outside"),
    ("PSDCON\n1\n2\n\nHCOORD\n1\n0 3 1 0 1\n", "HCOORD entry .* is outside"),
    ("OBJACOORD\n1\n5 1\n", "OBJACOORD entry \\[5.0, 1.0\\] is outside the declared sizes"),
    ("ACOORD\n1\n0 0 1\n", "ACOORD entry .* 0 rows"),
])
def test_cbf_unsupported_or_broken_is_a_format_error(section, match, tmp_path):
    path = tmp_path / "bad.cbf"
    path.write_text("VER\n3\n\nOBJSENSE\nMIN\n\nVAR\n3 1\nF 3\n\n" + section)
    with pytest.raises(FormatError, match=match):
        read_cbf(path)


# -- bad input ----------------------------------------------------------------------
@pytest.mark.parametrize("fmt", sorted(READERS))
def test_nan_is_never_written(fmt, tmp_path):
    write, _, ext = READERS[fmt]
    p = hand_sdp()
    bad = ConicProgram(c=np.array([1.0, np.nan, 0.0]), A_eq=p.A_eq, b_eq=p.b_eq, psd=p.psd)
    path = tmp_path / f"nan.{ext}"
    with pytest.raises(ModelError, match="objective vector c contains a non-finite value"):
        write(bad, path)
    assert not path.exists()


@pytest.mark.parametrize("fmt", sorted(READERS))
def test_writers_want_a_conic_program(fmt, tmp_path):
    write, _, ext = READERS[fmt]
    with pytest.raises(ModelError, match="ConicProgram, got dict"):
        write({"c": [1.0]}, tmp_path / f"x.{ext}")


# -- MOSEK reads our CBF; our reader reads MOSEK's ------------------------------------
@pytest.mark.parametrize("name", ["hand_sdp", "floudas_4_9_equality_order_3"])
def test_mosek_reads_our_cbf_and_we_read_its_rewrite(name, programs, optima, tmp_path):
    """MOSEK's CBF reader takes our file (no licence needed); its own CBF of the same
    task reads back into the same program (up to MOSEK's √2 round-off)."""
    mosek = pytest.importorskip("mosek")
    program = programs[name]
    ours, theirs = tmp_path / "ours.cbf", tmp_path / "theirs.cbf"
    write_cbf(program, ours)
    with mosek.Task() as task:
        task.readdata(str(ours))
        assert task.getnumvar() == program.n_vars
        assert task.getnumafe() == (program.n_eq + program.n_ineq
                                    + sum(d * (d + 1) // 2 for d in program.psd_dims))
        assert task.getcfix() == program.c0
        task.writedata(str(theirs))
    back = read_cbf(theirs)
    assert_same_program(program, back, atol=1e-14)
    assert solve(back) == pytest.approx(optima[name], rel=1e-7)
