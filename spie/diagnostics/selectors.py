"""Reads on diagnostics: a person's list, one diagnostic under its person, pickers, summaries.

Every page keeps a constant number of queries whatever the number of diagnostics, answers or
barriers (tests/diagnostics/test_query_counts.py): the result page reads the frozen result
(JSON) and never the Barrier rows, which exist for queries across persons (steering, search).
"""

import re
from dataclasses import dataclass

from django.db.models import Q
from django.http import Http404

from spie.core.text import fold_words, prefix_range
from spie.referentials.models import Commune, RomeAppellation, RomeCode
from spie.referentials.selectors import commune_label

from .models import Diagnostic, Framework

ROME_MAX_RESULTS = 20
ROME_CODE = re.compile(r"^[A-N]\d{4}$")
# "Aide-soignant / Aide-soignante (10320)", "Soins d'hygiène… (J1501)".
_LABELLED_CODE = re.compile(r"\(\s*([A-Na-n]\d{4}|\d{3,10})\s*\)\s*$")


def full_result(diagnostic):
    """The frozen result of a completed diagnostic with its suggestions (derived, not stored)."""
    from .engine import with_suggestions
    from .loaders import compiled_for

    result = diagnostic.result
    if not isinstance(result, dict) or not result or "suggestions" in result:
        return result  # nothing to add, or a result stored with its suggestions
    return with_suggestions(compiled_for(diagnostic.framework), result)


def shareable_reasons(diagnostic):
    """Reasons of the proposed orientation, without those coming from a restricted theme.

    Used to prefill an orientation proposal (page and API): its reason is read by everyone
    who opens the record, so health details must never reach it.
    """
    from .loaders import compiled_for

    result = full_result(diagnostic) or {}
    orientation = result.get("orientation") if isinstance(result.get("orientation"), dict) else {}
    reasons = orientation.get("reasons") if isinstance(orientation.get("reasons"), list) else []
    compiled = compiled_for(diagnostic.framework)
    labels = dict(compiled.themes)
    prefixes = tuple(f"{labels.get(t, t)} : " for t in compiled.restricted_themes)
    return [
        r.strip() for r in reasons
        if isinstance(r, str) and r.strip() and not (prefixes and r.startswith(prefixes))
    ]


def person_diagnostics(person):
    """Every diagnostic of ``person``, newest first, with what the list shows (one query)."""
    return list(
        Diagnostic.objects.filter(person=person)
        .select_related("framework", "started_by", "completed_by", "structure")
        .defer("framework__definition")
        .order_by("-started_at", "-id")
    )


def diagnostics_with_answers(person, ids):
    """The diagnostics ``ids`` of ``person`` with their framework versions (one query)."""
    return list(Diagnostic.objects.filter(person=person, pk__in=ids).select_related("framework"))


def compiled_frameworks(diagnostics):
    """``{framework_id: compiled}`` for the versions of ``diagnostics`` (cached; no query when warm)."""
    from . import loaders

    return {d.framework_id: loaders.compiled_for(d.framework) for d in diagnostics}


def diagnostic_of(person, diagnostic_id):
    """The diagnostic ``diagnostic_id`` of ``person``; 404 for another person's (IDOR).

    The framework's definition is deferred: ``loaders.compiled_for`` serves the compiled
    version from its cache (keyed by code, version and checksum) and reads it only once.
    """
    diagnostic = (
        Diagnostic.objects.select_related("framework", "started_by", "completed_by", "structure")
        .defer("framework__definition")
        .filter(pk=diagnostic_id, person=person)
        .first()
    )
    if diagnostic is None:
        raise Http404("Diagnostic introuvable.")
    return diagnostic


def current_frameworks():
    """The current version of each framework code, keyed by code (one query)."""
    return {f.code: f for f in Framework.objects.filter(is_current=True).defer("definition")}


def open_draft(person, framework_code):
    return (
        Diagnostic.objects.filter(person=person, framework__code=framework_code, status=Diagnostic.Status.DRAFT)
        .order_by("-started_at", "-id")
        .first()
    )


def previous_completed(person, framework_code, *, exclude=None):
    qs = Diagnostic.objects.filter(
        person=person, framework__code=framework_code, status=Diagnostic.Status.COMPLETED
    ).select_related("framework")
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return qs.order_by("-completed_at", "-id").first()


@dataclass(frozen=True)
class Summary:
    """What the person's record shows about diagnostics (``{% diagnostic_summary %}``)."""

    latest: Diagnostic | None
    latest_completed: Diagnostic | None

    @property
    def top_barriers(self):
        result = self.latest_completed.result if self.latest_completed else None
        return (result or {}).get("barriers", [])[:3]


