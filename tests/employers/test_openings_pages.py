"""Openings and immersion offers: list (open by default), filters, exports, constant query
count, company users limited to their own, create/edit with French errors (values kept), the
opening's page in French, status changes with their dates, positionings count, policies."""

# ruff: noqa: F811 -- pytest fixtures (world, emp) are imported from test_companies_fixtures

import csv
import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from spie.employers.models import ImmersionOffer, JobOpening, OpeningStatus, Positioning
from spie.employers.services import companies as services
from tests.people.factories import PersonFactory

from .factories import ImmersionOfferFactory, JobOpeningFactory, appellation
from .test_companies_fixtures import _media_root, emp, membership_of, queries, world  # noqa: F401

LIST = reverse("employers:openings")
OFFERS = reverse("employers:immersion_offers")


def opening_data(**overrides):
    data = {"metier": "G1602", "title": "Commis de cuisine H/F", "description": "Mise en place, plonge.",
            "contract_type": "cdi", "duration_months": "", "positions": "2",
            "opened_on": timezone.localdate().isoformat(), "weekly_hours": "35", "schedule": ["day", "weekend"],
            "commune": "Toulouse", "qualification": "", "min_experience_months": "0", "languages": "",
            "health_demands": ["standing"], "offers_training": "on"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- List ----------------------------------------------------------------------------------------------


def test_list_open_by_default_and_filters(world, emp, client_for):
    cook = JobOpeningFactory(company=emp["plain"], title="Commis de cuisine", rome=emp["cook"], commune=emp["toulouse"])
    mason = JobOpeningFactory(company=emp["spaced"], title="Maçon VRD", rome=emp["mason"], commune=emp["muret"],
                              contract_type="cdd", duration_months=6)
    filled = JobOpeningFactory(company=emp["plain"], title="Plongeur", status=OpeningStatus.FILLED)
    client = client_for(world["referent"])

    def titles(**params):
        objects = client.get(LIST, params).context["page"].object_list
        return {o.title for o in objects}

    assert titles() == {cook.title, mason.title}
    assert titles(statut="toutes") == {cook.title, mason.title, filled.title}
    assert titles(statut="filled") == {filled.title}
    assert titles(q="F1703") == {mason.title}
    assert titles(q="F17") == {mason.title}
    assert titles(q="commis") == {cook.title}
    assert titles(contrat="cdd") == {mason.title}
    assert titles(commune="Muret") == {mason.title}


def test_company_user_sees_only_its_openings(world, emp, client_for):
    own = JobOpeningFactory(company=emp["spaced"])
    other = JobOpeningFactory(company=emp["plain"])
    client = client_for(emp["company_user"])
    assert {o.pk for o in client.get(LIST).context["page"].object_list} == {own.pk}
    assert client.get(reverse("employers:opening_detail", args=[other.uid])).status_code == 403
    assert client.get(reverse("employers:opening_detail", args=[own.uid])).status_code == 200
    assert client.post(reverse("employers:opening_status", args=[other.uid]), {"status": "closed"}).status_code == 403


def test_export(world, emp, client_for):
    JobOpeningFactory(company=emp["plain"], title="Commis", schedule=["day", "night"], health_demands=["standing"])
    response = client_for(world["referent"]).get(LIST, {"format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")), delimiter=";"))
    assert rows[0][3] == "Intitulé" and len(rows) == 2
    assert "Journée" in rows[1][10] and "Nuit" in rows[1][10] and "Station debout" in rows[1][19]
    assert client_for(world["referent"]).get(LIST, {"format": "xlsx"}).status_code == 200


def test_list_query_count_is_constant(world, emp, client_for):
    JobOpeningFactory(company=emp["plain"])
    client = client_for(world["referent"])
    before = queries(client, LIST)
    for _ in range(5):
        opening = JobOpeningFactory(company=emp["spaced"], commune=emp["muret"])
        Positioning.objects.create(person=PersonFactory(territory=world["territory"]), opening=opening,
                                   structure=world["ref_structure"])
    assert queries(client, LIST) == before


