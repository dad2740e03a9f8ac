"""Day-to-day follow-up of a person's pathway (axe 2 of the SPIE).

- the plan: objectives (by theme of the pathway référentiel) and their actions, each with a
  status, dates and who carries it, with a transition log;
- appointments with the person, their invitations and reminders (e-mail, SMS), attendance;
- notes with a confidentiality class and checked attachments;
- the exit from the pathway with its report ("bilan");
- jobs started and the post-hiring checkpoints at 1, 3 and 6 months ("jusque dans l'emploi").

Alerts are computed from these rows (``selectors/alerts.py``), never stored.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class PlanStatus(models.TextChoices):
    PLANNED = "planned", "Prévue"
    IN_PROGRESS = "in_progress", "En cours"
    ON_HOLD = "on_hold", "En pause"
    DONE = "done", "Réalisée"
    ABANDONED = "abandoned", "Abandonnée"
    CANCELLED = "cancelled", "Annulée"


# Allowed transitions of an objective or an action (the workflow is explicit, DESIGN.md §5).
PLAN_TRANSITIONS = {
    PlanStatus.PLANNED: {PlanStatus.IN_PROGRESS, PlanStatus.ON_HOLD, PlanStatus.DONE, PlanStatus.CANCELLED},
    PlanStatus.IN_PROGRESS: {PlanStatus.ON_HOLD, PlanStatus.DONE, PlanStatus.ABANDONED},
    PlanStatus.ON_HOLD: {PlanStatus.IN_PROGRESS, PlanStatus.ABANDONED, PlanStatus.CANCELLED},
    PlanStatus.DONE: {PlanStatus.IN_PROGRESS},
    PlanStatus.ABANDONED: {PlanStatus.PLANNED, PlanStatus.IN_PROGRESS},
    PlanStatus.CANCELLED: {PlanStatus.PLANNED},
}
OPEN_PLAN_STATUSES = (PlanStatus.PLANNED, PlanStatus.IN_PROGRESS, PlanStatus.ON_HOLD)


class PlanObjective(models.Model):
    """An objective of the person's plan, under a theme of the pathway référentiel."""

    class Source(models.TextChoices):
        REFERENTIAL = "referentiel", "Référentiel de parcours"
        CONTRACT = "contract", "Contrat d'engagement"
        FREE = "free", "Saisie libre"

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="plan_objectives")
    theme = models.ForeignKey(
        "referentials.PathwayTheme", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name="thème",
    )
    item = models.ForeignKey(
        "referentials.PathwayItem", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name="objectif du référentiel",
    )
    label = models.CharField("objectif", max_length=300)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.FREE)
    # When taken from the engagement contract: the version and the objective's position in it.
    contract = models.ForeignKey(
        "pathways.EngagementContract", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name="contrat d'engagement",
    )
    contract_position = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField("statut", max_length=12, choices=PlanStatus.choices, default=PlanStatus.PLANNED)
    started_on = models.DateField("commencé le", null=True, blank=True)
    ended_on = models.DateField("terminé le", null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    structure = models.ForeignKey("network.Structure", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "objectif du plan"
        verbose_name_plural = "objectifs du plan"
        indexes = [models.Index(fields=["person", "status"], name="plan_objective_person")]

    def __str__(self):
        return self.label


class PlanAction(models.Model):
    """An action towards an objective: from the référentiel or free, with dates and who."""

    objective = models.ForeignKey(PlanObjective, on_delete=models.CASCADE, related_name="actions")
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="plan_actions")
    item = models.ForeignKey(
        "referentials.PathwayItem", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name="action du référentiel",
    )
    label = models.CharField("action", max_length=300)
    status = models.CharField("statut", max_length=12, choices=PlanStatus.choices, default=PlanStatus.PLANNED)
    planned_on = models.DateField("début prévu", null=True, blank=True)
    due_on = models.DateField("échéance", null=True, blank=True)
    started_on = models.DateField("commencée le", null=True, blank=True)
    ended_on = models.DateField("terminée le", null=True, blank=True)
    # Who carries the action: a professional of the network, a structure, or someone else.
    responsible_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name="professionnel en charge",
    )
    responsible_structure = models.ForeignKey(
        "network.Structure", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name="structure en charge",
    )
    provider = models.CharField("autre intervenant", max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["planned_on", "id"]
        verbose_name = "action du plan"
        verbose_name_plural = "actions du plan"
        indexes = [models.Index(fields=["person", "status"], name="plan_action_person")]

    def __str__(self):
        return self.label


class PlanTransition(models.Model):
    """Transition log of the plan: who, when, from, to, reason (objective or action)."""

    objective = models.ForeignKey(
        PlanObjective, on_delete=models.CASCADE, null=True, blank=True, related_name="transitions"
    )
    action = models.ForeignKey(PlanAction, on_delete=models.CASCADE, null=True, blank=True, related_name="transitions")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "changement de statut du plan"

    def __str__(self):
        return f"{self.from_status or '∅'} → {self.to_status}"


class Appointment(models.Model):
    """An appointment with the person: when, where or how, with whom, and whether they came."""

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", "Sur place"
        PHONE = "phone", "Par téléphone"
        VIDEO = "video", "En visioconférence"
        HOME = "home", "À domicile"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Prévu"
        CANCELLED = "cancelled", "Annulé"

    class Attendance(models.TextChoices):
        PENDING = "pending", "À renseigner"
        PRESENT = "present", "Présent(e)"
        ABSENT = "absent", "Absent(e)"
        EXCUSED = "excused", "Absence excusée"

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="appointments")
    starts_at = models.DateTimeField("date et heure")
    duration_minutes = models.PositiveSmallIntegerField("durée (minutes)", default=45)
    mode = models.CharField("modalité", max_length=10, choices=Mode.choices, default=Mode.IN_PERSON)
    place = models.CharField("lieu ou lien", max_length=250, blank=True)
    purpose = models.CharField("objet", max_length=200)
    with_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments", verbose_name="avec"
    )
    structure = models.ForeignKey("network.Structure", on_delete=models.PROTECT, related_name="appointments")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    cancel_reason = models.CharField("motif d'annulation", max_length=250, blank=True)
    attendance = models.CharField(
        "présence", max_length=10, choices=Attendance.choices, default=Attendance.PENDING
    )
    attendance_recorded_at = models.DateTimeField(null=True, blank=True)
    attendance_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    notify_email = models.BooleanField("prévenir par courriel", default=True)
    notify_sms = models.BooleanField("prévenir par SMS", default=True)
    invitation_sent_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = "rendez-vous"
        verbose_name_plural = "rendez-vous"
        indexes = [
            models.Index(fields=["person", "-starts_at"], name="appointment_person"),
            models.Index(fields=["with_user", "status", "attendance", "starts_at"], name="appointment_user"),
            models.Index(fields=["structure", "starts_at"], name="appointment_structure"),
            models.Index(fields=["status", "reminder_sent_at", "starts_at"], name="appointment_reminders"),
        ]

    def __str__(self):
        return f"Rendez-vous du {timezone.localtime(self.starts_at):%d/%m/%Y %H:%M}"

    @property
    def ends_at(self):
        return self.starts_at + timezone.timedelta(minutes=self.duration_minutes)


