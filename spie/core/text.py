"""Small text utilities shared by search and duplicate detection."""

import re
import unicodedata

_NON_LETTERS = re.compile(r"[^a-z]+")


def fold(value):
    """Lower-case ASCII letters only: "Éloïse-Marie d'Arc" -> "eloisemariedarc".

    Used for accent- and case-insensitive comparison and for prefix search keys that sort
    the same way in every database collation.
    """
    if not value:
        return ""
    decomposed = unicodedata.normalize("NFKD", value)
    ascii_only = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    return _NON_LETTERS.sub("", ascii_only)


def fold_words(value):
    """Like :func:`fold` but keeps word boundaries as single spaces."""
    if not value:
        return ""
    decomposed = unicodedata.normalize("NFKD", value)
    ascii_only = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    return " ".join(_NON_LETTERS.split(ascii_only)).strip()


def prefix_range(prefix):
    """Bounds ``(low, high)`` such that ``low <= key < high`` iff key starts with ``prefix``.

    ``prefix`` must come from :func:`fold` (letters a-z only), so the bounds are valid in any
    collation and the query uses a plain B-tree index on both SQLite and PostgreSQL.
    """
    stripped = prefix.rstrip("z")
    if not stripped:
        return prefix, None
    high = stripped[:-1] + chr(ord(stripped[-1]) + 1)
    return prefix, high
