"""Pages of a person's job search (``employers:jobsearch`` and friends) and the candidates of an
opening: who may open them, what they show, dismissal and refresh, the access log, a constant
number of queries, and no identity on the company's anonymous candidates page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from spie.core.models import AccessLog
from spie.employers import matching_adapter as ma
from spie.employers.models import Dismissal, JobSearchProfile, Positioning, Proposal, ProposalKind
from spie.people.models import HealthInfo
from tests.catalogue.factories import ActionFactory
from tests.conftest import login_client
from tests.network.factories import CommuneFactory
from tests.pathways import conftest as pathways_conftest
from tests.pathways.conftest import PERSON_EMAIL
from tests.people.factories import PersonFactory, add_to_group

from .factories import ImmersionOfferFactory, JobOpeningFactory, company_with_account, profile_for

_media_root = pathways_conftest._media_root
world = pathways_conftest.world

def muret():
    return CommuneFactory(code_insee="31395", name="Muret", postal_codes="31600", epci_siren="200068807",
                          epci_name="Le Muretain Agglo", lat=43.4616, lon=1.3269, search_key="muret")


@pytest.fixture
def job(world):
    """Camille (Rose's person) with a profile, open openings of a company with an account, an
    immersion offer, a blocked near-match (Muret, public transport) and a mobility action."""
    territory = world["territory"]
    person = world["person"]
    profile_for(person, "G1602", visible_to_employers=True, skills="HACCP")
    company, company_user = company_with_account(territory=territory, name="Brasserie du Canal")
    openings = [JobOpeningFactory(company=company, title=f"Commis de cuisine {i}") for i in range(3)]
    far = JobOpeningFactory(company=company, title="Commis à Muret", commune=muret())
    offer = ImmersionOfferFactory(company=company, title="Découvrir la cuisine")
    ActionFactory(territory=territory, name="Garage solidaire", thematiques=["mobilite--acceder-a-un-vehicule"])
    ma.recompute_territory(territory)
    return {"person": person, "company": company, "company_user": company_user, "openings": openings,
            "far": far, "offer": offer}


def url(name, person):
    return reverse(f"employers:{name}", args=[person.pk])


def test_referent_sees_the_page(world, job):
    client = login_client(world["referent"])
    response = client.get(url("jobsearch", job["person"]))
    assert response.status_code == 200
    html = response.content.decode()
    for opening in job["openings"]:
        assert opening.title in html
    assert "Brasserie du Canal" in html and "Découvrir la cuisine" in html
    assert "Offres accessibles avec un coup de pouce" in html and "Commis à Muret" in html
    assert "Bloquée par :" in html and "Levée par :" in html and "Garage solidaire" in html
    assert "estimation" in html and "<meter" in html and "Écarter" in html
    assert reverse("employers:profile_edit", args=[job["person"].pk]) in html
    assert "style=" not in html and "<script>" not in html
    assert AccessLog.objects.filter(person=job["person"], user=world["referent"],
                                    section=AccessLog.Section.JOBS).exists()


@pytest.mark.parametrize("who", ["outsider", "coordinator", "gers_officer"])
def test_others_are_denied(world, job, who):
    client = login_client(world[who])
    for name in ("jobsearch", "profile_edit"):
        assert client.get(url(name, job["person"])).status_code == 403
    assert client.post(url("jobsearch_refresh", job["person"])).status_code == 403
    assert client.post(url("proposal_dismiss", job["person"]), {"proposal": 1, "reason": "other"}).status_code == 403


def test_company_user_cannot_open_jobsearch(world, job):
    client = login_client(job["company_user"])
    assert client.get(url("jobsearch", job["person"])).status_code == 403
    assert client.get(url("profile_edit", job["person"])).status_code == 403


def test_record_links_to_jobsearch(world, job):
    html = login_client(world["referent"]).get(reverse("people:record", args=[job["person"].pk])).content.decode()
    assert "Recherche d&#x27;emploi et offres adaptées" in html or "Recherche d'emploi et offres adaptées" in html
    assert url("jobsearch", job["person"]) in html


def test_query_count_is_constant(world, job):
    client = login_client(world["referent"])
    client.get(url("jobsearch", job["person"]))  # warm caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(url("jobsearch", job["person"])).status_code == 200
    company = job["company"]
    for i in range(8):
        JobOpeningFactory(company=company, title=f"Plongeur {i}")
        ImmersionOfferFactory(company=company, title=f"Immersion {i}")
    ma.recompute_territory(world["territory"])
    assert Proposal.objects.filter(person=job["person"]).count() > 12
    with CaptureQueriesContext(connection) as many:
        assert client.get(url("jobsearch", job["person"])).status_code == 200
    assert len(many) == len(few)


def test_dismiss_then_restore(world, job):
    client = login_client(world["referent"])
    person = job["person"]
    proposal = Proposal.objects.get(person=person, opening=job["openings"][0])
    response = client.post(url("proposal_dismiss", person), {"proposal": proposal.pk, "reason": "not_interested",
                                                            "comment": "Préfère la salle"})
    assert response.status_code == 302
    dismissal = Dismissal.objects.get(person=person, opening=job["openings"][0])
    assert dismissal.by == world["referent"] and dismissal.reason == "not_interested"
    assert not Proposal.objects.filter(person=person, opening=job["openings"][0]).exists()
    ma.recompute_territory(world["territory"])
    assert not Proposal.objects.filter(person=person, opening=job["openings"][0]).exists()
    html = client.get(url("jobsearch", person)).content.decode()
    assert "Propositions écartées" in html and "Préfère la salle" in html
    # A reason is required ("Autre" needs a precision).
    other = Proposal.objects.filter(person=person, kind=ProposalKind.ELIGIBLE).first()
    client.post(url("proposal_dismiss", person), {"proposal": other.pk, "reason": "other"})
    assert Proposal.objects.filter(pk=other.pk).exists()
    # Restoring keeps the dismissal (marked restored) and the pair comes back at the next computation.
    response = client.post(reverse("employers:dismissal_restore", args=[person.pk]), {"dismissal": "abc"},
                           follow=True)
    assert "Cette proposition écartée n&#x27;existe pas." in response.content.decode()
    client.post(reverse("employers:dismissal_restore", args=[person.pk]), {"dismissal": dismissal.pk})
    dismissal.refresh_from_db()
    assert dismissal.restored_at is not None and dismissal.restored_by == world["referent"]
    assert "Rétablie le" in client.get(url("jobsearch", person)).content.decode()
    ma.recompute_territory(world["territory"])
    assert Proposal.objects.filter(person=person, opening=job["openings"][0]).exists()


def test_refresh(world, job):
    client = login_client(world["referent"])
    new = JobOpeningFactory(company=job["company"], title="Second de cuisine")
    response = client.post(url("jobsearch_refresh", job["person"]))
    assert response.status_code == 302
    assert Proposal.objects.filter(person=job["person"], opening=new).exists()


def test_page_without_profile_offers_to_create_it(world):
    client = login_client(world["referent"])
    html = client.get(url("jobsearch", world["person"])).content.decode()
    assert "Aucun profil de recherche d" in html and "Créer le profil" in html


def test_profile_edit_creates_profile(world, job):
    from tests.employers.factories import rome

    rome("G1603", "Personnel polyvalent en restauration")
    person = PersonFactory(territory=world["territory"], first_name="Lou", last_name="Neuf")
    add_to_group(person, world["referent"], "referent")
    client = login_client(world["referent"])
    assert client.get(url("profile_edit", person)).status_code == 200
    response = client.post(url("profile_edit", person), {
        "target_1": "G1603", "experience_1": "6", "commune": "31555", "travel_mode": "public",
        "max_travel_minutes": "40", "availability": ["day"], "contracts": ["cdi"], "hours_min": "20",
        "hours_max": "35", "skills": "Hygiène\n\nHACCP", "is_active": "on",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    profile = JobSearchProfile.objects.get(person=person)
    assert [t.rome_id for t in profile.targets.all()] == ["G1603"]
    assert profile.skills == "Hygiène\nHACCP" and profile.max_travel_minutes == 40
    bad = client.post(url("profile_edit", person), {"target_1": "ZZZ", "travel_mode": "public",
                                                    "max_travel_minutes": "40", "hours_min": "20", "hours_max": "35"})
    assert bad.status_code == 400 and "Métier introuvable" in bad.content.decode()


# --- Candidates ---------------------------------------------------------------------------------


def reverse_or_none(name, opening):
    from django.urls import NoReverseMatch

    for kwargs in ({"uid": opening.uid}, {}):
        try:
            return reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            continue
    return None


def cand_url(opening):
    return reverse("employers:candidates", args=[opening.uid])


def test_named_candidates_for_the_referent(world, job):
    client = login_client(world["referent"])
    response = client.get(cand_url(job["openings"][0]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Camille D." in html and url("jobsearch", job["person"]) in html
    assert AccessLog.objects.filter(person=job["person"], user=world["referent"], section="jobs").exists()
    # A professional who follows nobody sees no one.
    html = login_client(world["outsider"]).get(cand_url(job["openings"][0])).content.decode()
    assert "Camille" not in html


def test_company_sees_anonymous_profiles_only(world, job):
    person = job["person"]
    HealthInfo.objects.filter(person=person).update(rqth=True)
    client = login_client(job["company_user"])
    response = client.get(cand_url(job["openings"][0]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Profil n°" in html
    assert "Demander une mise en relation" in html and 'name="profile"' in html
    # The read of the (anonymous) profile is in the person's access log, in the company's name.
    assert AccessLog.objects.filter(person=person, user=job["company_user"], section=AccessLog.Section.JOBS,
                                    reason__startswith="profil anonyme").count() == 1
    for secret in (person.first_name, person.last_name, person.last_name.upper(), PERSON_EMAIL,
                   person.birth_date.strftime("%d/%m/%Y"), person.birth_date.isoformat(), "RSA", "RQTH",
                   "Traitement", "santé"):
        assert secret not in html, secret
    assert "HACCP" in html and "Toulouse Métropole" in html


def test_company_sees_only_visible_profiles(world, job):
    JobSearchProfile.objects.filter(person=job["person"]).update(visible_to_employers=False)
    html = login_client(job["company_user"]).get(cand_url(job["openings"][0])).content.decode()
    assert "Profil n°" not in html


def test_candidates_denied(world, job):
    other_company, other_user = company_with_account(territory=world["territory"], name="Autre SARL")
    assert login_client(other_user).get(cand_url(job["openings"][0])).status_code == 403
    assert login_client(world["coordinator"]).get(cand_url(job["openings"][0])).status_code == 403
    assert login_client(world["gers_officer"]).get(cand_url(job["openings"][0])).status_code == 403


@pytest.mark.parametrize("who", ["referent", "company_user"])
def test_candidates_query_count_is_constant(world, job, who):
    user = world["referent"] if who == "referent" else job["company_user"]
    client = login_client(user)
    opening = job["openings"][0]
    client.get(cand_url(opening))  # warm caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(cand_url(opening)).status_code == 200
    for i in range(6):
        person = PersonFactory(territory=world["territory"], first_name=f"Léa{i}", last_name=f"Martin{i}",
                               commune=world["person"].commune)
        add_to_group(person, world["referent"])
        profile_for(person, "G1602", visible_to_employers=True, skills="Plonge")
    ma.recompute_territory(world["territory"])  # the company's page reads the nightly proposals
    with CaptureQueriesContext(connection) as many:
        html = client.get(cand_url(opening)).content.decode()
    if who == "referent":
        assert all(f"Léa{i} M." in html for i in range(6))
    else:
        assert html.count("Demander une mise en relation") == 7 and "Léa" not in html
    assert len(many) == len(few)


# --- QA fixes: the real error, nothing dismissed, nothing lost (F-QA) -----------------------------


def test_dismiss_with_a_too_long_comment_shows_the_real_error(world, job):
    client = login_client(world["referent"])
    person = job["person"]
    proposal = Proposal.objects.get(person=person, opening=job["openings"][1])
    response = client.post(url("proposal_dismiss", person), {"proposal": proposal.pk, "reason": "not_interested",
                                                            "comment": "p" * 301})
    html = response.content.decode()
    assert response.status_code == 400
    assert "La précision ne doit pas dépasser 300 caractères." in html
    # The form of that proposal comes back open, with what was typed.
    assert f'id="dismiss-error-{proposal.pk}"' in html and 'value="' + "p" * 301 + '"' in html
    assert '<option value="not_interested" selected>' in html
    assert "Choisissez un motif pour écarter la proposition." not in html
    assert Proposal.objects.filter(pk=proposal.pk).exists() and not Dismissal.objects.exists()


def test_dismiss_without_a_reason_or_with_other_and_no_precision(world, job):
    client = login_client(world["referent"])
    person = job["person"]
    proposal = Proposal.objects.get(person=person, opening=job["openings"][1])
    html = client.post(url("proposal_dismiss", person), {"proposal": proposal.pk, "reason": ""}).content.decode()
    assert "Choisissez un motif pour écarter la proposition." in html
    html = client.post(url("proposal_dismiss", person), {"proposal": proposal.pk, "reason": "other"}).content.decode()
    assert "Précisez le motif." in html and '<option value="other" selected>' in html
    assert Proposal.objects.filter(pk=proposal.pk).exists() and not Dismissal.objects.exists()


def test_profile_edit_errors_keep_the_typed_values(world, job):
    client = login_client(world["referent"])
    person = job["person"]
    response = client.post(url("profile_edit", person), {
        "target_1": "G1602", "travel_mode": "public", "max_travel_minutes": "40", "hours_min": "30",
        "hours_max": "20", "skills": "Hygiène alimentaire\nPlonge", "available_from": "pas une date"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Le maximum doit être au moins égal au minimum." in html
    assert "Hygiène alimentaire\nPlonge" in html and "pas une date" in html
    assert JobSearchProfile.objects.get(person=person).skills == "HACCP"


def test_company_page_uses_the_nightly_proposals_and_computes_a_new_opening_live(world, job):
    client = login_client(job["company_user"])
    person = job["person"]
    stored = job["openings"][0]
    # From the stored proposals: a person positioned since the run is no longer offered.
    assert "Demander une mise en relation" in client.get(cand_url(stored)).content.decode()
    Positioning.objects.create(person=person, opening=stored, status="requested")
    assert "Demander une mise en relation" not in client.get(cand_url(stored)).content.decode()
    # An opening published after the last run: computed now.
    new = JobOpeningFactory(company=job["company"], title="Commis du soir")
    assert not Proposal.objects.filter(opening=new).exists()
    html = client.get(cand_url(new)).content.decode()
    assert "Demander une mise en relation" in html and "HACCP" in html


def test_health_section_sets_the_yes_no_flags_the_matching_uses(world, job):
    """The référent ticks "port de charges lourdes" in the restricted health section: the heavy
    job is no longer proposed, and nothing of it shows on the job-search page."""
    person = job["person"]
    heavy = JobOpeningFactory(company=job["company"], title="Manutention en cuisine", health_demands=["heavy_loads"])
    ma.recompute_territory(world["territory"])
    assert Proposal.objects.filter(person=person, opening=heavy, kind=ProposalKind.ELIGIBLE).exists()
    client = login_client(world["referent"])
    health_url = reverse("people:health", args=[person.pk])
    assert "Port de charges lourdes" in client.get(health_url).content.decode()
    response = client.post(health_url, {"rqth": "", "work_restrictions": "Lombalgie", "notes": "",
                                        "restriction_flags": ["heavy_loads"]})
    assert response.status_code == 302
    assert HealthInfo.objects.get(person=person).restriction_flags == ["heavy_loads"]
    bad = client.post(health_url, {"restriction_flags": ["diagnostic"]})
    assert bad.status_code == 200 and "Choisissez dans la liste." in bad.content.decode()
    client.post(reverse("employers:jobsearch_refresh", args=[person.pk]))
    assert not Proposal.objects.filter(person=person, opening=heavy, kind=ProposalKind.ELIGIBLE).exists()
    html = client.get(url("jobsearch", person)).content.decode()
    assert "Lombalgie" not in html and "charges lourdes" not in html.lower()
