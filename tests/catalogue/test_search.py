"""The catalogue search (``spie.catalogue.search``): visibility, eligibility zone, radius with
remote actions always in, filters, keywords (accent-insensitive, stemmed, prefix of the last
word), ranking, the daily rotation of equal results, the 2:1 mix and the facet counts."""

import datetime

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from spie.catalogue import search
from spie.catalogue.models import ActionStatus
from tests.network.factories import CommuneFactory, TerritoryFactory

from .factories import ActionFactory, ActionSessionFactory

TODAY = datetime.date(2025, 3, 10)
CV = "preparer-sa-candidature--realiser-un-cv-et-ou-une-lettre-de-motivation"
PERMIS = "mobilite--preparer-un-permis"
VEHICULE = "mobilite--acceder-a-un-vehicule"


@pytest.fixture
def places(db):
    """Communes of the 31 at known distances from Toulouse (and one of the Gers)."""
    return {
        "toulouse": CommuneFactory(),
        "blagnac": CommuneFactory(code_insee="31069", name="Blagnac", lat=43.6378, lon=1.3897,
                                  epci_siren="243100518", epci_name="Toulouse Métropole"),  # ~5.5 km
        "muret": CommuneFactory(code_insee="31395", name="Muret", lat=43.4616, lon=1.3269,
                                epci_siren="200068807", epci_name="Le Muretain Agglo"),  # ~18 km
        "villefranche": CommuneFactory(code_insee="31582", name="Villefranche-de-Lauragais", lat=43.4000,
                                       lon=1.7170, epci_siren="200071298", epci_name="Terres du Lauragais"),  # ~32 km
        "saint_gaudens": CommuneFactory(code_insee="31483", name="Saint-Gaudens", lat=43.1080, lon=0.7234,
                                        epci_siren="200072643", epci_name="Cœur et Coteaux du Comminges"),  # ~78 km
        "auch": CommuneFactory(code_insee="32013", name="Auch", departement="32", lat=43.6465, lon=0.5855,
                               epci_siren="243200391", epci_name="Grand Auch Cœur de Gascogne"),
    }


@pytest.fixture
def territory(db):
    return TerritoryFactory()


def make(territory, commune=None, **kwargs):
    kwargs.setdefault("name", "Atelier")
    kwargs.setdefault("summary", "")
    kwargs.setdefault("description", "Une action du catalogue.")
    if commune is not None:
        kwargs["commune"] = commune
    return ActionFactory(territory=territory, **kwargs)


def run(territory, **kwargs):
    kwargs.setdefault("today", TODAY)
    return search.search(search.SearchParams(territory=territory, **kwargs))


def ids(result):
    return [hit.action_id for hit in result.hits]


# --- Visibility, zone, radius ------------------------------------------------------------------


def test_only_visible_actions_of_the_territory(territory, places):
    published = make(territory, places["toulouse"])
    make(territory, places["toulouse"], status=ActionStatus.DRAFT)
    make(territory, places["toulouse"], status=ActionStatus.ARCHIVED)
    make(territory, places["toulouse"], status=ActionStatus.SUSPENDED, suspended_until=TODAY + datetime.timedelta(1))
    resumed = make(territory, places["toulouse"], status=ActionStatus.SUSPENDED,
                   suspended_until=TODAY - datetime.timedelta(1))
    gers = TerritoryFactory(code="32", name="Gers", display_name="SPIE Gers")
    make(gers, places["auch"])

    assert set(ids(run(territory))) == {published.pk, resumed.pk}


