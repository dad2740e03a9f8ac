"""The matching report (``employers:report``): who may see it, the figures it shows are those of
the latest full MatchRun, the exposure chart and the counts for the State, the exports, and a
constant number of queries."""

import csv
import datetime
import io
import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from spie.employers.models import (
    EngagementRegistration,
    Immersion,
    MatchRun,
    Positioning,
    Proposal,
)
from tests.conftest import login_client
from tests.pathways.conftest import _media_root, world  # noqa: F401
from tests.people.factories import PersonFactory

from .factories import CompanyFactory, EngagementFactory, JobOpeningFactory, company_with_account, rome

URL = reverse("employers:report")

CONGESTION = {
    "openings_available": 3,
    "proposals": 7,
    "exposure_max": 5.0,
    "exposure_median": 2.0,
    "exposure_max_over_median": 2.5,
    "exposure_gini": 0.42,
    "exposure_per_position_max_over_median": 2.5,
    "openings_unexposed_share": 1 / 3,
    "persons_without_proposal_share": 0.25,
    "persons_with_targets_without_proposal_share": 0.2,
}
FAIRNESS = {
    "Genre": [
        {"label": "Femme", "persons": 30, "proposal_rate": 0.8, "mean_proposals": 4.5, "mean_score": 0.61,
         "mean_top_score": 0.77},
        {"label": "Homme", "persons": 25, "proposal_rate": 0.64, "mean_proposals": 3.2, "mean_score": 0.58,
         "mean_top_score": 0.7},
    ],
    "Tranche d'âge": [
        {"label": "50 ans et plus", "persons": 12, "proposal_rate": 0.5, "mean_proposals": 2.0, "mean_score": 0.49,
         "mean_top_score": 0.6},
    ],
    "RSA": [{"label": "Oui", "persons": 40, "proposal_rate": 0.7, "mean_proposals": 3.0, "mean_score": 0.55,
             "mean_top_score": 0.65}],
    "RQTH": [{"label": "Non", "persons": 50, "proposal_rate": 0.72, "mean_proposals": 3.1, "mean_score": 0.57,
              "mean_top_score": 0.66},
             {"label": "Oui", "persons": 3, "proposal_rate": 0.333, "mean_proposals": 1.0, "mean_score": 0.52,
              "mean_top_score": 0.52}],
    "Lieu de résidence": [{"label": "Toulouse Métropole", "persons": 44, "proposal_rate": 0.9,
                           "mean_proposals": 5.0, "mean_score": 0.63, "mean_top_score": 0.8}],
}


def text_of(response):
    """The page's text, one space between cells (narrow no-break spaces kept: they are in the figures)."""
    return re.sub(r"[ \t\r\n\xa0]+", " ", unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))).strip()


def make_run(territory, **kwargs):
    now = timezone.now()
    values = {
        "territory": territory, "scope": MatchRun.Scope.FULL, "started_at": now - datetime.timedelta(seconds=12),
        "finished_at": now, "persons": 55, "openings": 3, "proposals": 7, "blocked": 4, "duration_s": 11.7,
        "congestion": CONGESTION, "fairness": FAIRNESS,
    }
    values.update(kwargs)
    return MatchRun.objects.create(**values)


@pytest.fixture
def data(world):  # noqa: F811
    """Three open openings (exposed to 5, 2 and 0 persons), one filled, positionings, an immersion,
    an engagement with registrations."""
    territory = world["territory"]
    company = CompanyFactory(territory=territory, name="Restaurant du Capitole")
    code = rome()
    openings = [JobOpeningFactory(company=company, rome=code) for _ in range(3)]
    filled = JobOpeningFactory(company=company, rome=code, status="filled")
    persons = [PersonFactory(territory=territory) for _ in range(5)]
    for person in persons:
        Proposal.objects.create(person=person, opening=openings[0], score=0.6)
    for person in persons[:2]:
        Proposal.objects.create(person=person, opening=openings[1], score=0.5)
        Proposal.objects.create(person=person, opening=filled, score=0.5)  # not open: not counted
    Proposal.objects.create(person=persons[4], opening=openings[2], kind="blocked")  # blocked: not exposure
    referent, structure = world["referent"], world["ref_structure"]
    Positioning.objects.create(person=persons[0], opening=openings[0], status="proposed", structure=structure,
                               proposed_by=referent, consent=True)
    Positioning.objects.create(person=persons[1], opening=openings[0], status="hired", structure=structure,
                               proposed_by=referent, consent=True, hired_on=timezone.localdate())
    Positioning.objects.create(person=persons[2], opening=openings[1], status="refused", structure=structure,
                               proposed_by=referent, consent=True)
    Immersion.objects.create(person=persons[3], company=company, rome=code, status="agreed", requested_by=referent,
                             structure=structure)
    engagement = EngagementFactory(territory=territory, company=company, kind="job_dating",
                                   date=timezone.localdate())
    for person, attended in ((persons[0], True), (persons[1], False)):
        EngagementRegistration.objects.create(engagement=engagement, person=person, registered_by=referent,
                                              structure=structure, attended=attended)
    return {"company": company, "openings": openings, "persons": persons, "engagement": engagement}


