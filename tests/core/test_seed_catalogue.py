"""Demo data of the catalogue and of referrals (``spie.core.demo_catalogue``), seeded by ``manage.py seed_demo``."""

import hashlib
import json
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, Q
from django.utils import timezone

from spie.catalogue import places, workflows
from spie.catalogue.models import (
    Action,
    ActionSession,
    ActionStatus,
    Referral,
    ReferralStatus,
    ReferralTransition,
    SpieKind,
)
from spie.catalogue.places import refresh_action
from spie.core import demo_catalogue
from spie.followup.models import PLAN_TRANSITIONS, PlanTransition
from spie.network.models import Structure, Territory, User
from spie.people.models import EVENT_LABELS, Person, TimelineEvent
from tests.core.test_seed import COMMUNES
from tests.network.factories import CommuneFactory

PERSONS = "300"
SCHEMA = demo_catalogue.SCHEMA_FILE


@pytest.fixture
def communes(db):
    # Three EPCI so that zones by EPCI and by lists of communes exclude someone.
    epci = {"31555": "243100518", "31069": "243100518", "31149": "243100518", "31254": "243100633",
            "31395": "200068807", "31483": "200072635", "31451": "243100732"}
    return [
        CommuneFactory(code_insee=code, name=name, population=population, lat=lat, lon=lon, epci_siren=epci[code])
        for code, name, population, lat, lon in COMMUNES
    ]


