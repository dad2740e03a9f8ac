"""Orientation decisions (with their transition log) and the engagement contract."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from spie.diagnostics.models import OrientationType


class Orientation(models.Model):
    """An orientation (or réorientation) request and its decision.

    Workflow (named states, allowed transitions in ``spie.pathways.workflows``):
    ``proposed`` → ``decided`` (a chargé d'orientation chooses type, structure and référent)
    or ``refused`` (a réorientation refused with a reason) or ``cancelled``.
    """

    class Kind(models.TextChoices):
        ORIENTATION = "orientation", "Orientation"
        REORIENTATION = "reorientation", "Réorientation"

    class Status(models.TextChoices):
        PROPOSED = "proposed", "À décider"
        DECIDED = "decided", "Décidée"
        REFUSED = "refused", "Refusée"
        CANCELLED = "cancelled", "Annulée"

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="orientations")
    kind = models.CharField(max_length=15, choices=Kind.choices, default=Kind.ORIENTATION)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    # Proposal
    diagnostic = models.ForeignKey(
        "diagnostics.Diagnostic", null=True, blank=True, on_delete=models.SET_NULL, related_name="orientations"
    )
    proposed_type = models.CharField("orientation proposée", max_length=25, choices=OrientationType.choices)
    proposed_structure = models.ForeignKey(
        "network.Structure", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name="structure proposée",
    )
    proposal_reason = models.TextField("motif de la proposition", blank=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    # Decision
    decided_type = models.CharField("orientation décidée", max_length=25, choices=OrientationType.choices, blank=True)
    decided_structure = models.ForeignKey(
        "network.Structure", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name="structure d'accompagnement",
    )
    decided_referent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name="référent unique désigné",
    )
    decision_reason = models.TextField("motif de la décision", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name = "orientation"
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(status="proposed"), name="orientation_one_pending_per_person"
            )
        ]
        indexes = [
            models.Index(fields=["status", "proposed_at"], name="orientation_queue"),
            # Alerts of a caseload: a person's pending or decided orientation.
            models.Index(fields=["person", "status"], name="orientation_person_status"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.person_id} — {self.get_status_display()}"


class OrientationTransition(models.Model):
    """Transition log of an orientation: who, when, from, to, reason."""

    orientation = models.ForeignKey(Orientation, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "transition d'orientation"

    def __str__(self):
        return f"{self.from_status or '∅'} → {self.to_status}"


class EngagementContract(models.Model):
    """Contrat d'engagement réciproque, versioned: a change creates a new version."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Brouillon"
        SIGNED = "signed", "Signé"
        SUPERSEDED = "superseded", "Remplacé"

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="contracts")
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    orientation = models.ForeignKey(Orientation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # [{"theme": code, "label": text, "source": "referentiel"|"free"}]
    objectives = models.JSONField("objectifs", default=list, blank=True)
    # [{"label": text, "theme": code, "hours": number, "due": "YYYY-MM-DD"}]
    actions = models.JSONField("actions prévues", default=list, blank=True)
    weekly_hours = models.DecimalField("heures d'activité par semaine", max_digits=4, decimal_places=1, default=15)
    hours_reason = models.TextField("motif d'une durée réduite ou d'une dispense", blank=True)
    review_date = models.DateField("date de révision", null=True, blank=True)
    referent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    structure = models.ForeignKey("network.Structure", on_delete=models.PROTECT, related_name="+")
    signed_by_person_on = models.DateField("signé par la personne le", null=True, blank=True)
    signed_by_referent_on = models.DateField("signé par le référent le", null=True, blank=True)
    signed_scan = models.FileField("contrat signé (scan)", upload_to="contracts/%Y/", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-version"]
        verbose_name = "contrat d'engagement"
        constraints = [
            models.UniqueConstraint(fields=["person", "version"], name="contract_person_version"),
            models.UniqueConstraint(
                fields=["person"], condition=Q(status="draft"), name="contract_one_draft_per_person"
            ),
        ]
        # Alerts of a caseload: the signed contract and its review date.
        indexes = [models.Index(fields=["person", "status", "review_date"], name="contract_person_review")]

    def __str__(self):
        return f"Contrat v{self.version} de {self.person_id} ({self.get_status_display()})"
