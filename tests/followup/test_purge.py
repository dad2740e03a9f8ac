"""Retention purge (``manage.py purge_records``): only persons who exited long enough ago (exit
and last contact older than the territory's retention period); dry run deletes nothing; the
deletion cascades everywhere, access log included, and leaves no orphan rows or files."""

import datetime
from io import StringIO

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.utils import timezone

from spie.core.models import AccessLog
from spie.followup.models import (
    Appointment,
    Checkpoint,
    Employment,
    ExitReason,
    Note,
    NoteAttachment,
    PathwayExit,
    PlanAction,
    PlanObjective,
    PurgeRun,
)
from spie.followup.services import employment as employment_services
from spie.followup.services import exits as exit_services
from spie.pathways.models import EngagementContract
from spie.people.models import Consent, FollowUpMembership, Person, TimelineEvent
from tests.pathways.factories import make_contract, make_orientation
from tests.people.factories import HealthInfoFactory, PersonFactory, add_to_group

TODAY = timezone.localdate


def months_ago(months, extra_days=0):
    return employment_services.add_months(TODAY(), -months) - datetime.timedelta(days=extra_days)


def exited_person(world, *, exit_on, last_contact=None, name="Sorti", territory=None, cancelled=False):
    person = PersonFactory(territory=territory or world["territory"], last_name=name,
                           entered_on=exit_on - datetime.timedelta(days=300), last_contact_on=last_contact)
    referent = world["referent"]
    add_to_group(person, referent, FollowUpMembership.Kind.REFERENT)
    PathwayExit.objects.create(
        person=person, reason=ExitReason.MOVED, exit_date=exit_on, created_by=referent,
        structure=world["ref_structure"], cancelled_at=timezone.now() if cancelled else None,
    )
    Person.objects.filter(pk=person.pk).update(
        status=Person.Status.IN_PATHWAY if cancelled else Person.Status.EXITED,
        exited_on=None if cancelled else exit_on,
    )
    return person


def run(*args):
    out = StringIO()
    call_command("purge_records", *args, stdout=out)
    return out.getvalue()


def test_only_old_exits_are_purged(world):
    old = exited_person(world, exit_on=months_ago(24, 1), name="Ancien")
    recent = exited_person(world, exit_on=months_ago(23), name="Recent")
    recent_contact = exited_person(world, exit_on=months_ago(30), last_contact=months_ago(12), name="Contact")
    boundary = exited_person(world, exit_on=months_ago(24), name="Limite")  # exactly 24 months: kept
    cancelled = exited_person(world, exit_on=months_ago(30), name="Rouvert", cancelled=True)
    never_exited = PersonFactory(territory=world["territory"], last_name="Jamais", entered_on=months_ago(60),
                                 last_contact_on=months_ago(40))
    output = run("--territory", "31")
    remaining = set(Person.objects.values_list("pk", flat=True))
    assert old.pk not in remaining
    assert {recent.pk, recent_contact.pk, boundary.pk, cancelled.pk, never_exited.pk, world["person"].pk} <= remaining
    assert "1 dossier(s) supprimé(s)" in output
    run_row = PurgeRun.objects.get()
    assert run_row.persons_purged == 1 and not run_row.dry_run and run_row.by == "commande"
    assert run_row.cutoff == months_ago(24) and run_row.territory == world["territory"]


def test_retention_is_a_territory_setting(world):
    territory = world["territory"]
    territory.settings = {**(territory.settings or {}), "retention_months": 12}
    territory.save()
    person = exited_person(world, exit_on=months_ago(13))
    run("--territory", "31")
    assert not Person.objects.filter(pk=person.pk).exists()


def test_dry_run_deletes_nothing(world):
    person = exited_person(world, exit_on=months_ago(30))
    before = {model: model.objects.count() for model in (Person, PathwayExit, FollowUpMembership, TimelineEvent)}
    output = run("--dry-run")
    assert "simulation" in output
    assert {model: model.objects.count() for model in before} == before
    assert Person.objects.filter(pk=person.pk).exists()
    runs = PurgeRun.objects.filter(territory=world["territory"])
    assert runs.get().dry_run and runs.get().persons_purged == 1


def test_other_territory_untouched_with_territory_option(world):
    gers_person = exited_person(world, exit_on=months_ago(30), territory=world["gers"], name="Gersois")
    run("--territory", "31")
    assert Person.objects.filter(pk=gers_person.pk).exists()
    run()
    assert not Person.objects.filter(pk=gers_person.pk).exists()
    assert PurgeRun.objects.filter(territory=world["gers"], persons_purged=1).exists()


def test_unknown_territory_is_an_error(world):
    with pytest.raises(CommandError, match="Territoire inconnu"):
        run("--territory", "99")


