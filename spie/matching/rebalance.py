"""Capacity-aware rebalancing: congestion prices from entropic optimal transport (Sinkhorn).

Why: ranking every person's openings by relevance alone sends most people to the same few
openings (the well-placed ones in the big job families), while openings a little further or in a
neighbouring job are shown to nobody. A référent then proposes candidates who mostly will not be
hired, and the company is flooded.

How: on the sparse matrix of each person's best eligible openings (the *pool*: a few times k per
person, never the dense persons × openings matrix), solve the entropic transport problem

    maximise  Σ π_ij s_ij + ε H(π)
    such that Σ_j π_ij = a_i  (each person has a_i = min(k, pool size) proposal slots)
              Σ_i π_ij ≤ b_j  (an opening's exposure is capped in proportion to its positions)

with Sinkhorn's scaling iterations (``u = a / K v``, ``v = min(1, b / Kᵀ u)``, ``K = exp(s / ε)``).
The plan's ranking for person i is the ranking of ``s_ij + ε log v_j``: ``price_j = -ε log v_j ≥ 0``
is a per-opening congestion price, zero for every opening whose cap is not binding. The final
top-k of each person is read from the pool ranked by ``score - price``: a person is never shown an
opening outside their own pool, and the price is capped (``price_max``) so that a strongly
relevant opening stays visible to its best-matching persons. The price is reported as a reason.

Why both prices and caps: Sinkhorn is order-free, vectorised (two sparse mat-vecs per
iteration) and gives one interpretable number per opening, and it moves persons whose tastes
differ. But a top-k read from prices cannot separate persons who look alike (they all rank the
same openings first, whatever the prices), nor persons with fewer than k eligible openings (they
are shown all of them). ``cap_exposure`` therefore enforces a hard cap afterwards, keeping for an
over-exposed opening the persons it fits best; the engine runs it as a few rounds of deferred
acceptance with refills from each person's pool (``engine._apply_hard_cap``), vectorised, not
depending on any order of the persons.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse


def sinkhorn_prices(
    rows, cols, scores, n_rows, n_cols, row_mass, col_cap, *, eps=0.04, n_iter=60, tol=1e-3, price_max=0.2
):
    """Congestion price per column (opening), from the sparse scores ``(rows, cols, scores)``.

    ``row_mass`` (n_rows) is how many proposals each person receives, ``col_cap`` (n_cols) the
    exposure each opening may take. Returns ``(prices, info)``; ``info`` holds the iterations run
    and the remaining relative cap excess.
    """
    prices = np.zeros(n_cols, dtype=np.float32)
    if len(rows) == 0:
        return prices, {"iterations": 0, "cap_excess": 0.0}
    scores = np.asarray(scores, dtype=np.float64)
    # row-wise stabilisation: a row factor is absorbed by u and does not change the plan
    row_max = np.full(n_rows, -np.inf)
    np.maximum.at(row_max, rows, scores)
    kernel = np.exp((scores - row_max[rows]) / eps)
    k_mat = sparse.csr_matrix((kernel, (rows, cols)), shape=(n_rows, n_cols))
    k_t = k_mat.T.tocsr()
    a = np.asarray(row_mass, dtype=np.float64)
    b = np.maximum(np.asarray(col_cap, dtype=np.float64), 1e-9)
    v = np.ones(n_cols)
    u = np.zeros(n_rows)
    excess = 0.0
    it = 0
    for it in range(1, n_iter + 1):  # noqa: B007 - reported in info
        kv = k_mat @ v
        u = np.divide(a, kv, out=np.zeros_like(a), where=kv > 0)
        ktu = k_t @ u
        v_new = np.minimum(1.0, np.divide(b, ktu, out=np.ones_like(b), where=ktu > 0))
        # stop when column exposures respect their caps within tol (the row sums are exact after u)
        exposure = v_new * ktu
        excess = float(np.max((exposure - b) / b)) if n_cols else 0.0
        change = float(np.max(np.abs(np.log(v_new) - np.log(v))))
        v = v_new
        if change < tol:
            break
    prices = np.minimum(-eps * np.log(v), price_max).astype(np.float32)
    return prices, {"iterations": it, "cap_excess": max(excess, 0.0)}


def cap_exposure(person, opening, score, caps, n_rows, keep_min=0):
    """Keep mask over shown pairs enforcing exposure caps.

    An opening shown to more persons than ``caps[opening]`` keeps only the persons for whom it
    scores best (only the pairs of such openings are sorted). With ``keep_min`` > 0 (pairs sorted
    by person, then rank), a person's first ``keep_min`` proposals are never removed.
    """
    person = np.asarray(person, dtype=np.int64)
    opening = np.asarray(opening, dtype=np.int64)
    keep = np.ones(opening.size, dtype=bool)
    if opening.size == 0:
        return keep
    exposure = np.bincount(opening, minlength=caps.size)
    idx = np.flatnonzero(exposure[opening] > caps[opening])
    if idx.size == 0:
        return keep
    op = opening[idx]
    order = np.lexsort((-np.asarray(score)[idx], op))
    op_sorted = op[order]
    first = np.r_[True, op_sorted[1:] != op_sorted[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(idx.size), 0))
    rank = np.empty(idx.size, dtype=np.int64)
    rank[order] = np.arange(idx.size) - group_start
    ok = rank < caps[op]
    if keep_min > 0:
        counts = np.bincount(person, minlength=n_rows)
        starts = np.cumsum(counts) - counts
        ok |= (idx - starts[person[idx]]) < keep_min
    keep[idx] = ok
    return keep