def test_eligibility_zone_by_commune_epci_or_departement(territory, places):
    anyone = make(territory, places["toulouse"], eligibility_zone=[])
    blagnac_only = make(territory, places["toulouse"], eligibility_zone=["31069"])
    metropole = make(territory, places["toulouse"], eligibility_zone=["243100518"])
    departement = make(territory, places["toulouse"], eligibility_zone=["31"])
    muretain = make(territory, places["muret"], eligibility_zone=["200068807"])

    from_blagnac = set(ids(run(territory, commune=places["blagnac"])))
    assert from_blagnac == {anyone.pk, blagnac_only.pk, metropole.pk, departement.pk}
    from_muret = set(ids(run(territory, commune=places["muret"])))
    assert from_muret == {anyone.pk, departement.pk, muretain.pk}
    from_auch = set(ids(run(territory, commune=places["auch"], radius_km=150)))
    assert from_auch == {anyone.pk}
    # Without an origin, nobody is excluded: the zone is shown on the sheet.
    assert len(run(territory).hits) == 5


def test_radius_keeps_near_in_person_and_every_remote_action(territory, places):
    near = make(territory, places["blagnac"])
    mid = make(territory, places["villefranche"])
    far = make(territory, places["saint_gaudens"])
    remote = make(territory, remote=True)
    both_far = make(territory, places["saint_gaudens"], reception_modes=["en-presentiel", "a-distance"])
    both_near = make(territory, places["muret"], reception_modes=["en-presentiel", "a-distance"])

    result = run(territory, commune=places["toulouse"], radius_km=50)
    by_id = {hit.action_id: hit for hit in result.hits}
    assert set(by_id) == {near.pk, mid.pk, remote.pk, both_far.pk, both_near.pk}
    assert far.pk not in by_id
    assert by_id[near.pk].in_person and 4 < by_id[near.pk].distance_km < 7
    assert by_id[both_near.pk].in_person and 15 < by_id[both_near.pk].distance_km < 21
    # Out of the radius but also remote: listed as remote, without a distance.
    assert not by_id[both_far.pk].in_person and by_id[both_far.pk].distance_km is None
    assert not by_id[remote.pk].in_person

    small = run(territory, commune=places["toulouse"], radius_km=10)
    assert set(ids(small)) == {near.pk, remote.pk, both_far.pk, both_near.pk}
    assert {h.action_id: h.in_person for h in small.hits}[both_near.pk] is False
    # Without an origin every in-person action stays, without distance.
    assert {hit.distance_km for hit in run(territory).hits} == {None}


def test_default_radius_comes_from_the_territory(territory, places):
    territory.settings = {"catalogue_radius_km": 10}
    territory.save()
    near = make(territory, places["blagnac"])
    make(territory, places["muret"])
    params = search.SearchParams(territory=territory, commune=places["toulouse"], today=TODAY)
    assert params.radius_km == 10
    assert ids(search.search(params)) == [near.pk]


# --- Filters ----------------------------------------------------------------------------------------


def test_thematiques_any_of_and_category(territory, places):
    cv = make(territory, thematiques=[CV])
    permis = make(territory, thematiques=[PERMIS])
    vehicule = make(territory, thematiques=[VEHICULE, CV])
    make(territory, thematiques=["logement-hebergement--louer-un-logement"])

    assert set(ids(run(territory, thematiques=(PERMIS, VEHICULE)))) == {permis.pk, vehicule.pk}
    assert set(ids(run(territory, thematiques=("mobilite",)))) == {permis.pk, vehicule.pk}
    assert set(ids(run(territory, thematiques=(CV,)))) == {cv.pk, vehicule.pk}


def test_publics_tous_publics_matches_everyone(territory):
    jeunes = make(territory, publics=["jeunes"])
    seniors = make(territory, publics=["seniors"])
    everyone = make(territory, publics=["tous-publics"])

    assert set(ids(run(territory, publics=("jeunes",)))) == {jeunes.pk, everyone.pk}
    assert set(ids(run(territory, publics=("tous-publics",)))) == {everyone.pk}
    assert set(ids(run(territory, publics=("jeunes", "seniors")))) == {jeunes.pk, seniors.pk, everyone.pk}


