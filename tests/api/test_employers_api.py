"""API of the employer side: companies and openings (lists, filters, writes, policies), immersion
offers, immersions, engagements, a person's proposals (access-logged), positionings; company
users see their own company only, coordinators get aggregates only (403 on named data)."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.pagination import PageNumberPagination

from spie.core.models import AccessLog
from spie.employers.models import (
    Company,
    EngagementRegistration,
    Immersion,
    JobOpening,
    Positioning,
    PositioningStatus,
    Proposal,
)
from spie.employers.services import positionings as positioning_services
from tests.employers.factories import (
    CompanyFactory,
    EngagementFactory,
    ImmersionOfferFactory,
    JobOpeningFactory,
    appellation,
    company_with_account,
    profile_for,
    rome,
)
from tests.network.factories import CommuneFactory
from tests.pathways import conftest as pathways_conftest
from tests.people.factories import PersonFactory

from .conftest import token_client

pytestmark = pytest.mark.django_db

# The "world" of the pathways tests (territory 31, référent Rose and Camille, coordinator, Gers…).
world = pathways_conftest.world
_media_root = pathways_conftest._media_root
membership_of = pathways_conftest.membership_of

API = "/api/v1/employers"


def siret(n):
    from stdnum import luhn

    siren = f"{n:08d}"[-8:]
    siren += luhn.calc_check_digit(siren)
    body = siren + "0001"
    return body + luhn.calc_check_digit(body)


@pytest.fixture
def emp(world):
    territory = world["territory"]
    CommuneFactory()
    rome("G1602")
    rome("N1103", label="Magasinage", domain="N11")
    company = CompanyFactory(territory=territory, name="Brasserie du Canal", siret=siret(111))
    own, employer = company_with_account(territory=territory, name="Logistique Garonne", siret=siret(222))
    gers_company = CompanyFactory(territory=world["gers"], name="Ferme du Gers", siret=siret(333))
    opening = JobOpeningFactory(company=company, title="Commis de cuisine")
    own_opening = JobOpeningFactory(company=own, title="Préparateur de commandes", rome=rome("N1103"))
    JobOpeningFactory(company=gers_company, title="Ouvrier agricole")
    return {"company": company, "own": own, "employer": employer, "gers_company": gers_company,
            "opening": opening, "own_opening": own_opening}


def client(user):
    return token_client(user)


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


# --- Companies ---------------------------------------------------------------------------------


def test_professional_lists_the_territory_companies_company_user_only_theirs(world, emp):
    names = [c["name"] for c in results(client(world["referent"]).get(f"{API}/companies/"))]
    assert names == ["Brasserie du Canal", "Logistique Garonne"]
    mine = results(client(emp["employer"]).get(f"{API}/companies/"))
    assert [c["name"] for c in mine] == ["Logistique Garonne"] and mine[0]["can_manage"] is True
    assert [c["name"] for c in results(client(world["coordinator"]).get(f"{API}/companies/?q=brasserie"))] == [
        "Brasserie du Canal"]
    # Another company, and another territory's: the same 404.
    assert client(emp["employer"]).get(f"{API}/companies/{emp['company'].uid}/").status_code == 404
    assert client(world["referent"]).get(f"{API}/companies/{emp['gers_company'].uid}/").status_code == 404


def test_company_list_query_count_is_constant(world, emp):
    api = client(world["referent"])
    with CaptureQueriesContext(connection) as before:
        api.get(f"{API}/companies/")
    for n in range(5):
        company = CompanyFactory(territory=world["territory"], siret=siret(500 + n))
        JobOpeningFactory(company=company)
    with CaptureQueriesContext(connection) as after:
        assert len(results(api.get(f"{API}/companies/"))) == 7
    assert len(after) == len(before)


def test_create_and_edit_a_company_with_french_errors(world, emp):
    api = client(world["referent"])
    bad = api.post(f"{API}/companies/", {"siret": "12345678901234", "name": "X"}, format="json")
    assert bad.status_code == 400 and "clé de contrôle" in bad.json()["siret"][0]
    missing = api.post(f"{API}/companies/", {"siret": siret(444)}, format="json")
    assert missing.json()["name"] == ["Ce champ est obligatoire."]
    duplicate = api.post(f"{API}/companies/", {"siret": siret(111), "name": "Copie"}, format="json")
    assert duplicate.status_code == 400 and "existe déjà" in str(duplicate.json())
    created = api.post(f"{API}/companies/", {"siret": siret(444), "name": "Garage Solidaire", "commune": "31555",
                                             "size": "0-9"}, format="json")
    assert created.status_code == 201, created.content
    company = Company.objects.get(siret=siret(444))
    assert company.followed_by == world["ref_structure"] and company.created_by == world["referent"]
    edited = api.patch(f"{API}/companies/{company.uid}/", {"contact_name": "Claire"}, format="json")
    assert edited.status_code == 200 and edited.json()["contact_name"] == "Claire"
    # A company with its own space is managed by its users (and the structure that follows it).
    assert api.patch(f"{API}/companies/{emp['own'].uid}/", {"name": "X"}, format="json").status_code == 403
    assert client(emp["employer"]).patch(f"{API}/companies/{emp['own'].uid}/", {"contact_name": "Léo"},
                                         format="json").status_code == 200
    # Company users and coordinators never create companies.
    assert client(emp["employer"]).post(f"{API}/companies/", {"siret": siret(555), "name": "Y"},
                                        format="json").status_code == 403
    assert client(world["coordinator"]).post(f"{API}/companies/", {"siret": siret(555), "name": "Y"},
                                             format="json").status_code == 403


# --- Openings ----------------------------------------------------------------------------------


def test_openings_list_with_filters(world, emp):
    api = client(world["referent"])
    titles = [o["title"] for o in results(api.get(f"{API}/openings/"))]
    assert sorted(titles) == ["Commis de cuisine", "Préparateur de commandes"]
    assert [o["title"] for o in results(api.get(f"{API}/openings/?rome=n1103"))] == ["Préparateur de commandes"]
    assert [o["title"] for o in results(api.get(f"{API}/openings/?company={emp['company'].uid}"))] == [
        "Commis de cuisine"]
    assert results(api.get(f"{API}/openings/?status=filled")) == []
    bad = api.get(f"{API}/openings/?status=ouverte")
    assert bad.status_code == 400 and "Valeurs possibles" in bad.json()["status"]
    mine = results(client(emp["employer"]).get(f"{API}/openings/"))
    assert [o["title"] for o in mine] == ["Préparateur de commandes"]
    assert client(emp["employer"]).get(f"{API}/openings/{emp['opening'].uid}/").status_code == 404


def test_openings_list_query_count_is_constant(world, emp):
    api = client(world["referent"])
    with CaptureQueriesContext(connection) as before:
        api.get(f"{API}/openings/")
    for _n in range(5):
        JobOpeningFactory(company=emp["company"])
    with CaptureQueriesContext(connection) as after:
        assert len(results(api.get(f"{API}/openings/"))) == 7
    assert len(after) == len(before)


def test_create_edit_and_close_an_opening(world, emp):
    api = client(emp["employer"])
    data = {"company": str(emp["own"].uid), "title": "Cariste", "rome": "N1103", "contract_type": "cdd",
            "duration_months": 6, "weekly_hours": "35", "schedule": ["day", "night"], "commune": "31555"}
    created = api.post(f"{API}/openings/", data, format="json")
    assert created.status_code == 201, created.content
    opening = JobOpening.objects.get(title="Cariste")
    assert opening.company == emp["own"] and opening.created_by == emp["employer"] and opening.schedule == ["day",
                                                                                                           "night"]
    errors = api.post(f"{API}/openings/", {**data, "rome": "Z9999", "schedule": ["lune"], "commune": None},
                      format="json").json()
    assert "Code ROME inconnu" in errors["rome"][0] and "Horaire inconnu" in errors["schedule"][0]
    no_place = api.post(f"{API}/openings/", {**data, "commune": None}, format="json")
    assert "télétravail complet" in no_place.json()["commune"][0]
    # Another company's opening: the company user cannot even create one for it.
    other = api.post(f"{API}/openings/", {**data, "company": str(emp["company"].uid)}, format="json")
    assert other.status_code == 400 and other.json()["company"] == ["Entreprise introuvable."]
    assert api.patch(f"{API}/openings/{opening.uid}/", {"positions": 2}, format="json").json()["positions"] == 2
    filled = api.post(f"{API}/openings/{opening.uid}/status/", {"status": "filled"}, format="json")
    assert filled.status_code == 200 and filled.json()["status"] == "filled" and filled.json()["filled_on"]
    again = api.post(f"{API}/openings/{opening.uid}/status/", {"status": "filled"}, format="json")
    assert again.status_code == 400 and "déjà" in str(again.json())
    assert api.post(f"{API}/openings/{opening.uid}/status/", {"status": "open"}, format="json").json()[
        "status"] == "open"
    # A référent of the territory sees it but does not manage a company with its own space.
    referent = client(world["referent"])
    assert referent.get(f"{API}/openings/{opening.uid}/").status_code == 200
    assert referent.patch(f"{API}/openings/{opening.uid}/", {"positions": 3}, format="json").status_code == 403
    # … and acts for a company without account.
    assert referent.post(f"{API}/openings/{emp['opening'].uid}/status/", {"status": "closed"},
                         format="json").status_code == 200


# --- Immersion offers, immersions, engagements ---------------------------------------------------


def test_immersion_offers_and_engagements_with_counts(world, emp):
    ImmersionOfferFactory(company=emp["company"], title="Découverte cuisine")
    ImmersionOfferFactory(company=emp["own"], title="Découverte entrepôt")
    engagement = EngagementFactory(territory=world["territory"], company=emp["own"], title="Visite de l'entrepôt")
    EngagementRegistration.objects.create(engagement=engagement, person=world["person"],
                                          registered_by=world["referent"], structure=world["ref_structure"],
                                          attended=True)
    assert len(results(client(world["referent"]).get(f"{API}/immersion-offers/"))) == 2
    assert [o["title"] for o in results(client(emp["employer"]).get(f"{API}/immersion-offers/"))] == [
        "Découverte entrepôt"]
    rows = results(client(world["coordinator"]).get(f"{API}/engagements/"))
    assert rows[0]["registrations"] == 1 and rows[0]["attended"] == 1 and "person" not in rows[0]
    assert client(emp["employer"]).get(f"{API}/engagements/{engagement.uid}/").json()["registrations"] == 1


def test_immersions_of_the_persons_i_follow_only(world, emp):
    stranger = PersonFactory(territory=world["territory"])
    for person in (world["person"], stranger):
        Immersion.objects.create(person=person, company=emp["company"], rome_id="G1602",
                                 requested_by=world["referent"], structure=world["ref_structure"])
    rows = results(client(world["referent"]).get(f"{API}/immersions/"))
    assert [r["person"]["id"] for r in rows] == [world["person"].pk]
    assert results(client(world["outsider"]).get(f"{API}/immersions/")) == []
    assert client(world["coordinator"]).get(f"{API}/immersions/").status_code == 403
    assert client(emp["employer"]).get(f"{API}/immersions/").status_code == 403


# --- Proposals of a person -----------------------------------------------------------------------


def test_person_proposals_with_reasons_blocked_by_and_access_log(world, emp):
    person = world["person"]
    Proposal.objects.create(person=person, opening=emp["opening"], rank=1, score=0.8,
                            reasons=[{"signal": "rome", "label": "Métier", "value": 0.85,
                                      "text": "Même code ROME que le métier recherché", "estimate": False},
                                     {"signal": "travel", "label": "Trajet", "value": 0.78,
                                      "text": "Trajet estimé : 12 min en transports en commun", "estimate": True}])
    Proposal.objects.create(person=person, opening=emp["own_opening"], kind="blocked", rank=1, score=0.5,
                            blocked_by=[{"key": "licence", "label": "Permis B exigé"}])
    api = client(world["referent"])
    rows = results(api.get(f"/api/v1/persons/{person.pk}/proposals/"))
    assert [r["kind"] for r in rows] == ["blocked", "eligible"]
    # Reasons are JSON objects (signal, label, value, text), not their Python repr.
    assert rows[1]["reasons"][0] == {"signal": "rome", "label": "Métier", "value": 0.85,
                                     "text": "Même code ROME que le métier recherché", "estimate": False}
    assert rows[1]["reasons"][1]["estimate"] is True and rows[1]["company"]["name"] == "Brasserie du Canal"
    assert rows[0]["blocked_by"] == [{"key": "licence", "label": "Permis B exigé"}]
    log = AccessLog.objects.filter(person=person, section=AccessLog.Section.JOBS).get()
    assert log.channel == AccessLog.Channel.API and log.user == world["referent"]
    assert results(api.get(f"/api/v1/persons/{person.pk}/proposals/?kind=eligible"))[0]["kind"] == "eligible"
    # Coordinator, company user: 403; a professional who may not open the record: 403 or 404.
    assert client(world["coordinator"]).get(f"/api/v1/persons/{person.pk}/proposals/").status_code == 403
    assert client(emp["employer"]).get(f"/api/v1/persons/{person.pk}/proposals/").status_code == 403
    assert client(world["outsider"]).get(f"/api/v1/persons/{person.pk}/proposals/").status_code in (403, 404)
    assert client(world["gers_officer"]).get(f"/api/v1/persons/{person.pk}/proposals/").status_code == 404


# --- Positionings --------------------------------------------------------------------------------


def positioning(world, opening, **kwargs):
    values = {"person": world["person"], "opening": opening, "structure": world["ref_structure"],
              "proposed_by": world["referent"], "consent": True, "consent_on": timezone.localdate(),
              "proposed_at": timezone.now(), "status": PositioningStatus.PROPOSED}
    return Positioning.objects.create(**(values | kwargs))


def test_positionings_sent_and_received_with_the_share_of_each_side(world, emp):
    sent = positioning(world, emp["own_opening"])
    requested = positioning(world, emp["opening"], status=PositioningStatus.REQUESTED, structure=None,
                            proposed_by=None, proposed_at=None)
    rows = results(client(world["referent"]).get(f"{API}/positionings/"))
    assert [r["uid"] for r in rows] == [str(sent.uid)] and rows[0]["person"]["id"] == world["person"].pk
    received = results(client(emp["employer"]).get(f"{API}/positionings/"))
    assert [r["uid"] for r in received] == [str(sent.uid)]
    assert received[0]["person"] == {"short_name": "Camille D."}  # no id, no record
    assert client(emp["employer"]).get(f"{API}/positionings/?side=sent").status_code == 403
    assert client(world["coordinator"]).get(f"{API}/positionings/").status_code == 403
    assert not AccessLog.objects.filter(user=emp["employer"]).exists()
    detail = client(emp["employer"]).get(f"{API}/positionings/{sent.uid}/")
    assert detail.status_code == 200 and detail.json()["side"] == "company"
    assert AccessLog.objects.filter(person=world["person"], section=AccessLog.Section.JOBS, user=emp["employer"],
                                    channel=AccessLog.Channel.API).exists()
    assert client(world["outsider"]).get(f"{API}/positionings/{sent.uid}/").status_code == 403
    assert client(world["coordinator"]).get(f"{API}/positionings/{sent.uid}/").status_code == 403
    # A company's request: the référent's structure acting for the company without account sees no name.
    referent_received = results(client(world["referent"]).get(f"{API}/positionings/?side=received"))
    assert [r["uid"] for r in referent_received] == [str(requested.uid)] and referent_received[0]["person"] is None


def test_positioning_writes_call_the_positionings_services(world, emp):
    api = client(world["referent"])
    denied = client(world["outsider"]).post(f"{API}/positionings/", {
        "person": world["person"].pk, "opening": str(emp["own_opening"].uid), "consent": True}, format="json")
    assert denied.status_code in (403, 404)
    created = api.post(f"{API}/positionings/", {"person": world["person"].pk, "opening": str(emp["own_opening"].uid),
                                                "consent": True, "message": "Motivée"}, format="json")
    assert created.status_code == 201, created.content
    uid = created.json()["uid"]
    answer = client(emp["employer"]).post(f"{API}/positionings/{uid}/answer/", {"status": "interested"},
                                          format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "interested"
    assert client(emp["employer"]).post(f"{API}/positionings/{uid}/withdraw/", {}, format="json").status_code == 403
    withdrawn = api.post(f"{API}/positionings/{uid}/withdraw/", {"reason": "A trouvé ailleurs"}, format="json")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"


def test_membership_of_company_user_is_employer(emp):
    assert membership_of(emp["employer"]).role == "employer"


# --- Review fixes: what each side sees, lists, candidates, writes through the services ----------


def test_company_side_never_sees_a_declined_request_nor_the_private_reasons(world, emp):
    """As the page: a company requests, the référent declines with a private reason; the company
    sees no name, no reason, no référent, no structure (list and detail)."""
    profile_for(world["person"], "N1103", visible_to_employers=True)
    request = positioning_services.request_positioning(emp["own_opening"], world["person"], by=emp["employer"])
    positioning_services.decline_request(request, by=world["referent"], membership=membership_of(world["referent"]),
                                         reason="Soucis de santé")
    company = client(emp["employer"])
    row = results(company.get(f"{API}/positionings/"))[0]
    assert row["status"] == "declined" and row["person"] is None and row["structure"] is None
    response = company.get(f"{API}/positionings/{request.uid}/")
    assert response.status_code == 200
    detail = response.json()
    assert detail["person"] is None and detail["structure"] is None and detail["status_text"] == ""
    declined = [t for t in detail["transitions"] if t["to_status"] == "declined"]
    assert declined and declined[0]["reason"] == "" and declined[0]["by"] is None
    requested = [t for t in detail["transitions"] if t["to_status"] == "requested"]
    assert requested[0]["by"]["id"] == emp["employer"].pk  # its own request stays signed
    for body in (str(row), response.content.decode()):
        for secret in ("santé", "Camille", "Dupuis", "Rose", "Référente", "Tremplin"):
            assert secret not in body
    # The sending side keeps everything.
    sender = client(world["referent"]).get(f"{API}/positionings/{request.uid}/").json()
    assert sender["status_text"] == "Soucis de santé" and sender["person"]["id"] == world["person"].pk
    assert sender["structure"]["name"] == "Association Tremplin"


def test_company_side_sees_a_withdrawn_candidate_without_the_reason(world, emp):
    sent = positioning(world, emp["own_opening"])
    positioning_services.withdraw(sent, by=world["referent"], reason="Problème de garde d'enfant")
    detail = client(emp["employer"]).get(f"{API}/positionings/{sent.uid}/").json()
    assert detail["status"] == "withdrawn" and detail["person"] == {"short_name": "Camille D."}
    assert detail["status_text"] == "" and "garde" not in str(detail)
    assert all(t["by"] is None for t in detail["transitions"] if t["to_status"] == "withdrawn")


def test_sent_positionings_list_only_the_persons_the_caller_may_open(world, emp):
    """A colleague of the same structure outside the person's group does not see the positioning."""
    stranger = PersonFactory(territory=world["territory"], first_name="Léa", last_name="Inconnue")
    mine = positioning(world, emp["own_opening"])
    by_colleague = positioning(world, emp["opening"], person=stranger, proposed_by=world["colleague"])
    colleague_rows = results(client(world["colleague"]).get(f"{API}/positionings/?side=sent"))
    assert [r["uid"] for r in colleague_rows] == [str(by_colleague.uid)]  # the one she proposed, not Camille's
    referent_rows = results(client(world["referent"]).get(f"{API}/positionings/?side=sent"))
    assert [r["uid"] for r in referent_rows] == [str(mine.uid)]
    assert AccessLog.objects.filter(person=world["person"], user=world["referent"],
                                    channel=AccessLog.Channel.API, section=AccessLog.Section.JOBS).count() == 1
    assert not AccessLog.objects.filter(person=world["person"], user=world["colleague"]).exists()


