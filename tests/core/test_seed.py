import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, Q

from spie.core import demo
from spie.network.models import Membership, Structure, Territory, User
from spie.people.models import Consent, FollowUpMembership, HealthInfo, Person, TimelineEvent
from spie.people.validators import validate_nir
from tests.network.factories import CommuneFactory
from tests.people.factories import PersonFactory

COMMUNES = [
    ("31555", "Toulouse", 514819, 43.59611, 1.43196),
    ("31395", "Muret", 26079, 43.44887, 1.30894),
    ("31483", "Saint-Gaudens", 12139, 43.11973, 0.72668),
    ("31149", "Colomiers", 40882, 43.61161, 1.32688),
    ("31451", "Revel", 9762, 43.46562, 1.99683),
    ("31069", "Blagnac", 27604, 43.64162, 1.37961),
    ("31254", "Labège", 4392, 43.53883, 1.52136),
]


@pytest.fixture
def communes(db):
    return [
        CommuneFactory(code_insee=code, name=name, population=population, lat=lat, lon=lon)
        for code, name, population, lat, lon in COMMUNES
    ]


def seed_demo(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def persons_digest():
    rows = FollowUpMembership.objects.filter(kind="referent", end_date__isnull=True).order_by(
        "person__last_name", "person__first_name", "person__birth_date", "person__internal_id"
    )
    text = "\n".join(
        f"{f.person.last_name}|{f.person.first_name}|{f.person.birth_date}|{f.person.nir}|{f.user.email}"
        for f in rows.select_related("person", "user")
    )
    return hashlib.sha256(text.encode()).hexdigest()


def test_seed_is_deterministic(communes):
    seed_demo("--persons", "200", "--seed", "1")
    first = persons_digest()
    counts = (Person.objects.count(), FollowUpMembership.objects.count(), TimelineEvent.objects.count())
    assert counts[0] == 200

    Person.objects.all().delete()
    seed_demo("--persons", "200", "--seed", "1")
    assert persons_digest() == first
    assert (Person.objects.count(), FollowUpMembership.objects.count(), TimelineEvent.objects.count()) == counts
    # The network was kept, not duplicated.
    assert Territory.objects.get().display_name == "SPIE Haute-Garonne"
    # Demo companies with their own space are structures of kind "company", seeded apart.
    assert Structure.objects.exclude(kind="company").count() == len(demo.STRUCTURES)

    Person.objects.all().delete()
    seed_demo("--persons", "200", "--seed", "2")
    assert persons_digest() != first


def test_seed_creates_network_and_demo_accounts(communes):
    output = seed_demo("--persons", "200", "--seed", "1")
    assert "200 personnes" in output

    assert Structure.objects.filter(name="Conseil départemental de la Haute-Garonne", kind="departement").exists()
    assert Structure.objects.filter(name__startswith="MDS ").count() >= 4
    assert Structure.objects.filter(kind="france_travail").count() >= 3
    assert Structure.objects.filter(commune__isnull=False).exists()
    for structure in Structure.objects.exclude(kind="company"):
        assert structure.search_key and structure.email.endswith(".example")
        assert structure.memberships.filter(role=Membership.Role.ADMIN).count() == 1
    # A company's space has its own users (role employer), never an admin of the network.
    for structure in Structure.objects.filter(kind="company"):
        assert not structure.memberships.filter(role=Membership.Role.ADMIN).exists()
        assert structure.memberships.filter(role=Membership.Role.EMPLOYER).exists()
    referents = User.objects.filter(memberships__role=Membership.Role.REFERENT).distinct().count()
    assert 130 <= referents <= 170
    assert Membership.objects.filter(role=Membership.Role.COORDINATOR).count() == 2
    assert Membership.objects.filter(role=Membership.Role.ORIENTATION, structure__kind="departement").count() >= 3
    assert User.objects.annotate(n=Count("memberships")).filter(n=2).exists()
    assert not Membership.objects.filter(search_key="").exclude(job_title="").exists()

    for account in demo.DEMO_ACCOUNTS:
        user = User.objects.get(email=account.email)
        assert user.check_password(demo.DEMO_PASSWORD)
        membership = user.memberships.get()
        assert membership.role == account.role
        assert membership.is_current
    referente = User.objects.get(email="referente.demo@spie31.example")
    assert referente.memberships.get().structure.name == "MDS Toulouse Bonnefoy"
    conseiller = User.objects.get(email="conseiller.demo@spie31.example")
    assert conseiller.memberships.get().structure.name == "France Travail Toulouse Bonnefoy"
    admin = User.objects.get(email=demo.SUPERUSER_EMAIL)
    assert admin.is_staff and admin.is_superuser and admin.check_password(demo.DEMO_PASSWORD)
    # Every professional shares the demo password (hashed once).
    assert User.objects.exclude(password=referente.password).count() == 0


def test_every_person_has_one_active_referent_and_valid_data(communes):
    seed_demo("--persons", "200", "--seed", "1")
    persons = Person.objects.annotate(
        referents=Count("followups", filter=Q(followups__kind="referent", followups__end_date__isnull=True))
    )
    assert sorted({p.referents for p in persons}) == [1]

    with_nir = 0
    for person in Person.objects.all():
        assert person.last_name_key and person.first_name_key
        assert person.internal_id.startswith("D31-")
        assert 18 <= person.age() <= 64
        assert person.timeline.filter(title="Entrée dans le parcours").count() == 1
        if person.rsa:
            assert person.rsa_rights_opened_on is not None
        if person.nir:
            with_nir += 1
            validate_nir(person.nir)
            assert person.nir[1:3] == f"{person.birth_date.year % 100:02d}"
            assert person.nir[3:5] == f"{person.birth_date.month:02d}"
            if person.sex in ("F", "M"):
                assert person.nir[0] == {"M": "1", "F": "2"}[person.sex]
    assert 50 <= with_nir <= 150
    assert Person.objects.exclude(nir="").values("nir").distinct().count() == with_nir
    # The référent's structure is the one of one of their memberships.
    for followup in FollowUpMembership.objects.select_related("user"):
        assert followup.user.memberships.filter(structure_id=followup.structure_id).exists()
    # Persons who opposed sharing have nobody but their référent in the group.
    opposed = Consent.objects.filter(status=Consent.Status.OPPOSED).values_list("person_id", flat=True)
    assert not FollowUpMembership.objects.filter(person_id__in=opposed, kind="member").exists()
    assert Consent.objects.filter(status=Consent.Status.GIVEN).count() > 150
    assert HealthInfo.objects.filter(rqth=True).count() < 40


def test_demo_referente_caseload(communes):
    seed_demo("--persons", "2000", "--seed", "31", "--no-progress")
    referente = User.objects.get(email="referente.demo@spie31.example")
    caseload = FollowUpMembership.objects.filter(user=referente, kind="referent", end_date__isnull=True).count()
    assert 30 <= caseload <= 60
    assert 0.5 <= Person.objects.filter(rsa=True).count() / 2000 <= 0.7


def test_if_empty_does_nothing_when_persons_exist(communes):
    seed_demo("--persons", "50", "--seed", "1", "--if-empty")
    assert Person.objects.count() == 50
    counts = (User.objects.count(), Structure.objects.count(), TimelineEvent.objects.count())

    output = seed_demo("--persons", "50", "--seed", "1", "--if-empty")
    assert "Données de démonstration déjà présentes" in output
    assert Person.objects.count() == 50
    assert (User.objects.count(), Structure.objects.count(), TimelineEvent.objects.count()) == counts


def test_rows_inserted_by_the_seed_behave_like_saved_ones(communes):
    seed_demo("--persons", "30", "--seed", "1")
    top = Person.objects.order_by("-pk").first()
    assert top.children_birth_years == list(top.children_birth_years)  # JSON read back
    assert top.created_at is not None and top.timeline.exists()
    # The primary-key sequence follows the inserted rows: the next person gets a new pk.
    assert PersonFactory(territory=top.territory, commune=communes[0]).pk > top.pk


def test_nir_key():
    nir = demo.nir_key("1850131555123")
    assert len(nir) == 2
    validate_nir("1850131555123" + nir)


def test_demo_logins_lists_accounts(communes):
    seed_demo("--persons", "10")
    out = StringIO()
    call_command("demo_logins", stdout=out)
    text = out.getvalue()
    assert "http://127.0.0.1:8000" in text
    assert demo.DEMO_PASSWORD in text
    assert "second facteur" in text.lower()
    for account in demo.DEMO_ACCOUNTS:
        assert account.email in text
    assert "absent" not in text
