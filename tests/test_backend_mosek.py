"""The MOSEK backend, with and without a licence.

Without a licence (our machines): availability says "installed, no licence"
with the remedy, a solve raises BackendNotAvailableError, and the translation
is checked on the task MOSEK builds and writes: dimensions and coefficients
read back from the task against the program (and against MOSEK's documented
``svec``, written out entry by entry here), MOSEK's own CBF of the task read
back and solved by cvxopt to the published optimum, MOSEK's dual
feasibility equations evaluated on the task data at cvxopt's optimum, and
the status / dual mapping on MOSEK-shaped results. The licensed solves run
only where a licence is found.
"""
from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from gmp.assess import assess

mosek = pytest.importorskip("mosek")
pytest.importorskip("cvxopt")

import gmp  # noqa: E402
from gmp.conic import ConicProgram  # noqa: E402
from gmp.errors import BackendNotAvailableError, ModelError, OptionError  # noqa: E402
from gmp.status import Status  # noqa: E402
from gmp.testing import get_problem  # noqa: E402
from gmp_backends import SolverOptions, available_backends, get_backend  # noqa: E402
from gmp_backends import mosek_backend as mb  # noqa: E402
from gmp_backends.export import FormatError, read_cbf  # noqa: E402
from gmp_backends.mosek_backend import MosekBackend  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from test_export import HAND_OPTIMUM, assert_same_program, hand_sdp  # noqa: E402

CAMEL_OPTIMUM = -1.0316284535
AVAILABILITY = MosekBackend().availability(check_import=True)
LICENSED = bool(AVAILABILITY.usable)
needs_licence = pytest.mark.skipif(
    not LICENSED, reason=f"no usable MOSEK licence here ({AVAILABILITY.reason}); the licensed "
    f"solve runs where {mb.LICENCE_ENV} or ~/mosek/mosek.lic holds one")
without_licence = pytest.mark.skipif(LICENSED, reason="a MOSEK licence is installed here")


def camel() -> ConicProgram:
    inst = get_problem("six_hump_camel").build()
    mu = gmp.Measure(inst.variables, inst.constraints, mass=1.0)
    program, _ = gmp.build_relaxation(gmp.GMP(gmp.minimize(mu.E(inst.objective))), 3)
    return program


def cvxopt_solution(program: ConicProgram):
    sol = get_backend("cvxopt").run(program, SolverOptions())
    assert sol.status is Status.OPTIMAL, sol.message
    return sol


