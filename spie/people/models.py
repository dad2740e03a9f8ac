"""Persons accompanied, their restricted health section, follow-up groups, consents, timeline."""

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from spie.core.text import fold

from .validators import validate_nir


class Person(models.Model):
    class Sex(models.TextChoices):
        FEMALE = "F", "Femme"
        MALE = "M", "Homme"
        UNSPECIFIED = "X", "Non précisé"

    class Education(models.TextChoices):
        NONE = "none", "Aucun diplôme"
        LEVEL_3 = "3", "CAP, BEP (niveau 3)"
        LEVEL_4 = "4", "Baccalauréat (niveau 4)"
        LEVEL_5 = "5", "Bac+2 (niveau 5)"
        LEVEL_6 = "6", "Licence, bac+3 (niveau 6)"
        LEVEL_7 = "7", "Master, bac+5 et plus (niveaux 7-8)"

    class Licence(models.TextChoices):
        NONE = "none", "Aucun"
        IN_PROGRESS = "in_progress", "En cours"
        B = "B", "Permis B"
        OTHER = "other", "Autre permis (A, C, D…)"

    class Status(models.TextChoices):
        # Where the person stands in the pathway; kept by ``spie.followup.services.status``.
        TO_ORIENT = "to_orient", "À orienter"
        ORIENTED = "oriented", "Orientée, contrat à signer"
        IN_PATHWAY = "in_pathway", "En parcours"
        IN_JOB = "in_job", "En emploi (suivi dans l'emploi)"
        EXITED = "exited", "Sortie du parcours"

    territory = models.ForeignKey("network.Territory", on_delete=models.PROTECT, related_name="persons")
    # Identity
    first_name = models.CharField("prénom", max_length=100)
    last_name = models.CharField("nom", max_length=100)
    birth_name = models.CharField("nom de naissance", max_length=100, blank=True)
    birth_date = models.DateField("date de naissance")
    sex = models.CharField("sexe", max_length=1, choices=Sex.choices, default=Sex.UNSPECIFIED)
    commune = models.ForeignKey(
        "referentials.Commune", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name="commune de résidence",
    )
    address = models.CharField("adresse", max_length=250, blank=True)
    phone = models.CharField("téléphone", max_length=20, blank=True)
    email = models.EmailField("courriel", blank=True)
    # Identifiers
    nir = models.CharField("NIR", max_length=15, blank=True, validators=[validate_nir])
    caf_number = models.CharField("numéro CAF", max_length=20, blank=True)
    msa_number = models.CharField("numéro MSA", max_length=20, blank=True)
    france_travail_id = models.CharField("identifiant France Travail", max_length=20, blank=True)
    internal_id = models.CharField("identifiant départemental", max_length=30, blank=True)
    # Household
    lone_parent = models.BooleanField("parent isolé", default=False)
    children_birth_years = models.JSONField("années de naissance des enfants", default=list, blank=True)
    # Rights
    rsa = models.BooleanField("bénéficiaire du RSA", default=False)
    rsa_rights_opened_on = models.DateField("ouverture des droits RSA", null=True, blank=True)
    rsa_droits_devoirs = models.BooleanField("soumis aux droits et devoirs", default=False)
    are = models.BooleanField("ARE", default=False)
    ass = models.BooleanField("ASS", default=False)
    aah = models.BooleanField("AAH", default=False)
    prime_activite = models.BooleanField("prime d'activité", default=False)
    # Situation
    education_level = models.CharField("niveau de formation", max_length=5, choices=Education.choices, blank=True)
    languages = models.JSONField("langues parlées", default=list, blank=True)
    driving_licence = models.CharField(
        "permis de conduire", max_length=15, choices=Licence.choices, default=Licence.NONE
    )
    has_vehicle = models.BooleanField("véhicule personnel", default=False)
    # Bookkeeping
    last_name_key = models.CharField(max_length=100, editable=False)
    first_name_key = models.CharField(max_length=100, editable=False)
    entered_on = models.DateField("entrée dans le parcours", default=timezone.localdate)
    last_contact_on = models.DateField("dernier contact", null=True, blank=True)
    status = models.CharField("situation dans le parcours", max_length=12, choices=Status.choices,
                              default=Status.TO_ORIENT)
    exited_on = models.DateField("sortie du parcours", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name = "personne accompagnée"
        verbose_name_plural = "personnes accompagnées"
        constraints = [
            # One NIR, one person, per territory (empty NIR allowed for many).
            models.UniqueConstraint(fields=["territory", "nir"], condition=~Q(nir=""), name="person_unique_nir"),
        ]
        indexes = [
            models.Index(fields=["territory", "last_name_key", "first_name_key"], name="person_name_key"),
            models.Index(fields=["territory", "first_name_key"], name="person_first_name_key"),
            models.Index(fields=["territory", "birth_date"], name="person_birth_date"),
            models.Index(fields=["nir"], name="person_nir"),
            models.Index(fields=["caf_number"], name="person_caf"),
            models.Index(fields=["france_travail_id"], name="person_ft"),
            models.Index(fields=["internal_id"], name="person_internal_id"),
        ]

    def __str__(self):
        return self.full_name

    def save(self, *args, **kwargs):
        self.last_name_key = fold(self.last_name)
        self.first_name_key = fold(self.first_name)
        self.nir = (self.nir or "").replace(" ", "").upper()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = set(update_fields) | {"last_name_key", "first_name_key", "nir"}
        super().save(*args, **kwargs)

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name.upper()}"

    # Derived publics: computed, never typed twice.
    def age(self, on=None):
        on = on or timezone.localdate()
        b = self.birth_date
        return on.year - b.year - ((on.month, on.day) < (b.month, b.day))

    @property
    def is_under_26(self):
        return self.age() < 26

    @property
    def is_over_50(self):
        return self.age() >= 50

    @property
    def has_child_under_3(self):
        this_year = timezone.localdate().year
        return any(this_year - int(year) < 3 for year in self.children_birth_years or [])

    @property
    def publics(self):
        labels = []
        if self.is_under_26:
            labels.append("Moins de 26 ans")
        if self.is_over_50:
            labels.append("50 ans et plus")
        if self.has_child_under_3:
            labels.append("Parent d'un enfant de moins de 3 ans")
        if self.lone_parent:
            labels.append("Parent isolé")
        if self.rsa:
            labels.append("Bénéficiaire du RSA")
        return labels

    @property
    def rights_labels(self):
        pairs = [
            (self.rsa, "RSA"), (self.are, "ARE"), (self.ass, "ASS"),
            (self.aah, "AAH"), (self.prime_activite, "Prime d'activité"),
        ]
        return [label for flag, label in pairs if flag]


