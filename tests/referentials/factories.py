"""Small synthetic commune sets for the picker tests (no full referential load)."""

from spie.core.text import fold_words
from spie.referentials.models import Commune


def make_commune(code_insee, name, postal_codes, *, departement=None, population=1000):
    return Commune.objects.create(
        code_insee=code_insee,
        name=name,
        departement=departement or code_insee[:2],
        postal_codes=postal_codes,
        population=population,
        search_key=fold_words(name),
    )


def make_communes():
    """Toulouse, Castelnau (31 and 82), Montesquieu (34 and 47), two communes sharing 31290."""
    return {
        "toulouse": make_commune("31555", "Toulouse", "31000 31100 31200 31300 31400 31500", population=511684),
        "tournefeuille": make_commune("31557", "Tournefeuille", "31170", population=29000),
        "castelnau_31": make_commune("31901", "Castelnau", "31620", population=500),
        "castelnau_82": make_commune("82901", "Castelnau", "82170", population=800),
        "montesquieu_34": make_commune("34168", "Montesquieu", "34320"),
        "montesquieu_47": make_commune("47186", "Montesquieu", "47130"),
        "saint_jean": make_commune("31488", "Saint-Jean", "31240", population=11000),
        "villefranche": make_commune("31582", "Villefranche-de-Lauragais", "31290", population=4500),
        "avignonet": make_commune("31042", "Avignonet-Lauragais", "31290", population=1500),
        "ajaccio": make_commune("2A004", "Ajaccio", "20000 20090", departement="2A", population=70000),
    }