@pytest.fixture
def no_licence(monkeypatch, tmp_path):
    """No MOSEKLM_LICENSE_FILE and an empty home directory: no licence anywhere."""
    monkeypatch.delenv(mb.LICENCE_ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(mb, "_checkout_cache", {})
    return tmp_path


def mosek_svec_by_hand(M: np.ndarray) -> np.ndarray:
    """MOSEK's svec, from its manual: lower triangle column by column, √2 off the diagonal."""
    d = M.shape[0]
    return np.array([M[i, j] * (1.0 if i == j else math.sqrt(2.0))
                     for j in range(d) for i in range(j, d)])


# -- availability without a licence ------------------------------------------------
def test_no_licence_level_reason_and_remedy(no_licence):
    for check_import in (False, True):
        av = MosekBackend().availability(check_import=check_import)
        assert av.installed and av.usable is False
        assert av.level == "installed, no licence"
        assert av.reason == (
            "no MOSEK licence: MOSEKLM_LICENSE_FILE is not set and the default licence file "
            f"{no_licence / 'mosek' / 'mosek.lic'} does not exist")
        for needle in ("MOSEKLM_LICENSE_FILE", "~/mosek/mosek.lic", "academic", "trial",
                       "mosek.com", "write_task"):
            assert needle in av.remedy
        assert str(av).startswith("installed, no licence; no MOSEK licence: ")


def test_cheap_availability_imports_nothing(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != mb.LICENCE_ENV}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(Path(__file__).parents[1]))
    code = ("import sys; from gmp_backends.mosek_backend import MosekBackend; "
            "a = MosekBackend().availability(); print('mosek' in sys.modules, a.level)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split(None, 1)
    assert out == ["False", "installed, no licence\n"]


def test_licence_env_var_naming_a_missing_file(no_licence, monkeypatch):
    monkeypatch.setenv(mb.LICENCE_ENV, str(no_licence / "nowhere.lic"))
    av = MosekBackend().availability(check_import=True)
    assert av.level == "installed, no licence"
    assert av.reason == (f"no MOSEK licence: MOSEKLM_LICENSE_FILE={str(no_licence / 'nowhere.lic')!r} "
                         "names no existing licence file and no token server")


def test_a_licence_file_mosek_refuses_is_checked_out_and_reported(tmp_path):
    """In a child process: MOSEK's licence state is process-wide, and a refused licence
    would stay refused for the rest of this test session."""
    bad = tmp_path / "mosek" / "mosek.lic"
    bad.parent.mkdir()
    bad.write_text("this is not a licence\n")
    env = {k: v for k, v in os.environ.items() if k != mb.LICENCE_ENV}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(Path(__file__).parents[1]))
    code = ("from gmp_backends.mosek_backend import MosekBackend; b = MosekBackend(); "
            "print(b.availability().usable); a = b.availability(check_import=True); "
            "print(a.level); print(a.usable); print(a.reason)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[:3] == ["None", "installed, no licence", "False"]  # file seen, then refused
    assert out[3].startswith(f"MOSEK found a licence location ({bad}) but could not check out "
                             "a licence: err_")


def test_run_without_licence_raises_not_available_with_the_remedy(no_licence):
    with pytest.raises(BackendNotAvailableError) as err:
        MosekBackend().run(hand_sdp())
    msg = str(err.value)
    assert msg.startswith("backend 'mosek' is not usable here: no MOSEK licence: ")
    assert "MOSEKLM_LICENSE_FILE" in msg and "mosek.com" in msg and "1008" not in msg


@without_licence
def test_solve_bypassing_run_turns_error_1008_into_not_available():
    with pytest.raises(BackendNotAvailableError) as err:
        MosekBackend().solve(hand_sdp(), SolverOptions())
    msg = str(err.value)
    # 1008 (err_missing_license_file) in a fresh process; MOSEK's licence state is
    # process-wide, so after the refused-file test above it repeats that error instead
    assert msg.startswith("backend 'mosek' is not usable here: MOSEK could not check out a "
                          "licence (err_")
    assert "~/mosek/mosek.lic" in msg and "mosek.com" in msg


def test_registry_lists_mosek_with_its_level(no_licence):
    assert isinstance(get_backend("mosek"), MosekBackend)
    levels = {name: av.level for name, av in available_backends()}
    assert levels["mosek"] == "installed, no licence"
    table = str(available_backends())
    assert "mosek" in table and "installed, no licence" in table and "MOSEKLM_LICENSE_FILE" in table


# -- the task ------------------------------------------------------------------------
def afe_matrix(task, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(F, g) of the task's affine expressions, read back from MOSEK, dense."""
    rows, cols, vals = task.getafeftrip()
    F = sp.coo_matrix((vals, (rows, cols)), shape=(task.getnumafe(), n)).toarray()
    g = np.zeros(task.getnumafe())
    task.getafegslice(0, task.getnumafe(), g)
    return F, g


@pytest.mark.parametrize("build", [hand_sdp, camel], ids=["hand_sdp", "camel_order_3"])
def test_task_matches_the_program(build):
    program = build()
    with MosekBackend().build_task(program) as task:
        n, m = program.n_vars, program.n_eq + program.n_ineq
        assert (task.getnumvar(), task.getnumcon(), task.getnumacc()) == (n, m, len(program.psd))
        sizes = [d * (d + 1) // 2 for d in program.psd_dims]
        assert task.getnumafe() == sum(sizes)
        # variables free, objective c and c0, minimization
        bk, bl, bu = [None] * n, np.zeros(n), np.zeros(n)
        task.getvarboundslice(0, n, bk, bl, bu)
        assert set(bk) == {mosek.boundkey.fr}
        c = np.zeros(n)
        task.getc(c)
        assert np.array_equal(c, program.c) and task.getcfix() == program.c0
        assert task.getobjsense() == mosek.objsense.minimize
        if program.var_names:
            assert [task.getvarname(j) for j in range(n)] == list(program.var_names)
        # linear rows: equalities (fx) then inequalities (up)
        A = np.vstack([program.A_eq.toarray(), program.A_ineq.toarray()])
        for i in range(m):
            nz, sub, val = task.getarow(i)
            row = np.zeros(n)
            row[list(sub)] = val
            assert np.array_equal(row, A[i])
            key, lo, up = task.getconbound(i)
            if i < program.n_eq:
                assert (key, lo, up) == (mosek.boundkey.fx, program.b_eq[i], program.b_eq[i])
            else:
                assert (key, up) == (mosek.boundkey.up, program.b_ineq[i - program.n_eq])
        # one SVECPSD ACC per block, its AFE rows = svec of the block, by MOSEK's manual
        F, g = afe_matrix(task, n)
        offset = 0
        for k, (blk, size) in enumerate(zip(program.psd, sizes)):
            assert task.getaccn(k) == size
            assert list(task.getaccafeidxlist(k)) == list(range(offset, offset + size))
            assert task.getdomaintype(task.getaccdomain(k)) == mosek.domaintype.svec_psd_cone
            assert task.getaccname(k) == blk.name
            for var in range(n):
                coeff = blk.F[:, var].toarray().reshape(blk.dim, blk.dim, order="F")
                np.testing.assert_allclose(F[offset:offset + size, var], mosek_svec_by_hand(coeff),
                                           rtol=0, atol=1e-15)
            const = blk.F0.reshape(blk.dim, blk.dim, order="F")
            np.testing.assert_allclose(g[offset:offset + size], mosek_svec_by_hand(const),
                                       rtol=0, atol=1e-15)
            offset += size


def test_a_few_camel_coefficients_read_back_row_by_row():
    """The moment matrix M_3: entry (i, j) holds the moment of x^(a_i + a_j) (one variable)."""
    program = camel()
    blk = program.psd[0]
    with MosekBackend().build_task(program) as task:
        # svec row 0 = M[0, 0] = y_0 (the mass); row 1 = √2 M[1, 0]; row 10 = M[1, 1]
        for row, (i, j) in [(0, (0, 0)), (1, (1, 0)), (10, (1, 1)), (54, (9, 9))]:
            nz, sub, val = task.getafefrow(row)
            expected = blk.F[i + j * blk.dim].toarray().ravel()
            assert nz == np.count_nonzero(expected) == 1
            scale = 1.0 if i == j else math.sqrt(2.0)
            assert list(sub) == list(np.flatnonzero(expected))
            assert val[0] == pytest.approx(scale * expected[sub[0]], rel=1e-15)


def test_mosek_cbf_of_camel_reads_back_and_solves_to_the_published_optimum(tmp_path):
    program = camel()
    path = MosekBackend().write_task(program, tmp_path / "camel.cbf")
    assert path.read_text().startswith("VER\n3\n")
    back = read_cbf(path)
    assert_same_program(program, back, atol=1e-14)
    sol = get_backend("cvxopt").run(back, SolverOptions())
    assert sol.status is Status.OPTIMAL
    assert sol.primal_objective == pytest.approx(CAMEL_OPTIMUM, rel=1e-7)
    assert sol.primal_objective == pytest.approx(cvxopt_solution(program).primal_objective, rel=1e-9)


def test_mosek_cbf_confirms_the_svec_convention(tmp_path):
    """MOSEK's writer turns each SVECPSD ACC back into a PSD constraint by *its* convention:
    if our order or √2 were wrong, the matrices read back would differ from the program."""
    program = hand_sdp()
    back = read_cbf(MosekBackend().write_task(program, tmp_path / "hand.cbf"))
    assert_same_program(program, back, atol=1e-15)
    text = (tmp_path / "hand.cbf").read_text()
    assert "OBJBCOORD\n3\n" in text                    # c0 = 3 survives


@pytest.mark.parametrize("suffix", [".ptf", ".task", ".jtask", ".ptf.gz"])
def test_other_task_formats_are_written_and_read_by_mosek(suffix, tmp_path):
    program = camel()
    path = MosekBackend().write_task(program, tmp_path / f"camel{suffix}")
    with mosek.Task() as task:
        task.readdata(str(path))
        assert (task.getnumvar(), task.getnumcon(), task.getnumafe(), task.getnumacc()) == (
            28, 1, 55, 1)
    if suffix == ".ptf":
        text = path.read_text()
        assert "SVECPSD(55)" in text and "M_3(mu)" in text


def test_write_task_refuses_formats_without_psd_support(tmp_path):
    with pytest.raises(FormatError) as err:
        MosekBackend().write_task(hand_sdp(), tmp_path / "hand.lp")
    assert str(err.value) == (
        "MOSEK writes a task with PSD constraints as .ptf, .cbf, .task, .jtask (optionally + .gz, "
        ".zst, .bz2), got the file name 'hand.lp'; change the extension (for SDPA use "
        "gmp_backends.export.write_sdpa)")
    assert not (tmp_path / "hand.lp").exists()


def test_build_task_validates_first():
    p = hand_sdp()
    bad = ConicProgram(c=p.c, A_ineq=p.A_ineq, b_ineq=np.array([np.inf, 0.0]), psd=p.psd)
    with pytest.raises(ModelError, match="b_ineq contains a non-finite value"):
        MosekBackend().build_task(bad)


# -- options --------------------------------------------------------------------------
def test_options_become_task_parameters():
    opts = SolverOptions(tol=1e-9, max_iters=42, time_limit=7.5,
                         extra={"MSK_IPAR_NUM_THREADS": 2, "MSK_IPAR_INTPNT_SOLVE_FORM": "MSK_SOLVE_DUAL",
                                "MSK_DPAR_INTPNT_CO_TOL_REL_GAP": 1e-11})
    with MosekBackend().build_task(hand_sdp(), opts) as task:
        dpar, ipar = mosek.dparam, mosek.iparam
        assert task.getdouparam(dpar.intpnt_co_tol_pfeas) == 1e-9
        assert task.getdouparam(dpar.intpnt_co_tol_dfeas) == 1e-9
        assert task.getdouparam(dpar.intpnt_co_tol_rel_gap) == 1e-11     # extra wins
        assert task.getintparam(ipar.intpnt_max_iterations) == 42
        assert task.getdouparam(dpar.optimizer_max_time) == 7.5
        assert task.getintparam(ipar.num_threads) == 2
        assert task.getintparam(ipar.intpnt_solve_form) == mosek.solveform.dual
    assert MosekBackend.supported_options == {"tol", "max_iters", "verbose", "time_limit"}


def test_unknown_mosek_parameter_is_an_option_error():
    with pytest.raises(OptionError) as err:
        MosekBackend().build_task(hand_sdp(), {"extra": {"MSK_IPAR_NOPE": 1}})
    assert str(err.value).startswith("MOSEK rejected the option MSK_IPAR_NOPE=1 in extra "
                                     "(err_param_name (1206): ")
    with pytest.raises(OptionError, match="parameter names such as 'MSK_IPAR_NUM_THREADS'"):
        MosekBackend().build_task(hand_sdp(), {"extra": {"threads": 2}})


# -- duals and statuses, on MOSEK-shaped results ----------------------------------------
def mosek_shaped(program: ConicProgram, sol, **status) -> mb._Raw:
    """cvxopt's optimum written the way MOSEK reports it [MOSEK-API, Sec. 12.2.1]."""
    y = -np.concatenate([sol.y_eq, sol.z_ineq])                # y = s_l^c - s_u^c
    doty = np.concatenate([mosek_svec_by_hand(Z) for Z in sol.Z_psd])
    fields = dict(trm="ok", prosta="prim_and_dual_feas", solsta="optimal")
    fields.update(status)
    return mb._Raw(xx=sol.x, y=y, doty=doty, primal_obj=sol.primal_objective,
                   dual_obj=sol.dual_objective, iterations=9, time=0.01, **fields)


def test_mosek_dual_equations_hold_on_the_task_at_cvxopts_optimum():
    """MOSEK's dual: A^T y + F^T ẏ = c (free x) and dual objective
    l^c s_l^c - u^c s_u^c - g @ ẏ + c^f, evaluated on the task's own data."""
    program = hand_sdp()
    sol = cvxopt_solution(program)
    raw = mosek_shaped(program, sol)
    with MosekBackend().build_task(program) as task:
        n, m = program.n_vars, task.getnumcon()
        A = np.zeros((m, n))
        for i in range(m):
            _, sub, val = task.getarow(i)
            A[i, list(sub)] = val
        F, g = afe_matrix(task, n)
        c = np.zeros(n)
        task.getc(c)
        bounds = [task.getconbound(i) for i in range(m)]
        cfix = task.getcfix()
    np.testing.assert_allclose(A.T @ raw.y + F.T @ raw.doty, c, atol=1e-6)
    s_l, s_u = np.maximum(raw.y, 0.0), np.maximum(-raw.y, 0.0)
    lc = np.array([lo if key == mosek.boundkey.fx else 0.0 for key, lo, _ in bounds])
    uc = np.array([up for _, _, up in bounds])
    dual = lc @ s_l - uc @ s_u - g @ raw.doty + cfix
    assert dual == pytest.approx(sol.dual_objective, abs=1e-6)
    assert dual == pytest.approx(HAND_OPTIMUM, abs=1e-6)


def test_duals_come_back_in_the_conic_convention():
    program = hand_sdp()
    sol = cvxopt_solution(program)
    out = mb._to_solution(mosek_shaped(program, sol), program, SolverOptions())
    assert out.status is Status.OPTIMAL
    assert out.raw_status == "trm=ok, prosta=prim_and_dual_feas, solsta=optimal"
    np.testing.assert_allclose(out.y_eq, sol.y_eq, atol=1e-12)
    np.testing.assert_allclose(out.z_ineq, sol.z_ineq, atol=1e-12)
    for Z, ref in zip(out.Z_psd, sol.Z_psd):
        np.testing.assert_allclose(Z, ref, atol=1e-12)
    assert out.primal_objective == pytest.approx(HAND_OPTIMUM, abs=1e-6)
    assert max(out.info[k] for k in ("primal_residual", "dual_residual", "relative_gap")) < 1e-6
    assert out.iterations == 9 and out.solve_time == 0.01


@pytest.mark.parametrize("trm,solsta,perturb,status", [
    ("ok", "prim_infeas_cer", False, Status.INFEASIBLE),
    ("ok", "dual_infeas_cer", False, Status.UNBOUNDED),
    ("trm_max_iterations", "unknown", True, Status.ITERATION_LIMIT),
    ("trm_max_time", "unknown", True, Status.TIME_LIMIT),
    ("trm_stall", "unknown", False, Status.OPTIMAL_INACCURATE),
    ("trm_stall", "unknown", True, Status.NUMERICAL_ERROR),
    ("ok", "prim_illposed_cer", False, Status.SOLVER_ERROR),
    ("trm_user_callback", "unknown", True, Status.SOLVER_ERROR),
])
def test_status_mapping(trm, solsta, perturb, status):
    program = hand_sdp()
    sol = cvxopt_solution(program)
    raw = mosek_shaped(program, sol, trm=trm, solsta=solsta, prosta="unknown")
    if perturb:  # a point far from optimal
        raw = mb._Raw(**{**raw.__dict__, "xx": raw.xx + 0.3})
    out = mb._to_solution(raw, program, SolverOptions())
    if status not in (Status.INFEASIBLE, Status.UNBOUNDED):  # the hand-made rays are not real
        out = assess(program, out)  # the core decides whether a stalled point is nearly optimal
    assert out.status is status, out.message
    assert out.raw_status == f"trm={trm}, prosta=unknown, solsta={solsta}"
    if status is Status.INFEASIBLE:
        assert out.x is None and "infeasibility_certificate" in out.info
    if status is Status.UNBOUNDED:
        assert out.x is None and out.info["unbounded_direction"] is raw.xx
    if status is Status.SOLVER_ERROR and solsta == "prim_illposed_cer":
        assert out.x is None and "ill-posed" in out.message


def test_a_nearly_optimal_point_at_the_iteration_limit_is_optimal_inaccurate():
    """As for cvxopt: a usable point is reported as such, whatever stopped the solver."""
    program = hand_sdp()
    raw = mosek_shaped(program, cvxopt_solution(program), trm="trm_max_iterations",
                       solsta="unknown", prosta="unknown")
    out = assess(program, mb._to_solution(raw, program, SolverOptions()))
    assert out.status is Status.OPTIMAL_INACCURATE and "nearly optimal" in out.message


def test_no_solution_is_a_solver_error():
    out = mb._to_solution(mb._Raw(trm="trm_internal", prosta="unknown", solsta="unknown"),
                          hand_sdp(), SolverOptions())
    assert out.status is Status.SOLVER_ERROR and out.x is None
    assert "no interior-point solution" in out.message


def test_gather_calls_only_task_methods_that_exist():
    """_gather runs only after a licensed solve; check it against the real Task API."""
    calls = []

    class Recorder:
        def __getattr__(self, name):
            calls.append(name)
            return lambda *a: True if name == "solutiondef" else (
                [0.0] * 3 if name.startswith("get") and name.endswith(("xx", "y", "dotys")) else 0)

    raw = mb._gather(mosek, Recorder(), hand_sdp(), mosek.rescode.ok)
    assert raw.trm == "ok" and raw.xx.shape == (3,)
    assert calls and all(hasattr(mosek.Task, name) for name in calls), calls


# -- with a licence ----------------------------------------------------------------------
@needs_licence
def test_licensed_camel_order_3_reaches_the_published_optimum():
    sol = MosekBackend().run(camel(), SolverOptions())
    assert sol.status is Status.OPTIMAL, sol.message
    assert sol.primal_objective == pytest.approx(CAMEL_OPTIMUM, rel=1e-7)
    assert sol.dual_objective == pytest.approx(CAMEL_OPTIMUM, rel=1e-7)


@needs_licence
def test_licensed_hand_sdp_duals_satisfy_the_conic_convention():
    program = hand_sdp()
    sol = MosekBackend().run(program, SolverOptions(tol=1e-9))
    assert sol.status is Status.OPTIMAL, sol.message
    assert sol.primal_objective == pytest.approx(HAND_OPTIMUM, abs=1e-7)
    res = mb.kkt_residuals(program, sol.x, sol.y_eq, sol.z_ineq, sol.Z_psd)
    assert max(res["primal_residual"], res["dual_residual"], res["relative_gap"]) < 1e-6


@needs_licence
def test_licensed_infeasible_and_iteration_limit():
    inst = get_problem("infeasible_x2_plus_1_le_0").build()
    mu = gmp.Measure(inst.variables, inst.constraints, mass=1.0)
    infeasible, _ = gmp.build_relaxation(gmp.GMP(gmp.minimize(mu.E(inst.objective))), 1)
    assert MosekBackend().run(infeasible).status is Status.INFEASIBLE
    assert MosekBackend().run(camel(), {"max_iters": 1}).status is Status.ITERATION_LIMIT