# --- Policy -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["coordinator", "admin_ref"])
def test_coordinators_and_admins_see_the_report(world, who):  # noqa: F811
    response = login_client(world[who]).get(URL)
    assert response.status_code == 200
    assert "Rapprochement offres et personnes" in text_of(response)


@pytest.mark.parametrize("who", ["referent", "member", "officer", "outsider"])
def test_other_professionals_are_refused(world, who):  # noqa: F811
    assert login_client(world[who]).get(URL).status_code == 403


def test_company_users_are_refused(world):  # noqa: F811
    _company, user = company_with_account(territory=world["territory"])
    assert login_client(user).get(URL).status_code == 403
    assert login_client(user).get(URL + "?format=csv&table=positionings").status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302


# --- Content ----------------------------------------------------------------------------------------


def test_without_run_explains_the_command(world):  # noqa: F811
    make_run(world["territory"], finished_at=None)  # still running: not shown
    make_run(world["gers"])  # another territory
    make_run(world["territory"], scope=MatchRun.Scope.PERSON)  # a person's refresh: not a full run
    text = text_of(login_client(world["coordinator"]).get(URL))
    assert "manage.py recompute_matches --territory 31" in text
    assert "Concentration des propositions" not in text


def test_figures_are_those_of_the_latest_full_run(world, data):  # noqa: F811
    make_run(world["territory"], started_at=timezone.now() - datetime.timedelta(days=2),
             finished_at=timezone.now() - datetime.timedelta(days=2), congestion=dict(CONGESTION, exposure_gini=0.99))
    run = make_run(world["territory"])
    response = login_client(world["coordinator"]).get(URL)
    text = text_of(response)
    assert f"Calculé le {timezone.localtime(run.finished_at):%d/%m/%Y à %H:%M} en 11,7 s" in text
    assert "55 personnes en recherche d'emploi" in text
    assert "2,5\u202f×" in text  # most exposed / median
    assert "0,42" in text and "0,99" not in text  # Gini of the latest run only
    assert "33\u202f%" in text  # openings shown to nobody
    assert "25\u202f%" in text and "20\u202f%" in text  # persons without proposal (with targets)
    for grouping in ("Genre", "Tranche d'âge", "RSA", "RQTH", "Lieu de résidence"):
        assert grouping in text
    assert "Femme 30 80\u202f% 4,5 0,61 0,77" in text
    assert "Toulouse Métropole 44 90\u202f%" in text
    html = response.content.decode()
    assert 'width="80"' in html and 'width="61"' in html  # bars of the Femme row
    assert "style=" not in html.split("<main", 1)[-1]


def test_exposure_chart_counts_open_openings(world, data):  # noqa: F811
    make_run(world["territory"])
    text = text_of(login_client(world["coordinator"]).get(URL))
    # 3 open openings: one exposed to 5 persons (4 à 5), one to 2 (2 à 3), one to nobody.
    assert "3 offres ouvertes" in text
    assert "0 (montrée à personne) 1 (33\u202f%)" in text
    assert "2 à 3 1 (33\u202f%)" in text
    assert "4 à 5 1 (33\u202f%)" in text
    assert "plus de 50 0 (0\u202f%)" in text


