"""Staged imports of persons, professionals, memberships, catalogue actions and job offers from
CSV, XLSX or JSON files (actions: data·inclusion; offers: France Travail "Offres d'emploi v2").

A file goes through explicit steps (DESIGN.md §5): it is uploaded, its columns are mapped to
the platform's fields, every row is validated into an :class:`ImportRow` (the preview), the
user fixes or drops rows in error, then the whole file is committed in one transaction.
Nothing touches persons, accounts or actions before the commit; a failed commit writes nothing.
"""

from django.conf import settings
from django.db import models


class ImportKind(models.TextChoices):
    PERSONS = "persons", "Personnes accompagnées"
    PROFESSIONALS = "professionals", "Professionnels de la structure"
    MEMBERSHIPS = "memberships", "Rattachements à des structures"
    ACTIONS = "actions", "Actions du catalogue"
    OPENINGS = "openings", "Offres d'emploi"


class MatchKey(models.TextChoices):
    INTERNAL_ID = "internal_id", "Identifiant départemental"
    NIR = "nir", "NIR (numéro de sécurité sociale)"
    CAF_NUMBER = "caf_number", "Numéro d'allocataire CAF"
    NAMES_BIRTH_DATE = "names_birth_date", "Nom, prénom et date de naissance"


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", "Fichier déposé"
    MAPPED = "mapped", "Colonnes associées"
    VALIDATING = "validating", "Vérification en cours"
    READY = "ready", "Prêt à importer (aperçu)"
    COMMITTING = "committing", "Import en cours"
    COMMITTED = "committed", "Importé"
    FAILED = "failed", "Échec"
    CANCELLED = "cancelled", "Annulé"


# Allowed transitions of an import (the workflow is explicit, DESIGN.md §5).
IMPORT_TRANSITIONS = {
    ImportStatus.UPLOADED: {ImportStatus.MAPPED, ImportStatus.FAILED, ImportStatus.CANCELLED},
    ImportStatus.MAPPED: {ImportStatus.MAPPED, ImportStatus.VALIDATING, ImportStatus.CANCELLED},
    ImportStatus.VALIDATING: {ImportStatus.READY, ImportStatus.FAILED},
    ImportStatus.READY: {ImportStatus.MAPPED, ImportStatus.COMMITTING, ImportStatus.CANCELLED},
    ImportStatus.COMMITTING: {ImportStatus.COMMITTED, ImportStatus.FAILED},
    ImportStatus.FAILED: {ImportStatus.MAPPED, ImportStatus.CANCELLED},
    ImportStatus.COMMITTED: set(),
    ImportStatus.CANCELLED: set(),
}
# While these run in the background the page polls the progress.
RUNNING_STATUSES = (ImportStatus.MAPPED, ImportStatus.VALIDATING, ImportStatus.COMMITTING)
FINAL_STATUSES = (ImportStatus.COMMITTED, ImportStatus.CANCELLED)


