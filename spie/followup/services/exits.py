"""End of the pathway: the exit with its report ("bilan" written with the person), and the
re-opening of the pathway when the person comes back.

Only the référent unique or a structure admin of the group may close or re-open
(``followup.policies.can_close``). The record stays readable by the follow-up group after the
exit, until the retention purge (``manage.py purge_records``) deletes it. The bilan texts never
go into the timeline: only the reason and the date do.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from spie.followup import policies
from spie.followup.models import Appointment, ExitReason, PathwayExit
from spie.people.services import add_event

from . import employment as employment_services
from .contacts import record_contact
from .status import refresh_status

CLOSE_DENIED = "Seul le référent unique (ou un administrateur de sa structure) peut clore le parcours."
REOPEN_DENIED = "Seul le référent unique (ou un administrateur de sa structure) peut rouvrir le parcours."
# Reasons for which the exit form offers to record the job at the same time.
JOB_REASONS = (ExitReason.SUSTAINABLE_JOB, ExitReason.SHORT_JOB, ExitReason.BUSINESS_CREATION)
BILAN_FIELDS = ("achievements", "difficulties", "person_words", "next_steps")


def active_exit(person):
    return PathwayExit.objects.filter(person=person, cancelled_at__isnull=True).first()


def future_appointments(person, *, now=None):
    """Scheduled appointments still to come: the exit form warns about them."""
    now = now or timezone.now()
    return list(
        Appointment.objects.filter(person=person, status=Appointment.Status.SCHEDULED, starts_at__gte=now)
        .select_related("with_user", "structure")
        .order_by("starts_at")
    )


def clean_exit(person, data, *, today=None):
    """Validate an exit (no write); returns the cleaned dict or raises a ValidationError keyed by
    field name: reason, reason_detail, exit_date, the bilan texts, written_with_person."""
    today = today or timezone.localdate()
    errors = {}
    reason = data.get("reason") or ""
    if reason not in ExitReason.values:
        errors["reason"] = "Choisissez le motif de sortie."
    detail = (data.get("reason_detail") or "").strip()
    if reason == ExitReason.OTHER and not detail:
        errors["reason_detail"] = "Précisez le motif de sortie (obligatoire pour « Autre motif »)."
    exit_date = data.get("exit_date") or today
    if isinstance(exit_date, datetime.datetime):
        exit_date = exit_date.date()
    if not isinstance(exit_date, datetime.date):
        errors["exit_date"] = "Indiquez la date de sortie."
    elif exit_date > today:
        errors["exit_date"] = "La date de sortie ne peut pas être dans le futur."
    elif person.entered_on and exit_date < person.entered_on:
        errors["exit_date"] = (
            f"La date de sortie ne peut pas précéder l'entrée dans le parcours (le {person.entered_on:%d/%m/%Y})."
        )
    if errors:
        raise ValidationError(errors)
    cleaned = {
        "reason": reason,
        "reason_detail": detail,
        "exit_date": exit_date,
        "written_with_person": bool(data.get("written_with_person")),
    }
    for field in BILAN_FIELDS:
        cleaned[field] = (data.get(field) or "").strip()
    return cleaned


@transaction.atomic
def close_pathway(person, membership, *, access, data, job=None):
    """Exit from the pathway with its bilan; with ``job`` (fields of
    :func:`employment_services.clean_job`) and a job reason, the job is recorded at the same time.

    Raises ValidationError (French, keyed by field) or PermissionDenied; writes nothing then.
    """
    if not policies.can_close(access):
        raise PermissionDenied(CLOSE_DENIED)
    current = active_exit(person)
    if current is not None:
        raise ValidationError(
            f"Le parcours de cette personne est déjà clos (sortie du {current.exit_date:%d/%m/%Y}). "
            "Rouvrez-le d'abord pour enregistrer une autre sortie."
        )
    cleaned = clean_exit(person, data)
    if job is not None and cleaned["reason"] not in JOB_REASONS:
        raise ValidationError(
            "Un emploi ne s'enregistre avec la sortie que pour un motif d'emploi ou de création d'entreprise."
        )
    employment = None
    if job is not None:
        employment = employment_services.record_job(person, membership, access=access, data=job)
    try:
        with transaction.atomic():
            exit_ = PathwayExit.objects.create(
                person=person, created_by=membership.user, structure=membership.structure, **cleaned
            )
    except IntegrityError:  # another exit was recorded at the same moment (one active exit per person)
        raise ValidationError("Le parcours de cette personne vient d'être clos par ailleurs.") from None
    add_event(
        person, "exit", f"Sortie du parcours : {exit_.get_reason_display().lower()}",
        actor=membership.user, structure=membership.structure,
        detail=f"Sortie le {exit_.exit_date:%d/%m/%Y}."
        + (" Bilan rédigé avec la personne." if exit_.written_with_person else ""),
    )
    if exit_.written_with_person:
        record_contact(person, on=exit_.exit_date)
    refresh_status(person)
    exit_.employment = employment
    return exit_


@transaction.atomic
def reopen_pathway(person, membership, *, access, reason):
    """The person comes back: the active exit is cancelled (kept, with who and why)."""
    if not policies.can_close(access):
        raise PermissionDenied(REOPEN_DENIED)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Indiquez le motif de la réouverture du parcours."})
    exit_ = PathwayExit.objects.select_for_update().filter(person=person, cancelled_at__isnull=True).first()
    if exit_ is None:
        raise ValidationError("Le parcours de cette personne n'est pas clos : il n'y a rien à rouvrir.")
    exit_.cancelled_at = timezone.now()
    exit_.cancelled_by = membership.user
    exit_.cancel_reason = reason[:250]
    exit_.save(update_fields=["cancelled_at", "cancelled_by", "cancel_reason"])
    add_event(
        person, "exit_cancelled", "Parcours rouvert", actor=membership.user, structure=membership.structure,
        detail=f"Sortie du {exit_.exit_date:%d/%m/%Y} annulée.",
    )
    refresh_status(person)
    return exit_


# --- Retention purge (DESIGN.md §5) ------------------------------------------------------------

PURGE_BATCH = 200


def purge_cutoff(territory, *, today=None):
    """Records whose latest of exit date and last contact is *before* this day are purged."""
    today = today or timezone.localdate()
    return employment_services.add_months(today, -int(territory.setting("retention_months")))


def purgeable_persons(territory, *, today=None):
    """Persons of ``territory`` who exited (active exit) and whose exit and last contact are both
    older than the retention period. Persons who never exited are never selected here."""
    from django.db.models import Q

    from spie.people.models import Person

    cutoff = purge_cutoff(territory, today=today)
    return (
        Person.objects.filter(
            territory=territory, status=Person.Status.EXITED,
            exits__cancelled_at__isnull=True, exits__exit_date__lt=cutoff,
        )
        .filter(Q(last_contact_on__isnull=True) | Q(last_contact_on__lt=cutoff))
        .order_by("pk")
    )


def _stored_files(person_ids):
    """Files of these persons kept under MEDIA_ROOT (note attachments, signed contract scans)."""
    from spie.followup.models import NoteAttachment
    from spie.pathways.models import EngagementContract

    names = list(NoteAttachment.objects.filter(note__person_id__in=person_ids).values_list("file", flat=True))
    names += EngagementContract.objects.filter(person_id__in=person_ids).exclude(signed_scan="").values_list(
        "signed_scan", flat=True
    )
    return [name for name in names if name]


def _delete_files(storage, names):
    for name in names:
        try:
            storage.delete(name)
        except OSError:  # already gone: nothing left to purge
            pass


def _delete_import_rows(person_ids):
    """Lines of person imports that matched these persons: they hold what the file said about
    them (names, NIR, address…) and point to them by ``target_id`` only, without a foreign key,
    so the person's deletion does not cascade to them."""
    from spie.imports.models import ImportKind, ImportRow

    ImportRow.objects.filter(job__kind=ImportKind.PERSONS, target_id__in=person_ids).delete()