def test_type_kind_fees_and_mode(territory, places):
    workshop = make(territory, places["toulouse"], type="atelier", spie_kind="workshop", fees="gratuit")
    training = make(territory, places["toulouse"], type="formation", spie_kind="training", fees="payant")
    webinar = make(territory, remote=True, type="information", spie_kind="webinar", fees="gratuit")

    assert ids(run(territory, types=("formation",))) == [training.pk]
    assert set(ids(run(territory, kinds=("workshop", "webinar")))) == {workshop.pk, webinar.pk}
    assert set(ids(run(territory, fees="gratuit"))) == {workshop.pk, webinar.pk}
    assert ids(run(territory, mode="a-distance")) == [webinar.pk]
    assert set(ids(run(territory, commune=places["toulouse"], mode="en-presentiel"))) == {workshop.pk, training.pk}


def test_places_left_and_session_dates(territory):
    unlimited = make(territory)  # no capacity, no session: places_left_total is None
    full = make(territory)
    open_ = make(territory)
    from spie.catalogue.models import Action

    Action.objects.filter(pk=full.pk).update(places_left_total=0)
    Action.objects.filter(pk=open_.pk).update(places_left_total=3)
    assert set(ids(run(territory, places_only=True))) == {unlimited.pk, open_.pk}

    in_april = make(territory)
    ActionSessionFactory(action=in_april, starts_on=datetime.date(2025, 4, 15), capacity=10)
    in_june = make(territory)
    ActionSessionFactory(action=in_june, starts_on=datetime.date(2025, 6, 2), capacity=10)
    june_full = make(territory)
    ActionSessionFactory(action=june_full, starts_on=datetime.date(2025, 6, 3), capacity=5, places_taken=5)
    june_cancelled = make(territory)
    ActionSessionFactory(action=june_cancelled, starts_on=datetime.date(2025, 6, 4), capacity=5, is_cancelled=True)

    april = run(territory, date_from=datetime.date(2025, 4, 1), date_to=datetime.date(2025, 4, 30))
    assert ids(april) == [in_april.pk]
    june = run(territory, date_from=datetime.date(2025, 6, 1), date_to=datetime.date(2025, 6, 30))
    assert ids(june) == [in_june.pk]
    from_may = run(territory, date_from=datetime.date(2025, 5, 1))
    assert ids(from_may) == [in_june.pk]


# --- Keywords -------------------------------------------------------------------------------------


def test_keywords_are_accent_insensitive_stemmed_and_all_required(territory):
    numerique = make(territory, name="Ateliers numériques", description="Prendre en main un ordinateur.")
    cv = make(territory, name="Atelier CV", description="Rédiger son curriculum vitae.")
    make(territory, name="Permis de conduire", description="Code de la route.")

    assert set(ids(run(territory, q="atelier numerique"))) == {numerique.pk}  # accents, plural
    assert set(ids(run(territory, q="ATELIERS"))) == {numerique.pk, cv.pk}
    assert set(ids(run(territory, q="numérique CV"))) == set()  # every term must match
    assert set(ids(run(territory, q="rédiger"))) == {cv.pk}  # "rediger" -> stem of "Rédiger"
    assert set(ids(run(territory, q="le de la"))) == set(ids(run(territory)))  # stop words only: no filter


def test_last_term_matches_as_a_prefix(territory):
    numerique = make(territory, name="Ateliers numériques")
    make(territory, name="Atelier CV")
    assert ids(run(territory, q="atelier num")) == [numerique.pk]
    # The prefix matches only the last term.
    assert ids(run(territory, q="num atelier")) == []


# --- Ranking, rotation, mix ---------------------------------------------------------------------------


def test_relevance_orders_name_over_description_and_themes(territory):
    in_description = make(territory, name="Accompagnement", description="Avec un volet mobilité et permis.")
    in_name = make(territory, name="Préparer son permis", description="Code et conduite.")
    assert ids(run(territory, q="permis")) == [in_name.pk, in_description.pk]

    two = make(territory, name="Mobilité", thematiques=[PERMIS, VEHICULE])
    one = make(territory, name="Mobilité", thematiques=[PERMIS])
    result = run(territory, thematiques=(PERMIS, VEHICULE))
    assert ids(result) == [two.pk, one.pk]
    assert result.hits[0].score > result.hits[1].score