def test_other_roles(world, emp, client_for):
    assert client_for(world["coordinator"]).get(LIST).status_code == 200
    opening = JobOpeningFactory(company=emp["plain"])
    assert client_for(world["gers_officer"]).get(reverse("employers:opening_detail", args=[opening.uid])) \
        .status_code == 403


# --- Create, edit ---------------------------------------------------------------------------------------


def test_create_opening_for_a_company(world, emp, client_for):
    cook_appellation = appellation(emp["cook"])
    client = client_for(world["referent"])
    url = reverse("employers:opening_new") + f"?entreprise={emp['plain'].uid}"
    assert client.get(url).status_code == 200
    response = client.post(url, opening_data(metier="Commis de cuisine (12345)"))
    opening = JobOpening.objects.get(title="Commis de cuisine H/F")
    assert response.status_code == 302
    assert opening.company == emp["plain"] and opening.territory == world["territory"]
    assert opening.rome == emp["cook"] and opening.appellation == cook_appellation
    assert opening.schedule == ["day", "weekend"] and opening.health_demands == ["standing"]
    assert opening.commune_id == "31555" and opening.offers_training and opening.positions == 2
    assert opening.status == OpeningStatus.OPEN and opening.created_by == world["referent"]


def test_company_user_creates_without_query(emp, client_for):
    client = client_for(emp["company_user"])
    response = client.post(reverse("employers:opening_new"), opening_data(commune="", remote="on"))
    assert response.status_code == 302
    assert JobOpening.objects.get(title="Commis de cuisine H/F").company == emp["spaced"]


def test_new_opening_without_company_goes_to_companies(world, emp, client_for):
    response = client_for(world["referent"]).get(reverse("employers:opening_new"))
    assert response.status_code == 302 and response["Location"] == reverse("employers:companies")