def birth_date_bounds_for_age(min_age=None, max_age=None, on=None):
    """Birth-date bounds matching an age range, so the database filters derived publics."""
    on = on or timezone.localdate()

    def years_before(years):
        try:
            return on.replace(year=on.year - years)
        except ValueError:  # 29 February
            return date(on.year - years, 2, 28)

    bounds = {}
    if min_age is not None:
        bounds["birth_date__lte"] = years_before(min_age)
    if max_age is not None:
        bounds["birth_date__gt"] = years_before(max_age + 1)
    return bounds


class HealthInfo(models.Model):
    """Restricted section: RQTH and health facts. Visible to the référent and to members
    explicitly granted it (FollowUpMembership.can_see_health), never listed elsewhere."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="health")
    rqth = models.BooleanField("RQTH", default=False)
    rqth_until = models.DateField("RQTH valable jusqu'au", null=True, blank=True)
    work_restrictions = models.TextField("restrictions d'aptitude", blank=True)
    # Yes/no restrictions (employers.models.HealthDemand codes): the matching engine sees only
    # these as bits, never the text above.
    restriction_flags = models.JSONField("contre-indications (oui/non)", default=list, blank=True)
    notes = models.TextField("observations de santé", blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "section santé / RQTH"

    def __str__(self):
        return f"Section santé de la personne {self.person_id}"


class FollowUpMembership(models.Model):
    """A professional in a person's follow-up group (secret partagé)."""

    class Kind(models.TextChoices):
        REFERENT = "referent", "Référent unique"
        MEMBER = "member", "Membre du groupe de suivi"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="followups")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="followups")
    structure = models.ForeignKey("network.Structure", on_delete=models.PROTECT, related_name="followups")
    kind = models.CharField("rôle", max_length=10, choices=Kind.choices, default=Kind.MEMBER)
    can_see_health = models.BooleanField("accès à la section santé", default=False)
    start_date = models.DateField("début", default=timezone.localdate)
    end_date = models.DateField("fin", null=True, blank=True)
    reason = models.CharField("motif", max_length=250, blank=True)
    end_reason = models.CharField("motif de fin", max_length=250, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["kind", "start_date"]
        verbose_name = "membre du groupe de suivi"
        verbose_name_plural = "groupe de suivi"
        constraints = [
            # At most one active référent unique per person, enforced by the database.
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(kind="referent", end_date__isnull=True),
                name="followup_one_active_referent",
            ),
            models.UniqueConstraint(
                fields=["person", "user"],
                condition=Q(end_date__isnull=True),
                name="followup_one_active_membership_per_user",
            ),
        ]
        indexes = [
            # Caseload: a user's active groups, read from the index alone (covering, partial).
            models.Index(
                fields=["user", "person", "kind"], condition=Q(end_date__isnull=True), name="followup_active_by_user"
            ),
            models.Index(fields=["structure", "end_date"], name="followup_structure_active"),
        ]

    def __str__(self):
        return f"{self.user} ({self.get_kind_display()}) — {self.person_id}"

    @property
    def is_active(self):
        return self.end_date is None