def test_public_match_adds_relevance(territory):
    everyone = make(territory, publics=["tous-publics"])
    jeunes = make(territory, publics=["jeunes"])
    assert ids(run(territory, publics=("jeunes",))) == [jeunes.pk, everyone.pk]


def test_distance_band_orders_equal_relevance(territory, places):
    far = make(territory, places["villefranche"])  # 30+ km
    mid = make(territory, places["muret"])  # 15–30 km
    near = make(territory, places["blagnac"])  # 5–15 km
    here = make(territory, places["toulouse"])  # 0–5 km
    result = run(territory, commune=places["toulouse"])
    assert ids(result) == [here.pk, near.pk, mid.pk, far.pk]
    assert [hit.band for hit in result.hits] == [0, 1, 2, 3]


def test_daily_rotation_of_equal_results(territory, places):
    actions = [make(territory, places["toulouse"]) for _ in range(8)]
    day = TODAY
    first = ids(run(territory, commune=places["toulouse"], today=day))
    assert sorted(first) == sorted(a.pk for a in actions)
    # Same day: the same order, every time.
    assert ids(run(territory, commune=places["toulouse"], today=day)) == first
    # Other days: another order (8! orders; the hash spreads them), the first result changes too.
    others = [ids(run(territory, commune=places["toulouse"], today=day + datetime.timedelta(n))) for n in range(1, 8)]
    assert any(order != first for order in others)
    assert len({order[0] for order in [first, *others]}) > 1


def test_rotation_key_is_stable_and_changes_with_the_day():
    seed = search.day_seed(TODAY)
    assert search.rotation_key(42, seed) == search.rotation_key(42, search.day_seed(TODAY))
    assert search.rotation_key(42, seed) != search.rotation_key(42, search.day_seed(TODAY + datetime.timedelta(1)))
    assert search.rotation_key(42, seed) != search.rotation_key(43, seed)


def test_in_person_and_remote_mixed_two_to_one(territory, places):
    in_person = {make(territory, places["toulouse"]).pk for _ in range(5)}
    remote = {make(territory, remote=True).pk for _ in range(4)}
    result = run(territory, commune=places["toulouse"])
    kinds = ["P" if hit.in_person else "R" for hit in result.hits]
    assert kinds == ["P", "P", "R", "P", "P", "R", "P", "R", "R"]
    assert {h.action_id for h in result.hits if h.in_person} == in_person
    assert {h.action_id for h in result.hits if not h.in_person} == remote
    assert (result.in_person_total, result.remote_total, result.total) == (5, 4, 9)


def test_mix_continues_with_the_longer_list():
    assert search.mix([1, 2, 3, 4, 5, 6], ["a"]) == [1, 2, "a", 3, 4, 5, 6]
    assert search.mix([1], ["a", "b", "c"]) == [1, "a", "b", "c"]
    assert search.mix([], ["a"]) == ["a"]


# --- Facets ---------------------------------------------------------------------------------------------


def test_facet_counts_use_every_other_filter(territory, places):
    make(territory, places["toulouse"], thematiques=[PERMIS], type="atelier", fees="gratuit", publics=["jeunes"])
    make(territory, places["toulouse"], thematiques=[PERMIS], type="formation", fees="payant",
         publics=["tous-publics"])
    make(territory, places["toulouse"], thematiques=[CV], type="atelier", fees="gratuit", publics=["seniors"])
    make(territory, remote=True, thematiques=[CV], type="atelier", fees="gratuit", publics=["jeunes"])

    result = run(territory, thematiques=(PERMIS,), types=("atelier",))
    assert result.total == 1
    facets = result.facets
    # Thématiques: among the "atelier" actions (the type filter still applies), whatever the theme.
    assert facets["thematiques"][PERMIS] == 1
    assert facets["thematiques"][CV] == 2
    assert facets["thematiques"]["mobilite"] == 1
    # Types: among the PERMIS actions, whatever the type.
    assert facets["types"] == {"atelier": 1, "formation": 1}
    # Fees, publics, modes: among the results (PERMIS and atelier).
    assert facets["fees"] == {"gratuit": 1}
    assert facets["publics"]["jeunes"] == 1 and facets["publics"].get("seniors", 0) == 0
    assert facets["modes"] == {"en-presentiel": 1}

    everything = run(territory)
    # A tous-publics action counts for every public (choosing "seniors" would find it).
    assert everything.facets["publics"]["seniors"] == 2
    assert everything.facets["publics"]["jeunes"] == 3
    assert everything.facets["publics"]["tous-publics"] == 1
    assert everything.facets["modes"] == {"en-presentiel": 3, "a-distance": 1}


