"""Orientation services: proposal, decision (the new référent takes over the group), réorientation
request, refusal, cancellation, timeline events and e-mails."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from spie.diagnostics.models import OrientationType
from spie.network.models import Membership
from spie.pathways import services
from spie.pathways.models import Orientation
from spie.people.models import FollowUpMembership, TimelineEvent
from tests.network.factories import MembershipFactory, StructureFactory

from .conftest import HEALTH_SECRET, PERSON_EMAIL, membership_of
from .factories import make_diagnostic, make_orientation

S = Orientation.Status
PRO, SOCIO, SOCIAL = OrientationType.PROFESSIONAL, OrientationType.SOCIO_PROFESSIONAL, OrientationType.SOCIAL


def propose(world, who="referent", **kwargs):
    kwargs.setdefault("type", SOCIO)
    kwargs.setdefault("reason", "Freins de logement à lever en parallèle de la recherche d'emploi")
    return services.propose_orientation(world["person"], membership_of(world[who]), **kwargs)


def decide(world, orientation, who="officer", **kwargs):
    kwargs.setdefault("type", orientation.proposed_type)
    kwargs.setdefault("structure", world["other_structure"])
    kwargs.setdefault("referent_user", world["new_referent"])
    kwargs.setdefault("reason", "")
    return services.decide_orientation(orientation, membership_of(world[who]), **kwargs)


def active_group(person):
    return {
        (f.user_id, f.kind, f.structure_id)
        for f in FollowUpMembership.objects.filter(person=person, end_date__isnull=True)
    }


def test_proposal_is_logged_in_the_workflow_and_the_timeline(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        orientation = propose(world, structure=world["other_structure"])
    assert orientation.status == S.PROPOSED
    assert orientation.kind == Orientation.Kind.ORIENTATION
    assert orientation.proposed_by == world["referent"]
    log = list(orientation.transitions.values_list("from_status", "to_status", "by"))
    assert log == [("", S.PROPOSED, world["referent"].pk)]
    event = TimelineEvent.objects.get(person=world["person"], kind="orientation_proposed")
    assert event.title == "Orientation proposée : Socio-professionnelle — Mission locale Ouest"
    assert event.actor == world["referent"]


@pytest.mark.parametrize("who", ["referent", "member", "officer"])
def test_who_may_propose(world, who):
    assert propose(world, who).proposed_by == world[who]


@pytest.mark.parametrize("who", ["outsider", "admin_ref", "coordinator", "gers_officer"])
def test_who_may_not_propose(world, who):
    with pytest.raises(PermissionDenied):
        propose(world, who)
    assert not Orientation.objects.exists()


def test_one_pending_proposal_per_person(world):
    propose(world)
    with pytest.raises(ValidationError, match="déjà en attente"):
        propose(world, "member", type=PRO)
    assert Orientation.objects.count() == 1


def test_the_database_refuses_a_second_pending_proposal(world):
    make_orientation(world["person"], world["referent"])
    with pytest.raises(IntegrityError), transaction.atomic():
        make_orientation(world["person"], world["member"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"type": "inconnue"}, "type d'orientation"),
        ({"reason": "  "}, "motif de la proposition"),
    ],
)
def test_proposal_input_errors_are_french(world, kwargs, message):
    with pytest.raises(ValidationError, match=message):
        propose(world, **kwargs)


def test_proposal_refuses_a_structure_of_another_territory(world):
    with pytest.raises(ValidationError, match="structure active du territoire"):
        propose(world, structure=world["gers_structure"])


def test_proposal_from_a_diagnostic_of_another_person_is_refused(world):
    from tests.people.factories import PersonFactory

    other = PersonFactory(territory=world["territory"])
    diagnostic = make_diagnostic(other, world["referent"], world["ref_structure"])
    with pytest.raises(ValidationError, match="diagnostic"):
        propose(world, diagnostic=diagnostic)


def test_after_a_decision_a_change_is_a_reorientation(world):
    decide(world, propose(world))
    with pytest.raises(ValidationError, match="réorientation"):
        propose(world, "member")


def test_decision_makes_the_chosen_user_referent_and_keeps_history(world, django_capture_on_commit_callbacks):
    person = world["person"]
    orientation = propose(world)
    with django_capture_on_commit_callbacks(execute=True):
        decide(world, orientation, reason="Conforme à la proposition")
    orientation.refresh_from_db()
    assert orientation.status == S.DECIDED
    assert orientation.decided_type == SOCIO
    assert orientation.decided_structure == world["other_structure"]
    assert orientation.decided_referent == world["new_referent"]
    assert orientation.decided_by == world["officer"]
    assert orientation.decided_at is not None
    assert list(orientation.transitions.values_list("from_status", "to_status")) == [
        ("", S.PROPOSED), (S.PROPOSED, S.DECIDED)
    ]
    # The new référent is référent unique for the chosen structure; the previous one stays member.
    group = active_group(person)
    assert (world["new_referent"].pk, FollowUpMembership.Kind.REFERENT, world["other_structure"].pk) in group
    assert (world["referent"].pk, FollowUpMembership.Kind.MEMBER, world["ref_structure"].pk) in group
    assert (world["member"].pk, FollowUpMembership.Kind.MEMBER, world["other_structure"].pk) in group
    assert FollowUpMembership.objects.filter(person=person, kind="referent", end_date__isnull=True).count() == 1
    # History: the old référent row is closed, not rewritten.
    closed = FollowUpMembership.objects.get(person=person, user=world["referent"], kind="referent")
    assert closed.end_date is not None
    assert closed.end_reason.startswith("Changement de référent")
    kinds = list(TimelineEvent.objects.filter(person=person).values_list("kind", flat=True))
    assert {"orientation_proposed", "orientation_decided", "group_joined", "referent"} <= set(kinds)


def test_decision_for_a_group_member_promotes_their_membership(world):
    person = world["person"]
    orientation = propose(world)
    decide(world, orientation, referent_user=world["member"])
    group = active_group(person)
    assert (world["member"].pk, FollowUpMembership.Kind.REFERENT, world["other_structure"].pk) in group
    assert FollowUpMembership.objects.filter(person=person, user=world["member"], end_date__isnull=True).count() == 1


def test_decision_keeping_the_current_referent_changes_nothing_in_the_group(world):
    person = world["person"]
    before = active_group(person)
    decide(world, propose(world), structure=world["ref_structure"], referent_user=world["referent"])
    assert active_group(person) == before


def test_decision_refuses_a_referent_outside_the_structure(world):
    orientation = propose(world)
    with pytest.raises(ValidationError, match="Mission locale Ouest"):
        decide(world, orientation, referent_user=world["referent"])  # belongs to Association Tremplin
    orientation.refresh_from_db()
    assert orientation.status == S.PROPOSED


def test_decision_refuses_an_inactive_membership(world):
    orientation = propose(world)
    Membership.objects.filter(user=world["new_referent"]).update(is_active=False)
    with pytest.raises(ValidationError, match="pas un professionnel actif"):
        decide(world, orientation)


def test_decision_refuses_a_structure_of_another_territory(world):
    orientation = propose(world)
    gers_referent = MembershipFactory(structure=world["gers_structure"]).user
    with pytest.raises(ValidationError, match="structure active du territoire"):
        decide(world, orientation, structure=world["gers_structure"], referent_user=gers_referent)


def test_deciding_another_type_than_proposed_needs_a_reason(world):
    orientation = propose(world)
    with pytest.raises(ValidationError, match="diffère de la proposition"):
        decide(world, orientation, type=SOCIAL)
    decide(world, orientation, type=SOCIAL, reason="Urgence sociale constatée")
    orientation.refresh_from_db()
    assert orientation.decided_type == SOCIAL


@pytest.mark.parametrize("who", ["referent", "member", "admin_ref", "gers_officer"])
def test_only_a_chargé_d_orientation_of_the_territory_decides(world, who):
    orientation = propose(world)
    with pytest.raises(PermissionDenied):
        decide(world, orientation, who=who)


def test_the_person_of_another_territory_cannot_be_decided_by_us(world):
    orientation = propose(world)
    orientation.person.territory = world["gers"]
    with pytest.raises(PermissionDenied):
        decide(world, orientation, who="officer")


def test_reorientation_request_and_refusal(world, django_capture_on_commit_callbacks):
    person = world["person"]
    first = propose(world)
    decide(world, first, structure=world["ref_structure"], referent_user=world["referent"])
    with pytest.raises(PermissionDenied):
        services.request_reorientation(person, membership_of(world["member"]), type=SOCIAL, reason="x")
    with pytest.raises(ValidationError, match="motif"):
        services.request_reorientation(person, membership_of(world["referent"]), type=SOCIAL, reason="")
    request = services.request_reorientation(
        person, membership_of(world["referent"]), type=SOCIAL, structure=world["other_structure"],
        reason="Situation de logement dégradée",
    )
    assert request.kind == Orientation.Kind.REORIENTATION
    with pytest.raises(ValidationError, match="motif du refus"):
        services.refuse(request, membership_of(world["officer"]), "")
    with pytest.raises(PermissionDenied):
        services.refuse(request, membership_of(world["referent"]), "Non")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.refuse(request, membership_of(world["officer"]), "L'accompagnement actuel reste adapté")
    request.refresh_from_db()
    assert request.status == S.REFUSED
    assert request.decision_reason == "L'accompagnement actuel reste adapté"
    assert list(request.transitions.values_list("to_status", "reason")) == [
        (S.PROPOSED, "Situation de logement dégradée"), (S.REFUSED, "L'accompagnement actuel reste adapté")
    ]
    assert TimelineEvent.objects.filter(person=person, kind="reorientation_refused").exists()
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted([world["referent"].email, PERSON_EMAIL])
    for message in mail.outbox:
        assert "L'accompagnement actuel reste adapté" not in message.body  # the reason stays on the platform
        assert "Dupuis" not in message.body


def test_reorientation_needs_a_decided_orientation(world):
    with pytest.raises(ValidationError, match="proposez une orientation"):
        services.request_reorientation(world["person"], membership_of(world["referent"]), type=SOCIAL, reason="x")


def test_a_reorientation_decided_moves_the_follow_up(world):
    person = world["person"]
    decide(world, propose(world), structure=world["ref_structure"], referent_user=world["referent"])
    request = services.request_reorientation(
        person, membership_of(world["referent"]), type=SOCIAL, structure=world["other_structure"], reason="Besoin"
    )
    decide(world, request, type=SOCIAL)
    referent = FollowUpMembership.objects.get(person=person, kind="referent", end_date__isnull=True)
    assert referent.user == world["new_referent"]
    assert Orientation.objects.filter(person=person, status=S.DECIDED).count() == 2


def test_cancel_needs_a_reason_and_frees_the_slot(world):
    orientation = propose(world)
    with pytest.raises(ValidationError, match="motif de l'annulation"):
        services.cancel(orientation, membership_of(world["referent"]), "")
    with pytest.raises(PermissionDenied):
        services.cancel(orientation, membership_of(world["outsider"]), "Erreur")
    services.cancel(orientation, membership_of(world["referent"]), "Erreur de saisie")
    orientation.refresh_from_db()
    assert orientation.status == S.CANCELLED
    assert TimelineEvent.objects.filter(person=world["person"], kind="orientation_cancelled").exists()
    assert propose(world, "member").status == S.PROPOSED


def test_a_refused_or_cancelled_orientation_cannot_be_decided(world):
    orientation = propose(world)
    services.cancel(orientation, membership_of(world["referent"]), "Erreur")
    with pytest.raises(ValidationError, match="Transition impossible"):
        decide(world, orientation)


# --- E-mails ---------------------------------------------------------------------------------


def test_proposal_mails_the_chargés_d_orientation_with_a_count_and_a_link(world, django_capture_on_commit_callbacks):
    make_orientation(world["person"].__class__.objects.create(
        territory=world["territory"], first_name="Autre", last_name="Personne", birth_date="1990-01-01",
    ), world["referent"])
    with django_capture_on_commit_callbacks(execute=True):
        propose(world, base_url="https://spie.example")
    officer_mails = [m for m in mail.outbox if m.to[0] in {world["officer"].email, world["officer2"].email}]
    assert sorted(m.to[0] for m in officer_mails) == sorted([world["officer"].email, world["officer2"].email])
    assert world["gers_officer"].email not in [m.to[0] for m in mail.outbox]
    message = officer_mails[0]
    assert message.subject == "SPIE — une nouvelle demande d'orientation à traiter"
    assert "Demandes en attente sur le territoire : 2." in message.body
    assert "https://spie.example/orientations/" in message.body
    assert "Camille D." in message.body
    for text in ("Dupuis", "DUPUIS", "logement", HEALTH_SECRET, "Socio"):
        assert text not in message.body
    person_mail = next(m for m in mail.outbox if m.to == [PERSON_EMAIL])
    assert person_mail.subject == "Votre accompagnement : votre dossier est à l'étude"
    assert person_mail.body.startswith("Bonjour Camille,")


def test_no_mail_when_the_transaction_fails(world, django_capture_on_commit_callbacks):
    propose(world)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        propose(world, "member")
    assert mail.outbox == []


def test_decision_mails_the_new_referent_the_proposer_and_the_person(world, django_capture_on_commit_callbacks):
    orientation = propose(world, "member")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        decide(world, orientation, reason="Le motif reste sur la plateforme")
    by_address = {m.to[0]: m for m in mail.outbox}
    assert set(by_address) == {world["new_referent"].email, world["member"].email, PERSON_EMAIL}
    to_referent = by_address[world["new_referent"].email]
    assert to_referent.subject == "SPIE — orientation décidée pour Camille D."
    assert "référent(e) unique de Camille D." in to_referent.body
    assert f"/personnes/{world['person'].pk}/orientation/" in to_referent.body
    to_person = by_address[PERSON_EMAIL]
    assert to_person.subject == "Votre accompagnement : la décision est prise"
    assert "Mission locale Ouest" in to_person.body
    assert "Nina Nouvelle" in to_person.body
    for message in mail.outbox:
        for text in ("Dupuis", HEALTH_SECRET, "Le motif reste sur la plateforme", "ocio-professionnelle", "RSA"):
            assert text not in message.body, (message.to, text)
            assert text not in message.subject


def test_person_without_email_gets_no_mail(world, django_capture_on_commit_callbacks):
    world["person"].email = ""
    world["person"].save()
    with django_capture_on_commit_callbacks(execute=True):
        decide(world, propose(world))
    assert PERSON_EMAIL not in [m.to[0] for m in mail.outbox]
    assert all(m.to[0] for m in mail.outbox)


def test_proposal_refuses_an_inactive_structure(world):
    closed = StructureFactory(territory=world["territory"], is_active=False)
    with pytest.raises(ValidationError):
        propose(world, structure=closed)
