"""Synthetic orientations, contracts and diagnostics for the pathways tests."""

import datetime

from django.utils import timezone

from spie.diagnostics.models import Diagnostic, Framework, OrientationType
from spie.pathways import workflows
from spie.pathways.models import EngagementContract, Orientation
from spie.referentials.models import PathwayItem, PathwayTheme


def days_ago(days):
    return timezone.localdate() - datetime.timedelta(days=days)


def moment_days_ago(days, hour=10):
    """An aware datetime ``days`` local days before today, at ``hour`` o'clock."""
    return timezone.make_aware(datetime.datetime.combine(days_ago(days), datetime.time(hour)))


def make_framework():
    """The real SPIE framework v1 (without loading the référentiel it is checked against)."""
    from spie.diagnostics.loaders import checksum
    from tests.diagnostics.factories_frameworks import read_definition

    definition = read_definition("spie-v1.yaml")
    return Framework.objects.get_or_create(
        code="spie", version=1,
        defaults={
            "kind": Framework.Kind.DIAGNOSTIC, "title": definition["title"], "definition": definition,
            "checksum": checksum(definition), "source_file": "spie-v1.yaml",
        },
    )[0]


SUGGESTED_RESULT = {
    "barriers": [
        {"theme": "logement", "label": "Logement", "severity": "strong", "reasons": ["Pas de logement stable"]}
    ],
    "orientation": {"type": "socio_professionnelle", "reasons": ["Un frein fort", "Projet professionnel à préciser"]},
    "suggestions": [
        {"theme": "logement", "label": "Logement", "objectives": ["Accéder à un logement"],
         "actions": ["Demande de logement social"], "thematiques": []},
        {"theme": "mobilite", "objectives": ["Se déplacer seul", 42], "actions": "pas une liste"},
        "pas un dictionnaire",
    ],
}


def make_diagnostic(person, user, structure, *, completed=True, result=None,
                    proposed=OrientationType.SOCIO_PROFESSIONAL, completed_days_ago=3):
    return Diagnostic.objects.create(
        person=person, framework=make_framework(), started_by=user, structure=structure,
        status=Diagnostic.Status.COMPLETED if completed else Diagnostic.Status.DRAFT,
        result=SUGGESTED_RESULT if result is None else result,
        proposed_orientation=proposed if completed else "",
        completed_by=user if completed else None,
        completed_at=moment_days_ago(completed_days_ago) if completed else None,
    )


def make_orientation(person, by, *, kind=Orientation.Kind.ORIENTATION, status=Orientation.Status.PROPOSED,
                     proposed_days_ago=1, decided_days_ago=None, structure=None, referent=None,
                     type=OrientationType.PROFESSIONAL):
    """An orientation written straight to the database (dates chosen), with its creation log."""
    orientation = Orientation.objects.create(
        person=person, kind=kind, status=Orientation.Status.PROPOSED, proposed_type=type,
        proposed_by=by, proposed_at=moment_days_ago(proposed_days_ago), proposal_reason="Motif",
        proposed_structure=structure,
    )
    workflows.record_creation(orientation, by)
    if status != Orientation.Status.PROPOSED:
        Orientation.objects.filter(pk=orientation.pk).update(
            status=status,
            decided_type=type if status == Orientation.Status.DECIDED else "",
            decided_structure=structure if status == Orientation.Status.DECIDED else None,
            decided_referent=referent if status == Orientation.Status.DECIDED else None,
            decided_by=by,
            decided_at=moment_days_ago(decided_days_ago if decided_days_ago is not None else 0),
        )
        orientation.refresh_from_db()
    return orientation


def make_contract(person, referent, structure, *, version=1, status=EngagementContract.Status.DRAFT,
                  signed_days_ago=None, objectives=None, weekly_hours=15):
    signed = status != EngagementContract.Status.DRAFT
    on = days_ago(signed_days_ago or 0) if signed else None
    return EngagementContract.objects.create(
        person=person, version=version, status=status, referent=referent, structure=structure,
        created_by=referent, weekly_hours=weekly_hours,
        objectives=objectives if objectives is not None else [
            {"theme": "emploi", "label": "Trouver un emploi", "source": "free"}
        ],
        signed_by_person_on=on, signed_by_referent_on=on,
        signed_at=moment_days_ago(signed_days_ago or 0, hour=12) if signed else None,
    )


def make_referentiel():
    """Two themes with an objective and an action each (no full référentiel load)."""
    logement = PathwayTheme.objects.get_or_create(code="logement", defaults={"label": "Logement", "order": 1})[0]
    emploi = PathwayTheme.objects.get_or_create(code="emploi", defaults={"label": "Emploi", "order": 2})[0]
    items = {
        "logement_objective": PathwayItem.objects.get_or_create(
            theme=logement, kind=PathwayItem.Kind.OBJECTIVE, label="Accéder à un logement")[0],
        "emploi_objective": PathwayItem.objects.get_or_create(
            theme=emploi, kind=PathwayItem.Kind.OBJECTIVE, label="Trouver un emploi durable")[0],
        "logement_action": PathwayItem.objects.get_or_create(
            theme=logement, kind=PathwayItem.Kind.ACTION, label="Demande de logement social")[0],
    }
    return {"logement": logement, "emploi": emploi, **items}
