"""French text analysis of the catalogue: folded words reduced to their Snowball stems.

"Ateliers numériques" and "atelier numerique" give the same terms (``atel numer``), on
SQLite and PostgreSQL alike: the stems are computed in Python and stored in
``Action.search_text``, and a query is analysed the same way.
"""

from functools import lru_cache

import snowballstemmer

from spie.core.text import fold_words

_STEMMER = snowballstemmer.stemmer("french")

# Short, frequent words that carry no meaning for a search.
STOP_WORDS = frozenset(
    """a au aux avec ce ces d dans de des du elle en et eux il je l la le les leur lui m ma mais me
    meme mes moi mon n ne nos notre nous on ou par pas pour qu que qui s sa se ses son sur t ta te
    tes toi ton tu un une vos votre vous y etre avoir est sont""".split()
)


@lru_cache(maxsize=50_000)
def stem(word):
    return _STEMMER.stemWord(word)


def terms(text):
    """The stems of ``text``'s meaningful words, in order, duplicates kept."""
    return [stem(word) for word in fold_words(text).split() if len(word) > 1 and word not in STOP_WORDS]


def query_terms(text):
    """The distinct stems of a search query, in order."""
    seen = []
    for term in terms(text):
        if term not in seen:
            seen.append(term)
    return seen