def test_bad_input_gives_french_errors_and_keeps_values(world, emp, client_for):
    client = client_for(world["referent"])
    url = reverse("employers:opening_new") + f"?entreprise={emp['plain'].uid}"
    response = client.post(url, opening_data(metier="Astronaute lunaire", commune="", schedule=None,
                                             contract_type="cdd", weekly_hours="60"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Métier introuvable" in page
    assert "Indiquez le lieu de travail" in page
    assert "Cochez au moins un horaire" in page
    assert "Indiquez la durée du contrat" in page
    assert "inférieure ou égale à 48" in page
    assert 'value="Commis de cuisine H/F"' in page and 'value="Astronaute lunaire"' in page
    assert not JobOpening.objects.exists()


def test_coordinator_and_other_structure_cannot_create_for_a_followed_company(world, emp, client_for):
    url = reverse("employers:opening_new") + f"?entreprise={emp['spaced'].uid}"
    assert client_for(world["coordinator"]).get(url).status_code == 403
    assert client_for(world["member"]).post(url, opening_data()).status_code == 403
    assert not JobOpening.objects.exists()


def test_edit_opening(world, emp, client_for):
    opening = JobOpeningFactory(company=emp["plain"], rome=emp["cook"], commune=emp["toulouse"])
    client = client_for(world["referent"])
    url = reverse("employers:opening_edit", args=[opening.uid])
    page = client.get(url).content.decode()
    assert "(G1602)" in page and "Toulouse (31000)" in page
    response = client.post(url, opening_data(title="Chef de partie", positions="3"))
    assert response.status_code == 302
    opening.refresh_from_db()
    assert opening.title == "Chef de partie" and opening.positions == 3


# --- The opening's page and its status ----------------------------------------------------------------------


def test_detail_in_french_with_positionings(world, emp, client_for):
    opening = JobOpeningFactory(company=emp["plain"], schedule=["day", "early"], health_demands=["heavy_loads"],
                                requires_licence=True, min_experience_months=6, offers_mentoring=True)
    for status in ("proposed", "interview", "hired"):
        Positioning.objects.create(person=PersonFactory(territory=world["territory"]), opening=opening,
                                   status=status, structure=world["ref_structure"])
    page = client_for(world["referent"]).get(reverse("employers:opening_detail", args=[opening.uid])).content \
        .decode()
    for text in ("Journée", "Tôt le matin (avant 7 h)", "Port de charges lourdes", "Exigé", "6 mois au moins",
                 "Tutorat ou parrainage : oui", "3 mises en relation", "dont 2 en attente", "Recrutée : 1",
                 "Pourvue…", "Fermée…"):
        assert text in page, text
    assert "Rouvrir" not in page


def test_status_changes_with_dates(world, emp, client_for):
    opening = JobOpeningFactory(company=emp["plain"])
    client = client_for(world["referent"])
    url = reverse("employers:opening_status", args=[opening.uid])
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    response = client.post(url, {"status": "filled", "on": yesterday.isoformat()})
    assert response.status_code == 302
    opening.refresh_from_db()
    assert opening.status == "filled" and opening.filled_on == yesterday and opening.closed_on is None
    response = client.post(url, {"status": "open"})
    opening.refresh_from_db()
    assert opening.status == "open" and opening.filled_on is None
    client.post(url, {"status": "closed"})
    opening.refresh_from_db()
    assert opening.status == "closed" and opening.closed_on == timezone.localdate()
    response = client.post(url, {"status": "closed"})
    assert response.status_code == 400 and "déjà « fermée »" in response.content.decode()
    assert client.get(url).status_code == 405


def test_status_bad_date(world, emp, client_for):
    opening = JobOpeningFactory(company=emp["plain"])
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client_for(world["referent"]).post(reverse("employers:opening_status", args=[opening.uid]),
                                                  {"status": "filled", "on": tomorrow.isoformat()})
    assert response.status_code == 400 and "dans le futur" in response.content.decode()
    opening.refresh_from_db()
    assert opening.status == "open"


def test_status_policy(world, emp, client_for):
    opening = JobOpeningFactory(company=emp["spaced"])
    for user in (world["coordinator"], world["member"], emp["other_user"]):
        assert client_for(user).post(reverse("employers:opening_status", args=[opening.uid]),
                                     {"status": "closed"}).status_code == 403
    assert client_for(emp["company_user"]).post(reverse("employers:opening_status", args=[opening.uid]),
                                                 {"status": "closed"}).status_code == 302


def test_service_denies_without_policy(world, emp):
    import pytest
    from django.core.exceptions import PermissionDenied

    opening = JobOpeningFactory(company=emp["spaced"])
    with pytest.raises(PermissionDenied):
        services.change_opening_status(opening, "closed", membership=membership_of(world["member"]))


# --- Immersion offers ------------------------------------------------------------------------------------


def offer_data(**overrides):
    data = {"metier": "G1602", "title": "Découvrir la cuisine", "description": "Une semaine en cuisine.",
            "places": "2", "is_open": "on", "weekly_hours": "30", "schedule": ["day"], "commune": "Muret"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_immersion_offer_create_edit_and_list(world, emp, client_for):
    client = client_for(world["referent"])
    url = reverse("employers:immersion_offer_new") + f"?entreprise={emp['plain'].uid}"
    response = client.post(url, offer_data(commune="", schedule=None))
    assert response.status_code == 400
    page = response.content.decode()
    assert "obligatoire" in page and "Cochez au moins un horaire" in page and 'value="Découvrir la cuisine"' in page
    response = client.post(url, offer_data())
    offer = ImmersionOffer.objects.get()
    assert response.status_code == 302 and offer.company == emp["plain"] and offer.commune_id == "31395"
    detail = client.get(reverse("employers:immersion_offer_detail", args=[offer.uid])).content.decode()
    assert "Découvrir la cuisine" in detail and "Journée" in detail
    response = client.post(reverse("employers:immersion_offer_edit", args=[offer.uid]),
                           offer_data(is_open=None, places="3"))
    offer.refresh_from_db()
    assert response.status_code == 302 and not offer.is_open and offer.places == 3
    assert {o.pk for o in client.get(OFFERS).context["page"].object_list} == set()
    assert {o.pk for o in client.get(OFFERS, {"toutes": "on"}).context["page"].object_list} == {offer.pk}


def test_immersion_offers_list_policy_export_and_queries(world, emp, client_for):
    own = ImmersionOfferFactory(company=emp["spaced"])
    other = ImmersionOfferFactory(company=emp["plain"])
    client = client_for(emp["company_user"])
    assert {o.pk for o in client.get(OFFERS).context["page"].object_list} == {own.pk}
    assert client.get(reverse("employers:immersion_offer_detail", args=[other.uid])).status_code == 403
    assert client.get(reverse("employers:immersion_offer_edit", args=[other.uid])).status_code == 403
    referent = client_for(world["referent"])
    response = referent.get(OFFERS, {"format": "csv"})
    assert response.status_code == 200 and len(b"".join(response.streaming_content).splitlines()) == 3
    before = queries(referent, OFFERS)
    for _ in range(4):
        ImmersionOfferFactory(company=emp["spaced"], commune=emp["muret"])
    assert queries(referent, OFFERS) == before


def test_closing_an_opening_ends_its_live_positionings(world, emp, client_for):
    opening = JobOpeningFactory(company=emp["plain"])
    live = Positioning.objects.create(person=world["person"], opening=opening, status="interested",
                                      structure=world["ref_structure"], proposed_by=world["referent"])
    done = Positioning.objects.create(person=PersonFactory(territory=world["territory"]), opening=opening,
                                      status="refused", structure=world["ref_structure"])
    url = reverse("employers:opening_status", args=[opening.uid])
    response = client_for(world["referent"]).post(url, {"status": "closed"})
    assert response.status_code == 302
    live.refresh_from_db()
    done.refresh_from_db()
    assert live.status == "refused" and live.refusal_reason == "filled"
    assert live.transitions.filter(from_status="interested", to_status="refused").exists()
    assert done.status == "refused"  # already over: untouched


def test_opening_rules_are_the_same_for_every_channel(world, emp):
    """The service refuses what the form refuses: the API goes through it too."""
    membership = membership_of(world["referent"])
    base = {"title": "Agent d'entretien", "rome": JobOpeningFactory.build().rome, "contract_type": "cdi",
            "weekly_hours": 35, "schedule": ["day"], "commune": emp["plain"].commune, "positions": 1}
    cases = [
        ({"schedule": []}, "schedule"),
        ({"contract_type": "cdd", "duration_months": None}, "duration_months"),
        ({"opened_on": timezone.localdate() + datetime.timedelta(days=1)}, "opened_on"),
        ({"opened_on": datetime.date(1900, 1, 1)}, "opened_on"),
        ({"positions": 30000}, "positions"),
        ({"min_experience_months": 30000}, "min_experience_months"),
    ]
    for change, field in cases:
        with pytest.raises(ValidationError) as exc:
            services.create_opening(emp["plain"], membership=membership, data={**base, **change})
        assert field in exc.value.message_dict, (change, exc.value.message_dict)
    assert not JobOpening.objects.filter(title="Agent d'entretien").exists()
    opening = services.create_opening(emp["plain"], membership=membership, data=base)
    with pytest.raises(ValidationError) as exc:
        services.change_opening_status(opening, "filled", membership=membership,
                                       on=timezone.localdate() + datetime.timedelta(days=3))
    assert "futur" in exc.value.message_dict["on"][0]


def test_status_form_errors_in_french(world, emp, client_for):
    opening = JobOpeningFactory(company=emp["plain"])
    response = client_for(world["referent"]).post(reverse("employers:opening_status", args=[opening.uid]),
                                                  {"status": "zz"})
    page = response.content.decode()
    assert response.status_code == 400 and "Choisissez un statut de la liste." in page and "Status" not in page