def test_mode_facet_counts_the_other_mode(territory, places):
    make(territory, places["toulouse"])
    make(territory, remote=True)
    result = run(territory, commune=places["toulouse"], mode="a-distance")
    assert result.total == 1
    assert result.facets["modes"] == {"en-presentiel": 1, "a-distance": 1}


# --- Parameters and page ----------------------------------------------------------------------------------


def test_params_from_query_reads_everything(territory, places):
    query = QueryDict(
        "q=atelier&commune=31069&rayon=20&thematique=mobilite&thematique=" + PERMIS
        + "&public=jeunes&type=atelier&kind=workshop&frais=gratuit&distance=a-distance&du=01/04/2025"
        + "&au=2025-04-30&places=1"
    )
    params, errors = search.params_from_query(query, territory, today=TODAY)
    assert errors == []
    assert params.q == "atelier" and params.commune == places["blagnac"] and params.radius_km == 20
    assert params.thematiques == ("mobilite", PERMIS) and params.publics == ("jeunes",)
    assert params.types == ("atelier",) and params.kinds == ("workshop",) and params.fees == "gratuit"
    assert params.mode == "a-distance" and params.places_only
    assert (params.date_from, params.date_to) == (datetime.date(2025, 4, 1), datetime.date(2025, 4, 30))


def test_bad_params_give_french_errors_and_keep_the_rest(territory, places):
    query = QueryDict("q=atelier&commune=Nullepart&rayon=mille&thematique=inconnue&thematique=" + PERMIS
                      + "&frais=cher&distance=lune&du=32/13/2025&type=atelier")
    params, errors = search.params_from_query(query, territory, today=TODAY)
    text = " ".join(errors)
    assert "Commune « Nullepart » introuvable" in text
    assert "rayon doit être un nombre" in text
    assert "Thématique « inconnue » inconnue" in text
    assert "Frais « cher » inconnus" in text
    assert "Mode d'accueil inconnu" in text
    assert "Date de début « 32/13/2025 » non reconnue" in text
    # The rest of the search still applies.
    assert params.q == "atelier" and params.thematiques == (PERMIS,) and params.types == ("atelier",)
    assert params.commune is None and params.radius_km == 50 and params.fees == "" and params.date_from is None


def test_dates_in_the_wrong_order_are_swapped(territory):
    params, errors = search.params_from_query(QueryDict("du=2025-05-01&au=2025-04-01"), territory, today=TODAY)
    assert params.date_from == datetime.date(2025, 4, 1) and params.date_to == datetime.date(2025, 5, 1)
    assert errors and "inversées" in errors[0]


def test_search_and_page_in_constant_queries(territory, places):
    for _ in range(30):
        make(territory, places["toulouse"])
    params = search.SearchParams(territory=territory, commune=places["toulouse"], q="atelier", today=TODAY)
    with CaptureQueriesContext(connection) as queries:
        result = search.search(params)
        page = search.hits_page(result, 2, per_page=20)
        names = [(action.name, action.structure.name, action.commune.name) for action, _hit in page.object_list]
    assert len(queries) == 2
    assert len(names) == 10 and page.number == 2 and page.paginator.count == 30
    # Items come in the ranked order.
    assert [hit.action_id for _a, hit in page.object_list] == [hit.action_id for hit in result.hits[20:]]
