"""Referrals to actions, through their services: sending (rights, consent, action and session,
duplicates, health detail), every transition allowed and refused for each actor, reasons,
places recount, the linked plan action, the timeline, e-mails, expiry and reminders with the
territory's delays, and the weekly hours counted toward the contract."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from spie.catalogue import links, workflows
from spie.catalogue.models import Referral, ReferralStatus, ReferralTransition
from spie.catalogue.services import referrals as services
from spie.catalogue.tasks import process_referral_deadlines
from spie.followup.models import PlanAction, PlanObjective, PlanStatus, PlanTransition
from spie.people import policies as people_policies
from spie.people.models import TimelineEvent
from tests.pathways.conftest import HEALTH_SECRET, PERSON_EMAIL

from .conftest import membership_of
from .factories import ActionFactory, ActionSessionFactory, ReferralFactory

S = ReferralStatus
MOTIVATION = "Motivation confidentielle : reprendre confiance après une longue période sans emploi."
PROVIDER_INFO = "Préfère les ateliers en petit groupe."
SENDER, PROVIDER, SYSTEM = workflows.SENDER, workflows.PROVIDER, workflows.SYSTEM


# --- Helpers (also used by the other referral test modules) ----------------------------------------


def access_of(user, person):
    return people_policies.access_for(user, membership_of(user), person)


def send(world, provider, *, user="referent", action=None, session=None, plan_objective=None, **data):
    """Send the world's person to ``action`` (the provider's action by default) through the service."""
    who = world[user]
    person = world["person"]
    payload = {"consent": True, "motivation": MOTIVATION, "availability": "Les matins",
               "preferred_contact": "phone", "provider_info": PROVIDER_INFO, **data}
    return services.send_referral(
        person=person, action=action or provider["action"], membership=membership_of(who),
        access=access_of(who, person), data=payload, session=session, plan_objective=plan_objective,
    )


REASONS = {S.REFUSED: "full", S.DROPPED: "job", S.CANCELLED: "La personne a trouvé une autre solution."}


def kwargs_for(target):
    return {"reason": REASONS[target]} if target in REASONS else {}


def bring_to(referral, status, world, provider):
    """Move a sent referral to ``status`` along the workflow (provider answers, sender cancels)."""
    paths = {
        S.SENT: [],
        S.ACCEPTED: [(S.ACCEPTED, PROVIDER)],
        S.REFUSED: [(S.REFUSED, PROVIDER)],
        S.EXPIRED: [(S.EXPIRED, SYSTEM)],
        S.CANCELLED: [(S.CANCELLED, SENDER)],
        S.STARTED: [(S.ACCEPTED, PROVIDER), (S.STARTED, PROVIDER)],
        S.COMPLETED: [(S.ACCEPTED, PROVIDER), (S.STARTED, PROVIDER), (S.COMPLETED, PROVIDER)],
        S.DROPPED: [(S.ACCEPTED, PROVIDER), (S.DROPPED, PROVIDER)],
    }
    by = {SENDER: world["referent"], PROVIDER: provider["admin"], SYSTEM: None}
    for target, actor in paths[status]:
        services.move(referral, target, actor=actor, by=by[actor], **kwargs_for(target))
    referral.refresh_from_db()
    assert referral.status == status
    return referral


def factory_referral(world, action, **kwargs):
    return ReferralFactory(person=world["person"], action=action, from_structure=world["ref_structure"],
                           sent_by=world["referent"], link_expires_at=timezone.now() + datetime.timedelta(days=8),
                           **kwargs)


def token_in(body):
    match = re.search(r"/catalogue/reponse/([^/\s]+)/", body)
    return match.group(1) if match else None


# --- Sending ------------------------------------------------------------------------------------


def test_send_creates_a_logged_referral_with_its_link_and_timeline_event(world, provider):
    before = timezone.now()
    referral = send(world, provider)
    assert referral.status == S.SENT
    assert (referral.from_structure, referral.to_structure, referral.sent_by) == (
        world["ref_structure"], provider["structure"], world["referent"])
    assert referral.consent and referral.consent_on == timezone.localdate()
    expected = before + datetime.timedelta(days=8)
    assert abs((referral.link_expires_at - expected).total_seconds()) < 60
    log = list(referral.transitions.all())
    assert [(t.from_status, t.to_status, t.by) for t in log] == [("", S.SENT, world["referent"])]
    event = TimelineEvent.objects.get(person=world["person"], kind="referral_sent")
    assert "Atelier confiance en soi" in event.title and event.actor == world["referent"]
    assert HEALTH_SECRET not in event.title + event.detail


def test_link_days_follow_the_territory_setting(world, provider):
    territory = world["territory"]
    territory.settings = {"referral_link_days": 3}
    territory.save()
    referral = send(world, provider)
    delta = referral.link_expires_at - referral.sent_at
    assert datetime.timedelta(days=3) - datetime.timedelta(seconds=5) < delta <= datetime.timedelta(days=3)


def test_consent_is_required(world, provider):
    with pytest.raises(ValidationError) as exc:
        send(world, provider, consent=False)
    assert "accord de la personne est obligatoire" in str(exc.value.message_dict["consent"])
    assert not Referral.objects.exists()


def test_motivation_and_contact_choice_are_checked(world, provider):
    with pytest.raises(ValidationError) as exc:
        send(world, provider, motivation="  ", preferred_contact="pigeon")
    assert set(exc.value.message_dict) == {"motivation", "preferred_contact"}


@pytest.mark.parametrize("who", ["outsider", "coordinator", "colleague", "gers_officer"])
def test_only_who_may_open_the_record_refers(world, provider, who):
    with pytest.raises(PermissionDenied):
        send(world, provider, user=who)
    assert not Referral.objects.exists()


@pytest.mark.parametrize("who", ["referent", "member", "officer"])
def test_group_members_and_orientation_officers_refer(world, provider, who):
    assert send(world, provider, user=who).status == S.SENT


def test_a_draft_or_suspended_action_cannot_be_referred_to(world, provider):
    draft = ActionFactory(territory=world["territory"], structure=provider["structure"], draft=True)
    with pytest.raises(ValidationError) as exc:
        send(world, provider, action=draft)
    assert "pas ouverte aux orientations" in str(exc.value)


def test_session_must_belong_to_the_action_be_open_and_have_places(world, provider):
    action = provider["action"]
    other = ActionSessionFactory(action=ActionFactory(territory=world["territory"]))
    full = ActionSessionFactory(action=action, capacity=2, places_taken=2)
    cancelled = ActionSessionFactory(action=action, is_cancelled=True)
    closed = ActionSessionFactory(action=action, registration_deadline=timezone.localdate() - datetime.timedelta(1))
    for session, words in [(other, "n'appartient pas"), (full, "complète"), (cancelled, "annulée"),
                           (closed, "closes")]:
        with pytest.raises(ValidationError) as exc:
            send(world, provider, session=session)
        assert words in " ".join(exc.value.message_dict["session"])
    good = ActionSessionFactory(action=action, capacity=3)
    assert send(world, provider, session=good).session == good


def test_a_second_open_referral_to_the_same_action_is_refused(world, provider):
    first = send(world, provider)
    with pytest.raises(ValidationError) as exc:
        send(world, provider, user="member")
    assert "déjà en cours" in str(exc.value)
    services.move(first, S.REFUSED, actor=PROVIDER, by=provider["admin"], reason="full")
    assert send(world, provider).status == S.SENT  # closed: a new referral is a new row
    assert Referral.objects.count() == 2


def test_health_detail_is_kept_only_when_shared_by_someone_who_may_read_it(world, provider):
    shared = send(world, provider, share_health=True, health_info="Pas de station debout prolongée")
    assert shared.health_shared and shared.health_info == "Pas de station debout prolongée"
    services.move(shared, S.REFUSED, actor=PROVIDER, by=provider["admin"], reason="full")
    not_ticked = send(world, provider, share_health=False, health_info="Pas de station debout prolongée")
    assert not not_ticked.health_shared and not_ticked.health_info == ""
    services.move(not_ticked, S.REFUSED, actor=PROVIDER, by=provider["admin"], reason="full")
    assert not access_of(world["member"], world["person"]).can_see_health
    by_member = send(world, provider, user="member", share_health=True, health_info=HEALTH_SECRET)
    assert not by_member.health_shared and by_member.health_info == ""


# --- Transitions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("start", list(S.values))
def test_every_transition_is_allowed_or_refused_for_each_actor(world, provider, start):
    action = ActionFactory(territory=world["territory"], structure=provider["structure"])  # no capacity
    by = {SENDER: world["referent"], PROVIDER: provider["admin"], SYSTEM: None}
    checked = 0
    for target in S.values:
        for actor in (SENDER, PROVIDER, SYSTEM):
            referral = bring_to(factory_referral(world, action), start, world, provider)
            rule = workflows.TRANSITIONS.get((start, target))
            allowed = rule is not None and actor in rule.actors
            count = ReferralTransition.objects.filter(referral=referral).count()
            if allowed:
                services.move(referral, target, actor=actor, by=by[actor], **kwargs_for(target))
                referral.refresh_from_db()
                assert referral.status == target
                last = referral.transitions.last()
                assert (last.from_status, last.to_status, last.by) == (start, target, by[actor])
            else:
                with pytest.raises(ValidationError):
                    services.move(referral, target, actor=actor, by=by[actor], **kwargs_for(target))
                referral.refresh_from_db()
                assert referral.status == start
                assert ReferralTransition.objects.filter(referral=referral).count() == count
            checked += 1
    assert checked == len(S.values) * 3


def test_refusal_and_drop_need_a_reason_from_their_list(world, provider):
    referral = send(world, provider)
    for bad in ("", "because"):
        with pytest.raises(ValidationError) as exc:
            services.move(referral, S.REFUSED, actor=PROVIDER, by=provider["admin"], reason=bad)
        assert exc.value.message_dict["reason"] == ["Choisissez le motif du refus dans la liste."]
    services.move(referral, S.ACCEPTED, actor=PROVIDER, by=provider["admin"])
    with pytest.raises(ValidationError) as exc:
        services.move(referral, S.DROPPED, actor=SENDER, by=world["referent"], reason="job-ish")
    assert exc.value.message_dict["reason"] == ["Choisissez le motif de l'abandon dans la liste."]
    with pytest.raises(ValidationError) as exc:
        services.move(referral, S.CANCELLED, actor=SENDER, by=world["referent"], reason="  ")
    assert "motif de l'annulation" in str(exc.value)
    services.move(referral, S.DROPPED, actor=SENDER, by=world["referent"], reason="mobility", text="Plus de bus.")
    referral.refresh_from_db()
    assert (referral.drop_reason, referral.status_text, referral.ended_on) == (
        "mobility", "Plus de bus.", timezone.localdate())
    assert referral.transitions.last().reason == "Difficulté de transport"


def test_answer_sets_who_when_and_how(world, provider):
    referral = send(world, provider)
    services.move(referral, S.REFUSED, actor=PROVIDER, by=provider["referent"], reason="not_eligible",
                  text="Public jeunes uniquement.")
    referral.refresh_from_db()
    assert referral.answered_by == provider["referent"] and not referral.answered_via_link
    assert referral.answered_at is not None
    assert (referral.refusal_reason, referral.status_text) == ("not_eligible", "Public jeunes uniquement.")


def test_dates_of_start_and_end(world, provider):
    referral = send(world, provider)
    services.move(referral, S.ACCEPTED, actor=PROVIDER, by=provider["admin"],
                  start_date=timezone.localdate() + datetime.timedelta(days=3))
    Referral.objects.filter(pk=referral.pk).update(sent_at=timezone.now() - datetime.timedelta(days=5))
    with pytest.raises(ValidationError) as exc:  # not before the referral was sent
        services.move(referral, S.STARTED, actor=SENDER, by=world["referent"],
                      on=timezone.localdate() - datetime.timedelta(days=9))
    assert "précéder l'envoi" in str(exc.value)
    started = timezone.localdate() - datetime.timedelta(days=2)
    services.move(referral, S.STARTED, actor=SENDER, by=world["referent"], on=started)
    with pytest.raises(ValidationError) as exc:  # an end before the start
        services.move(referral, S.COMPLETED, actor=PROVIDER, by=provider["admin"],
                      on=started - datetime.timedelta(days=1))
    assert "précéder le" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        services.move(referral, S.COMPLETED, actor=PROVIDER, by=provider["admin"],
                      on=timezone.localdate() + datetime.timedelta(days=1))
    assert "futur" in str(exc.value)
    services.move(referral, S.COMPLETED, actor=PROVIDER, by=provider["admin"])
    referral.refresh_from_db()
    assert referral.start_date == timezone.localdate() + datetime.timedelta(days=3)
    assert (referral.started_on, referral.ended_on) == (started, timezone.localdate())


# --- Places -------------------------------------------------------------------------------------------


def test_places_left_follow_accepted_referrals(world, provider):
    action = provider["action"]  # capacity 8, no sessions
    referral = send(world, provider)
    action.refresh_from_db()
    services.move(referral, S.ACCEPTED, actor=PROVIDER, by=provider["admin"])
    action.refresh_from_db()
    assert (action.places_taken, action.places_left_total) == (1, 7)
    services.move(referral, S.DROPPED, actor=PROVIDER, by=provider["admin"], reason="no_show")
    action.refresh_from_db()
    assert (action.places_taken, action.places_left_total) == (0, 8)


def test_a_full_session_or_action_cannot_accept_more(world, provider):
    action = ActionFactory(territory=world["territory"], structure=provider["structure"], capacity=None)
    session = ActionSessionFactory(action=action, capacity=1)
    first, second = factory_referral(world, action, session=session), factory_referral(world, action)
    services.move(first, S.ACCEPTED, actor=PROVIDER, by=provider["admin"])
    session.refresh_from_db()
    action.refresh_from_db()
    assert (session.places_taken, action.places_left_total) == (1, 0)
    with pytest.raises(ValidationError) as exc:
        services.move(second, S.ACCEPTED, actor=PROVIDER, by=provider["admin"], session=session)
    assert "complète" in " ".join(exc.value.message_dict["session"])
    second.refresh_from_db()
    assert second.status == S.SENT
    services.move(first, S.DROPPED, actor=SENDER, by=world["referent"], reason="job")
    services.move(second, S.ACCEPTED, actor=PROVIDER, by=provider["admin"], session=session)
    second.refresh_from_db()
    session.refresh_from_db()
    assert second.session == session and second.start_date == session.starts_on and session.places_taken == 1

    single = ActionFactory(territory=world["territory"], structure=provider["structure"], capacity=1)
    a, b = factory_referral(world, single), factory_referral(world, single)
    services.move(a, S.ACCEPTED, actor=PROVIDER, by=provider["admin"])
    with pytest.raises(ValidationError) as exc:
        services.move(b, S.ACCEPTED, actor=PROVIDER, by=provider["admin"])
    assert "Plus de place disponible" in str(exc.value)


def test_accepting_into_another_session_of_the_action(world, provider):
    action = provider["action"]
    asked = ActionSessionFactory(action=action, capacity=5)
    chosen = ActionSessionFactory(action=action, capacity=5, starts_on=timezone.localdate() + datetime.timedelta(40))
    referral = send(world, provider, session=asked)
    foreign = ActionSessionFactory(action=ActionFactory(territory=world["territory"]))
    with pytest.raises(ValidationError):
        services.move(referral, S.ACCEPTED, actor=PROVIDER, by=provider["admin"], session=foreign)
    services.move(referral, S.ACCEPTED, actor=PROVIDER, by=provider["admin"], session=chosen)
    asked.refresh_from_db()
    chosen.refresh_from_db()
    assert (asked.places_taken, chosen.places_taken) == (0, 1)


# --- Plan, timeline --------------------------------------------------------------------------------


def open_objective(world, label="Retrouver confiance"):
    return PlanObjective.objects.create(person=world["person"], label=label, created_by=world["referent"],
                                        structure=world["ref_structure"])


def test_plan_action_is_created_and_follows_the_referral(world, provider):
    objective = open_objective(world)
    referral = send(world, provider, plan_objective=objective)
    plan_action = referral.plan_action
    assert plan_action is not None and plan_action.objective == objective
    assert (plan_action.label, plan_action.responsible_structure, plan_action.provider, plan_action.status) == (
        "Atelier confiance en soi", provider["structure"], "Organisme Former 31", PlanStatus.PLANNED)
    services.move(referral, S.ACCEPTED, actor=PROVIDER, by=provider["admin"])
    plan_action.refresh_from_db()
    assert plan_action.status == PlanStatus.PLANNED
    services.move(referral, S.STARTED, actor=PROVIDER, by=provider["admin"])
    plan_action.refresh_from_db()
    assert plan_action.status == PlanStatus.IN_PROGRESS and plan_action.started_on == timezone.localdate()
    services.move(referral, S.COMPLETED, actor=SENDER, by=world["referent"])
    plan_action.refresh_from_db()
    assert plan_action.status == PlanStatus.DONE
    log = [(t.from_status, t.to_status) for t in PlanTransition.objects.filter(action=plan_action).order_by("id")]
    assert log == [("", "planned"), ("planned", "in_progress"), ("in_progress", "done")]


@pytest.mark.parametrize("path, expected", [
    ([(S.REFUSED, PROVIDER)], PlanStatus.CANCELLED),
    ([(S.EXPIRED, SYSTEM)], PlanStatus.CANCELLED),
    ([(S.CANCELLED, SENDER)], PlanStatus.CANCELLED),
    ([(S.ACCEPTED, PROVIDER), (S.DROPPED, PROVIDER)], PlanStatus.CANCELLED),  # never started: cancelled
    ([(S.ACCEPTED, PROVIDER), (S.STARTED, SENDER), (S.DROPPED, PROVIDER)], PlanStatus.ABANDONED),
])
def test_plan_action_closes_with_the_referral(world, provider, path, expected):
    referral = send(world, provider, plan_objective=open_objective(world))
    by = {SENDER: world["referent"], PROVIDER: provider["admin"], SYSTEM: None}
    for target, actor in path:
        services.move(referral, target, actor=actor, by=by[actor], **kwargs_for(target))
    plan_action = PlanAction.objects.get(pk=referral.plan_action_id)
    assert plan_action.status == expected
    last = PlanTransition.objects.filter(action=plan_action).order_by("id").last()
    assert last.to_status == expected and "Orientation vers l'action" in last.reason


def test_an_objective_of_another_person_is_refused(world, provider):
    from tests.people.factories import PersonFactory

    stranger = PersonFactory(territory=world["territory"])
    objective = PlanObjective.objects.create(person=stranger, label="X", created_by=world["referent"],
                                             structure=world["ref_structure"])
    with pytest.raises(ValidationError) as exc:
        send(world, provider, plan_objective=objective)
    assert "plan_objective" in exc.value.message_dict
    assert not PlanAction.objects.exists()


def test_each_step_adds_a_timeline_event_without_health_detail(world, provider):
    referral = send(world, provider, share_health=True, health_info=HEALTH_SECRET)
    services.move(referral, S.ACCEPTED, actor=PROVIDER, by=provider["admin"])
    services.move(referral, S.STARTED, actor=PROVIDER, by=provider["admin"])
    services.move(referral, S.DROPPED, actor=PROVIDER, by=provider["admin"], reason="health",
                  text=HEALTH_SECRET)
    events = TimelineEvent.objects.filter(person=world["person"], kind__startswith="referral_").order_by("id")
    assert [e.kind for e in events] == ["referral_sent", "referral_accepted", "referral_started", "referral_dropped"]
    assert events[1].structure == provider["structure"] and events[1].actor == provider["admin"]
    for event in events:
        assert HEALTH_SECRET not in event.title + event.detail


# --- E-mails ------------------------------------------------------------------------------------------


def test_sending_mails_the_provider_and_the_person_without_private_detail(world, provider,
                                                                         django_capture_on_commit_callbacks):
    session = ActionSessionFactory(action=provider["action"], capacity=5, place="Salle 2, 4 place du Marché")
    with django_capture_on_commit_callbacks(execute=True):
        referral = send(world, provider, session=session, share_health=True, health_info=HEALTH_SECRET)
    by_to = {m.to[0]: m for m in mail.outbox}
    assert set(by_to) == {"accueil@former31.example", provider["action"].email, PERSON_EMAIL}
    to_provider = by_to["accueil@former31.example"].body
    assert "Camille D." in to_provider and "Dupuis" not in to_provider
    token = token_in(to_provider)
    assert links.read_token(token) == referral
    assert "/catalogue/orientations/" in to_provider  # the structure has members: its space
    to_person = by_to[PERSON_EMAIL].body
    assert "Atelier confiance en soi" in to_person and "Salle 2, 4 place du Marché" in to_person
    assert session.starts_on.strftime("%d/%m/%Y") in to_person
    assert "vous appellera au téléphone" in to_person
    for message in mail.outbox:
        for secret in (HEALTH_SECRET, MOTIVATION, PROVIDER_INFO):
            assert secret not in message.body and secret not in message.subject


def test_answers_mail_the_sender_and_the_person(world, provider, django_capture_on_commit_callbacks):
    referral = send(world, provider, preferred_contact="referent")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.move(referral, S.REFUSED, actor=PROVIDER, by=provider["admin"], reason="full",
                      text="Texte interne du refus")
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted(["rose@tremplin.example", PERSON_EMAIL])
    for message in mail.outbox:
        assert "Texte interne du refus" not in message.body and "Plus de place" not in message.body
        assert MOTIVATION not in message.body
    sender_mail = next(m for m in mail.outbox if m.to == ["rose@tremplin.example"])
    assert "refusé" in sender_mail.body and f"/catalogue/orientations/{referral.uid}/" in sender_mail.body


def test_acceptance_mail_tells_the_person_where_when_and_who(world, provider, django_capture_on_commit_callbacks):
    referral = send(world, provider, preferred_contact="email")
    mail.outbox.clear()
    start = timezone.localdate() + datetime.timedelta(days=5)
    with django_capture_on_commit_callbacks(execute=True):
        services.move(referral, S.ACCEPTED, actor=PROVIDER, by=provider["admin"], start_date=start)
    person_mail = next(m for m in mail.outbox if m.to == [PERSON_EMAIL])
    assert "a accepté" in person_mail.body and start.strftime("%d/%m/%Y") in person_mail.body
    assert "12 rue des Lilas" in person_mail.body and "vous écrira par courriel" in person_mail.body
    assert any(m.to == ["rose@tremplin.example"] for m in mail.outbox)


def test_steps_by_the_sender_mail_the_provider(world, provider, django_capture_on_commit_callbacks):
    referral = send(world, provider)
    services.move(referral, S.ACCEPTED, actor=PROVIDER, by=provider["admin"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.move(referral, S.STARTED, actor=SENDER, by=world["referent"])
    assert sorted(m.to[0] for m in mail.outbox) == sorted(["accueil@former31.example", provider["action"].email])


# --- Expiry and reminders ---------------------------------------------------------------------------


def age(referral, days, hours=0):
    Referral.objects.filter(pk=referral.pk).update(
        sent_at=timezone.now() - datetime.timedelta(days=days, hours=hours))


def test_unanswered_referrals_expire_after_30_days(world, provider, django_capture_on_commit_callbacks):
    old = send(world, provider, plan_objective=open_objective(world))
    young = send(world, provider, action=ActionFactory(territory=world["territory"], structure=provider["structure"]))
    answered = send(world, provider, action=ActionFactory(territory=world["territory"],
                                                          structure=provider["structure"]))
    services.move(answered, S.ACCEPTED, actor=PROVIDER, by=provider["admin"])
    age(old, 30, 1)
    age(young, 29, 23)
    age(answered, 45)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.expire_due() == 1
    old.refresh_from_db()
    young.refresh_from_db()
    answered.refresh_from_db()
    assert (old.status, young.status, answered.status) == (S.EXPIRED, S.SENT, S.ACCEPTED)
    last = old.transitions.last()
    assert (last.from_status, last.to_status, last.by) == (S.SENT, S.EXPIRED, None)
    assert TimelineEvent.objects.filter(person=world["person"], kind="referral_expired").count() == 1
    assert PlanAction.objects.get(pk=old.plan_action_id).status == PlanStatus.CANCELLED
    assert "rose@tremplin.example" in {m.to[0] for m in mail.outbox}
    with pytest.raises(links.LinkInvalid):  # final: the old link no longer answers
        links.read_token(links.make_token(Referral(uid=old.uid, link_version=1)))
    assert services.expire_due() == 0


def test_expiry_delay_is_a_territory_setting(world, provider):
    territory = world["territory"]
    territory.settings = {"referral_expiry_days": 5}
    territory.save()
    referral = send(world, provider)
    age(referral, 4)
    assert services.expire_due() == 0
    assert services.expire_due(now=timezone.now() + datetime.timedelta(days=1, hours=1)) == 1


def test_reminder_after_10_days_with_a_fresh_link_once(world, provider, django_capture_on_commit_callbacks):
    due = send(world, provider)
    early = send(world, provider, action=ActionFactory(territory=world["territory"], structure=provider["structure"]))
    age(due, 10, 1)
    age(early, 9)
    old_token = links.make_token(due)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_due_reminders() == 1
    due.refresh_from_db()
    early.refresh_from_db()
    assert due.reminder_sent_at is not None and early.reminder_sent_at is None
    assert due.link_version == 2
    assert due.link_expires_at > timezone.now() + datetime.timedelta(days=7)
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted(["accueil@former31.example", due.action.email, "rose@tremplin.example"])
    provider_mail = next(m for m in mail.outbox if m.to == ["accueil@former31.example"])
    assert "relance" in provider_mail.subject.lower()
    assert links.read_token(token_in(provider_mail.body)) == due
    with pytest.raises(links.LinkInvalid):
        links.read_token(old_token)
    for message in mail.outbox:
        assert MOTIVATION not in message.body
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_due_reminders() == 0
    assert mail.outbox == []


def test_reminder_delay_is_a_territory_setting_and_answered_ones_are_skipped(world, provider):
    territory = world["territory"]
    territory.settings = {"referral_reminder_days": 3}
    territory.save()
    waiting = send(world, provider)
    accepted = send(world, provider, action=ActionFactory(territory=world["territory"],
                                                          structure=provider["structure"]))
    services.move(accepted, S.ACCEPTED, actor=PROVIDER, by=provider["admin"])
    age(waiting, 3, 1)
    age(accepted, 20)
    assert services.send_due_reminders() == 1
    accepted.refresh_from_db()
    assert accepted.reminder_sent_at is None


def test_task_and_command_run_expiry_and_reminders(world, provider, capsys):
    expired = send(world, provider)
    reminded = send(world, provider, action=ActionFactory(territory=world["territory"],
                                                          structure=provider["structure"]))
    age(expired, 31)
    age(reminded, 11)
    result = process_referral_deadlines.enqueue()
    assert result.return_value == {"expired": 1, "reminded": 1}
    call_command("referral_reminders")
    out = capsys.readouterr().out
    assert "0 orientation expirée, 0 relance envoyée." in out


# --- Renewal and hours ---------------------------------------------------------------------------------


def test_renew_link_by_either_side_only_while_open(world, provider, django_capture_on_commit_callbacks):
    referral = send(world, provider)
    first = links.make_token(referral)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.renew_link(referral, by=world["referent"])
    referral.refresh_from_db()
    assert referral.link_version == 2
    assert {m.to[0] for m in mail.outbox} == {"accueil@former31.example", referral.action.email}
    services.renew_link(referral, by=provider["referent"])
    referral.refresh_from_db()
    assert referral.link_version == 3
    with pytest.raises(PermissionDenied):
        services.renew_link(referral, by=world["outsider"])
    with pytest.raises(links.LinkInvalid):
        links.read_token(first)
    services.move(referral, S.REFUSED, actor=PROVIDER, by=provider["admin"], reason="full")
    with pytest.raises(ValidationError) as exc:
        services.renew_link(referral, by=world["referent"])
    assert "ne peut plus être renouvelé" in str(exc.value)


def test_weekly_hours_count_accepted_and_started_actions(world, provider):
    assert services.weekly_hours_of(world["person"]) == Decimal("0")
    make = lambda hours: ActionFactory(territory=world["territory"], structure=provider["structure"],  # noqa: E731
                                       weekly_hours=hours)
    accepted = send(world, provider, action=make(3))
    started = send(world, provider, action=make(Decimal("4.5")))
    refused = send(world, provider, action=make(6))
    completed = send(world, provider, action=make(2))
    send(world, provider, action=make(10))  # still sent
    send(world, provider, action=make(None))
    services.move(accepted, S.ACCEPTED, actor=PROVIDER, by=provider["admin"])
    bring_to(started, S.STARTED, world, provider)
    bring_to(refused, S.REFUSED, world, provider)
    bring_to(completed, S.COMPLETED, world, provider)
    assert services.weekly_hours_of(world["person"]) == Decimal("7.5")


def test_without_sessions_a_completed_referral_frees_its_place(world, provider):
    action = provider["action"]
    action.capacity = 1
    action.save()
    referral = send(world, provider)
    services.move(referral, S.ACCEPTED, actor=PROVIDER, by=provider["admin"])
    action.refresh_from_db()
    assert action.places_left_total == 0
    services.move(referral, S.STARTED, actor=SENDER, by=world["referent"])
    services.move(referral, S.COMPLETED, actor=PROVIDER, by=provider["admin"])
    action.refresh_from_db()
    assert (action.places_taken, action.places_left_total) == (0, 1)


def test_an_action_of_another_territory_cannot_be_referred_to(world, provider):
    from .factories import ActionFactory

    other = ActionFactory(territory=world["gers"], structure=world["gers_structure"])
    with pytest.raises(ValidationError) as exc:
        send(world, provider, action=other)
    assert "territoire" in str(exc.value)