class JoinRequest(models.Model):
    """A professional outside the group asks to join it; the référent or an admin decides."""

    class Status(models.TextChoices):
        PENDING = "pending", "En attente"
        ACCEPTED = "accepted", "Acceptée"
        REFUSED = "refused", "Refusée"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="join_requests")
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    structure = models.ForeignKey("network.Structure", on_delete=models.CASCADE, related_name="+")
    reason = models.TextField("motif de la demande")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_reason = models.CharField("motif de la décision", max_length=250, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "demande d'accès au groupe de suivi"
        constraints = [
            models.UniqueConstraint(
                fields=["person", "requester"], condition=Q(status="pending"), name="joinrequest_one_pending"
            )
        ]

    def __str__(self):
        return f"Demande de {self.requester_id} pour {self.person_id} ({self.get_status_display()})"


class Consent(models.Model):
    """The person's consent for a scope, with date, channel and withdrawal or opposition."""

    class Scope(models.TextChoices):
        SHARING = "sharing", "Partage au sein du groupe de suivi"
        PASSPORT = "passport", "Passeport emploi"
        PARTICIPATION = "participation", "Participation citoyenne"
        RESEARCH = "research", "Études et recherche"

    class Status(models.TextChoices):
        GIVEN = "given", "Donné"
        WITHDRAWN = "withdrawn", "Retiré"
        OPPOSED = "opposed", "Opposition"

    class Channel(models.TextChoices):
        IN_PERSON = "in_person", "En entretien"
        PAPER = "paper", "Formulaire papier"
        PHONE = "phone", "Par téléphone"
        ONLINE = "online", "En ligne"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="consents")
    scope = models.CharField("objet", max_length=20, choices=Scope.choices)
    status = models.CharField("statut", max_length=10, choices=Status.choices, default=Status.GIVEN)
    given_on = models.DateField("date", default=timezone.localdate)
    channel = models.CharField("recueilli", max_length=10, choices=Channel.choices, default=Channel.IN_PERSON)
    withdrawn_on = models.DateField("retiré le", null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["scope", "-given_on", "-id"]
        verbose_name = "consentement"
        indexes = [models.Index(fields=["person", "scope"], name="consent_person_scope")]

    def __str__(self):
        return f"{self.get_scope_display()} : {self.get_status_display()} ({self.given_on})"


# French names of the timeline event kinds (``TimelineEvent.kind``, an open list: every
# capability adds its own through ``spie.people.services.add_event``). A new kind gets its label
# here; an unknown kind shows as OTHER_EVENT_LABEL, never as its code.
EVENT_LABELS = {
    # The record and the follow-up group
    "created": "Entrée dans le parcours",
    "updated": "Dossier mis à jour",
    "duplicate_confirmed": "Création malgré un homonyme",
    "referent": "Référent unique",
    "group_joined": "Arrivée dans le groupe de suivi",
    "group_left": "Départ du groupe de suivi",
    "join_refused": "Demande de suivi refusée",
    "consent": "Consentement",
    "health_updated": "Santé / RQTH mise à jour",
    "health_grant": "Accès à la section santé",
    # Diagnostic, orientation, engagement contract
    "diagnostic_started": "Diagnostic commencé",
    "diagnostic_completed": "Diagnostic terminé",
    "orientation_proposed": "Orientation proposée",
    "orientation_decided": "Orientation décidée",
    "orientation_cancelled": "Orientation annulée",
    "reorientation_requested": "Réorientation demandée",
    "reorientation_refused": "Réorientation refusée",
    "contract_created": "Contrat d'engagement en préparation",
    "contract_updated": "Contrat d'engagement modifié",
    "contract_signed": "Contrat d'engagement signé",
    "contract_scan": "Contrat signé joint",
    # Plan of action
    "plan_objective_added": "Objectif ajouté au plan",
    "plan_objective_status": "Objectif du plan mis à jour",
    "plan_action_added": "Action ajoutée au plan",
    "plan_action_status": "Action du plan mise à jour",
    "plan_contract_imported": "Plan repris du contrat",
    # Appointments and notes
    "appointment_scheduled": "Rendez-vous fixé",
    "appointment_changed": "Rendez-vous modifié",
    "appointment_cancelled": "Rendez-vous annulé",
    "appointment_attendance": "Présence à un rendez-vous",
    "note": "Note",
    # Employment and exit
    "employment_started": "Reprise d'emploi",
    "employment_ended": "Fin d'emploi",
    "employment_checkpoint": "Point de suivi dans l'emploi",
    "exit": "Sortie du parcours",
    "exit_cancelled": "Parcours rouvert",
    # Referrals to actions of the catalogue
    "referral_sent": "Orientation vers une action",
    "referral_accepted": "Orientation acceptée par la structure",
    "referral_refused": "Orientation refusée par la structure",
    "referral_started": "Entrée dans l'action",
    "referral_completed": "Action terminée",
    "referral_dropped": "Action abandonnée",
    "referral_expired": "Orientation expirée sans réponse",
    "referral_cancelled": "Orientation annulée",
    # Job search, positionings and immersions (employer side)
    "job_profile": "Profil de recherche d'emploi",
    "engagement_registered": "Inscription à un événement entreprise",
    "engagement_unregistered": "Désinscription d'un événement entreprise",
    "positioning_proposed": "Mise en relation avec une offre",
    "positioning_requested": "Demande de mise en relation d'une entreprise",
    "positioning_declined": "Mise en relation déclinée",
    "positioning_interested": "Entreprise intéressée",
    "positioning_interview": "Entretien d'embauche prévu",
    "positioning_hired": "Recrutement après une mise en relation",
    "positioning_refused": "Mise en relation refusée par l'entreprise",
    "positioning_withdrawn": "Mise en relation retirée",
    "immersion_requested": "Immersion demandée",
    "immersion_agreed": "Convention d'immersion signée",
    "immersion_assessed": "Bilan d'immersion",
    "immersion_cancelled": "Immersion annulée",
}
OTHER_EVENT_LABEL = "Autre événement"


def event_label(kind):
    """The French name of a timeline event kind ("Autre événement" if unknown)."""
    return EVENT_LABELS.get(kind, OTHER_EVENT_LABEL)


class TimelineEvent(models.Model):
    """One event of the person's pathway. Every capability adds its own kinds (named in
    :data:`EVENT_LABELS`)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=50)
    title = models.CharField(max_length=250)
    detail = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    structure = models.ForeignKey(
        "network.Structure", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "événement du parcours"
        indexes = [models.Index(fields=["person", "-at"], name="timeline_person_at")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d} {self.title}"

    @property
    def kind_label(self):
        return event_label(self.kind)
