"""Congestion, fairness and ranking-quality figures over proposals (numpy only).

- ``congestion_report``: how proposals spread over the open openings (exposure = number of
  persons an opening is proposed to): the most-exposed opening over the median, the Gini of
  exposure, the share of open openings shown to nobody, the share of persons with no proposal.
- ``fairness_report``: proposal rate and mean score by group (gender, age band, RSA, RQTH, place
  of residence…): the adapter passes one label array per grouping, aligned with the persons.
- ``recall_at_k`` / ``ndcg_at_k``: quality against held-out hires (evaluation).
"""

from __future__ import annotations

import numpy as np

AGE_BANDS = ("moins de 26 ans", "26 à 49 ans", "50 ans et plus")


def gini(values):
    """Gini coefficient of non-negative values (0 = all equal, → 1 = all on one item)."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    n = x.size
    if n == 0 or x.sum() == 0:
        return 0.0
    cum = np.cumsum(x)
    return float((n + 1 - 2 * (cum.sum() / cum[-1])) / n)


def age_band(ages):
    """Age band labels (under 26, 26–49, 50+) for an array of ages in years."""
    ages = np.asarray(ages)
    return np.where(ages < 26, AGE_BANDS[0], np.where(ages < 50, AGE_BANDS[1], AGE_BANDS[2]))


def exposure(proposals_or_pairs, n_openings):
    """Number of persons each opening is proposed to."""
    pairs = getattr(proposals_or_pairs, "eligible", proposals_or_pairs)
    return np.bincount(pairs.opening, minlength=n_openings)


def congestion_report(proposals, openings, n_persons=None):
    """Congestion figures of ``proposals`` (a ``Proposals``) over the available openings.

    ``exposure_max_over_median`` uses the median over all available openings (at least 1, so
    the ratio stays defined when most openings are unexposed); the ``per_position`` variants
    divide each opening's exposure by its number of positions.
    """
    pairs = proposals.eligible
    n_persons = proposals.n_persons if n_persons is None else n_persons
    avail = openings.available
    exp = exposure(pairs, len(openings))[avail].astype(np.float64)
    per_pos = exp / np.maximum(openings.positions[avail], 1)
    shown = np.bincount(pairs.person, minlength=n_persons) > 0 if n_persons else np.zeros(0, bool)
    with_targets = (
        proposals.persons_with_targets if proposals.persons_with_targets is not None else np.ones(n_persons, bool)
    )
    report = {
        "openings_available": int(avail.sum()),
        "proposals": int(len(pairs)),
        "exposure_max": float(exp.max()) if exp.size else 0.0,
        "exposure_median": float(np.median(exp)) if exp.size else 0.0,
        "exposure_max_over_median": float(exp.max() / max(np.median(exp), 1.0)) if exp.size else 0.0,
        "exposure_gini": gini(exp),
        "exposure_per_position_max_over_median": (
            float(per_pos.max() / max(np.median(per_pos), 1.0)) if per_pos.size else 0.0
        ),
        "openings_unexposed_share": float((exp == 0).mean()) if exp.size else 0.0,
        "persons_without_proposal_share": float(1 - shown.mean()) if n_persons else 0.0,
        "persons_with_targets_without_proposal_share": (
            float(1 - shown[with_targets].mean()) if with_targets.any() else 0.0
        ),
    }
    return report


def fairness_report(proposals, groups):
    """Proposal rate and mean score per label of each grouping.

    ``groups`` maps a grouping name (``"genre"``, ``"tranche d'âge"``, ``"RSA"``…) to an array of
    labels, one per person. Returns ``{name: [{"label", "persons", "proposal_rate",
    "mean_proposals", "mean_score", "mean_top_score"}, …]}``; ``proposal_rate`` is the share of
    the group's persons with at least one proposal, ``mean_score`` the mean relevance score of
    their proposals, ``mean_top_score`` the mean of each person's best score (persons with one).
    """
    pairs = proposals.eligible
    n = proposals.n_persons
    count = np.bincount(pairs.person, minlength=n)
    total = np.bincount(pairs.person, weights=pairs.score, minlength=n)
    top = np.full(n, -np.inf)
    if len(pairs):
        np.maximum.at(top, pairs.person, pairs.score)
    out = {}
    for name, labels in groups.items():
        labels = np.asarray(labels)
        if labels.shape != (n,):
            raise ValueError(f"{name}: one label per person expected")
        rows = []
        uniq, inv = np.unique(labels, return_inverse=True)
        persons = np.bincount(inv, minlength=uniq.size)
        with_prop = np.bincount(inv, weights=count > 0, minlength=uniq.size)
        n_props = np.bincount(inv, weights=count, minlength=uniq.size)
        sum_score = np.bincount(inv, weights=total, minlength=uniq.size)
        has = count > 0
        top_sum = np.bincount(inv[has], weights=top[has], minlength=uniq.size)
        for g, label in enumerate(uniq.tolist()):
            rows.append(
                {
                    "label": label,
                    "persons": int(persons[g]),
                    "proposal_rate": float(with_prop[g] / persons[g]) if persons[g] else 0.0,
                    "mean_proposals": float(n_props[g] / persons[g]) if persons[g] else 0.0,
                    "mean_score": float(sum_score[g] / n_props[g]) if n_props[g] else 0.0,
                    "mean_top_score": float(top_sum[g] / with_prop[g]) if with_prop[g] else 0.0,
                }
            )
        out[name] = rows
    return out


def recall_at_k(ranked, relevant, k=10):
    """Mean over persons of |top-k ∩ relevant| / |relevant| (persons with a relevant item only).

    ``ranked``: list of sequences (one per person), ``relevant``: list of sets.
    """
    values = [len(set(list(r)[:k]) & rel) / len(rel) for r, rel in zip(ranked, relevant, strict=True) if rel]
    return float(np.mean(values)) if values else 0.0


def ndcg_at_k(ranked, relevant, k=10):
    """Mean binary-relevance nDCG@k over persons with a relevant item."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    values = []
    for r, rel in zip(ranked, relevant, strict=True):
        if not rel:
            continue
        gains = np.array([1.0 if item in rel else 0.0 for item in list(r)[:k]])
        dcg = float((gains * discounts[: gains.size]).sum())
        ideal = float(discounts[: min(len(rel), k)].sum())
        values.append(dcg / ideal)
    return float(np.mean(values)) if values else 0.0