def test_immersions_list_hides_a_colleagues_persons_and_writes_the_access_log(world, emp):
    Immersion.objects.create(person=world["person"], company=emp["company"], rome_id="G1602",
                             requested_by=world["referent"], structure=world["ref_structure"])
    assert results(client(world["colleague"]).get(f"{API}/immersions/")) == []
    assert not AccessLog.objects.filter(person=world["person"]).exists()
    rows = results(client(world["referent"]).get(f"{API}/immersions/"))
    assert [r["person"]["id"] for r in rows] == [world["person"].pk]
    log = AccessLog.objects.get(person=world["person"])
    assert (log.user, log.channel, log.section) == (world["referent"], AccessLog.Channel.API, AccessLog.Section.JOBS)


def _candidate(world, opening, n, *, visible=True, kind="eligible", with_profile=True):
    person = PersonFactory(territory=world["territory"], first_name=f"Zoé{n}", last_name=f"Secret{n}")
    if with_profile:
        profile_for(person, "N1103", visible_to_employers=visible, skills="Conduite de chariot\nInventaire")
    Proposal.objects.create(person=person, opening=opening, kind=kind, rank=n, score=0.9 - n / 100,
                            reasons=[{"signal": "rome", "label": "Métier", "text": "Métier recherché", "value": 1}])
    return person