def purge_records(territory, *, dry_run=False, today=None, by="commande"):
    """Delete the records due for purge in ``territory`` and record a :class:`PurgeRun`.

    Deleting a person cascades to everything recorded about them (group, consents, timeline,
    diagnostics, orientations, contracts, plan, appointments, notes, exit, jobs, checkpoints)
    *and to their access log rows*; the lines of person imports that matched them are deleted in
    the same transaction; stored files (attachments, scans) are deleted after commit.
    With ``dry_run`` nothing is deleted: only the PurgeRun (``dry_run=True``) is written.
    Returns the PurgeRun.
    """
    from django.core.files.storage import default_storage

    from spie.followup.models import PurgeRun
    from spie.people.models import Person

    cutoff = purge_cutoff(territory, today=today)
    ids = list(purgeable_persons(territory, today=today).values_list("pk", flat=True).distinct())
    if not dry_run:
        for start in range(0, len(ids), PURGE_BATCH):
            batch = ids[start:start + PURGE_BATCH]
            with transaction.atomic():
                files = _stored_files(batch)
                _delete_import_rows(batch)
                Person.objects.filter(pk__in=batch).delete()
                transaction.on_commit(lambda files=files: _delete_files(default_storage, files))
    return PurgeRun.objects.create(
        territory=territory, cutoff=cutoff, persons_purged=len(ids), dry_run=dry_run, by=by[:100]
    )
