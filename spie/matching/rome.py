"""ROME proximity graph: how close an opening's ROME code is to a code a person is looking for.

Levels, from the closest (``LEVEL_SAME``) to the farthest (``LEVEL_DOMAIN``); the appellation
level (same code *and* same appellation) is decided per pair, because appellations belong to
openings and targets, not to codes:

- ``LEVEL_SAME``: the same ROME code;
- ``LEVEL_PROCHE``: a "mobilité proche" of the target code (a neighbouring job, little to learn);
- ``LEVEL_EVOLUTION``: a "mobilité avec évolution" (a step up: more responsibility or skill);
- ``LEVEL_DOMAIN``: any other code of the same professional domain (``M16``…).

``RomeGraph`` is built from plain lists, so that an adapter can feed it from the database
(``RomeMobility`` rows) and the evaluation can feed it from the CSV files, and it precomputes an
*expansion* matrix (target code → codes worth looking at, with their level) as CSR arrays, and its
transpose (opening code → target codes that reach it) for the "candidates for an opening" direction.

About the ROME 4.0 v460 open-data files: ``unix_rubrique_mobilite_v460_utf8.csv`` lists each
code's mobility targets with a rank but without the "proche" / "avec évolution" type of the
France Travail API. ``load_rome_graph`` therefore classifies an edge as "avec évolution" when it
leads from a non-managerial code to a managerial one (``emploi_cadre`` = ``O``), and as "proche"
otherwise; the métiers that share a ROME v3 parent fiche (``code_rome_parent``) are "proches"
of each other as well. An adapter with the typed API data passes the two lists as they are.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LEVEL_APPELLATION = -1  # same code and same appellation (decided per pair)
LEVEL_SAME = 0
LEVEL_PROCHE = 1
LEVEL_EVOLUTION = 2
LEVEL_DOMAIN = 3
LEVEL_NONE = 9

LEVEL_LABELS = {
    LEVEL_APPELLATION: "même appellation que le métier recherché",
    LEVEL_SAME: "même code ROME que le métier recherché",
    LEVEL_PROCHE: "métier proche du métier recherché (mobilité ROME)",
    LEVEL_EVOLUTION: "évolution possible depuis le métier recherché (mobilité ROME)",
    LEVEL_DOMAIN: "même domaine professionnel que le métier recherché",
}


@dataclass
class RomeGraph:
    """ROME proximity, as CSR arrays over ROME indices ``0 .. n_codes - 1``.

    ``expand_ptr`` / ``expand_code`` / ``expand_level``: for a target code ``c``, the codes
    ``expand_code[expand_ptr[c]:expand_ptr[c + 1]]`` an opening may have to be proposed, each with
    its best (lowest) level; ``reverse_*``: the same relation read from the opening's side.
    """

    n_codes: int
    domain: np.ndarray
    expand_ptr: np.ndarray
    expand_code: np.ndarray
    expand_level: np.ndarray
    reverse_ptr: np.ndarray
    reverse_code: np.ndarray
    reverse_level: np.ndarray

    @classmethod
    def from_edges(cls, n_codes, proche=(), evolution=(), domains=None, include_domain=True):
        """Build the graph from ``(source, target)`` index pairs and a domain index per code.

        ``domains`` (one int per code, -1 = unknown) gives the same-domain level; with
        ``include_domain=False`` that level is left out (smaller candidate sets).
        """
        n_codes = int(n_codes)
        domain = np.full(n_codes, -1, dtype=np.int32) if domains is None else np.asarray(domains, dtype=np.int32)
        if domain.shape != (n_codes,):
            raise ValueError("domains: one value per code expected")
        src = [np.arange(n_codes, dtype=np.int64)]
        dst = [np.arange(n_codes, dtype=np.int64)]
        lvl = [np.full(n_codes, LEVEL_SAME, dtype=np.int8)]
        for edges, level in ((proche, LEVEL_PROCHE), (evolution, LEVEL_EVOLUTION)):
            e = np.asarray(list(edges), dtype=np.int64).reshape(-1, 2)
            if e.size and (e.min() < 0 or e.max() >= n_codes):
                raise ValueError("edge index out of range")
            src.append(e[:, 0])
            dst.append(e[:, 1])
            lvl.append(np.full(len(e), level, dtype=np.int8))
        if include_domain:
            known = np.flatnonzero(domain >= 0)
            order = known[np.argsort(domain[known], kind="stable")]
            d_sorted = domain[order]
            starts = np.flatnonzero(np.r_[True, d_sorted[1:] != d_sorted[:-1]])
            sizes = np.diff(np.r_[starts, len(order)])
            # every ordered pair of codes inside each domain
            for start, size in zip(starts.tolist(), sizes.tolist(), strict=True):
                members = order[start : start + size]
                src.append(np.repeat(members, size))
                dst.append(np.tile(members, size))
                lvl.append(np.full(size * size, LEVEL_DOMAIN, dtype=np.int8))
        s = np.concatenate(src)
        d = np.concatenate(dst)
        lv = np.concatenate(lvl)
        exp = _dedupe_csr(s, d, lv, n_codes)
        rev = _dedupe_csr(d, s, lv, n_codes)
        return cls(n_codes, domain, *exp, *rev)

    def level(self, source, target):
        """The level from target code ``source`` (a person's) to code ``target`` (an opening's)."""
        lo, hi = self.expand_ptr[source], self.expand_ptr[source + 1]
        codes = self.expand_code[lo:hi]
        hit = np.flatnonzero(codes == target)
        return int(self.expand_level[lo + hit[0]]) if hit.size else LEVEL_NONE


def _dedupe_csr(src, dst, lvl, n):
    """CSR rows ``src`` → ``dst`` keeping the lowest level of duplicated pairs, rows sorted by dst."""
    key = src * n + dst
    order = np.lexsort((lvl, key))
    key = key[order]
    first = np.r_[True, key[1:] != key[:-1]]
    order = order[first]
    s, d, lv = src[order], dst[order], lvl[order]
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(s, minlength=n), out=ptr[1:])
    return ptr, d.astype(np.int32), lv.astype(np.int8)


@dataclass
class RomeReferential:
    """The ROME codes and appellations loaded from the CSV files, with the graph over them."""

    codes: list[str]
    labels: list[str]
    code_index: dict[str, int]
    appellation_ids: list[int]  # code_ogr of each appellation index
    appellation_code: np.ndarray  # ROME index of each appellation index
    appellation_labels: list[str]
    graph: RomeGraph


def load_rome_graph(directory, include_domain=True):
    """Read the ROME 4.0 CSV files of ``directory`` (standard library ``csv``, no Django).

    Returns a ``RomeReferential``: code list (index = ROME index), appellations (index =
    appellation index) and the ``RomeGraph`` built with the classification described above.
    """
    directory = Path(directory)
    with open(directory / "unix_referentiel_code_rome_v460_utf8.csv", encoding="utf-8", newline="") as fh:
        code_rows = list(csv.DictReader(fh))
    codes = [row["code_rome"] for row in code_rows]
    index = {code: i for i, code in enumerate(codes)}
    labels = [row["libelle_rome"] for row in code_rows]
    cadre = np.array([row["emploi_cadre"] == "O" for row in code_rows])
    parent = [row["code_rome_parent"] or row["code_rome"] for row in code_rows]

    proche, evolution = [], []
    with open(directory / "unix_rubrique_mobilite_v460_utf8.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            s, t = index.get(row["code_rome"]), index.get(row["code_rome_cible"])
            if s is None or t is None or s == t:
                continue
            (evolution if (cadre[t] and not cadre[s]) else proche).append((s, t))
    by_parent = {}
    for i, p in enumerate(parent):
        by_parent.setdefault(p, []).append(i)
    for members in by_parent.values():
        proche.extend((a, b) for a in members for b in members if a != b)

    domain_codes = sorted({code[:3] for code in codes})
    domain_index = {d: i for i, d in enumerate(domain_codes)}
    domains = np.array([domain_index[code[:3]] for code in codes], dtype=np.int32)
    graph = RomeGraph.from_edges(len(codes), proche, evolution, domains, include_domain=include_domain)

    app_ids, app_code, app_labels = [], [], []
    app_path = directory / "unix_referentiel_appellation_v460_utf8.csv"
    if app_path.exists():
        with open(app_path, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                if row["code_rome"] in index:
                    app_ids.append(int(row["code_ogr"]))
                    app_code.append(index[row["code_rome"]])
                    app_labels.append(row["libelle_appellation_court"])
    return RomeReferential(codes, labels, index, app_ids, np.asarray(app_code, dtype=np.int32), app_labels, graph)