class Notification(models.Model):
    """A message sent to a person (invitation, reminder), without its text: channel and outcome."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Courriel"
        SMS = "sms", "SMS"

    class Kind(models.TextChoices):
        INVITATION = "invitation", "Convocation"
        REMINDER = "reminder", "Rappel"
        CHANGE = "change", "Modification"
        CANCELLATION = "cancellation", "Annulation"

    class Status(models.TextChoices):
        SENT = "sent", "Envoyé"
        FAILED = "failed", "Échec"

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="notifications")
    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    channel = models.CharField(max_length=5, choices=Channel.choices)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=6, choices=Status.choices)
    error = models.CharField(max_length=250, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "message envoyé à la personne"

    def __str__(self):
        return f"{self.get_kind_display()} par {self.get_channel_display()} ({self.get_status_display()})"


class Note(models.Model):
    """A note on the person's pathway, with a confidentiality class (``followup.policies``)."""

    class Confidentiality(models.TextChoices):
        GROUP = "group", "Groupe de suivi"
        STRUCTURE = "structure", "Ma structure uniquement"
        HEALTH = "health", "Section santé (restreinte)"

    class Kind(models.TextChoices):
        INTERVIEW = "interview", "Entretien"
        PHONE = "phone", "Échange téléphonique"
        MESSAGE = "message", "Courriel ou courrier"
        OBSERVATION = "observation", "Observation"
        OTHER = "other", "Autre"

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="notes")
    confidentiality = models.CharField(
        "visible par", max_length=10, choices=Confidentiality.choices, default=Confidentiality.GROUP
    )
    kind = models.CharField("nature", max_length=12, choices=Kind.choices, default=Kind.OBSERVATION)
    is_contact = models.BooleanField("contact avec la personne", default=False)
    body = models.TextField("note")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_structure = models.ForeignKey("network.Structure", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "note de suivi"
        verbose_name_plural = "notes de suivi"
        indexes = [models.Index(fields=["person", "confidentiality", "-created_at"], name="note_person")]

    def __str__(self):
        return f"Note du {timezone.localtime(self.created_at):%d/%m/%Y} ({self.get_confidentiality_display()})"


class NoteAttachment(models.Model):
    """A file attached to a note: checked by content and size, stored under MEDIA_ROOT (never
    served by URL), read back only through the note's policy."""

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="notes/%Y/%m/", max_length=200)
    original_name = models.CharField("nom du fichier", max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "pièce jointe"

    def __str__(self):
        return self.original_name


class ExitReason(models.TextChoices):
    SUSTAINABLE_JOB = "sustainable_job", "Emploi durable (CDI, ou CDD ou intérim de 6 mois et plus)"
    SHORT_JOB = "short_job", "Emploi de moins de 6 mois (CDD, intérim)"
    TRAINING = "training", "Formation qualifiante"
    BUSINESS_CREATION = "business_creation", "Création d'entreprise"
    MOVED = "moved", "Déménagement hors du territoire"
    LOST_CONTACT = "lost_contact", "Perte de contact"
    END_OF_RIGHTS = "end_of_rights", "Fin de droits"
    OTHER = "other", "Autre motif"


class PathwayExit(models.Model):
    """The exit from the pathway and its report, written with the person. Cancelling an exit
    (the person comes back) keeps the row with who and why."""

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="exits")
    reason = models.CharField("motif de sortie", max_length=20, choices=ExitReason.choices)
    reason_detail = models.CharField("précision", max_length=250, blank=True)
    exit_date = models.DateField("date de sortie", default=timezone.localdate)
    # The "bilan de fin de parcours".
    achievements = models.TextField("ce qui a été réalisé", blank=True)
    difficulties = models.TextField("difficultés rencontrées", blank=True)
    person_words = models.TextField("ce que la personne en dit", blank=True)
    next_steps = models.TextField("suites et relais", blank=True)
    written_with_person = models.BooleanField("bilan rédigé avec la personne", default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    structure = models.ForeignKey("network.Structure", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cancel_reason = models.CharField("motif de la réouverture", max_length=250, blank=True)

    class Meta:
        ordering = ["-exit_date", "-id"]
        verbose_name = "sortie du parcours"
        verbose_name_plural = "sorties du parcours"
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(cancelled_at__isnull=True), name="exit_one_active_per_person"
            )
        ]
        indexes = [models.Index(fields=["exit_date"], name="exit_date")]

    def __str__(self):
        return f"Sortie du {self.exit_date:%d/%m/%Y} — {self.get_reason_display()}"


