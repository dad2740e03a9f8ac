"""Shared kernel models: the append-only access log."""

from django.conf import settings
from django.db import models


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Le journal des accès ne peut pas être modifié.")

    def delete(self):
        raise PermissionError("Le journal des accès ne peut pas être supprimé.")


class AccessLog(models.Model):
    """One read of a person's record: who, when, which section, from where, why.

    Never holds the data itself. Rows are inserted only; updates and deletes raise, both on
    the instance and on querysets, and the admin is read-only. Rows disappear only with the
    person, when the retention schedule purges the record (database-level cascade).
    """

    class Section(models.TextChoices):
        CARD = "card", "Fiche annuaire"
        RECORD = "record", "Dossier (identité, situation, droits, suivi)"
        HEALTH = "health", "Section santé / RQTH"
        TIMELINE = "timeline", "Historique"
        ACCESS_LOG = "access_log", "Journal des consultations"
        EXPORT = "export", "Export"
        DIAGNOSTIC = "diagnostic", "Diagnostic"
        ORIENTATION = "orientation", "Orientation"
        CONTRACT = "contract", "Contrat d'engagement"
        PLAN = "plan", "Plan d'action"
        APPOINTMENT = "appointment", "Rendez-vous"
        NOTE = "note", "Notes de suivi"
        EXIT = "exit", "Sortie et bilan"
        EMPLOYMENT = "employment", "Suivi dans l'emploi"
        IMPORT = "import", "Import"
        REFERRAL = "referral", "Orientation vers une action"
        JOBS = "jobs", "Recherche d'emploi et mises en relation"

    class Channel(models.TextChoices):
        PAGE = "page", "Page"
        API = "api", "API"
        EXPORT = "export", "Export"
        LINK = "link", "Lien sécurisé (structure sans compte)"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Empty only for a provider answering through a signed link (channel "link"): the
    # structure that holds the link is recorded instead.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    structure = models.ForeignKey(
        "network.Structure", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="access_logs")
    section = models.CharField(max_length=20, choices=Section.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.PAGE)
    reason = models.CharField(max_length=200, blank=True)
    path = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = "consultation de dossier"
        verbose_name_plural = "journal des consultations"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["person", "-at"], name="accesslog_person_at")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_id} → {self.person_id} ({self.section})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Le journal des accès ne peut pas être modifié.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Le journal des accès ne peut pas être supprimé.")