def test_candidates_are_anonymous_profiles_for_the_company_s_own_opening(world, emp, monkeypatch):
    opening = emp["own_opening"]
    persons = [_candidate(world, opening, n) for n in range(3)]
    _candidate(world, opening, 10, visible=False)  # not visible to employers
    _candidate(world, opening, 11, with_profile=False)  # no job search
    _candidate(world, opening, 12, kind="blocked")
    company = client(emp["employer"])
    url = f"{API}/openings/{opening.uid}/candidates/"
    response = company.get(url)
    body = response.content.decode()
    rows = results(response)
    assert len(rows) == 3 and rows[0]["score"] == pytest.approx(0.9)
    assert rows[0]["targets"][0]["code"] == "N1103" and rows[0]["skills"] == ["Conduite de chariot", "Inventaire"]
    assert rows[0]["reasons"][0]["text"] == "Métier recherché" and rows[0]["reference"].startswith("Profil n° ")
    for row in rows:
        assert not {"id", "person", "person_id", "first_name", "last_name", "token"} & set(row)
    for person in persons:
        assert person.first_name not in body and person.last_name not in body
    # Another company's opening: 403; an unknown one: 404; a coordinator: 403.
    assert company.get(f"{API}/openings/{emp['opening'].uid}/candidates/").status_code == 403
    assert company.get(f"{API}/openings/{uuid.uuid4()}/candidates/").status_code == 404
    assert client(world["coordinator"]).get(url).status_code == 403
    assert client(world["gers_officer"]).get(url).status_code == 403
    # Paginated, with a query count that does not grow with the page.
    monkeypatch.setattr(PageNumberPagination, "page_size", 2)
    with CaptureQueriesContext(connection) as two:
        first = company.get(url).json()
    assert first["count"] == 3 and len(first["results"]) == 2 and first["next"]
    assert len(company.get(url + "?page=2").json()["results"]) == 1
    monkeypatch.setattr(PageNumberPagination, "page_size", 50)
    with CaptureQueriesContext(connection) as three:
        assert len(results(company.get(url))) == 3
    assert len(three) == len(two)