def test_counts_for_the_state(world, data):  # noqa: F811
    text = text_of(login_client(world["coordinator"]).get(URL))
    assert "Proposée à l'entreprise 1" in text
    assert "Recrutée 1" in text and "Refusée par l'entreprise 1" in text
    assert f"Embauches (date d'embauche en {timezone.localdate().year}) 1" in text
    assert "Convention signée 1" in text
    assert "Job dating 1 2 1" in text
    # Aggregates only: never a person's name.
    for person in data["persons"]:
        assert person.last_name not in text
    last_year = timezone.localdate().year - 1
    text = text_of(login_client(world["coordinator"]).get(URL + f"?annee={last_year}"))
    assert "Job dating 0 0 0" in text


def test_other_territory_sees_its_own_figures(world, data):  # noqa: F811
    from spie.network.models import Membership
    from tests.network.factories import make_professional

    make_run(world["territory"])
    gers_coordinator = make_professional(Membership.Role.COORDINATOR, structure=world["gers_structure"])
    text = text_of(login_client(gers_coordinator).get(URL))
    assert "recompute_matches --territory 32" in text
    assert "Job dating 0 0 0" in text and "Recrutée 0" in text


# --- Exports ----------------------------------------------------------------------------------------


def _csv(response):
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body), delimiter=";"))


def test_csv_exports(world, data):  # noqa: F811
    make_run(world["territory"])
    client = login_client(world["coordinator"])
    rows = _csv(client.get(URL + "?format=csv&table=fairness"))
    assert rows[0][:3] == ["Regroupement", "Groupe", "Personnes"]
    assert ["Genre", "Femme", "30", "0.8", "4.5", "0.61", "0.77"] in rows
    # A group of 3 persons is published without its figures (statistical secrecy).
    assert ["RQTH", "Oui", "moins de 10", "", "", "", ""] in rows
    assert len(rows) == 1 + 7
    html = text_of(client.get(URL))
    assert "Oui moins de 10 effectif trop faible pour publier des taux" in html  # the row, without its rates
    rows = _csv(client.get(URL + "?format=csv&table=congestion"))
    assert rows[2][:2] == ["Indice de Gini de l'exposition", "0.42"]
    rows = _csv(client.get(URL + "?format=csv&table=exposure"))
    assert rows[1][:2] == ["0 (montrée à personne)", "1"]
    rows = _csv(client.get(URL + "?format=csv&table=positionings"))
    assert [str(timezone.localdate().year), "Embauches (date d'embauche dans l'année)", "1"] in rows
    rows = _csv(client.get(URL + "?format=csv&table=engagements"))
    assert rows[-1][1:] == ["Total", "1", "2", "1"]
    rows = _csv(client.get(URL + "?format=csv&table=immersions"))
    assert [str(timezone.localdate().year), "Convention signée", "1"] in rows


def test_xlsx_export_and_unknown_table(world, data):  # noqa: F811
    client = login_client(world["admin_ref"])
    response = client.get(URL + "?format=xlsx&table=immersions")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:2] == b"PK"
    assert client.get(URL + "?format=csv&table=persons").status_code == 404
    assert client.get(URL + "?format=csv&table=fairness").status_code == 404  # no run yet


# --- Queries ----------------------------------------------------------------------------------------


def _count(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_constant_query_count(world, data):  # noqa: F811
    make_run(world["territory"])
    client = login_client(world["coordinator"])
    client.get(URL)
    before = _count(client)
    territory, referent, structure = world["territory"], world["referent"], world["ref_structure"]
    company = data["company"]
    code = rome()
    for _ in range(6):
        opening = JobOpeningFactory(company=company, rome=code)
        for person in [PersonFactory(territory=territory) for _ in range(3)]:
            Proposal.objects.create(person=person, opening=opening, score=0.4)
            Positioning.objects.create(person=person, opening=opening, status="interview", structure=structure,
                                       proposed_by=referent, consent=True)
            Immersion.objects.create(person=person, company=company, rome=code, requested_by=referent,
                                     structure=structure)
        engagement = EngagementFactory(territory=territory, company=company, kind="webinar",
                                       date=timezone.localdate())
        EngagementRegistration.objects.create(engagement=engagement, person=person, registered_by=referent,
                                              structure=structure)
    assert _count(client) == before
