"""Every write on persons and follow-up groups. Views, API, commands and tasks call these."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from . import policies
from .models import Consent, FollowUpMembership, HealthInfo, JoinRequest, Person, TimelineEvent
from .selectors import possible_duplicates


class DuplicatePerson(Exception):
    """Raised when a person to create matches existing ones; carries the matches."""

    def __init__(self, matches):
        super().__init__("Cette personne semble déjà exister.")
        self.matches = matches


def add_event(person, kind, title, *, actor=None, structure=None, detail="", at=None):
    return TimelineEvent.objects.create(
        person=person, kind=kind, title=title, actor=actor, structure=structure, detail=detail,
        at=at or timezone.now(),
    )


@transaction.atomic
def create_person(*, membership, data, force=False):
    """Create a person in the active territory; the creator becomes référent unique.

    Raises :class:`DuplicatePerson` when the NIR or names + birth date already exist,
    unless ``force`` (the user confirmed it is a different person; an event records it).
    """
    if not policies.can_create_person(membership):
        raise PermissionDenied("Votre rôle ne permet pas de créer une personne.")
    territory = membership.structure.territory
    data = {**data, "nir": normalize_nir(data.get("nir"))}
    matches = possible_duplicates(
        territory,
        first_name=data["first_name"],
        last_name=data["last_name"],
        birth_date=data["birth_date"],
        nir=data.get("nir", ""),
    )
    nir = normalize_nir(data.get("nir"))
    if matches and (not force or any(m.nir and m.nir == nir for m in matches)):
        raise DuplicatePerson(matches)
    person = Person(territory=territory, created_by=membership.user, **data)
    person.full_clean()
    person.save()
    FollowUpMembership.objects.create(
        person=person, user=membership.user, structure=membership.structure,
        kind=FollowUpMembership.Kind.REFERENT, reason="Création du dossier", added_by=membership.user,
    )
    add_event(person, "created", "Entrée dans le parcours", actor=membership.user, structure=membership.structure)
    add_event(
        person, "referent", f"Référent unique : {membership.user} ({membership.structure})",
        actor=membership.user, structure=membership.structure,
    )
    if matches:
        add_event(
            person, "duplicate_confirmed", "Création confirmée malgré un homonyme (même nom et date de naissance)",
            actor=membership.user, structure=membership.structure,
        )
    return person


def normalize_nir(value):
    return (value or "").replace(" ", "").upper()


@transaction.atomic
def update_person(*, person, membership, data, access):
    """Apply ``data`` to ``person``; the timeline names the fields that changed.

    Compared with the stored row (a bound ModelForm has already copied the new values onto
    the instance). A NIR already recorded for another person of the territory is refused.
    """
    if not access.can_edit:
        raise PermissionDenied("Vous ne pouvez pas modifier ce dossier.")
    stored = Person.objects.get(pk=person.pk)
    if "nir" in data:
        data = {**data, "nir": normalize_nir(data["nir"])}
        if data["nir"] and Person.objects.filter(territory=person.territory, nir=data["nir"]).exclude(
            pk=person.pk
        ).exists():
            raise ValidationError({"nir": "Ce NIR est déjà enregistré pour une autre personne du territoire."})
    changed = [field for field, value in data.items() if getattr(stored, field) != value]
    for field, value in data.items():
        setattr(person, field, value)
    person.full_clean()
    person.save()
    if changed:
        labels = ", ".join(str(Person._meta.get_field(f).verbose_name) for f in changed)
        add_event(person, "updated", f"Dossier mis à jour ({labels})", actor=membership.user,
                  structure=membership.structure)
    return changed


@transaction.atomic
def save_health(*, person, membership, access, data):
    if not access.can_see(policies.HEALTH):
        raise PermissionDenied("Accès à la section santé refusé.")
    health, _ = HealthInfo.objects.get_or_create(person=person)
    for field, value in data.items():
        setattr(health, field, value)
    health.updated_by = membership.user
    health.save()
    # The timeline says that the section changed, never what it holds.
    add_event(person, "health_updated", "Section santé / RQTH mise à jour", actor=membership.user,
              structure=membership.structure)
    return health


@transaction.atomic
def add_member(*, person, user, structure, by, kind=FollowUpMembership.Kind.MEMBER, reason="", can_see_health=False):
    existing = FollowUpMembership.objects.filter(person=person, user=user, end_date__isnull=True).first()
    if existing:
        return existing
    followup = FollowUpMembership.objects.create(
        person=person, user=user, structure=structure, kind=kind, reason=reason, added_by=by,
        can_see_health=can_see_health,
    )
    add_event(person, "group_joined", f"{user} ({structure}) rejoint le groupe de suivi", actor=by, structure=structure)
    return followup


@transaction.atomic
def end_membership(*, followup, by, reason):
    if followup.kind == FollowUpMembership.Kind.REFERENT:
        raise ValidationError("Désignez d'abord un autre référent unique.")
    followup.end_date = timezone.localdate()
    followup.end_reason = reason
    followup.save(update_fields=["end_date", "end_reason"])
    add_event(followup.person, "group_left", f"{followup.user} quitte le groupe de suivi", actor=by,
              detail=reason)


@transaction.atomic
def change_referent(*, person, new_followup, by, reason):
    """Make ``new_followup`` (an active member) the référent unique; the old one stays member.

    History is kept: the old référent row is closed and a new member row opened.
    """
    if not reason:
        raise ValidationError("Indiquez le motif du changement de référent.")
    today = timezone.localdate()
    old = (
        FollowUpMembership.objects.select_for_update()
        .filter(person=person, kind=FollowUpMembership.Kind.REFERENT, end_date__isnull=True)
        .first()
    )
    if old and old.pk == new_followup.pk:
        return new_followup
    if old:
        old.end_date = today
        old.end_reason = f"Changement de référent : {reason}"
        old.save(update_fields=["end_date", "end_reason"])
    new_followup.end_date = today
    new_followup.end_reason = "Devient référent unique"
    new_followup.save(update_fields=["end_date", "end_reason"])
    referent = FollowUpMembership.objects.create(
        person=person, user=new_followup.user, structure=new_followup.structure,
        kind=FollowUpMembership.Kind.REFERENT, can_see_health=True, reason=reason, added_by=by,
    )
    if old:
        FollowUpMembership.objects.create(
            person=person, user=old.user, structure=old.structure, kind=FollowUpMembership.Kind.MEMBER,
            can_see_health=False, reason="Ancien référent unique", added_by=by,
        )
    add_event(person, "referent", f"Nouveau référent unique : {referent.user} ({referent.structure})",
              actor=by, structure=referent.structure, detail=reason)
    return referent


@transaction.atomic
def set_health_grant(*, followup, granted, by):
    followup.can_see_health = granted
    followup.save(update_fields=["can_see_health"])
    verb = "accordé à" if granted else "retiré à"
    add_event(followup.person, "health_grant", f"Accès à la section santé {verb} {followup.user}", actor=by)


@transaction.atomic
def request_to_join(*, person, membership, reason, access):
    if not access.can_ask_to_join:
        raise PermissionDenied("Vous ne pouvez pas demander à rejoindre ce groupe de suivi.")
    if not reason.strip():
        raise ValidationError("Expliquez pourquoi vous devez accompagner cette personne.")
    join, created = JoinRequest.objects.get_or_create(
        person=person, requester=membership.user, status=JoinRequest.Status.PENDING,
        defaults={"structure": membership.structure, "reason": reason},
    )
    if created:
        _notify_join_request(join)
    return join


def _notify_join_request(join):
    from django.core.mail import send_mail

    referent = (
        FollowUpMembership.objects.filter(
            person=join.person, kind=FollowUpMembership.Kind.REFERENT, end_date__isnull=True
        ).select_related("user").first()
    )
    if referent and referent.user.email:
        # No personal data in the e-mail: only that a request is waiting.
        send_mail(
            "SPIE — une demande d'accès à un groupe de suivi vous attend",
            (
                f"Bonjour,\n\n{join.requester} ({join.structure}) demande à rejoindre le groupe de suivi "
                "d'une personne dont vous êtes le référent unique.\n"
                "Connectez-vous à la plateforme pour accepter ou refuser la demande.\n"
            ),
            None,
            [referent.user.email],
        )


@transaction.atomic
def decide_join(*, join, by, accept, reason="", access):
    if not access.can_manage_group:
        raise PermissionDenied("Seuls le référent unique et l'administrateur de la structure décident.")
    if join.status != JoinRequest.Status.PENDING:
        raise ValidationError("Cette demande a déjà été traitée.")
    if not accept and not reason.strip():
        raise ValidationError("Indiquez le motif du refus.")
    join.status = JoinRequest.Status.ACCEPTED if accept else JoinRequest.Status.REFUSED
    join.decided_by = by
    join.decided_at = timezone.now()
    join.decision_reason = reason
    join.save()
    if accept:
        add_member(person=join.person, user=join.requester, structure=join.structure, by=by,
                   reason=join.reason)
    else:
        add_event(join.person, "join_refused", f"Demande de {join.requester} refusée", actor=by, detail=reason)
    return join


@transaction.atomic
def record_consent(*, person, scope, status, channel, by, on=None):
    consent = Consent.objects.create(
        person=person, scope=scope, status=status, channel=channel, recorded_by=by,
        given_on=on or timezone.localdate(),
        withdrawn_on=(on or timezone.localdate()) if status != Consent.Status.GIVEN else None,
    )
    add_event(person, "consent", f"Consentement « {consent.get_scope_display()} » : {consent.get_status_display()}",
              actor=by)
    return consent
