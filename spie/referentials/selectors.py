"""Reads of the referentials: commune search (pickers) and resolution of typed commune names."""

import re
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Case, F, IntegerField, Q, Value, When

from spie.core.text import fold_words, prefix_range

from .models import Commune

MAX_RESULTS = 20

# "Toulouse (31000)", "Toulouse (31555)", "Toulouse (31)", "Ajaccio (2A004)".
_LABELLED = re.compile(r"^(?P<name>.*?)\s*\(\s*(?P<code>[0-9][0-9AB][0-9]{0,3})\s*\)?\s*$", re.IGNORECASE)
# A bare code or the start of one: "31", "3155", "2A004", "97411".
_CODE = re.compile(r"^[0-9][0-9AB]?[0-9]{0,3}$", re.IGNORECASE)


def commune_label(commune, postal_code=None):
    """Text shown in pickers and accepted back by ``CommuneField``: "Toulouse (31000)"."""
    postal_code = postal_code or commune.main_postal_code
    return f"{commune.name} ({postal_code})" if postal_code else commune.name


def split_query(text):
    """``(name, code)`` from "Toulouse (31000)", "31000" or "Toulouse"; either may be ""."""
    text = " ".join((text or "").split())
    if _CODE.match(text):
        return "", text.upper()
    match = _LABELLED.match(text)
    if match:
        return match["name"], match["code"].upper()
    return text, ""


def _postal_code_prefix(code):
    """Communes having a postal code that starts with ``code`` (codes are space-separated)."""
    return Q(postal_codes__startswith=code) | Q(postal_codes__contains=f" {code}")


def _name_prefix(folded):
    """Communes whose folded name starts with ``folded``.

    The range lets SQLite use the index; ``startswith`` keeps the result exact in any collation.
    """
    low, high = prefix_range(folded)
    condition = Q(search_key__gte=low, search_key__startswith=folded)
    if high is not None:
        condition &= Q(search_key__lt=high)
    return condition


def _matching_postal_code(commune, code):
    """The first postal code of ``commune`` starting with ``code`` (else its main one)."""
    if code:
        for postal_code in commune.postal_codes.split():
            if postal_code.startswith(code):
                return postal_code
    return commune.main_postal_code


@dataclass(frozen=True)
class CommuneOption:
    commune: Commune
    postal_code: str

    @property
    def label(self):
        return commune_label(self.commune, self.postal_code)

    def as_dict(self):
        return {
            "code_insee": self.commune.code_insee,
            "name": self.commune.name,
            "postal_code": self.postal_code,
            "departement": self.commune.departement,
            "label": self.label,
        }


def search_communes(query, *, departement=None, limit=MAX_RESULTS):
    """Communes matching what a user is typing, best first, as :class:`CommuneOption`.

    Matches the start of the name (accents, case and hyphens ignored), the start of a postal
    code, or the start of the INSEE code. "Toulouse (31400)" also works. Exact names come
    first, then larger populations.
    """
    name, code = split_query(query)
    folded = fold_words(name)
    if not folded and not code:
        return []
    queryset = Commune.objects.defer("shape")
    if departement:
        queryset = queryset.filter(departement=departement)
    if folded:
        queryset = queryset.filter(_name_prefix(folded))
    if code:
        queryset = queryset.filter(Q(code_insee__startswith=code) | _postal_code_prefix(code))
    queryset = queryset.annotate(
        exact=Case(When(search_key=folded, then=Value(0)), default=Value(1), output_field=IntegerField())
        if folded
        else Value(1, output_field=IntegerField())
    ).order_by("exact", F("population").desc(nulls_last=True), "name", "code_insee")
    return [CommuneOption(commune, _matching_postal_code(commune, code)) for commune in queryset[:limit]]


class CommuneNotFound(Exception):
    pass


class AmbiguousCommune(Exception):
    def __init__(self, candidates, by_postal_code=False):
        super().__init__(candidates)
        self.candidates = candidates
        self.by_postal_code = by_postal_code

    @property
    def labels(self):
        return [commune_label(commune) for commune in self.candidates[:5]]


def _prefer_territory(candidates, territory):
    """One commune if ``candidates`` has a single one in ``territory`` or overall."""
    if len(candidates) == 1:
        return candidates[0]
    local = [commune for commune in candidates if commune.departement == territory]
    if len(local) == 1:
        return local[0]
    return None


def resolve_commune(text, *, departement=None, territory=None):
    """The single commune meant by ``text``; raises CommuneNotFound or AmbiguousCommune.

    Accepts an INSEE code ("31555"), a postal code shared by no other commune ("31620"),
    a picker label ("Toulouse (31000)", "Toulouse (31555)", "Toulouse (31)") or a bare name
    ("Toulouse"). A bare name that several communes share resolves to the one in the
    territory (``settings.SPIE_TERRITORY`` by default) when it is unique there.
    """
    territory = territory or settings.SPIE_TERRITORY
    name, code = split_query(text)
    queryset = Commune.objects.defer("shape")
    if departement:
        queryset = queryset.filter(departement=departement)

    if not name:
        if len(code) != 5:
            raise CommuneNotFound(text)
        commune = queryset.filter(code_insee=code).first()
        if commune:
            return commune
        candidates = [c for c in queryset.filter(postal_codes__contains=code) if code in c.postal_codes.split()]
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            raise AmbiguousCommune(candidates, by_postal_code=True)
        raise CommuneNotFound(text)

    folded = fold_words(name)
    if not folded:
        raise CommuneNotFound(text)
    candidates = list(queryset.filter(search_key=folded).order_by(F("population").desc(nulls_last=True)))
    if code:
        if len(code) == 5:
            candidates = [c for c in candidates if c.code_insee == code or code in c.postal_codes.split()]
        else:
            candidates = [c for c in candidates if c.departement == code]
    if not candidates:
        raise CommuneNotFound(text)
    commune = _prefer_territory(candidates, territory)
    if commune is None:
        raise AmbiguousCommune(candidates)
    return commune
