"""Demo data of the employer side (``spie.core.demo_employers``), seeded by ``manage.py seed_demo``."""

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from stdnum.fr import siret as stdnum_siret

from spie.core import demo_employers
from spie.employers.models import (
    Company,
    Engagement,
    EngagementRegistration,
    Immersion,
    ImmersionOffer,
    JobOpening,
    JobSearchProfile,
    Positioning,
    PositioningTransition,
    TargetJob,
)
from spie.network.models import Membership
from spie.people.models import Person
from tests.core.test_seed import COMMUNES
from tests.network.factories import CommuneFactory

PERSONS = "300"


@pytest.fixture
def communes(db):
    return [
        CommuneFactory(code_insee=code, name=name, population=population, lat=lat, lon=lon,
                       epci_siren="243100518", epci_name="Toulouse Métropole")
        for code, name, population, lat, lon in COMMUNES
    ]


def seed_demo(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def seeded(communes):
    return seed_demo("--persons", PERSONS, "--seed", "31", "--actions", "20")


def test_companies_and_openings(seeded):
    assert "Entreprises : 60 entreprises" in seeded
    companies = list(Company.objects.all())
    assert len(companies) == demo_employers.DEFAULT_COMPANIES
    for company in companies:
        assert stdnum_siret.is_valid(company.siret)
        assert company.contact_email.endswith(".example")
        assert company.commune.code_insee.startswith("31")
    assert len({c.siret for c in companies}) == len(companies)
    statuses = Counter(JobOpening.objects.values_list("status", flat=True))
    assert 190 <= statuses["open"] <= 230
    assert statuses["filled"] > 0 and statuses["closed"] > 0
    sectors = {code[0] for code in JobOpening.objects.values_list("rome_id", flat=True)}
    assert {"G", "F", "N", "K", "D", "H", "J", "A"} <= sectors
    assert JobOpening.objects.filter(requires_licence=True).exists()
    assert len(set(JobOpening.objects.values_list("contract_type", flat=True))) >= 5
    assert 30 <= ImmersionOffer.objects.count() <= 50
    kinds = set(Engagement.objects.values_list("kind", flat=True))
    assert kinds == {"visit", "discovery", "webinar", "mentoring", "job_dating"}
    assert EngagementRegistration.objects.count() > 30


def test_company_account_and_demo_login(seeded):
    company = Company.objects.get(name=demo_employers.COMPANY_NAME)
    assert company.account is not None and company.account.kind == "company"
    membership = Membership.objects.get(user__email=demo_employers.COMPANY_EMAIL)
    assert membership.structure == company.account and membership.role == Membership.Role.EMPLOYER
    assert membership.user.check_password("spie-demo-2026")
    assert company.openings.filter(status="open").count() >= 4
    out = StringIO()
    call_command("demo_logins", stdout=out)
    assert demo_employers.COMPANY_EMAIL in out.getvalue()


def test_profiles(seeded):
    not_exited = Person.objects.exclude(status=Person.Status.EXITED).count()
    profiles = JobSearchProfile.objects.count()
    assert 0.55 * not_exited <= profiles <= 0.85 * not_exited
    assert not JobSearchProfile.objects.filter(person__status=Person.Status.EXITED).exists()
    assert TargetJob.objects.count() >= profiles
    assert JobSearchProfile.objects.filter(visible_to_employers=True).exists()
    assert JobSearchProfile.objects.exclude(childcare_conflicts=[]).exists()
    for profile in JobSearchProfile.objects.filter(travel_mode="car").select_related("person"):
        assert profile.person.driving_licence in ("B", "other") and profile.person.has_vehicle


def test_positionings_and_immersions_in_every_status(seeded):
    assert set(Positioning.objects.values_list("status", flat=True)) >= {
        "requested", "proposed", "interested", "interview", "hired", "refused", "withdrawn", "declined"}
    for positioning in Positioning.objects.all():
        steps = list(positioning.transitions.values_list("to_status", flat=True))
        assert steps and steps[-1] == positioning.status
    hired = Positioning.objects.filter(status="hired")
    assert hired.exclude(employment=None).exists()
    assert PositioningTransition.objects.count() > Positioning.objects.count()
    assert set(Immersion.objects.values_list("status", flat=True)) == {"requested", "agreed", "done", "cancelled"}


def test_proposals_for_the_referente(seeded):
    try:
        from spie.employers.matching_adapter import recompute_territory  # noqa: F401
    except ImportError:
        assert "calcul impossible" in seeded
        pytest.skip("matching_adapter absent")
    from spie.employers.models import MatchRun, Proposal

    assert MatchRun.objects.filter(scope="full").exists()
    persons = demo_employers._referente_persons(Company.objects.first().territory)
    assert Proposal.objects.filter(person_id__in=persons, kind="eligible").exists()
    assert Proposal.objects.filter(person_id__in=persons, kind="blocked").exists()


def test_second_run_adds_nothing(seeded):
    before = Company.objects.count(), JobOpening.objects.count(), JobSearchProfile.objects.count()
    from spie.network.models import Territory

    out = []
    demo_employers.seed_employers(Territory.objects.get(code="31"), log=out.append)
    assert (Company.objects.count(), JobOpening.objects.count(), JobSearchProfile.objects.count()) == before
    assert "rien à créer" in out[0]


def test_no_companies_option(communes):
    seed_demo("--persons", "50", "--seed", "31", "--actions", "5", "--companies", "0")
    assert not Company.objects.exists()
