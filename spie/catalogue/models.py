"""The shared bank of actions ("banque d'actions commune") and referrals to its actions.

- :class:`Action`: what a structure offers, shaped on the data·inclusion v1 *service* schema
  (``referentials/data/data_inclusion_schema/service.json``) so the catalogue exports to and
  imports from that national format (``interop.py``), plus the SPIE's own fields the national
  schema lacks (kind of SPIE action, axis, plan action served, capacity, sessions, languages,
  accessibility). An action may be a *model* a network offers at several sites; each site's
  action points to its model (``model``) and is kept in step by ``services.sync_from_model``.
- :class:`ActionSession`: a dated session of an action, with its capacity and places taken.
- :class:`Referral`: a référent sends a person to an action (or a session); the provider
  answers in its space or through a signed expiring link. Its workflow is the transition table
  of ``workflows.py``, logged in :class:`ReferralTransition`.

Search fields (``search_text``, ``theme_key``, ``public_key``, ``zone_key``) are derived in
:meth:`Action.save` so that the search (``search.py``) filters with plain, portable SQL.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class ServiceType(models.TextChoices):
    """data·inclusion ``TypeService``."""

    ACCOMPAGNEMENT = "accompagnement", "Accompagnement"
    AIDE_FINANCIERE = "aide-financiere", "Aide financière"
    AIDE_MATERIELLE = "aide-materielle", "Aide matérielle"
    ATELIER = "atelier", "Atelier"
    FORMATION = "formation", "Formation"
    INFORMATION = "information", "Information"


class Fees(models.TextChoices):
    GRATUIT = "gratuit", "Gratuit"
    PAYANT = "payant", "Payant"


class ReceptionMode(models.TextChoices):
    IN_PERSON = "en-presentiel", "En présentiel"
    REMOTE = "a-distance", "À distance"


class MobilisationMode(models.TextChoices):
    EMAIL = "envoyer-un-courriel", "Envoyer un courriel"
    WALK_IN = "se-presenter", "Se présenter"
    PHONE = "telephoner", "Téléphoner"
    LINK = "utiliser-lien-mobilisation", "Utiliser le lien de mobilisation"


class Mobiliser(models.TextChoices):
    USERS = "usagers", "Les personnes elles-mêmes"
    PROFESSIONALS = "professionnels", "Les professionnels"


class SpieKind(models.TextChoices):
    """Kinds of SPIE actions (extension: the national schema has no such field)."""

    IMMERSION = "immersion", "Immersion en entreprise"
    COMPANY_VISIT = "company_visit", "Visite d'entreprise"
    WEBINAR = "webinar", "Webinaire"
    JOB_DISCOVERY = "job_discovery", "Découverte des métiers"
    WORKSHOP = "workshop", "Atelier"
    TRAINING = "training", "Formation"
    COACHING = "coaching", "Accompagnement individuel / coaching"
    COLLECTIVE_INFO = "collective_info", "Information collective"
    PREJUDICE = "prejudice", "Faire ensemble contre les préjugés"
    SENIORS_LAB = "seniors_lab", "Lab des plus de 50 ans"
    MOBILITY_HELP = "mobility_help", "Aide à la mobilité"
    CHILDCARE = "childcare", "Solution de garde d'enfants"
    OTHER = "other", "Autre"


class SpieAxis(models.TextChoices):
    """The three axes of the SPIE action plan, plus its transverse actions."""

    ENTRY = "axe1", "Axe 1 : entrée dans le parcours"
    FOLLOWUP = "axe2", "Axe 2 : suivi de parcours"
    OFFER = "axe3", "Axe 3 : offre d'accompagnement"
    TRANSVERSE = "transverse", "Actions transverses"


class ActionStatus(models.TextChoices):
    DRAFT = "draft", "Brouillon"
    PUBLISHED = "published", "Publiée"
    SUSPENDED = "suspended", "Suspendue"
    ARCHIVED = "archived", "Archivée"


# Lifecycle of an action (explicit, DESIGN.md §5). A suspension ends by itself at its date.
ACTION_TRANSITIONS = {
    ActionStatus.DRAFT: {ActionStatus.PUBLISHED, ActionStatus.ARCHIVED},
    ActionStatus.PUBLISHED: {ActionStatus.SUSPENDED, ActionStatus.ARCHIVED, ActionStatus.DRAFT},
    ActionStatus.SUSPENDED: {ActionStatus.PUBLISHED, ActionStatus.ARCHIVED},
    ActionStatus.ARCHIVED: {ActionStatus.DRAFT},
}


class Action(models.Model):
    """An action of the catalogue (a data·inclusion *service* with the SPIE's extensions)."""

    territory = models.ForeignKey("network.Territory", on_delete=models.PROTECT, related_name="actions")
    structure = models.ForeignKey("network.Structure", on_delete=models.PROTECT, related_name="actions")
    # Stable public identifier (URLs, the data·inclusion ``id``); never the database key.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # A network's action model offered at several sites: each site's action points to it.
    is_model = models.BooleanField("modèle d'action", default=False)
    model = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="instances",
        verbose_name="modèle",
    )
    # Where it came from when imported (data·inclusion ``source`` and ``id``): re-imports update.
    source = models.CharField("source", max_length=100, blank=True)
    source_id = models.CharField("identifiant à la source", max_length=200, blank=True)

    # data·inclusion v1 service fields
    name = models.CharField("nom", max_length=150)
    summary = models.CharField("résumé", max_length=280, blank=True)
    description = models.TextField("description")
    type = models.CharField("type", max_length=20, choices=ServiceType.choices, blank=True)
    thematiques = models.JSONField("thématiques", default=list, blank=True)
    fees = models.CharField("frais", max_length=10, choices=Fees.choices, blank=True)
    fees_details = models.CharField("précisions sur les frais", max_length=300, blank=True)
    publics = models.JSONField("publics", default=list, blank=True)
    publics_details = models.CharField("précisions sur les publics", max_length=500, blank=True)
    access_conditions = models.TextField("conditions d'accès", blank=True)
    prerequisites = models.TextField("prérequis", blank=True)
    documents = models.TextField("justificatifs à fournir", blank=True)
    reception_modes = models.JSONField("modes d'accueil", default=list, blank=True)
    address = models.CharField("adresse", max_length=250, blank=True)
    address_complement = models.CharField("complément d'adresse", max_length=250, blank=True)
    postal_code = models.CharField("code postal", max_length=5, blank=True)
    commune = models.ForeignKey(
        "referentials.Commune", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name="commune",
    )
    lat = models.FloatField("latitude", null=True, blank=True)
    lon = models.FloatField("longitude", null=True, blank=True)
    # Codes of communes (5), départements (2-3) or EPCI (9 digits); empty: no restriction.
    eligibility_zone = models.JSONField("zone d'éligibilité", default=list, blank=True)
    contact_name = models.CharField("contact", max_length=150, blank=True)
    email = models.EmailField("courriel", blank=True)
    phone = models.CharField("téléphone", max_length=20, blank=True)
    mobilisation_modes = models.JSONField("modes de mobilisation", default=list, blank=True)
    mobilisable_by = models.JSONField("mobilisable par", default=list, blank=True)
    mobilisation_details = models.TextField("comment mobiliser l'action", blank=True)
    mobilisation_link = models.URLField("lien de mobilisation", max_length=500, blank=True)
    opening_hours = models.CharField("horaires d'accueil", max_length=250, blank=True)
    weekly_hours = models.DecimalField(
        "heures par semaine", max_digits=4, decimal_places=1, null=True, blank=True,
        help_text="Comptent dans les heures d'activité du contrat d'engagement.",
    )
    weeks = models.PositiveSmallIntegerField("nombre de semaines", null=True, blank=True)

    # SPIE extensions
    spie_kind = models.CharField("type d'action SPIE", max_length=20, choices=SpieKind.choices, blank=True)
    spie_axis = models.CharField("axe du plan SPIE", max_length=12, choices=SpieAxis.choices, blank=True)
    plan_item = models.ForeignKey(
        "referentials.PathwayItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name="action du référentiel de parcours servie",
    )
    capacity = models.PositiveIntegerField("places", null=True, blank=True,
                                           help_text="Sans sessions : nombre de places ouvertes.")
    places_taken = models.PositiveIntegerField("places prises", default=0)
    registration_deadline = models.DateField("date limite d'inscription", null=True, blank=True)
    languages = models.JSONField("langues", default=list, blank=True)
    accessibility = models.CharField("accessibilité", max_length=500, blank=True)

    # Lifecycle
    status = models.CharField("statut", max_length=10, choices=ActionStatus.choices, default=ActionStatus.DRAFT)
    suspended_until = models.DateField("suspendue jusqu'au", null=True, blank=True)
    published_at = models.DateTimeField("publiée le", null=True, blank=True)
    # Date of the last change of its content (data·inclusion ``date_maj``), drives freshness.
    content_updated_on = models.DateField("mise à jour le", default=timezone.localdate)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Derived search keys (see ``search.py``): folded and stemmed words, "|code|" lists.
    search_text = models.TextField(editable=False, blank=True)
    theme_key = models.TextField(editable=False, blank=True)
    public_key = models.TextField(editable=False, blank=True)
    zone_key = models.TextField(editable=False, blank=True)
    is_remote = models.BooleanField(default=False, editable=False)
    is_in_person = models.BooleanField(default=False, editable=False)
    next_session_on = models.DateField(null=True, blank=True, editable=False)
    places_left_total = models.IntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "action du catalogue"
        verbose_name_plural = "actions du catalogue"
        indexes = [
            models.Index(fields=["territory", "status", "lat", "lon"], name="action_search_geo"),
            models.Index(fields=["structure", "status"], name="action_structure"),
            models.Index(fields=["source", "source_id"], name="action_source"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        from .search import derive_keys  # the search owns its keys

        derive_keys(self)
        super().save(*args, **kwargs)

    @property
    def is_visible(self):
        """Published, or suspended until a date already past."""
        if self.status == ActionStatus.PUBLISHED:
            return True
        return (
            self.status == ActionStatus.SUSPENDED
            and self.suspended_until is not None
            and self.suspended_until < timezone.localdate()
        )

    def needs_update(self, today=None):
        """True once the content is older than the territory's freshness period."""
        today = today or timezone.localdate()
        days = self.territory.setting("catalogue_freshness_days")
        return (today - self.content_updated_on).days > days


class ActionSession(models.Model):
    """A dated session of an action, with its own places."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="sessions")
    label = models.CharField("intitulé", max_length=150, blank=True)
    starts_on = models.DateField("début")
    ends_on = models.DateField("fin", null=True, blank=True)
    start_time = models.TimeField("heure", null=True, blank=True)
    place = models.CharField("lieu", max_length=250, blank=True)
    capacity = models.PositiveIntegerField("places")
    places_taken = models.PositiveIntegerField("places prises", default=0)
    registration_deadline = models.DateField("date limite d'inscription", null=True, blank=True)
    is_cancelled = models.BooleanField("annulée", default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_on", "start_time", "id"]
        verbose_name = "session"
        indexes = [models.Index(fields=["action", "starts_on"], name="session_action_start")]

    def __str__(self):
        return self.label or f"Session du {self.starts_on:%d/%m/%Y}"

    @property
    def places_left(self):
        return max(0, self.capacity - self.places_taken)

    def is_open(self, today=None):
        today = today or timezone.localdate()
        deadline = self.registration_deadline or self.starts_on
        return not self.is_cancelled and deadline >= today and self.places_left > 0


class ReferralStatus(models.TextChoices):
    SENT = "sent", "Envoyée"
    ACCEPTED = "accepted", "Acceptée"
    REFUSED = "refused", "Refusée"
    STARTED = "started", "Commencée"
    COMPLETED = "completed", "Terminée"
    DROPPED = "dropped", "Abandonnée"
    EXPIRED = "expired", "Expirée"
    CANCELLED = "cancelled", "Annulée"


class RefusalReason(models.TextChoices):
    FULL = "full", "Plus de place disponible"
    NOT_ELIGIBLE = "not_eligible", "La personne ne correspond pas aux publics ou conditions"
    OUT_OF_ZONE = "out_of_zone", "Hors de la zone d'intervention"
    UNREACHABLE = "unreachable", "Personne injoignable"
    DECLINED = "declined", "La personne a décliné"
    BETTER_ELSEWHERE = "better_elsewhere", "Une autre action conviendrait mieux"
    DUPLICATE = "duplicate", "Demande en double"
    OTHER = "other", "Autre motif"


class DropReason(models.TextChoices):
    JOB = "job", "Reprise d'emploi ou de formation"
    HEALTH = "health", "Raison de santé"
    FAMILY = "family", "Contrainte familiale"
    MOBILITY = "mobility", "Difficulté de transport"
    NOT_SUITED = "not_suited", "L'action ne convenait pas"
    NO_SHOW = "no_show", "Absences répétées"
    OTHER = "other", "Autre motif"


class PreferredContact(models.TextChoices):
    PHONE = "phone", "Téléphone"
    EMAIL = "email", "Courriel"
    SMS = "sms", "SMS"
    REFERENT = "referent", "Par l'intermédiaire du référent"


class Referral(models.Model):
    """A référent sends a person to an action ("prescription"), answered by the provider."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="referrals")
    action = models.ForeignKey(Action, on_delete=models.PROTECT, related_name="referrals")
    session = models.ForeignKey(
        ActionSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals",
        verbose_name="session",
    )
    # Denormalised for the "sent by / received by my structure" lists.
    from_structure = models.ForeignKey("network.Structure", on_delete=models.PROTECT, related_name="referrals_sent")
    to_structure = models.ForeignKey("network.Structure", on_delete=models.PROTECT, related_name="referrals_received")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referrals_sent")
    # Optional link to the plan: the action of the person's plan this referral carries.
    plan_action = models.OneToOneField(
        "followup.PlanAction", null=True, blank=True, on_delete=models.SET_NULL, related_name="referral"
    )

    consent = models.BooleanField("la personne est d'accord", default=False)
    consent_on = models.DateField("accord recueilli le", null=True, blank=True)
    motivation = models.TextField("pourquoi cette action")
    availability = models.CharField("disponibilités de la personne", max_length=300, blank=True)
    preferred_contact = models.CharField(
        "contact préféré", max_length=10, choices=PreferredContact.choices, default=PreferredContact.PHONE
    )
    provider_info = models.TextField("ce que la structure doit savoir", blank=True)
    # Health detail leaves the restricted section only when shared explicitly by someone who
    # may read it; the text is stored here, visible to the provider of this referral only.
    health_shared = models.BooleanField("information de santé partagée", default=False)
    health_info = models.TextField("information de santé partagée avec la structure", blank=True)

    status = models.CharField("statut", max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.SENT)
    sent_at = models.DateTimeField("envoyée le", default=timezone.now)
    answered_at = models.DateTimeField("réponse le", null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_via_link = models.BooleanField("réponse par lien", default=False)
    start_date = models.DateField("date de début prévue", null=True, blank=True)
    started_on = models.DateField("commencée le", null=True, blank=True)
    ended_on = models.DateField("terminée le", null=True, blank=True)
    refusal_reason = models.CharField("motif du refus", max_length=20, choices=RefusalReason.choices, blank=True)
    drop_reason = models.CharField("motif de l'abandon", max_length=20, choices=DropReason.choices, blank=True)
    status_text = models.TextField("précisions", blank=True)
    reminder_sent_at = models.DateTimeField("relance envoyée le", null=True, blank=True)
    # The provider's signed link: valid until this date and for this version only (renewal
    # or a new answer bumps the version, so an old link stops working).
    link_expires_at = models.DateTimeField("lien valable jusqu'au", null=True, blank=True)
    link_version = models.PositiveSmallIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = "orientation vers une action"
        verbose_name_plural = "orientations vers des actions"
        indexes = [
            models.Index(fields=["from_structure", "status", "-sent_at"], name="referral_from"),
            models.Index(fields=["to_structure", "status", "-sent_at"], name="referral_to"),
            models.Index(fields=["status", "sent_at"], name="referral_status_sent"),
            models.Index(fields=["person", "-sent_at"], name="referral_person"),
        ]

    def __str__(self):
        return f"{self.person_id} → {self.action_id} ({self.status})"


class ReferralTransition(models.Model):
    """Transition log of a referral: who (or the provider's link, or the system), when, from, to."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    via_link = models.BooleanField(default=False)
    at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "changement de statut d'une orientation vers une action"

    def __str__(self):
        return f"{self.from_status or '∅'} → {self.to_status}"
