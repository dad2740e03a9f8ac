"""Matching: companies' openings meet the persons looking for work (issue 6 §2).

This package is the *engine*: numpy and scipy only, never Django (a test imports it in a fresh
interpreter and checks that ``django`` stays out of ``sys.modules``). The app's adapters (to come)
load arrays from the database, call the engine and store what it returns.

Interface, in the order an adapter uses it:

- ``data.Persons`` / ``data.Openings``: one row per person / opening (row number = engine id,
  the adapter keeps the mapping to primary keys); constants for travel modes, schedule, health
  and contract bits.
- ``rome.RomeGraph.from_edges(n_codes, proche, evolution, domains)``: ROME proximity from plain
  lists (``RomeMobility`` rows, the domain of each code); ``rome.load_rome_graph(directory)`` reads
  the ROME 4.0 CSV files directly (evaluation, benchmarks).
- ``engine.recompute_all(persons, openings, graph, k=20)`` → ``engine.Proposals``: eligible
  proposals (rebalanced against congestion) and blocked near-matches kept apart, as parallel
  arrays (CSR by person via ``person_ptr``), with ``reasons(row)`` and ``blocked_by(row)``.
- ``engine.top_for_person(i, …, prices=proposals.opening_price)``: refresh one person on demand.
- ``exclude=engine.exclusion_keys(persons, openings, n_openings)`` on every entry point: pairs
  dismissed by a référent (kept by the app with their reason) are never proposed again.
- ``engine.top_candidates_for_opening(j, …, k=50, allowed=mask)``: candidates for one opening,
  among the persons the viewer may see.
- ``metrics.congestion_report(proposals, openings)``, ``metrics.fairness_report(proposals,
  groups)``: the coordinator's figures; ``metrics.age_band(ages)`` gives the age bands.

See ``engine``'s docstring for the pipeline, the constraints and the score, and ``rebalance``'s
for the congestion prices.
"""

from .data import Openings, Persons
from .engine import (
    MatchConfig,
    Proposals,
    build_opening_index,
    build_person_index,
    exclusion_keys,
    recompute_all,
    top_candidates_for_opening,
    top_for_person,
)
from .metrics import age_band, congestion_report, fairness_report
from .rome import RomeGraph, load_rome_graph

__all__ = [
    "MatchConfig",
    "Openings",
    "Persons",
    "Proposals",
    "RomeGraph",
    "age_band",
    "build_opening_index",
    "build_person_index",
    "congestion_report",
    "exclusion_keys",
    "fairness_report",
    "load_rome_graph",
    "recompute_all",
    "top_candidates_for_opening",
    "top_for_person",
]