def test_candidates_query_count_is_constant(world, emp):
    opening = emp["own_opening"]
    company = client(emp["employer"])
    url = f"{API}/openings/{opening.uid}/candidates/"
    _candidate(world, opening, 0)
    with CaptureQueriesContext(connection) as few:
        assert len(results(company.get(url))) == 1
    for n in range(1, 6):
        _candidate(world, opening, n)
    with CaptureQueriesContext(connection) as many:
        assert len(results(company.get(url))) == 6
    assert len(many) == len(few)


def test_opening_writes_follow_the_services_rules(world, emp):
    api = client(emp["employer"])
    data = {"company": str(emp["own"].uid), "title": "Cariste", "rome": "N1103", "contract_type": "cdi",
            "weekly_hours": "35", "commune": "31555", "appellation": appellation(rome("N1103"), "38888").code_ogr}
    # The rules of the page hold: at least one schedule, a duration for a fixed-term contract.
    refused = api.post(f"{API}/openings/", {**data, "contract_type": "cdd"}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"schedule": ["Cochez au moins un horaire."],
                              "duration_months": ["Indiquez la durée du contrat (en mois)."]}
    created = api.post(f"{API}/openings/", {**data, "schedule": ["day"]}, format="json")
    assert created.status_code == 201, created.content
    uid = created.json()["uid"]
    # Changing the ROME code under its appellation: the service's French error, nothing saved.
    changed = api.patch(f"{API}/openings/{uid}/", {"rome": "G1602"}, format="json")
    assert changed.status_code == 400 and "ne relève pas du métier ROME" in changed.json()["appellation"][0]
    assert JobOpening.objects.get(uid=uid).rome_id == "N1103"
    # A date before the publication is refused.
    yesterday = (timezone.localdate() - timezone.timedelta(days=1)).isoformat()
    early = api.post(f"{API}/openings/{uid}/status/", {"status": "filled", "on": yesterday}, format="json")
    assert early.status_code == 400 and "précéder la publication" in str(early.json())
    # Filled, then closed: the closing clears the filled date (as the service does).
    assert api.post(f"{API}/openings/{uid}/status/", {"status": "filled"}, format="json").json()["filled_on"]
    closed = api.post(f"{API}/openings/{uid}/status/", {"status": "closed"}, format="json").json()
    assert closed["status"] == "closed" and closed["closed_on"] and closed["filled_on"] is None


def test_company_writes_call_the_companies_service(world, emp):
    api = client(world["referent"])
    duplicate = api.post(f"{API}/companies/", {"siret": siret(111), "name": "Copie"}, format="json")
    assert duplicate.status_code == 400
    assert duplicate.json()["siret"] == [
        "Une entreprise de ce SIRET existe déjà dans le territoire : « Brasserie du Canal »."]
    edited = api.patch(f"{API}/companies/{emp['company'].uid}/", {"siret": siret(222)}, format="json")
    assert edited.status_code == 400 and "Logistique Garonne" in edited.json()["siret"][0]