class ImportJob(models.Model):
    territory = models.ForeignKey("network.Territory", on_delete=models.PROTECT, related_name="+")
    structure = models.ForeignKey("network.Structure", on_delete=models.PROTECT, related_name="imports")
    kind = models.CharField("type de fichier", max_length=15, choices=ImportKind.choices)
    # Private media: never served by URL (MEDIA_ROOT is outside the web root).
    file = models.FileField("fichier", upload_to="imports/%Y/%m/", max_length=250)
    original_name = models.CharField("nom du fichier", max_length=250)
    file_format = models.CharField("format", max_length=4, blank=True)
    encoding = models.CharField("encodage", max_length=20, blank=True)
    separator = models.CharField("séparateur", max_length=3, blank=True)
    headers = models.JSONField("colonnes du fichier", default=list, blank=True)
    mapping = models.JSONField("correspondance des colonnes", default=dict, blank=True)
    match_key = models.CharField(
        "clé de rapprochement", max_length=20, choices=MatchKey.choices, default=MatchKey.NAMES_BIRTH_DATE
    )
    # Référent unique given to the persons the import creates (a professional of the structure).
    referent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name="référent unique des personnes créées",
    )
    status = models.CharField(max_length=12, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    rows_count = models.PositiveIntegerField("lignes", default=0)
    valid_count = models.PositiveIntegerField("lignes valides", default=0)
    error_count = models.PositiveIntegerField("lignes en erreur", default=0)
    dropped_count = models.PositiveIntegerField("lignes écartées", default=0)
    create_count = models.PositiveIntegerField("à créer", default=0)
    update_count = models.PositiveIntegerField("à mettre à jour", default=0)
    unchanged_count = models.PositiveIntegerField("inchangées", default=0)
    error_message = models.TextField("message d'erreur", blank=True)
    # Absolute address of the platform, for the invitation links the commit e-mails.
    site_url = models.CharField(max_length=200, blank=True)
    validate_seconds = models.FloatField(null=True, blank=True)
    commit_seconds = models.FloatField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "import de fichier"
        verbose_name_plural = "imports de fichiers"
        indexes = [models.Index(fields=["structure", "-created_at"], name="importjob_structure_created")]

    def __str__(self):
        return f"Import {self.pk} ({self.get_kind_display()}, {self.original_name})"

    @property
    def is_running(self):
        return self.status in RUNNING_STATUSES

    @property
    def progress_percent(self):
        if not self.progress_total:
            return 0
        return min(100, int(self.progress_done * 100 / self.progress_total))

    @property
    def to_commit_count(self):
        return self.create_count + self.update_count


class ImportTransition(models.Model):
    """One step of an import's workflow: who, when, from, to, why."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=12, choices=ImportStatus.choices)
    to_status = models.CharField(max_length=12, choices=ImportStatus.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "étape d'un import"

    def __str__(self):
        return f"{self.job_id}: {self.from_status} → {self.to_status}"


class RowAction(models.TextChoices):
    CREATE = "create", "À créer"
    UPDATE = "update", "À mettre à jour"
    UNCHANGED = "unchanged", "Inchangée"
    ERROR = "error", "En erreur"
    DROPPED = "dropped", "Écartée"


class ImportRow(models.Model):
    """One data row of the file: what it said (per target field), what it means, what to do."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField("ligne")  # line number in the file (the header is line 1)
    raw = models.JSONField(default=dict)  # {target field: text of the mapped cell}
    cleaned = models.JSONField(default=dict)  # {target field: JSON value}
    errors = models.JSONField(default=dict)  # {target field or "__all__": French message}
    action = models.CharField(max_length=10, choices=RowAction.choices)
    target_id = models.PositiveBigIntegerField(null=True, blank=True)  # person (or user) matched
    diff = models.JSONField(default=dict, blank=True)  # {field: [old, new]}
    key = models.CharField(max_length=250, blank=True)  # match key value (duplicates inside the file)
    nir = models.CharField(max_length=15, blank=True)
    fixed = models.BooleanField(default=False)  # edited by hand in the preview

    class Meta:
        ordering = ["job", "line"]
        verbose_name = "ligne d'import"
        indexes = [
            models.Index(fields=["job", "action", "line"], name="importrow_job_action"),
            models.Index(fields=["job", "key"], name="importrow_job_key"),
        ]

    def __str__(self):
        return f"Import {self.job_id}, ligne {self.line}"


class SavedMapping(models.Model):
    """The mapping last used by a structure for a file layout, so the next upload is pre-mapped."""

    structure = models.ForeignKey("network.Structure", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=15, choices=ImportKind.choices)
    signature = models.CharField(max_length=64)  # hash of the normalised headers
    mapping = models.JSONField(default=dict)
    match_key = models.CharField(max_length=20, choices=MatchKey.choices, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "correspondance de colonnes enregistrée"
        constraints = [
            models.UniqueConstraint(fields=["structure", "kind", "signature"], name="savedmapping_unique_layout")
        ]

    def __str__(self):
        return f"{self.structure_id} {self.kind} {self.signature[:8]}"
