"""Search of the catalogue (by need, place, public, type, kind, fees, dates, places, keywords).

Search keys are derived from each action on save (:func:`derive_keys`), so filters are plain,
portable SQL on SQLite and PostgreSQL (DESIGN.md §4):

- ``search_text``: Snowball French stems of name (x3), summary (x2), description, themes
  labels and structure name, space-separated with a leading and trailing space;
- ``theme_key`` / ``public_key`` / ``zone_key``: ``|code|code|`` lists for ``LIKE '%|code|%'``;
- ``is_remote`` / ``is_in_person`` from the reception modes; ``lat``/``lon`` from the commune
  when the action has none of its own.
"""

from .text import terms


def _pipe(values):
    values = [str(v) for v in values or () if v]
    return "|" + "|".join(values) + "|" if values else ""


def derive_keys(action):
    """Fill the derived search fields of ``action`` (called by ``Action.save``)."""
    words = []
    words += terms(action.name) * 3
    words += terms(action.summary) * 2
    words += terms(action.description)
    words += terms(action.structure.name if action.structure_id else "")
    action.search_text = " " + " ".join(words) + " " if words else ""
    action.theme_key = _pipe(action.thematiques)
    action.public_key = _pipe(action.publics)
    action.zone_key = _pipe(action.eligibility_zone)
    modes = set(action.reception_modes or ())
    action.is_remote = "a-distance" in modes
    action.is_in_person = "en-presentiel" in modes or not modes
    if (action.lat is None or action.lon is None) and action.commune_id:
        commune = action.commune
        action.lat, action.lon = commune.lat, commune.lon
