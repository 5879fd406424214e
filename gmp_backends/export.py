"""Exchange formats: SDPA sparse (``.dat-s``) [SDPA] and CBF (``.cbf``) [CBF], writers and readers.

Any :class:`~gmp.conic.ConicProgram` can be written for another solver and read back (the
readers serve the round-trip tests and read what MOSEK's CBF writer makes of our programs).
Every writer validates the program first and writes 17 significant digits, so a round trip is
exact. How the program maps onto each format (equalities split in two for SDPA, ``c0`` in a
``*gmp`` comment, the CBF keywords written, read and refused): docs/backends.md, "Exchange
formats: SDPA and CBF".
"""
from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from gmp.conic import ConicProgram, PSDBlock
from gmp.errors import GMPError, ModelError

__all__ = ["FormatError", "write_sdpa", "read_sdpa", "write_cbf", "read_cbf"]

_FLOAT = "%.17g"
_META = "*gmp "


class FormatError(GMPError, ValueError):
    """A file is not in the format it claims, or holds what a ConicProgram cannot."""


def _checked(program: ConicProgram, what: str) -> ConicProgram:
    if not isinstance(program, ConicProgram):
        raise ModelError(f"{what} writes a gmp.conic.ConicProgram, got {type(program).__name__}")
    program.validate()
    return program


def _rows(buf: io.StringIO, fmt: str, *columns: np.ndarray) -> None:
    """One line per entry of the columns (np.savetxt, no Python loop per entry)."""
    if columns and columns[0].size:
        np.savetxt(buf, np.column_stack(columns), fmt=fmt)


