"""Frameworks (trames) as versioned data, diagnostics, and the barriers they found."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Severity(models.TextChoices):
    NONE = "none", "Aucun"
    LIGHT = "light", "Léger"
    STRONG = "strong", "Fort"
    BLOCKING = "blocking", "Bloquant"


SEVERITY_RANK = {Severity.NONE: 0, Severity.LIGHT: 1, Severity.STRONG: 2, Severity.BLOCKING: 3}


class OrientationType(models.TextChoices):
    PROFESSIONAL = "professionnelle", "Professionnelle"
    SOCIO_PROFESSIONAL = "socio_professionnelle", "Socio-professionnelle"
    SOCIAL = "sociale", "Sociale"


class Framework(models.Model):
    """One version of a framework file (``spie/diagnostics/frameworks/*.yaml``), frozen.

    Loading a new version adds a row; completed diagnostics keep pointing at the version
    they were filled with, whose definition never changes (the checksum guards it).
    """

    class Kind(models.TextChoices):
        DIAGNOSTIC = "diagnostic", "Diagnostic socio-professionnel"
        POTENTIALITIES = "potentialities", "Grille des potentialités"

    code = models.SlugField(max_length=50)
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    definition = models.JSONField()
    checksum = models.CharField(max_length=64)
    source_file = models.CharField(max_length=200)
    is_current = models.BooleanField(default=True)
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code", "-version"]
        verbose_name = "trame"
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="framework_code_version"),
            models.UniqueConstraint(fields=["code"], condition=Q(is_current=True), name="framework_one_current"),
        ]

    def __str__(self):
        return f"{self.title} (v{self.version})"


class Diagnostic(models.Model):
    """A diagnostic of one person on one framework version; frozen once completed."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Brouillon"
        COMPLETED = "completed", "Terminé"

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="diagnostics")
    framework = models.ForeignKey(Framework, on_delete=models.PROTECT, related_name="diagnostics")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # {question_code: value}; values are JSON scalars or lists (multiple choice).
    answers = models.JSONField(default=dict, blank=True)
    # The person's own words, written with them.
    person_words = models.TextField("avec les mots de la personne", blank=True)
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Frozen result at completion (engine output): barriers, strengths, orientation, suggestions.
    result = models.JSONField(null=True, blank=True)
    proposed_orientation = models.CharField(max_length=25, choices=OrientationType.choices, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    structure = models.ForeignKey("network.Structure", on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = "diagnostic"
        indexes = [models.Index(fields=["person", "-started_at"], name="diagnostic_person")]

    def __str__(self):
        return f"{self.framework} — {self.person_id} ({self.get_status_display()})"

    @property
    def is_completed(self):
        return self.status == self.Status.COMPLETED


class Barrier(models.Model):
    """A barrier found by a completed diagnostic (one row per theme with a severity)."""

    diagnostic = models.ForeignKey(Diagnostic, on_delete=models.CASCADE, related_name="barriers")
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="barriers")
    theme = models.CharField(max_length=50)
    severity = models.CharField(max_length=10, choices=Severity.choices)

    class Meta:
        ordering = ["theme"]
        verbose_name = "frein périphérique"
        constraints = [models.UniqueConstraint(fields=["diagnostic", "theme"], name="barrier_one_per_theme")]
        indexes = [models.Index(fields=["person", "theme"], name="barrier_person_theme")]

    def __str__(self):
        return f"{self.theme}: {self.get_severity_display()}"
