"""Support after hiring ("jusque dans l'emploi"): jobs the person started and the checkpoints
at 1, 3 and 6 months after the start.

- :func:`record_job` creates the :class:`~spie.followup.models.Employment` and its three
  :class:`~spie.followup.models.Checkpoint` rows (``due_on`` = start + N months, the day
  clamped at the end of a shorter month: 31 January + 1 month = 28 or 29 February);
- :func:`record_checkpoint` fills a checkpoint (who was contacted, the person's situation);
  a contact with the person moves ``last_contact_on``; "n'est plus en emploi" may end the job;
- :func:`end_job` records the end of a job.

Every write checks ``followup.policies.can_edit(access)`` and refreshes ``Person.status``.
Checkpoint difficulties and comments never go into the timeline (they may be personal).
"""

import calendar
import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siret as stdnum_siret

from spie.followup import policies
from spie.followup.models import Checkpoint, Employment
from spie.people.services import add_event

from .contacts import record_contact
from .status import refresh_status

EDIT_DENIED = "Vous ne pouvez pas modifier le suivi dans l'emploi de cette personne."
MAX_WEEKLY_HOURS = Decimal("48")
# A job may be recorded once the hiring is certain, a little before it starts.
MAX_DAYS_AHEAD = 92


def add_months(day, months):
    """``day`` plus ``months`` calendar months, the day clamped to the end of the target month."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def checkpoint_due_dates(started_on):
    """``{1: date, 3: date, 6: date}``: when each post-hiring checkpoint is due."""
    return {month: add_months(started_on, month) for month in Checkpoint.MONTHS}


def normalise_siret(value):
    """The SIRET without spaces, checked (14 digits, Luhn key); empty stays empty."""
    value = (value or "").replace(" ", "").replace(".", "").strip()
    if not value:
        return ""
    try:
        return stdnum_siret.validate(value)
    except StdnumError:
        raise ValidationError(
            {"employer_siret": "Ce numéro SIRET n'est pas valide : vérifiez les 14 chiffres (ou laissez vide)."}
        ) from None


def _date(value, field, label):
    if isinstance(value, datetime.datetime):
        value = value.date()
    if not isinstance(value, datetime.date):
        raise ValidationError({field: f"Indiquez {label}."})
    return value


def clean_job(data, *, today=None):
    """Validate the fields of a job (no write); returns the cleaned dict or raises a ValidationError
    whose keys are the field names (the same in the form, the API and the exit form's job part)."""
    today = today or timezone.localdate()
    errors = {}
    cleaned = {}
    for field, label in (("employer_name", "l'employeur"), ("job_title", "le poste")):
        value = (data.get(field) or "").strip()
        if not value:
            errors[field] = f"Indiquez {label}."
        cleaned[field] = value
    cleaned["employer_contact"] = (data.get("employer_contact") or "").strip()
    try:
        cleaned["employer_siret"] = normalise_siret(data.get("employer_siret"))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    contract_type = data.get("contract_type") or ""
    if contract_type not in Employment.ContractType.values:
        errors["contract_type"] = "Choisissez le type de contrat."
    cleaned["contract_type"] = contract_type
    hours = data.get("weekly_hours")
    if hours in ("", None):
        cleaned["weekly_hours"] = None
    else:
        try:
            hours = Decimal(str(hours))
        except ArithmeticError:
            hours = None
        if hours is None or not (0 < hours <= MAX_WEEKLY_HOURS):
            errors["weekly_hours"] = "Le temps de travail doit être compris entre 0 et 48 heures par semaine."
        cleaned["weekly_hours"] = hours
    started_on = data.get("started_on")
    try:
        started_on = _date(started_on, "started_on", "la date de début")
    except ValidationError as exc:
        errors.update(exc.message_dict)
        started_on = None
    if started_on and started_on > today + datetime.timedelta(days=MAX_DAYS_AHEAD):
        errors["started_on"] = "La date de début ne peut pas être à plus de 3 mois : enregistrez l'emploi plus tard."
    cleaned["started_on"] = started_on
    planned_end_on = data.get("planned_end_on") or None
    if planned_end_on is not None and started_on and planned_end_on < started_on:
        errors["planned_end_on"] = "La fin prévue ne peut pas précéder le début de l'emploi."
    cleaned["planned_end_on"] = planned_end_on
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def record_job(person, membership, *, access, data):
    """A job started (or about to start): the Employment, its 3 checkpoints, the status "in_job"."""
    if not policies.can_edit(access):
        raise PermissionDenied(EDIT_DENIED)
    cleaned = clean_job(data)
    employment = Employment.objects.create(
        person=person, created_by=membership.user, structure=membership.structure, **cleaned
    )
    Checkpoint.objects.bulk_create([
        Checkpoint(employment=employment, person=person, month=month, due_on=due_on)
        for month, due_on in checkpoint_due_dates(employment.started_on).items()
    ])
    add_event(
        person, "employment_started",
        f"Reprise d'emploi : {employment.job_title} ({employment.get_contract_type_display()}) "
        f"chez {employment.employer_name}",
        actor=membership.user, structure=membership.structure,
        detail=f"Début le {employment.started_on:%d/%m/%Y}. Points de suivi prévus à 1, 3 et 6 mois.",
    )
    refresh_status(person)
    return employment


def clean_end(employment, ended_on, reason, *, today=None):
    today = today or timezone.localdate()
    errors = {}
    if not isinstance(ended_on, datetime.date):
        errors["ended_on"] = "Indiquez la date de fin de l'emploi."
    elif ended_on < employment.started_on:
        errors["ended_on"] = (
            f"La fin de l'emploi ne peut pas précéder son début (le {employment.started_on:%d/%m/%Y})."
        )
    elif ended_on > today:
        errors["ended_on"] = "La date de fin ne peut pas être dans le futur."
    if not (reason or "").strip():
        errors["end_reason"] = "Indiquez le motif de fin de l'emploi (fin de contrat, démission, rupture…)."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def end_job(employment, membership, *, access, ended_on, reason):
    """Record the end of a job; the person's status goes back to their pathway."""
    if not policies.can_edit(access):
        raise PermissionDenied(EDIT_DENIED)
    employment = Employment.objects.select_for_update().get(pk=employment.pk)
    if employment.ended_on is not None:
        raise ValidationError(f"Cet emploi est déjà terminé (le {employment.ended_on:%d/%m/%Y}).")
    clean_end(employment, ended_on, reason)
    employment.ended_on = ended_on
    employment.end_reason = reason.strip()
    employment.save(update_fields=["ended_on", "end_reason"])
    person = employment.person
    add_event(
        person, "employment_ended", f"Fin de l'emploi : {employment.job_title} chez {employment.employer_name}",
        actor=membership.user, structure=membership.structure, detail=f"Fin le {ended_on:%d/%m/%Y}.",
    )
    refresh_status(person)
    return employment


@transaction.atomic
def record_checkpoint(checkpoint, membership, *, access, data, today=None):
    """Fill a checkpoint. ``data``: done_on, contacted_person, contacted_employer, outcome,
    difficulties, comment and, with outcome "job_ended", end_job + ended_on + end_reason."""
    if not policies.can_edit(access):
        raise PermissionDenied(EDIT_DENIED)
    today = today or timezone.localdate()
    checkpoint = Checkpoint.objects.select_for_update().select_related("employment", "person").get(pk=checkpoint.pk)
    if checkpoint.done_on is not None:
        raise ValidationError(f"Ce point de suivi est déjà renseigné (le {checkpoint.done_on:%d/%m/%Y}).")
    employment = checkpoint.employment
    errors = {}
    outcome = data.get("outcome") or ""
    if outcome not in Checkpoint.Outcome.values:
        errors["outcome"] = "Indiquez la situation de la personne."
    contacted_person = bool(data.get("contacted_person"))
    contacted_employer = bool(data.get("contacted_employer"))
    if outcome == Checkpoint.Outcome.UNREACHABLE:
        if contacted_person:
            errors["contacted_person"] = "La personne ne peut pas être à la fois contactée et injoignable."
    elif outcome and not (contacted_person or contacted_employer):
        errors["contacted_person"] = (
            "Indiquez qui a été contacté (la personne et/ou l'employeur), ou choisissez la situation « Injoignable »."
        )
    done_on = data.get("done_on")
    if not isinstance(done_on, datetime.date):
        errors["done_on"] = "Indiquez la date du point de suivi."
    elif done_on > today:
        errors["done_on"] = "La date du point de suivi ne peut pas être dans le futur."
    elif done_on < employment.started_on:
        errors["done_on"] = (
            f"La date du point de suivi ne peut pas précéder le début de l'emploi "
            f"(le {employment.started_on:%d/%m/%Y})."
        )
    close_job = bool(data.get("end_job")) and outcome == Checkpoint.Outcome.JOB_ENDED
    if close_job and employment.ended_on is None:
        ended_on = data.get("ended_on") or (done_on if isinstance(done_on, datetime.date) else None)
        try:
            clean_end(employment, ended_on, data.get("end_reason"), today=today)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    checkpoint.done_on = done_on
    checkpoint.done_by = membership.user
    checkpoint.contacted_person = contacted_person
    checkpoint.contacted_employer = contacted_employer
    checkpoint.outcome = outcome
    checkpoint.difficulties = (data.get("difficulties") or "").strip()
    checkpoint.comment = (data.get("comment") or "").strip()
    checkpoint.save(update_fields=[
        "done_on", "done_by", "contacted_person", "contacted_employer", "outcome", "difficulties", "comment",
    ])
    person = checkpoint.person
    add_event(
        person, "employment_checkpoint",
        f"Point de suivi dans l'emploi à {checkpoint.month} mois : {checkpoint.get_outcome_display().lower()}",
        actor=membership.user, structure=membership.structure,
    )
    if contacted_person:
        record_contact(person, on=done_on)
    if close_job and employment.ended_on is None:
        end_job(employment, membership, access=access, ended_on=data.get("ended_on") or done_on,
                reason=data.get("end_reason"))
    else:
        refresh_status(person)
    return checkpoint