def _lower(F: sp.spmatrix, dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(row i, column j, variable, value) of the nonzero lower-triangle entries (i >= j)."""
    F = sp.coo_matrix(F)
    i, j = F.row % dim, F.row // dim
    keep = (i >= j) & (F.data != 0)
    return i[keep], j[keep], F.col[keep], F.data[keep]


def _lower_const(F0: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r = np.flatnonzero(F0)
    i, j = r % dim, r // dim
    keep = i >= j
    return i[keep], j[keep], F0[r[keep]]


# -- SDPA ----------------------------------------------------------------------
def write_sdpa(program: ConicProgram, path: str | os.PathLike) -> Path:
    """Write ``program`` in SDPA sparse format (docs/backends.md).

    Parameters
    ----------
    program : ConicProgram
    path : str or path-like
        Conventionally ending in ``.dat-s``.

    Returns
    -------
    Path
        The file written.
    """
    program = _checked(program, "write_sdpa")
    n, m_eq, m_ineq = program.n_vars, program.n_eq, program.n_ineq
    n_lp = m_ineq + 2 * m_eq
    sizes = [b.dim for b in program.psd] + ([-n_lp] if n_lp else [])
    mats, blks, rows, cols, vals = [], [], [], [], []
    for k, blk in enumerate(program.psd, start=1):
        i, j, var, v = _lower(blk.F, blk.dim)
        i0, j0, v0 = _lower_const(blk.F0, blk.dim)
        mats += [var + 1, np.zeros(i0.size, int)]
        blks += [np.full(i.size + i0.size, k)]
        rows += [j + 1, j0 + 1]          # SDPA lists the upper triangle: row <= column
        cols += [i + 1, i0 + 1]
        vals += [v, -v0]
    if n_lp:
        # rows of the diagonal block: b_ineq - A_ineq x, A_eq x - b_eq, b_eq - A_eq x (all >= 0)
        L = sp.vstack([-program.A_ineq, program.A_eq, -program.A_eq], format="coo")
        f0 = np.concatenate([-program.b_ineq, program.b_eq, -program.b_eq])
        keep = L.data != 0
        r0 = np.flatnonzero(f0)
        mats += [L.col[keep] + 1, np.zeros(r0.size, int)]
        blks += [np.full(int(keep.sum()) + r0.size, len(sizes))]
        diag = np.concatenate([L.row[keep], r0]) + 1
        rows += [diag]
        cols += [diag]
        vals += [L.data[keep], f0[r0]]
    meta = {"format": "gmp-moments sdpa 1", "c0": program.c0, "n_ineq": m_ineq, "n_eq": m_eq,
            "psd_names": [b.name for b in program.psd]}
    buf = io.StringIO()
    buf.write("* SDPA sparse format written by gmp-moments (gmp_backends.export.write_sdpa)\n")
    buf.write("* min c^T x  s.t.  sum_i F_i x_i - F_0 PSD (block diagonal)\n")
    buf.write(f"* objective constant c0 = {program.c0!r} (not representable in SDPA: "
              "add it to the optimal value)\n")
    if n_lp:
        buf.write(f"* diagonal block {len(sizes)}: {m_ineq} inequalities b - a x >= 0, then "
                  f"{m_eq} equality rows as pairs a x - b >= 0 (entries {m_ineq + 1}..{m_ineq + m_eq}) "
                  f"and b - a x >= 0 (entries {m_ineq + m_eq + 1}..{n_lp})\n")
    buf.write(_META + json.dumps(meta) + "\n")
    buf.write(f"{n} = number of variables\n{len(sizes)} = number of blocks\n")
    buf.write(" ".join(str(s) for s in sizes) + "\n")
    buf.write(" ".join(_FLOAT % v for v in program.c) + "\n" if n else "\n")
    if vals:
        _rows(buf, "%d %d %d %d " + _FLOAT, np.concatenate(mats), np.concatenate(blks),
              np.concatenate(rows), np.concatenate(cols), np.concatenate(vals))
    path = Path(path)
    path.write_text(buf.getvalue())
    return path


def read_sdpa(path: str | os.PathLike) -> ConicProgram:
    """Read an SDPA sparse file into a ConicProgram (docs/backends.md).

    Restores ``c0`` and the equalities from a ``*gmp`` comment when the file
    was written by :func:`write_sdpa`; otherwise diagonal-block entries
    become inequalities and ``c0 = 0``.
    """
    text = Path(path).read_text()
    lines = text.splitlines()
    meta: dict = {}
    start = 0
    while start < len(lines) and (not lines[start].strip() or lines[start].lstrip()[:1] in ('"', "*")):
        line = lines[start].strip()
        if line.startswith(_META):
            try:
                meta = json.loads(line[len(_META):])
            except json.JSONDecodeError as exc:
                raise FormatError(f"{path}: the *gmp comment is not valid JSON ({exc}); "
                                  "remove the line to read the file as plain SDPA") from None
        start += 1
    body = "\n".join(line.split("=")[0] if "=" in line else line for line in lines[start:])
    for ch in "{}(),":
        body = body.replace(ch, " ")
    tokens = body.split()
    try:
        n, nb = int(tokens[0]), int(tokens[1])
        sizes = [int(float(t)) for t in tokens[2:2 + nb]]
        c = np.array(tokens[2 + nb:2 + nb + n], dtype=float)
        entries = np.array(tokens[2 + nb + n:], dtype=float)
    except (IndexError, ValueError) as exc:
        raise FormatError(f"{path} is not an SDPA sparse file: expected m, nBlocks, the block "
                          f"sizes, m costs and then 'matno blkno i j value' lines ({exc})") from None
    if c.size != n or entries.size % 5 or len(sizes) != nb:
        raise FormatError(f"{path}: expected {n} costs and entries of 5 numbers each, got "
                          f"{c.size} costs and {entries.size} numbers after them")
    entries = entries.reshape(-1, 5)
    mat, blk = entries[:, 0].astype(int), entries[:, 1].astype(int)
    ii, jj, val = entries[:, 2].astype(int) - 1, entries[:, 3].astype(int) - 1, entries[:, 4]
    if mat.size and (mat.min() < 0 or mat.max() > n or blk.min() < 1 or blk.max() > nb):
        raise FormatError(f"{path}: an entry names a matrix outside 0..{n} or a block outside 1..{nb}")
    names = meta.get("psd_names", [])
    psd, lp_rows, lp_const = [], [], []
    for b, size in enumerate(sizes, start=1):
        sel = blk == b
        m_, i, j, v = mat[sel], ii[sel], jj[sel], val[sel]
        d = abs(size)
        if i.size and (min(i.min(), j.min()) < 0 or max(i.max(), j.max()) >= d):
            raise FormatError(f"{path}: block {b} has size {d} but an entry at ({i.max() + 1}, "
                              f"{j.max() + 1})")
        if size < 0:
            if np.any(i != j):
                raise FormatError(f"{path}: diagonal block {b} has an off-diagonal entry")
            var = m_ > 0
            lp_rows.append(sp.coo_matrix((v[var], (i[var], m_[var] - 1)), shape=(d, n)))
            lp_const.append(np.bincount(i[~var], weights=v[~var], minlength=d))
            continue
        off = i != j                                 # mirror the off-diagonal entries
        r = np.concatenate([i + j * d, (j + i * d)[off]])
        mm, vv = np.concatenate([m_, m_[off]]), np.concatenate([v, v[off]])
        var = mm > 0
        F = sp.csc_matrix((vv[var], (r[var], mm[var] - 1)), shape=(d * d, n))
        F0 = -np.bincount(r[~var], weights=vv[~var], minlength=d * d)
        name = names[len(psd)] if len(psd) < len(names) else f"SDPA block {b}"
        psd.append(PSDBlock(d, F, F0, name))
    L = sp.vstack(lp_rows, format="csr") if lp_rows else sp.csr_matrix((0, n))
    f0 = np.concatenate(lp_const) if lp_const else np.zeros(0)
    n_eq = int(meta.get("n_eq", 0))
    n_ineq = int(meta.get("n_ineq", L.shape[0] - 2 * n_eq))
    if n_ineq + 2 * n_eq != L.shape[0]:
        raise FormatError(f"{path}: the *gmp comment announces {n_ineq} inequalities and {n_eq} "
                          f"equality pairs, but the diagonal blocks have {L.shape[0]} entries")
    eq, neg = L[n_ineq:n_ineq + n_eq], L[n_ineq + n_eq:]
    if n_eq and (abs(eq + neg).max() > 0 or np.any(f0[n_ineq:n_ineq + n_eq] != -f0[n_ineq + n_eq:])):
        raise FormatError(f"{path}: the {n_eq} equality pairs announced by the *gmp comment "
                          "are not pairs (a x - b >= 0, b - a x >= 0)")
    return ConicProgram(
        c=c, c0=float(meta.get("c0", 0.0)),
        A_eq=eq, b_eq=f0[n_ineq:n_ineq + n_eq],
        A_ineq=-L[:n_ineq], b_ineq=-f0[:n_ineq], psd=tuple(psd),
    )


# -- CBF -----------------------------------------------------------------------
def write_cbf(program: ConicProgram, path: str | os.PathLike) -> Path:
    """Write ``program`` in the Conic Benchmark Format, version 3 (docs/backends.md).

    Returns
    -------
    Path
        The file written.
    """
    program = _checked(program, "write_cbf")
    n, m_eq, m_ineq = program.n_vars, program.n_eq, program.n_ineq
    buf = io.StringIO()
    buf.write("# CBF written by gmp-moments (gmp_backends.export.write_cbf)\n")
    buf.write("# min c x + c0  s.t.  A_eq x - b_eq in L=,  A_ineq x - b_ineq in L-,  "
              "sum_j x_j H_j + D PSD\n")
    buf.write("VER\n3\n\nOBJSENSE\nMIN\n\n")
    buf.write(f"VAR\n{n} {1 if n else 0}\n" + (f"F {n}\n" if n else "") + "\n")
    if program.psd:
        buf.write(f"PSDCON\n{len(program.psd)}\n" + "".join(f"{d}\n" for d in program.psd_dims) + "\n")
    if m_eq + m_ineq:
        cones = [f"L= {m_eq}"] * bool(m_eq) + [f"L- {m_ineq}"] * bool(m_ineq)
        buf.write(f"CON\n{m_eq + m_ineq} {len(cones)}\n" + "".join(c + "\n" for c in cones) + "\n")
    nz = np.flatnonzero(program.c)
    if nz.size:
        buf.write(f"OBJACOORD\n{nz.size}\n")
        _rows(buf, "%d " + _FLOAT, nz, program.c[nz])
        buf.write("\n")
    if program.c0 != 0:
        buf.write(f"OBJBCOORD\n{_FLOAT % program.c0}\n\n")
    A = sp.vstack([program.A_eq, program.A_ineq], format="coo")
    keep = A.data != 0
    if keep.any():
        buf.write(f"ACOORD\n{int(keep.sum())}\n")
        _rows(buf, "%d %d " + _FLOAT, A.row[keep], A.col[keep], A.data[keep])
        buf.write("\n")
    b = -np.concatenate([program.b_eq, program.b_ineq])
    nz = np.flatnonzero(b)
    if nz.size:
        buf.write(f"BCOORD\n{nz.size}\n")
        _rows(buf, "%d " + _FLOAT, nz, b[nz])
        buf.write("\n")
    H = [(k, *_lower(blk.F, blk.dim)) for k, blk in enumerate(program.psd)]
    D = [(k, *_lower_const(blk.F0, blk.dim)) for k, blk in enumerate(program.psd)]
    nh, nd = sum(h[1].size for h in H), sum(d[1].size for d in D)
    if nh:
        buf.write(f"HCOORD\n{nh}\n")
        _rows(buf, "%d %d %d %d " + _FLOAT, *(np.concatenate(a) for a in zip(
            *((np.full(i.size, k), var, i, j, v) for k, i, j, var, v in H))))
        buf.write("\n")
    if nd:
        buf.write(f"DCOORD\n{nd}\n")
        _rows(buf, "%d %d %d " + _FLOAT, *(np.concatenate(a) for a in zip(
            *((np.full(i.size, k), i, j, v) for k, i, j, v in D))))
        buf.write("\n")
    path = Path(path)
    path.write_text(buf.getvalue())
    return path


_LINEAR_CONES = ("F", "L=", "L-", "L+")


def _cones(lines: list[str], total: int, count: int, what: str, path: Path) -> list[tuple[str, int]]:
    cones = []
    for line in lines:
        parts = line.split()
        if len(parts) != 2 or parts[0] not in _LINEAR_CONES:
            raise FormatError(
                f"{path}: {what} cone {line!r} is not supported; a ConicProgram holds free "
                f"variables, linear rows ({', '.join(_LINEAR_CONES)}) and PSDCON constraints only")
        cones.append((parts[0], int(parts[1])))
    if len(cones) != count or sum(d for _, d in cones) != total:
        raise FormatError(f"{path}: {what} declares {total} entries in {count} cones, "
                          f"got cones {cones}")
    return cones


def read_cbf(path: str | os.PathLike) -> ConicProgram:
    """Read a CBF file (ours, or MOSEK's for our programs) into a ConicProgram.

    Raises
    ------
    FormatError
        The file is malformed or uses what a ConicProgram cannot hold (matrix
        variables, integer variables, quadratic/exponential/power cones).
    """
    path = Path(path)
    lines = [ln.strip() for ln in path.read_text().splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    sense, n, var_cones, con_cones, psd_dims = "MIN", 0, [], [], []
    c0 = 0.0
    coords: dict[str, np.ndarray] = {}
    widths = {"OBJACOORD": 2, "ACOORD": 3, "BCOORD": 2, "HCOORD": 5, "DCOORD": 4}
    p = 0

    def take(k: int) -> list[str]:
        nonlocal p
        if p + k > len(lines):
            raise FormatError(f"{path}: the file ends inside section {key}")
        out, p = lines[p:p + k], p + k
        return out

    while p < len(lines):
        key = lines[p]
        p += 1
        try:
            if key == "VER":
                ver = int(take(1)[0])
                if ver > 3:
                    raise FormatError(f"{path}: CBF version {ver}; this reader knows versions 1-3")
            elif key == "OBJSENSE":
                sense = take(1)[0].upper()
                if sense not in ("MIN", "MAX"):
                    raise FormatError(f"{path}: OBJSENSE must be MIN or MAX, got {sense!r}")
            elif key in ("VAR", "CON"):
                total, count = (int(t) for t in take(1)[0].split())
                cones = _cones(take(count), total, count, key, path)
                if key == "VAR":
                    n, var_cones = total, cones
                else:
                    con_cones = cones
            elif key == "PSDCON":
                psd_dims = [int(t) for t in take(int(take(1)[0]))]
            elif key == "OBJBCOORD":
                c0 = float(take(1)[0])
            elif key in widths:
                nnz = int(take(1)[0])
                data = np.array(" ".join(take(nnz)).split(), dtype=float)
                if data.size != nnz * widths[key]:
                    raise FormatError(f"{path}: {key} expects {nnz} lines of {widths[key]} numbers")
                coords[key] = data.reshape(nnz, widths[key])
            elif key in ("PSDVAR", "OBJFCOORD", "FCOORD", "INT", "POWCONES", "POW*CONES", "CHANGE"):
                raise FormatError(
                    f"{path}: section {key} (matrix or integer variables, power cones) cannot be "
                    "held by a ConicProgram, which has free scalar variables, linear rows and "
                    "affine PSD constraints only")
            else:
                raise FormatError(f"{path}: unknown CBF section {key!r} at line {p}")
        except ValueError as exc:
            if isinstance(exc, FormatError):
                raise
            raise FormatError(f"{path}: malformed section {key} ({exc})") from None
    m = sum(d for _, d in con_cones)
    limits = {"OBJACOORD": (n,), "ACOORD": (m, n), "BCOORD": (m,)}
    for key, a in coords.items():
        if key in ("HCOORD", "DCOORD"):
            k = a[:, 0].astype(int)
            if a.size and (k.min() < 0 or k.max() >= len(psd_dims)):
                raise FormatError(f"{path}: {key} names a PSD constraint outside 0..{len(psd_dims) - 1}")
            dims = np.asarray(psd_dims)[k]
            idx = a[:, -3:-1].astype(int)
            bad = (idx < 0).any(axis=1) | (idx >= dims[:, None]).any(axis=1)
            if key == "HCOORD":
                bad |= (a[:, 1] < 0) | (a[:, 1] >= n)
        else:
            idx = a[:, :len(limits[key])].astype(int)
            bad = ((idx < 0) | (idx >= np.array(limits[key]))).any(axis=1)
        if np.any(bad):
            row = a[np.flatnonzero(bad)[0]]
            raise FormatError(f"{path}: {key} entry {row.tolist()} is outside the declared sizes "
                              f"({n} variables, {m} rows, PSD sizes {psd_dims})")
    c = np.zeros(n)
    if "OBJACOORD" in coords:
        a = coords["OBJACOORD"]
        c = np.bincount(a[:, 0].astype(int), weights=a[:, 1], minlength=n)
    if "ACOORD" in coords:
        a = coords["ACOORD"]
        A = sp.csr_matrix((a[:, 2], (a[:, 0].astype(int), a[:, 1].astype(int))), shape=(m, n))
    else:
        A = sp.csr_matrix((m, n))
    b = np.zeros(m)
    if "BCOORD" in coords:
        a = coords["BCOORD"]
        b = np.bincount(a[:, 0].astype(int), weights=a[:, 1], minlength=m)
    # scalar rows g = A x + b in a cone; variable cones become rows g = x
    kinds = np.concatenate([np.full(d, k) for k, d in con_cones] or [np.zeros(0, "<U2")])
    if any(k != "F" for k, _ in var_cones):
        vk = np.concatenate([np.full(d, k) for k, d in var_cones])
        A = sp.vstack([A, sp.identity(n, format="csr")], format="csr")
        b = np.concatenate([b, np.zeros(n)])
        kinds = np.concatenate([kinds, vk])
    eq, le, ge = (np.flatnonzero(kinds == k) for k in ("L=", "L-", "L+"))
    ineq = np.concatenate([le, ge])
    sign = np.concatenate([np.ones(le.size), -np.ones(ge.size)])
    A_ineq = sp.diags(sign) @ A[ineq] if ineq.size else sp.csr_matrix((0, n))
    psd = []
    H = coords.get("HCOORD", np.zeros((0, 5)))
    D = coords.get("DCOORD", np.zeros((0, 4)))
    for k, d in enumerate(psd_dims):
        h, g = H[H[:, 0] == k], D[D[:, 0] == k]
        var, i, j, v = h[:, 1].astype(int), h[:, 2].astype(int), h[:, 3].astype(int), h[:, 4]
        off = i != j
        r = np.concatenate([i + j * d, (j + i * d)[off]])
        F = sp.csc_matrix((np.concatenate([v, v[off]]), (r, np.concatenate([var, var[off]]))),
                          shape=(d * d, n))
        gi, gj, gv = g[:, 1].astype(int), g[:, 2].astype(int), g[:, 3]
        goff = gi != gj
        r0 = np.concatenate([gi + gj * d, (gj + gi * d)[goff]])
        F0 = np.bincount(r0, weights=np.concatenate([gv, gv[goff]]), minlength=d * d)
        psd.append(PSDBlock(d, F, F0, f"CBF PSDCON {k}"))
    if sense == "MAX":
        c, c0 = -c, -c0
    return ConicProgram(c=c, c0=c0, A_eq=A[eq], b_eq=-b[eq], A_ineq=A_ineq,
                        b_ineq=-(sign * b[ineq]) if ineq.size else np.zeros(0), psd=tuple(psd))