def seed_demo(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def seeded(communes):
    return seed_demo("--persons", PERSONS, "--seed", "31")


def vocabulary():
    with open(SCHEMA, encoding="utf-8") as handle:
        return json.load(handle)["$defs"]


def test_catalogue_covers_every_theme_category_and_kind(seeded):
    assert "Banque d'actions : 320 actions" in seeded
    actions = Action.objects.all()
    assert actions.count() == 320
    published = actions.filter(status=ActionStatus.PUBLISHED)
    schema = vocabulary()
    themes = set(schema["Thematique"]["enum"])
    used = [t for ts in published.values_list("thematiques", flat=True) for t in ts]
    assert set(used) <= themes
    assert {t.split("--")[0] for t in used} == {t.split("--")[0] for t in themes}
    assert set(published.values_list("spie_kind", flat=True)) == set(SpieKind.values)
    assert set(published.values_list("spie_axis", flat=True)) == {"axe1", "axe2", "axe3", "transverse"}
    for field, enum in (("publics", "Public"), ("reception_modes", "ModeAccueil"),
                        ("mobilisation_modes", "ModeMobilisation"), ("mobilisable_by", "PersonneMobilisatrice")):
        values = {v for vs in actions.values_list(field, flat=True) for v in vs}
        assert values and values <= set(schema[enum]["enum"]), field
    # Every action belongs to a demo structure of the territory and is described.
    assert not actions.exclude(structure__territory__code="31").exists()
    assert not actions.filter(Q(description="") | Q(summary="") | Q(search_text="")).exists()
    assert all(len(a.description) >= 150 for a in actions)


def test_the_plan_actions_are_in_the_catalogue(seeded):
    published = Action.objects.filter(status=ActionStatus.PUBLISHED)
    assert published.filter(spie_kind="prejudice", name__icontains="préjugés").count() >= 3
    assert published.filter(spie_kind="seniors_lab", name__icontains="50").exists()
    assert published.filter(spie_kind="webinar", name__icontains="métiers").exists()
    visits = set(published.filter(spie_kind="company_visit").values_list("structure__name", flat=True))
    assert {"AFPA Toulouse", "CREPI Toulouse", "FACE Grand Toulouse"} <= visits
    assert published.filter(spie_kind="training", spie_axis="axe2", mobilisable_by=["professionnels"]).exists()
    for kind in ("immersion", "childcare", "mobility_help"):
        assert published.filter(spie_kind=kind).exists(), kind
    # Action models offered at several sites, their instances named like them.
    models = Action.objects.filter(is_model=True)
    assert models.count() == 3
    for model in models:
        instances = model.instances.all()
        assert instances.count() >= 3
        assert {i.name for i in instances} == {model.name}
        assert len({i.structure_id for i in instances}) == instances.count()
    assert Action.objects.filter(plan_item__isnull=False).exists() or not _pathway_loaded()


def _pathway_loaded():
    from spie.referentials.models import PathwayItem

    return PathwayItem.objects.exists()


def test_places_reception_zones_and_contacts(seeded):
    actions = list(Action.objects.select_related("commune"))
    remote = [a for a in actions if "a-distance" in a.reception_modes]
    assert 0.15 <= len(remote) / len(actions) <= 0.4
    assert any(a.reception_modes == ["a-distance"] for a in actions)
    in_person = [a for a in actions if "en-presentiel" in a.reception_modes and not a.is_model]
    for action in in_person:
        assert action.commune is not None and action.address and action.lat is not None and action.lon is not None
        assert abs(action.lat - action.commune.lat) < 0.05 and abs(action.lon - action.commune.lon) < 0.07
    towns = Counter(a.commune.code_insee for a in in_person)
    assert towns["31555"] < 0.8 * len(in_person) and len(towns) >= 5  # Toulouse and the rest of the département
    zones = [a.eligibility_zone for a in actions]
    assert ["31"] in zones
    assert any(len(z) == 1 and len(z[0]) == 9 for z in zones)  # an EPCI
    assert any(len(z) > 1 and all(len(code) == 5 for code in z) for z in zones)  # a list of communes
    for action in actions:
        assert action.email.endswith(".example"), action.email
        assert action.phone.startswith("05 61 00 ")
        assert action.contact_name
        assert action.zone_key == ("|" + "|".join(action.eligibility_zone) + "|" if action.eligibility_zone else "")


def test_lifecycle_freshness_and_sessions(seeded):
    today = timezone.localdate()
    actions = Action.objects.select_related("territory")
    statuses = Counter(actions.values_list("status", flat=True))
    assert set(statuses) == set(ActionStatus.values)
    assert statuses["published"] > 0.75 * sum(statuses.values())
    suspended = list(actions.filter(status=ActionStatus.SUSPENDED))
    assert any(a.suspended_until < today and a.is_visible for a in suspended)
    assert any(a.suspended_until > today and not a.is_visible for a in suspended)
    assert not actions.filter(status=ActionStatus.DRAFT, published_at__isnull=False).exists()
    stale = [a for a in actions if a.needs_update(today)]
    assert stale and len(stale) < 0.3 * len(actions)

    sessions = ActionSession.objects.all()
    assert sessions.filter(starts_on__lt=today).exists()
    upcoming = sessions.filter(starts_on__gte=today)
    assert upcoming.exists()
    assert not sessions.filter(starts_on__gt=today + timedelta(days=92)).exists()
    assert not sessions.filter(starts_on__lt=today - timedelta(days=400)).exists()
    assert not upcoming.filter(action__status=ActionStatus.ARCHIVED).exists()
    assert sessions.filter(registration_deadline__isnull=False).exists()
    for session in sessions.exclude(ends_on=None):
        assert session.ends_on >= session.starts_on
    # The derived search fields are right: the recount of ``places`` finds nothing to change.
    for action in actions.filter(status=ActionStatus.PUBLISHED)[:120]:
        before = (action.next_session_on, action.places_left_total, action.places_taken)
        refresh_action(action)
        assert (action.next_session_on, action.places_left_total, action.places_taken) == before, action.pk


def test_referrals_in_every_status_with_a_log_that_follows_the_workflow(seeded):
    assert "Orientations vers des actions :" in seeded
    referrals = Referral.objects.select_related("action", "session").prefetch_related("transitions")
    assert set(referrals.values_list("status", flat=True)) == set(ReferralStatus.values)
    now = timezone.now()
    for referral in referrals:
        log = list(referral.transitions.all())
        assert log[0].from_status == "" and log[0].to_status == "sent" and log[0].at == referral.sent_at
        assert log[0].by_id == referral.sent_by_id
        for previous, row in zip(log, log[1:], strict=False):
            assert row.from_status == previous.to_status
            assert row.at > previous.at
        for row in log:
            rule = workflows.TRANSITIONS[(row.from_status, row.to_status)]
            if rule.reason_required:
                assert row.reason
            assert row.at < now
        assert log[-1].to_status == referral.status
        assert referral.consent and referral.consent_on == timezone.localtime(referral.sent_at).date()
        assert referral.to_structure_id == referral.action.structure_id
        assert not referral.health_shared and not referral.health_info
        status = referral.status
        answered = [r for r in log if r.to_status in ("accepted", "refused")]
        if answered:
            assert referral.answered_at == answered[0].at
            assert referral.answered_via_link == answered[0].via_link
            assert (referral.answered_by_id is None) == referral.answered_via_link
        else:
            assert referral.answered_at is None
        if status == "refused":
            assert referral.refusal_reason
        if status == "dropped":
            assert referral.drop_reason and referral.drop_reason != "health" and referral.ended_on
        if status in ("accepted", "started", "completed"):
            assert referral.session_id or referral.start_date
        if status in ("started", "completed"):
            assert referral.started_on and referral.started_on <= timezone.localdate()
        if status == "completed":
            assert referral.ended_on >= referral.started_on
        if status == "expired":
            assert log[-1].by_id is None and not log[-1].via_link
            assert (log[-1].at - referral.sent_at).days >= 29
        if status == "sent":
            assert referral.sent_at > now - timedelta(days=30)
    # "About 300" at the default size; here about one referral for three persons.
    assert 100 <= referrals.count() <= 160


def test_places_taken_match_the_referrals_holding_one(seeded):
    held = Q(referrals__status__in=workflows.HOLDING_PLACE)
    sessions = ActionSession.objects.annotate(n=Count("referrals", filter=held))
    assert sessions.filter(n__gt=0).exists()
    for session in sessions:
        assert session.places_taken == session.n <= session.capacity, session.pk
    assert any(s.places_left == 0 and s.starts_on > timezone.localdate() for s in sessions)  # a full session
    # Without sessions, a completed referral frees its place (places.HOLDING_ACTION_PLACE).
    without_session = Q(referrals__status__in=places.HOLDING_ACTION_PLACE, referrals__session__isnull=True)
    for action in Action.objects.annotate(n=Count("referrals", filter=without_session)):
        assert action.places_taken == action.n, action.pk
        assert action.capacity is None or action.n <= action.capacity
    # Accepted referrals wait for a session (or a start date) still ahead.
    for referral in Referral.objects.filter(status="accepted").select_related("session"):
        assert (referral.session.starts_on if referral.session else referral.start_date) > timezone.localdate()


def test_timeline_events_and_plan_links(seeded):
    referrals = Referral.objects.select_related("action").prefetch_related("transitions")
    events = Counter(
        (person, kind) for person, kind in TimelineEvent.objects.filter(kind__startswith="referral_")
        .values_list("person_id", "kind")
    )
    expected = Counter((r.person_id, f"referral_{t.to_status}") for r in referrals for t in r.transitions.all())
    assert events == expected
    assert {kind for _, kind in events} <= set(EVENT_LABELS)
    # No health detail in the timeline: actions about health are not named there.
    sensitive = [r.action.name for r in referrals
                 if any(t.startswith("sante--") for t in r.action.thematiques)]
    assert sensitive
    titles = list(TimelineEvent.objects.filter(kind__startswith="referral_").values_list("title", flat=True))
    assert not any(name in title for name in sensitive for title in titles)

    linked = referrals.filter(plan_action__isnull=False).select_related("plan_action")
    assert linked.exists()
    expected_plan = {"sent": {"planned"}, "accepted": {"planned"}, "started": {"in_progress"}, "completed": {"done"},
                     "dropped": {"abandoned", "cancelled"}, "refused": {"cancelled"}, "expired": {"cancelled"},
                     "cancelled": {"cancelled"}}
    for referral in linked:
        plan_action = referral.plan_action
        assert plan_action.person_id == referral.person_id
        assert plan_action.status in expected_plan[referral.status]
        assert plan_action.responsible_structure_id == referral.to_structure_id
        log = list(PlanTransition.objects.filter(action=plan_action).order_by("at", "pk"))
        assert log[0].from_status == "" and log[0].to_status == "planned"
        for row in log[1:]:
            assert row.to_status in PLAN_TRANSITIONS[row.from_status]
        assert log[-1].to_status == plan_action.status


def test_demo_accounts_have_referrals_to_show(seeded):
    referente = User.objects.get(email="referente.demo@spie31.example")
    mine = Referral.objects.filter(sent_by=referente)
    assert mine.count() >= len(ReferralStatus.values)
    assert set(mine.values_list("status", flat=True)) == set(ReferralStatus.values)
    # One she sent yesterday: the provider's link still works.
    assert mine.filter(status="sent", link_expires_at__gt=timezone.now()).exists()
    # The demo admin's structure has referrals waiting for its answer, from other structures.
    admin_structure = Structure.objects.get(memberships__user__email="admin.demo@spie31.example")
    waiting = Referral.objects.filter(to_structure=admin_structure, status="sent")
    assert waiting.exists()
    assert waiting.exclude(from_structure=admin_structure).exists()
    # Senders follow the person.
    for referral in Referral.objects.all()[:80]:
        assert referral.person.followups.filter(user_id=referral.sent_by_id, structure_id=referral.from_structure_id,
                                                end_date__isnull=True).exists()


def test_no_real_looking_personal_data(seeded):
    for email in Action.objects.values_list("email", flat=True):
        assert email.endswith(".example")
    names = {(p.first_name, p.last_name) for p in Person.objects.all()}
    for motivation, info in Referral.objects.values_list("motivation", "provider_info"):
        assert not any(f"{first} {last}" in motivation + info for first, last in names)
    assert not Action.objects.exclude(mobilisation_link="").exclude(mobilisation_link__contains=".example/").exists()


def catalogue_digest():
    actions = Action.objects.order_by("uid").values_list(
        "uid", "name", "structure__slug", "commune_id", "status", "thematiques", "content_updated_on",
        "places_left_total",
    )
    sessions = ActionSession.objects.order_by("action__uid", "starts_on", "capacity").values_list(
        "action__uid", "starts_on", "capacity", "places_taken"
    )
    referrals = Referral.objects.order_by("person__internal_id", "sent_at").values_list(
        "person__internal_id", "action__uid", "status", "sent_at", "sent_by__email", "motivation"
    )
    text = "\n".join(map(str, [*actions, *sessions, *referrals]))
    return hashlib.sha256(text.encode()).hexdigest()


def clear_catalogue():
    Referral.objects.all().delete()
    Action.objects.filter(model__isnull=False).delete()
    Action.objects.all().delete()


def test_catalogue_and_referrals_are_deterministic(communes):
    seed_demo("--persons", "150", "--seed", "7")
    digest = catalogue_digest()
    counts = (Action.objects.count(), ActionSession.objects.count(), Referral.objects.count(),
              ReferralTransition.objects.count())
    assert counts[2] > 0

    clear_catalogue()
    Person.objects.all().delete()
    seed_demo("--persons", "150", "--seed", "7")
    assert catalogue_digest() == digest
    assert (Action.objects.count(), ActionSession.objects.count(), Referral.objects.count(),
            ReferralTransition.objects.count()) == counts

    clear_catalogue()
    Person.objects.all().delete()
    seed_demo("--persons", "150", "--seed", "8")
    assert catalogue_digest() != digest


def test_seeding_again_keeps_the_catalogue_and_recounts_places(communes):
    seed_demo("--persons", "120", "--seed", "3", "--actions", "100")
    assert Action.objects.count() == 100
    uids = set(Action.objects.values_list("uid", flat=True))
    # Persons deleted: their referrals go, the places they held are given back on the next run.
    Person.objects.all().delete()
    output = seed_demo("--persons", "120", "--seed", "3", "--actions", "100")
    assert "100 déjà présentes" in output
    assert set(Action.objects.values_list("uid", flat=True)) == uids
    held = Q(referrals__status__in=workflows.HOLDING_PLACE)
    for session in ActionSession.objects.annotate(n=Count("referrals", filter=held)):
        assert session.places_taken == session.n
    # A larger count tops the catalogue up with the next actions.
    counts = demo_catalogue.seed_catalogue(Territory.objects.get(code="31"), count=130, seed=3, log=lambda *a: None)
    assert counts["catalogue_actions"] == 30 and counts["catalogue_kept"] == 100
    assert Action.objects.count() == 130


def test_small_seed_without_actions(communes):
    output = seed_demo("--persons", "20", "--seed", "1", "--actions", "0")
    assert not Action.objects.exists() and not Referral.objects.exists()
    assert "aucune personne ou aucune action publiée" in output
