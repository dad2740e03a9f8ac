"""Writes on actions and sessions (``spie.catalogue.services.actions``): policy, freshness,
lifecycle and publish checks, suspensions, models and their sites, sessions and places."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from spie.catalogue import places
from spie.catalogue.models import Action, ActionStatus
from spie.catalogue.services import actions as services
from tests.catalogue.factories import ActionFactory, ActionSessionFactory, ReferralFactory
from tests.network.factories import CommuneFactory

from .conftest import membership_of

S = ActionStatus
TODAY = timezone.localdate


def days(n):
    return TODAY() + datetime.timedelta(days=n)


def new_data(**fields):
    data = {
        "name": "Découverte des métiers du bâtiment",
        "summary": "Une journée sur un chantier école.",
        "description": "Visite d'un chantier, rencontre avec des compagnons et essai des gestes du métier.",
        "type": "information",
        "thematiques": ["choisir-un-metier--decouvrir-un-metier-ou-un-secteur-dactivite"],
        "reception_modes": ["en-presentiel"],
        "mobilisation_modes": ["telephoner"],
        "phone": "05 61 11 22 33",
    }
    data.update(fields)
    return data


@pytest.fixture
def admin(provider):
    return membership_of(provider["admin"])


@pytest.fixture
def referent(provider):
    return membership_of(provider["referent"])


def accept(action, world, session=None):
    """A referral holding a place (accepted) in ``action`` (or one of its sessions)."""
    referral = ReferralFactory(
        person=world["person"], action=action, session=session, from_structure=world["ref_structure"],
        sent_by=world["referent"], status="accepted",
    )
    places.refresh_action(action)
    return referral


# --- Policy ------------------------------------------------------------------------------------


def test_admin_and_referent_of_the_structure_create_a_draft(provider, admin, referent):
    for membership in (admin, referent):
        action = services.create_action(membership=membership, data=new_data(commune=provider["muret"]))
        assert action.status == S.DRAFT
        assert action.structure == provider["structure"] and action.territory_id == provider["structure"].territory_id
        assert action.created_by == membership.user
        assert action.content_updated_on == TODAY()
        assert " batiment " in action.search_text or " bat " in action.search_text
        assert action.lat == pytest.approx(provider["muret"].lat)


@pytest.mark.parametrize("who", ["referent", "coordinator", "officer", "outsider"])
def test_others_may_not_touch_the_structure_actions(world, provider, who):
    membership = membership_of(world[who])
    with pytest.raises(PermissionDenied):
        services.create_action(membership=membership, data=new_data(), structure=provider["structure"])
    with pytest.raises(PermissionDenied):
        services.update_action(action=provider["action"], membership=membership, data={"name": "Piratage"})
    with pytest.raises(PermissionDenied):
        services.change_status(provider["action"], S.ARCHIVED, by=membership)
    assert Action.objects.get(pk=provider["action"].pk).name == "Atelier confiance en soi"


def test_coordinator_of_the_same_structure_may_not_manage(provider):
    from spie.network.models import Membership
    from tests.network.factories import make_professional

    coordinator = make_professional(Membership.Role.COORDINATOR, structure=provider["structure"])
    with pytest.raises(PermissionDenied):
        services.create_action(membership=membership_of(coordinator), data=new_data())


# --- Updates and freshness -------------------------------------------------------------------


def test_update_dates_the_content_and_rederives_keys_and_place(provider, admin):
    action = provider["action"]
    Action.objects.filter(pk=action.pk).update(content_updated_on=days(-300))
    action.refresh_from_db()
    changed = services.update_action(action=action, membership=admin,
                                     data={"name": "Atelier estime de soi", "commune": provider["muret"]})
    assert set(changed) == {"name", "commune"}
    action.refresh_from_db()
    assert action.content_updated_on == TODAY()
    assert " estim " in action.search_text
    assert (action.lat, action.lon) == (pytest.approx(provider["muret"].lat), pytest.approx(provider["muret"].lon))


def test_update_without_change_keeps_the_date(provider, admin):
    action = provider["action"]
    Action.objects.filter(pk=action.pk).update(content_updated_on=days(-30))
    action.refresh_from_db()
    assert services.update_action(action=action, membership=admin, data={"name": action.name}) == []
    action.refresh_from_db()
    assert action.content_updated_on == days(-30)


def test_published_action_must_stay_publishable(provider, admin):
    action = provider["action"]
    with pytest.raises(ValidationError) as error:
        services.update_action(action=action, membership=admin, data={"thematiques": []})
    assert "Choisissez au moins une thématique." in error.value.message_dict["thematiques"]
    assert Action.objects.get(pk=action.pk).thematiques


def test_action_capacity_cannot_go_below_places_taken(world, provider, admin):
    action = provider["action"]
    accept(action, world)
    accept(action, world)
    with pytest.raises(ValidationError) as error:
        services.update_action(action=action, membership=admin, data={"capacity": 1})
    assert error.value.message_dict["capacity"] == ["La capacité ne peut pas être inférieure aux 2 places déjà prises."]
    services.update_action(action=action, membership=admin, data={"capacity": 2})
    action.refresh_from_db()
    assert action.places_left_total == 0


def test_confirm_up_to_date_resets_freshness(provider, admin):
    action = provider["action"]
    Action.objects.filter(pk=action.pk).update(content_updated_on=days(-400))
    action.refresh_from_db()
    assert action.needs_update()
    services.confirm_up_to_date(action, membership=admin)
    action.refresh_from_db()
    assert action.content_updated_on == TODAY() and not action.needs_update()


# --- Lifecycle -------------------------------------------------------------------------------


def test_publish_a_complete_draft_sets_published_at(provider, admin):
    action = services.create_action(membership=admin, data=new_data(commune=provider["muret"]))
    services.change_status(action, S.PUBLISHED, by=admin)
    action.refresh_from_db()
    assert action.status == S.PUBLISHED and action.published_at is not None
    assert action.is_visible


@pytest.mark.parametrize("fields, message", [
    ({"name": "AB"}, "Le nom doit compter entre 3 et 150 caractères."),
    ({"description": ""}, "Ajoutez une description de l'action."),
    ({"thematiques": []}, "Choisissez au moins une thématique."),
    ({"reception_modes": []}, "Indiquez au moins un mode d'accueil (en présentiel ou à distance)."),
    ({"commune": None}, "Indiquez la commune du lieu d'accueil : l'action se déroule en présentiel."),
    ({"mobilisation_modes": []}, "Indiquez comment mobiliser l'action"),
    ({"mobilisation_modes": ["utiliser-lien-mobilisation"]}, "Ajoutez le lien de mobilisation"),
    ({"phone": ""}, "Ajoutez le téléphone à appeler pour mobiliser l'action."),
])
def test_publish_refuses_what_is_missing(provider, admin, fields, message):
    data = new_data(commune=provider["muret"])
    data.update(fields)
    action = Action(territory=provider["structure"].territory, structure=provider["structure"], status=S.DRAFT)
    for name, value in data.items():
        setattr(action, name, value)
    action.save()
    with pytest.raises(ValidationError) as error:
        services.change_status(action, S.PUBLISHED, by=admin)
    assert error.value.messages[0] == "L'action ne peut pas être publiée :"
    assert any(m.startswith(message) for m in error.value.messages), error.value.messages
    assert Action.objects.get(pk=action.pk).status == S.DRAFT


def test_remote_action_needs_no_commune_to_be_published(provider, admin):
    action = services.create_action(membership=admin, data=new_data(reception_modes=["a-distance"]))
    services.change_status(action, S.PUBLISHED, by=admin)
    assert Action.objects.get(pk=action.pk).status == S.PUBLISHED


@pytest.mark.parametrize("start, target, allowed", [
    (S.DRAFT, S.PUBLISHED, True), (S.DRAFT, S.ARCHIVED, True), (S.DRAFT, S.SUSPENDED, False),
    (S.PUBLISHED, S.SUSPENDED, True), (S.PUBLISHED, S.ARCHIVED, True), (S.PUBLISHED, S.DRAFT, True),
    (S.SUSPENDED, S.PUBLISHED, True), (S.SUSPENDED, S.ARCHIVED, True), (S.SUSPENDED, S.DRAFT, False),
    (S.ARCHIVED, S.DRAFT, True), (S.ARCHIVED, S.PUBLISHED, False), (S.ARCHIVED, S.SUSPENDED, False),
    (S.PUBLISHED, S.PUBLISHED, False),
])
def test_lifecycle_transitions(provider, admin, start, target, allowed):
    action = provider["action"]
    Action.objects.filter(pk=action.pk).update(status=start, suspended_until=days(5) if start == S.SUSPENDED else None)
    action.refresh_from_db()
    if allowed:
        services.change_status(action, target, by=admin, until=days(10))
        assert Action.objects.get(pk=action.pk).status == target
    else:
        with pytest.raises(ValidationError):
            services.change_status(action, target, by=admin, until=days(10))
        assert Action.objects.get(pk=action.pk).status == start


def test_suspension_needs_a_future_date(provider, admin):
    action = provider["action"]
    with pytest.raises(ValidationError) as error:
        services.change_status(action, S.SUSPENDED, by=admin)
    assert error.value.message_dict["until"] == ["Indiquez jusqu'à quelle date l'action est suspendue."]
    with pytest.raises(ValidationError) as error:
        services.change_status(action, S.SUSPENDED, by=admin, until=TODAY())
    assert error.value.message_dict["until"] == ["La date de fin de suspension doit être dans le futur."]
    services.change_status(action, S.SUSPENDED, by=admin, until=days(7))
    action.refresh_from_db()
    assert action.status == S.SUSPENDED and action.suspended_until == days(7) and not action.is_visible


def test_expired_suspensions_resume(provider, admin):
    action = provider["action"]
    services.change_status(action, S.SUSPENDED, by=admin, until=days(3))
    later = ActionFactory(territory=provider["structure"].territory, structure=provider["structure"],
                          status=S.SUSPENDED, suspended_until=days(10))
    assert services.resume_expired_suspensions(today=days(3)) == 0  # the date itself is still suspended
    assert services.resume_expired_suspensions(today=days(4)) == 1
    action.refresh_from_db()
    later.refresh_from_db()
    assert action.status == S.PUBLISHED and action.suspended_until is None
    assert later.status == S.SUSPENDED


def test_maintenance_command_resumes_and_counts_stale_actions(provider, admin):
    action = provider["action"]
    Action.objects.filter(pk=action.pk).update(status=S.SUSPENDED, suspended_until=days(-1))
    ActionFactory(territory=provider["structure"].territory, structure=provider["structure"], stale=True)
    ActionFactory(territory=provider["structure"].territory, structure=provider["structure"], stale=True, draft=True)
    out = io.StringIO()
    call_command("catalogue_maintenance", stdout=out)
    text = out.getvalue()
    assert "1 action(s) republiée(s)" in text
    assert "31 Haute-Garonne : 1 action(s) à mettre à jour" in text
    assert Action.objects.get(pk=action.pk).status == S.PUBLISHED


# --- Models and sites ----------------------------------------------------------------------------


@pytest.fixture
def model(provider, admin):
    action = services.create_action(membership=admin, data=new_data(is_model=True, commune=provider["muret"]))
    services.change_status(action, S.PUBLISHED, by=admin)
    action.refresh_from_db()
    return action


def test_instantiate_copies_content_not_place(world, provider, admin, model):
    colomiers = CommuneFactory(code_insee="31149", name="Colomiers", postal_codes="31770", lat=43.61, lon=1.33)
    site = services.instantiate(model, membership=admin, structure=provider["structure"], data={
        "commune": colomiers, "address": "3 allée du Lac", "contact_name": "Léa Site", "email": "lea@site.example",
        "phone": "05 00 00 00 01",
    })
    assert site.model == model and not site.is_model and site.status == S.DRAFT
    assert (site.name, site.description, site.thematiques) == (model.name, model.description, model.thematiques)
    assert (site.commune_id, site.email, site.phone) == ("31149", "lea@site.example", "05 00 00 00 01")
    assert site.lat == pytest.approx(43.61)


def test_other_structure_instantiates_a_published_model_but_not_a_draft(world, provider, admin, model):
    other = membership_of(world["admin_ref"])
    site = services.instantiate(model, membership=other, data={"commune": provider["muret"]})
    assert site.structure == world["ref_structure"]
    services.change_status(model, S.DRAFT, by=admin)
    with pytest.raises(ValidationError):
        services.instantiate(model, membership=other, data={"commune": provider["muret"]})


def test_instantiate_refuses_a_plain_action_and_a_site_without_commune(provider, admin, model):
    with pytest.raises(ValidationError, match="n'est pas un modèle"):
        services.instantiate(provider["action"], membership=admin, data={"commune": provider["muret"]})
    with pytest.raises(ValidationError) as error:
        services.instantiate(model, membership=admin, data={"commune": None})
    assert error.value.message_dict["commune"] == ["Indiquez la commune du site."]


def test_model_update_syncs_content_to_sites_but_keeps_their_place_and_status(provider, admin, model):
    site = services.instantiate(model, membership=admin, data={"commune": provider["muret"], "phone": "0600000000",
                                                               "contact_name": "Léo"})
    services.change_status(site, S.PUBLISHED, by=admin)
    services.update_action(action=model, membership=admin, data={
        "description": "Nouvelle description du modèle, plus détaillée.", "phone": "0700000000",
        "contact_name": "Siège",
    })
    site.refresh_from_db()
    assert site.description == "Nouvelle description du modèle, plus détaillée."
    assert (site.phone, site.contact_name, site.status) == ("0600000000", "Léo", S.PUBLISHED)
    assert " nouvel " in site.search_text
    model.description = "Encore une autre description."
    model.save()
    assert services.sync_from_model(model) == 1
    assert services.sync_from_model(model) == 0  # nothing left to copy


# --- Sessions --------------------------------------------------------------------------------


def test_session_create_update_and_places(world, provider, admin):
    action = provider["action"]
    session = services.create_session(action, membership=admin, data={"starts_on": days(10), "capacity": 5})
    action.refresh_from_db()
    assert action.next_session_on == days(10) and action.places_left_total == 5
    accept(action, world, session=session)
    accept(action, world, session=session)
    with pytest.raises(ValidationError) as error:
        services.update_session(session, membership=admin, data={"capacity": 1})
    assert error.value.message_dict["capacity"] == ["La capacité ne peut pas être inférieure aux 2 places déjà prises."]
    services.update_session(session, membership=admin, data={"capacity": 6})
    action.refresh_from_db()
    assert action.places_left_total == 4


@pytest.mark.parametrize("data, field", [
    ({"starts_on": days(-1), "capacity": 5}, "starts_on"),
    ({"starts_on": days(5), "ends_on": days(4), "capacity": 5}, "ends_on"),
    ({"starts_on": days(5), "registration_deadline": days(6), "capacity": 5}, "registration_deadline"),
    ({"starts_on": days(5), "capacity": 0}, "capacity"),
])
def test_session_bad_input_is_refused(provider, admin, data, field):
    with pytest.raises(ValidationError) as error:
        services.create_session(provider["action"], membership=admin, data=data)
    assert field in error.value.message_dict


def test_cancel_session_recounts_and_reports_places_held(world, provider, admin):
    action = provider["action"]
    first = ActionSessionFactory(action=action, starts_on=days(3), capacity=4)
    ActionSessionFactory(action=action, starts_on=days(20), capacity=6)
    accept(action, world, session=first)
    action.refresh_from_db()
    assert action.next_session_on == days(3)
    assert services.cancel_session(first, membership=admin) == 1
    action.refresh_from_db()
    assert action.next_session_on == days(20) and action.places_left_total == 6
    with pytest.raises(ValidationError, match="déjà annulée"):
        services.cancel_session(first, membership=admin)
    with pytest.raises(ValidationError, match="annulée"):
        services.update_session(first, membership=admin, data={"capacity": 9})


def test_cancel_session_drops_its_accepted_referrals(world, provider, admin, django_capture_on_commit_callbacks):
    from django.core import mail

    from spie.catalogue.models import Referral, ReferralStatus

    action = provider["action"]
    cancelled = ActionSessionFactory(action=action, starts_on=days(3), capacity=4, label="Groupe de mai")
    other = ActionSessionFactory(action=action, starts_on=days(20), capacity=6)
    dropped = accept(action, world, session=cancelled)
    started = accept(action, world, session=cancelled)
    Referral.objects.filter(pk=started.pk).update(status=ReferralStatus.STARTED, started_on=TODAY())
    kept = accept(action, world, session=other)
    places.refresh_action(action)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.cancel_session(cancelled, membership=admin) == 1
    dropped.refresh_from_db()
    assert dropped.status == ReferralStatus.DROPPED and dropped.drop_reason == "other"
    assert dropped.status_text == f"Session annulée par la structure : « Groupe de mai » du {days(3):%d/%m/%Y}."
    assert dropped.ended_on == TODAY()
    transition = dropped.transitions.order_by("-pk").first()
    assert transition.to_status == ReferralStatus.DROPPED and transition.by == provider["admin"]
    started.refresh_from_db()
    kept.refresh_from_db()
    assert started.status == ReferralStatus.STARTED and kept.status == ReferralStatus.ACCEPTED
    cancelled.refresh_from_db()
    other.refresh_from_db()
    assert cancelled.places_taken == 1  # only the started one still holds its place
    assert other.places_taken == 1 and other.places_left == 5
    to_sender = [m for m in mail.outbox if world["referent"].email in m.to]
    assert len(to_sender) == 1 and "abandonnée" in to_sender[0].subject
    assert "a annulé la session" in to_sender[0].body and "a abandonné" not in to_sender[0].body


def test_sessions_of_another_structure_are_out_of_reach(world, provider):
    session = ActionSessionFactory(action=provider["action"])
    with pytest.raises(PermissionDenied):
        services.cancel_session(session, membership=membership_of(world["admin_ref"]))
    with pytest.raises(PermissionDenied):
        services.create_session(provider["action"], membership=membership_of(world["admin_ref"]),
                                data={"starts_on": days(3), "capacity": 3})