def summary(person):
    """The latest diagnostic and the latest completed one, in at most two queries.

    The first query reads the few newest rows (results included, definitions not); the
    second runs only when the newest completed diagnostic is not among them.
    """
    window = 5
    rows = list(
        Diagnostic.objects.filter(person=person)
        .select_related("framework", "completed_by")
        .defer("framework__definition", "answers")
        .order_by("-started_at", "-id")[: window + 1]
    )
    latest = rows[0] if rows else None
    latest_completed = max(
        (d for d in rows if d.is_completed), key=lambda d: (d.completed_at, d.id), default=None
    )
    if len(rows) > window and latest_completed is None:
        latest_completed = (
            Diagnostic.objects.filter(person=person, status=Diagnostic.Status.COMPLETED)
            .select_related("framework", "completed_by")
            .defer("framework__definition", "answers")
            .order_by("-completed_at", "-id")
            .first()
        )
    return Summary(latest=latest, latest_completed=latest_completed)


# --- Pickers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RomeOption:
    code: str
    label: str
    rome_code: str

    @property
    def text(self):
        """What the picker puts in the input and :func:`resolve_rome` reads back."""
        return f"{self.label} ({self.code})"


def search_rome(query, *, limit=ROME_MAX_RESULTS):
    """ROME codes and appellations matching what a user types, best first.

    "J15" or "J1501" → ROME codes; words → appellations whose folded label starts with the
    text (then, when few, those where a later word does), and the ROME codes whose label does.
    """
    query = " ".join((query or "").split())[:100]
    if not query:
        return []
    upper = query.upper()
    if re.fullmatch(r"[A-N]\d{0,4}", upper):
        codes = RomeCode.objects.filter(code__startswith=upper).order_by("code")[:limit]
        return [RomeOption(c.code, c.label, c.code) for c in codes]
    folded = fold_words(query)
    if not folded:
        return []
    # The range lets the index serve the prefix; startswith keeps it exact in any collation.
    condition = Q(search_key__gte=folded, search_key__startswith=folded)
    if " " not in folded:
        _low, high = prefix_range(folded)
        if high is not None:
            condition &= Q(search_key__lt=high)
    appellations = list(
        RomeAppellation.objects.filter(condition)
        .order_by("rarely_used", "-principal", "search_key")
        .values_list("code_ogr", "label", "rome_id")[:limit]
    )
    if len(appellations) < limit:
        seen = {row[0] for row in appellations}
        more = (
            RomeAppellation.objects.filter(search_key__contains=f" {folded}")
            .exclude(code_ogr__in=seen)
            .order_by("rarely_used", "search_key")
            .values_list("code_ogr", "label", "rome_id")[: limit - len(appellations)]
        )
        appellations += list(more)
    return [RomeOption(code, label, rome) for code, label, rome in appellations]


class RomeNotFound(Exception):
    pass


def resolve_rome(text):
    """The ROME code or appellation code meant by ``text``; raises :class:`RomeNotFound`.

    Accepts a picker text ("Aide-soignant / Aide-soignante (10320)", "… (J1501)"), a bare
    ROME code ("J1501"), an appellation code, or an appellation label typed in full.
    """
    text = " ".join((text or "").split())
    if not text:
        raise RomeNotFound(text)
    match = _LABELLED_CODE.search(text)
    candidate = (match[1] if match else text).upper()
    if ROME_CODE.match(candidate):
        if RomeCode.objects.filter(code=candidate).exists():
            return candidate
        raise RomeNotFound(text)
    if candidate.isdigit():
        if RomeAppellation.objects.filter(code_ogr=candidate).exists():
            return candidate
        raise RomeNotFound(text)
    codes = list(RomeAppellation.objects.filter(search_key=fold_words(text)).values_list("code_ogr", flat=True)[:2])
    if len(codes) == 1:
        return codes[0]
    raise RomeNotFound(text)


def rome_labels(codes):
    """``{code: "label (code)"}`` for ROME and appellation codes, in at most two queries."""
    codes = {str(c) for c in codes if c}
    rome = {c for c in codes if ROME_CODE.match(c)}
    ogr = codes - rome
    labels = {}
    if rome:
        labels.update({c: f"{label} ({c})" for c, label in RomeCode.objects.filter(code__in=rome).values_list(
            "code", "label")})
    if ogr:
        labels.update({c: f"{label} ({c})" for c, label in RomeAppellation.objects.filter(
            code_ogr__in=ogr).values_list("code_ogr", "label")})
    return labels


def commune_labels(codes):
    """``{code_insee: "Toulouse (31000)"}`` in one query."""
    codes = {str(c) for c in codes if c}
    if not codes:
        return {}
    return {c.code_insee: commune_label(c) for c in Commune.objects.defer("shape").filter(code_insee__in=codes)}