class Employment(models.Model):
    """A job the person started: opens the post-hiring follow-up ("jusque dans l'emploi")."""

    class ContractType(models.TextChoices):
        CDI = "cdi", "CDI"
        CDD = "cdd", "CDD"
        INTERIM = "interim", "Intérim"
        IAE = "iae", "Contrat d'insertion (IAE)"
        APPRENTICESHIP = "alternance", "Alternance"
        BUSINESS = "creation", "Création d'entreprise"
        OTHER = "other", "Autre"

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="employments")
    employer_name = models.CharField("employeur", max_length=200)
    employer_siret = models.CharField("SIRET de l'employeur", max_length=14, blank=True)
    employer_contact = models.CharField("contact chez l'employeur", max_length=200, blank=True)
    job_title = models.CharField("poste", max_length=200)
    contract_type = models.CharField("type de contrat", max_length=12, choices=ContractType.choices)
    weekly_hours = models.DecimalField("heures par semaine", max_digits=4, decimal_places=1, null=True, blank=True)
    started_on = models.DateField("début")
    planned_end_on = models.DateField("fin prévue", null=True, blank=True)
    ended_on = models.DateField("fin effective", null=True, blank=True)
    end_reason = models.CharField("motif de fin", max_length=250, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    structure = models.ForeignKey("network.Structure", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_on", "-id"]
        verbose_name = "emploi"
        indexes = [models.Index(fields=["person", "-started_on"], name="employment_person")]

    def __str__(self):
        return f"{self.job_title} chez {self.employer_name}"


class Checkpoint(models.Model):
    """A post-hiring checkpoint at 1, 3 or 6 months after the job started."""

    MONTHS = (1, 3, 6)

    class Outcome(models.TextChoices):
        IN_JOB = "in_job", "Toujours en poste"
        CHANGED_JOB = "changed_job", "A changé d'emploi"
        JOB_ENDED = "job_ended", "N'est plus en emploi"
        UNREACHABLE = "unreachable", "Injoignable"

    employment = models.ForeignKey(Employment, on_delete=models.CASCADE, related_name="checkpoints")
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="checkpoints")
    month = models.PositiveSmallIntegerField("échéance (mois)")
    due_on = models.DateField("à faire le")
    done_on = models.DateField("fait le", null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    contacted_person = models.BooleanField("contact avec la personne", default=False)
    contacted_employer = models.BooleanField("contact avec l'employeur", default=False)
    outcome = models.CharField("situation", max_length=12, choices=Outcome.choices, blank=True)
    difficulties = models.TextField("difficultés signalées", blank=True)
    comment = models.TextField("commentaire", blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = "point de suivi dans l'emploi"
        verbose_name_plural = "points de suivi dans l'emploi"
        constraints = [models.UniqueConstraint(fields=["employment", "month"], name="checkpoint_unique_month")]
        indexes = [
            models.Index(fields=["person", "due_on"], condition=Q(done_on__isnull=True), name="checkpoint_open")
        ]

    def __str__(self):
        return f"Point à {self.month} mois ({self.due_on:%d/%m/%Y})"


class PurgeRun(models.Model):
    """One run of the retention purge (``manage.py purge_records``): when, for which territory,
    the cutoff applied and how many records went (or would go, in a dry run). Holds no names."""

    territory = models.ForeignKey("network.Territory", on_delete=models.PROTECT, related_name="+")
    ran_at = models.DateTimeField("exécutée le", default=timezone.now)
    cutoff = models.DateField("date limite (dernier contact ou sortie avant le)")
    persons_purged = models.PositiveIntegerField("dossiers supprimés", default=0)
    dry_run = models.BooleanField("simulation", default=False)
    by = models.CharField("lancée par", max_length=100, default="commande")

    class Meta:
        ordering = ["-ran_at", "-id"]
        verbose_name = "purge des dossiers"
        verbose_name_plural = "purges des dossiers"

    def __str__(self):
        kind = "Simulation de purge" if self.dry_run else "Purge"
        return f"{kind} du {timezone.localtime(self.ran_at):%d/%m/%Y} : {self.persons_purged} dossier(s)"