def test_cascade_leaves_no_orphans_and_no_files(world, rf):
    referent, structure = world["referent"], world["ref_structure"]
    person = PersonFactory(territory=world["territory"], entered_on=months_ago(40))
    add_to_group(person, referent, FollowUpMembership.Kind.REFERENT)
    add_to_group(person, world["member"])
    HealthInfoFactory(person=person)
    Consent.objects.create(person=person, scope=Consent.Scope.SHARING)
    make_orientation(person, world["officer"], status="decided", structure=structure, referent=referent)
    contract = make_contract(person, referent, structure, status=EngagementContract.Status.SIGNED, signed_days_ago=900)
    contract.signed_scan.save("scan.pdf", ContentFile(b"%PDF-1.4 scan"), save=True)
    objective = PlanObjective.objects.create(person=person, label="Objectif", created_by=referent, structure=structure)
    PlanAction.objects.create(objective=objective, person=person, label="Action", created_by=referent)
    Appointment.objects.create(person=person, starts_at=timezone.now() - datetime.timedelta(days=800),
                               purpose="RDV", with_user=referent, structure=structure, created_by=referent)
    note = Note.objects.create(person=person, body="Note", author=referent, author_structure=structure)
    attachment = NoteAttachment.objects.create(note=note, file=ContentFile(b"pdf", name="piece.pdf"),
                                               original_name="piece.pdf", content_type="application/pdf", size=3,
                                               sha256="0" * 64)
    job = Employment.objects.create(person=person, employer_name="E", job_title="J", contract_type="cdi",
                                    started_on=months_ago(36), ended_on=months_ago(30), created_by=referent,
                                    structure=structure)
    Checkpoint.objects.create(employment=job, person=person, month=1, due_on=months_ago(35))
    TimelineEvent.objects.create(person=person, kind="x", title="Événement")
    request = rf.get("/")
    request.user = referent
    request.membership = referent.memberships.first()
    from spie.core.audit import log_access

    log_access(request, person, AccessLog.Section.RECORD)
    PathwayExit.objects.create(person=person, reason=ExitReason.TRAINING, exit_date=months_ago(25),
                               created_by=referent, structure=structure)
    Person.objects.filter(pk=person.pk).update(status=Person.Status.EXITED, exited_on=months_ago(25))
    files = [contract.signed_scan.name, attachment.file.name]
    assert all(default_storage.exists(name) for name in files)
    kept_logs = AccessLog.objects.exclude(person=person).count()

    # on_commit callbacks run: the test is wrapped in a transaction.
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        exit_services.purge_records(world["territory"])

    assert not Person.objects.filter(pk=person.pk).exists()
    # No model keeps a row pointing to the purged person.
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if getattr(field, "related_model", None) is Person and field.many_to_one and field.concrete:
                assert not model._base_manager.filter(**{field.attname: person.pk}).exists(), model
    assert not PlanAction.objects.filter(objective=objective).exists()
    assert not NoteAttachment.objects.filter(pk=attachment.pk).exists()
    assert AccessLog.objects.count() == kept_logs  # the purged person's access log went with them
    assert not any(default_storage.exists(name) for name in files)
    # The other persons and the professionals are untouched.
    assert Person.objects.filter(pk=world["person"].pk).exists()
    assert referent.__class__.objects.filter(pk=referent.pk).exists()


def test_help_text_mentions_the_access_log():
    from spie.followup.management.commands.purge_records import Command

    assert "journal des consultations" in Command.help
    assert "fichiers de personnes importés" in Command.help
    assert "jamais supprimées" in Command.help


def test_purgeable_persons_query(world):
    old = exited_person(world, exit_on=months_ago(25))
    recent = exited_person(world, exit_on=months_ago(2))
    assert list(exit_services.purgeable_persons(world["territory"])) == [old]
    assert exit_services.purgeable_persons(world["territory"], today=months_ago(-24)).count() == 2
    assert recent.pk


def test_import_rows_of_purged_persons_are_deleted(world):
    """ImportRow.target_id is not a foreign key: the purge deletes the lines of person imports
    that matched a purged person (they hold the file's data about them: names, NIR…), and only those."""
    from spie.imports.models import ImportJob, ImportKind, ImportRow, RowAction

    old = exited_person(world, exit_on=months_ago(30), name="Ancien")
    kept = world["person"]

    def job(kind):
        return ImportJob.objects.create(
            territory=world["territory"], structure=world["ref_structure"], kind=kind, file="imports/liste.csv",
            original_name="liste.csv", created_by=world["admin_ref"],
        )

    persons_job, professionals_job = job(ImportKind.PERSONS), job(ImportKind.PROFESSIONALS)
    other_persons_job = job(ImportKind.PERSONS)

    def row(job, line, target_id, action=RowAction.UPDATE):
        return ImportRow.objects.create(
            job=job, line=line, target_id=target_id, action=action, nir="285043155500154",
            raw={"last_name": "Ancien", "nir": "285043155500154"}, cleaned={"last_name": "Ancien"},
            diff={"email": ["ancien@example.org", "nouveau@example.org"]}, key="ancien|1985-04-12",
        )

    purged_rows = [row(persons_job, 2, old.pk), row(other_persons_job, 3, old.pk, RowAction.UNCHANGED)]
    kept_rows = [
        row(persons_job, 3, kept.pk),
        row(persons_job, 4, None, RowAction.ERROR),
        row(professionals_job, 2, old.pk),  # a professional's id, not a person's
    ]

    exit_services.purge_records(world["territory"], dry_run=True)
    assert ImportRow.objects.filter(pk__in=[r.pk for r in purged_rows]).count() == 2  # a dry run deletes nothing

    exit_services.purge_records(world["territory"])

    assert not Person.objects.filter(pk=old.pk).exists()
    assert not ImportRow.objects.filter(pk__in=[r.pk for r in purged_rows]).exists()
    assert ImportRow.objects.filter(pk__in=[r.pk for r in kept_rows]).count() == 3
    assert ImportJob.objects.filter(pk=persons_job.pk).exists()  # the job (and its counts) stays
