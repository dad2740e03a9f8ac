"""The employer side of the SPIE and what the matching engine stores (issue 6).

- :class:`Company`: an employer of the territory (SIRET Luhn-checked, NAF, size, commune,
  contacts, the SPIE employer partners it works with). A company *with an account* has a
  :class:`~spie.network.models.Structure` of kind ``company`` (``account``) whose members (role
  ``employer``) log in with the same 2FA rules; a company without an account is managed for it
  by the professional who follows it (``followed_by``, a business-relations adviser or a référent).
- :class:`JobOpening`: an offer (ROME code and appellation, contract, hours, schedule bits,
  place or remote, positions, requirements, what the company offers), open / filled / closed.
  ``source``/``source_id`` keep the France Travail "Offres d'emploi v2" identifier of imports.
- :class:`ImmersionOffer` and :class:`Immersion` (PMSMP): what a company offers, a request or
  an agreement for one person (dates, tutor) and the end-of-immersion assessment.
- :class:`Engagement` / :class:`EngagementRegistration`: company visits, job-discovery events,
  webinars, mentoring, job datings, dated, with registrations (counted for the State).
- :class:`JobSearchProfile` / :class:`TargetJob`: what a person looks for (ROME targets with
  experience, travel mode and accepted time, schedule availability, childcare conflicts,
  contracts and hours), prefilled from the diagnostic; ``visible_to_employers`` is the person's
  agreement to appear as an *anonymous* profile to companies.
- :class:`MatchRun`, :class:`Proposal`, :class:`Dismissal`: what the engine
  (``spie.matching``, no Django) computed, with reasons, and what référents dismissed (kept).
- :class:`Positioning` / :class:`PositioningTransition`: a référent proposes a person (with
  consent) to an opening; the company answers in its space or through a signed expiring link.

Schedule and health values are stored as lists of codes (readable, exportable) and turned into
the engine's bit masks by ``matching_adapter``.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from spie.network.validators import validate_phone, validate_siret


class CompanySize(models.TextChoices):
    MICRO = "0-9", "Moins de 10 salariés"
    SMALL = "10-49", "10 à 49 salariés"
    MEDIUM = "50-249", "50 à 249 salariés"
    LARGE = "250+", "250 salariés et plus"


class ContractType(models.TextChoices):
    """Contract of an opening (the engine's ``CONTRACT_*`` through ``matching_adapter``)."""

    CDI = "cdi", "CDI"
    CDD = "cdd", "CDD"
    INTERIM = "interim", "Intérim"
    APPRENTICESHIP = "alternance", "Alternance"
    INSERTION = "insertion", "Contrat d'insertion (IAE, PEC)"
    SEASONAL = "saisonnier", "Saisonnier"


class Schedule(models.TextChoices):
    DAY = "day", "Journée"
    NIGHT = "night", "Nuit"
    WEEKEND = "weekend", "Week-end"
    EARLY = "early", "Tôt le matin (avant 7 h)"
    LATE = "late", "Tard le soir (après 19 h)"


class HealthDemand(models.TextChoices):
    """What a job demands physically; on a person (restricted health section) the same codes say
    what the person cannot do. The engine sees only yes/no bits, never a diagnosis."""

    HEAVY_LOADS = "heavy_loads", "Port de charges lourdes"
    STANDING = "standing", "Station debout prolongée"
    NIGHT_WORK = "night_work", "Travail de nuit"
    OUTDOOR = "outdoor", "Travail en extérieur"
    SCREEN = "screen", "Travail sur écran prolongé"


class TravelMode(models.TextChoices):
    CAR = "car", "Voiture ou deux-roues motorisé"
    PUBLIC = "public", "Transports en commun"
    ACTIVE = "active", "À pied ou à vélo"


class Company(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    territory = models.ForeignKey("network.Territory", on_delete=models.PROTECT, related_name="companies")
    siret = models.CharField("SIRET", max_length=14, validators=[validate_siret])
    name = models.CharField("raison sociale ou enseigne", max_length=200)
    naf = models.ForeignKey(
        "referentials.NafCode", on_delete=models.PROTECT, null=True, blank=True, verbose_name="code NAF"
    )
    size = models.CharField("effectif", max_length=8, choices=CompanySize.choices, blank=True)
    commune = models.ForeignKey(
        "referentials.Commune",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="commune",
    )
    address = models.CharField("adresse", max_length=250, blank=True)
    contact_name = models.CharField("contact", max_length=150, blank=True)
    contact_email = models.EmailField("courriel du contact", blank=True)
    contact_phone = models.CharField("téléphone du contact", max_length=20, blank=True, validators=[validate_phone])
    description = models.TextField("présentation", blank=True)
    is_inclusive = models.BooleanField("entreprise inclusive (engagée dans le SPIE)", default=False)
    # SPIE employer partners (FACE, CREPI, GEIQ, BTP 31, club des entreprises inclusives…).
    partners = models.ManyToManyField(
        "network.Structure", blank=True, related_name="partner_companies", verbose_name="partenaires employeurs"
    )
    # The company's own space: a structure of kind "company" whose members log in.
    account = models.OneToOneField(
        "network.Structure",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="company",
        verbose_name="espace entreprise",
    )
    # Who follows the company (business relations); acts for it when it has no account.
    followed_by = models.ForeignKey(
        "network.Structure",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="followed_companies",
        verbose_name="suivie par",
    )
    search_key = models.CharField(max_length=200, blank=True, editable=False, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "entreprise"
        constraints = [models.UniqueConstraint(fields=["territory", "siret"], name="company_unique_siret")]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        from spie.core.text import fold_words

        self.search_key = fold_words(f"{self.name} {self.siret}")[:200]
        super().save(*args, **kwargs)


class OpeningStatus(models.TextChoices):
    OPEN = "open", "Ouverte"
    FILLED = "filled", "Pourvue"
    CLOSED = "closed", "Fermée"


class JobOpening(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="openings")
    territory = models.ForeignKey("network.Territory", on_delete=models.PROTECT, related_name="+")
    rome = models.ForeignKey(
        "referentials.RomeCode", on_delete=models.PROTECT, related_name="+", verbose_name="métier (ROME)"
    )
    appellation = models.ForeignKey(
        "referentials.RomeAppellation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="appellation",
    )
    title = models.CharField("intitulé", max_length=200)
    description = models.TextField("description", blank=True)
    contract_type = models.CharField("type de contrat", max_length=12, choices=ContractType.choices)
    duration_months = models.PositiveSmallIntegerField("durée (mois)", null=True, blank=True)
    weekly_hours = models.DecimalField(
        "heures par semaine",
        max_digits=4,
        decimal_places=1,
        default=35,
        validators=[MinValueValidator(1), MaxValueValidator(48)],
    )
    schedule = models.JSONField("horaires", default=list, blank=True)  # Schedule codes
    commune = models.ForeignKey(
        "referentials.Commune",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="lieu de travail",
    )
    remote = models.BooleanField("télétravail complet", default=False)
    positions = models.PositiveSmallIntegerField(
        "postes à pourvoir", default=1, validators=[MinValueValidator(1), MaxValueValidator(999)]
    )
    requires_licence = models.BooleanField("permis B exigé", default=False)
    qualification = models.CharField("qualification exigée", max_length=200, blank=True)
    min_experience_months = models.PositiveSmallIntegerField(
        "expérience exigée (mois)", default=0, validators=[MaxValueValidator(600)]
    )
    languages = models.JSONField("langues exigées", default=list, blank=True)
    health_demands = models.JSONField("contraintes physiques du poste", default=list, blank=True)  # HealthDemand
    offers_training = models.BooleanField("formation proposée", default=False)
    offers_mentoring = models.BooleanField("tutorat ou parrainage", default=False)
    adapted_position = models.BooleanField("poste aménageable", default=False)
    status = models.CharField("statut", max_length=8, choices=OpeningStatus.choices, default=OpeningStatus.OPEN)
    opened_on = models.DateField("publiée le", default=timezone.localdate)
    filled_on = models.DateField("pourvue le", null=True, blank=True)
    closed_on = models.DateField("fermée le", null=True, blank=True)
    source = models.CharField("source", max_length=30, blank=True)  # "france_travail", "csv", ""
    source_id = models.CharField("identifiant à la source", max_length=60, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_on", "-id"]
        verbose_name = "offre d'emploi"
        verbose_name_plural = "offres d'emploi"
        constraints = [
            models.UniqueConstraint(
                fields=["territory", "source", "source_id"], condition=~Q(source_id=""), name="opening_unique_source"
            )
        ]
        indexes = [
            models.Index(fields=["territory", "status", "-opened_on"], name="opening_status"),
            models.Index(fields=["company", "status"], name="opening_company"),
        ]

    def __str__(self):
        return f"{self.title} — {self.company}"

    def clean(self):
        if not self.remote and self.commune_id is None:
            raise ValidationError({"commune": "Indiquez le lieu de travail, ou cochez « télétravail complet »."})


class ImmersionOffer(models.Model):
    """A company's offer of immersions (PMSMP) in a job, matched like an opening."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="immersion_offers")
    territory = models.ForeignKey("network.Territory", on_delete=models.PROTECT, related_name="+")
    rome = models.ForeignKey(
        "referentials.RomeCode", on_delete=models.PROTECT, related_name="+", verbose_name="métier (ROME)"
    )
    appellation = models.ForeignKey(
        "referentials.RomeAppellation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="appellation",
    )
    title = models.CharField("intitulé", max_length=200)
    description = models.TextField("ce que la personne découvrira", blank=True)
    commune = models.ForeignKey("referentials.Commune", on_delete=models.PROTECT, related_name="+", verbose_name="lieu")
    schedule = models.JSONField("horaires", default=list, blank=True)
    weekly_hours = models.DecimalField(
        "heures par semaine", max_digits=4, decimal_places=1, default=35,
        validators=[MinValueValidator(1), MaxValueValidator(48)],
    )
    places = models.PositiveSmallIntegerField(
        "immersions possibles à la fois", default=1, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    is_open = models.BooleanField("ouverte", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "offre d'immersion"
        verbose_name_plural = "offres d'immersion"

    def __str__(self):
        return f"Immersion {self.title} — {self.company}"


class ImmersionStatus(models.TextChoices):
    REQUESTED = "requested", "Demandée"
    AGREED = "agreed", "Convention signée"
    DONE = "done", "Terminée"
    CANCELLED = "cancelled", "Annulée"


class Immersion(models.Model):
    """One person's immersion (PMSMP) in a company: request, agreement, assessment."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="immersions")
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="immersions")
    offer = models.ForeignKey(
        ImmersionOffer, null=True, blank=True, on_delete=models.SET_NULL, related_name="immersions"
    )
    rome = models.ForeignKey(
        "referentials.RomeCode", on_delete=models.PROTECT, related_name="+", verbose_name="métier découvert"
    )
    objective = models.CharField(
        "objet",
        max_length=20,
        choices=[
            ("discover", "Découvrir un métier"),
            ("confirm", "Confirmer un projet professionnel"),
            ("recruit", "Initier une démarche de recrutement"),
        ],
        default="discover",
    )
    status = models.CharField(
        "statut", max_length=10, choices=ImmersionStatus.choices, default=ImmersionStatus.REQUESTED
    )
    start_date = models.DateField("début", null=True, blank=True)
    end_date = models.DateField("fin", null=True, blank=True)
    tutor_name = models.CharField("tuteur", max_length=150, blank=True)
    tutor_email = models.EmailField("courriel du tuteur", blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    structure = models.ForeignKey("network.Structure", on_delete=models.PROTECT, related_name="+")
    consent = models.BooleanField("la personne est d'accord", default=False)
    consent_on = models.DateField("accord recueilli le", null=True, blank=True)
    message = models.TextField("message à l'entreprise", blank=True)
    cancel_reason = models.CharField("motif de l'annulation", max_length=500, blank=True)
    # End-of-immersion assessment (feeds the skills passport later).
    skills_observed = models.JSONField("compétences observées", default=list, blank=True)
    would_hire = models.BooleanField("l'entreprise recruterait la personne", null=True, blank=True)
    assessment_comment = models.TextField("bilan", blank=True)
    assessed_on = models.DateField("bilan fait le", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "immersion (PMSMP)"
        verbose_name_plural = "immersions (PMSMP)"
        indexes = [models.Index(fields=["person", "-created_at"], name="immersion_person")]

    def __str__(self):
        return f"Immersion {self.person_id} chez {self.company_id} ({self.status})"

    def clean(self):
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "La fin doit suivre le début."})


class EngagementKind(models.TextChoices):
    VISIT = "visit", "Visite d'entreprise"
    DISCOVERY = "discovery", "Découverte des métiers"
    WEBINAR = "webinar", "Webinaire"
    MENTORING = "mentoring", "Parrainage"
    JOB_DATING = "job_dating", "Job dating"


class Engagement(models.Model):
    """A company's engagement for the SPIE plan, dated, with registrations."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    territory = models.ForeignKey("network.Territory", on_delete=models.PROTECT, related_name="+")
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.CASCADE, related_name="engagements")
    partner = models.ForeignKey(
        "network.Structure",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="partenaire organisateur",
    )
    kind = models.CharField("type", max_length=12, choices=EngagementKind.choices)
    title = models.CharField("intitulé", max_length=200)
    description = models.TextField("description", blank=True)
    date = models.DateField("date")
    commune = models.ForeignKey(
        "referentials.Commune", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="lieu"
    )
    remote = models.BooleanField("à distance", default=False)
    capacity = models.PositiveSmallIntegerField(
        "places", null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(10000)]
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = "engagement d'entreprise"
        verbose_name_plural = "engagements d'entreprises"
        indexes = [models.Index(fields=["territory", "date"], name="engagement_date")]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.title} ({self.date:%d/%m/%Y})"


class EngagementRegistration(models.Model):
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="registrations")
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="engagement_registrations")
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    structure = models.ForeignKey("network.Structure", on_delete=models.PROTECT, related_name="+")
    attended = models.BooleanField("présent(e)", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "inscription"
        constraints = [models.UniqueConstraint(fields=["engagement", "person"], name="engagement_registration_unique")]

    def __str__(self):
        return f"Inscription de {self.person_id} à {self.engagement_id}"


class JobSearchProfile(models.Model):
    """What a person looks for, as the engine needs it (prefilled from the diagnostic)."""

    person = models.OneToOneField("people.Person", on_delete=models.CASCADE, related_name="job_search")
    commune = models.ForeignKey(
        "referentials.Commune",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="commune de recherche",
    )
    travel_mode = models.CharField(
        "moyen de transport", max_length=8, choices=TravelMode.choices, default=TravelMode.PUBLIC
    )
    max_travel_minutes = models.PositiveSmallIntegerField(
        "temps de trajet accepté (minutes, aller)",
        default=45,
        validators=[MinValueValidator(5), MaxValueValidator(240)],
    )
    availability = models.JSONField("horaires possibles", default=list, blank=True)  # Schedule codes
    childcare_conflicts = models.JSONField("horaires empêchés par la garde d'enfants", default=list, blank=True)
    contracts = models.JSONField("contrats recherchés", default=list, blank=True)  # ContractType codes
    hours_min = models.PositiveSmallIntegerField("heures par semaine, au moins", default=0)
    hours_max = models.PositiveSmallIntegerField("heures par semaine, au plus", default=35)
    available_from = models.DateField("disponible à partir du", null=True, blank=True)
    skills = models.TextField("compétences (une par ligne)", blank=True)
    is_active = models.BooleanField("recherche un emploi", default=True)
    visible_to_employers = models.BooleanField(
        "profil anonyme visible des entreprises (avec l'accord de la personne)", default=False
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "profil de recherche d'emploi"

    def __str__(self):
        return f"Profil de recherche de {self.person_id}"


class TargetJob(models.Model):
    profile = models.ForeignKey(JobSearchProfile, on_delete=models.CASCADE, related_name="targets")
    rank = models.PositiveSmallIntegerField("ordre", default=0)
    rome = models.ForeignKey(
        "referentials.RomeCode", on_delete=models.PROTECT, related_name="+", verbose_name="métier (ROME)"
    )
    appellation = models.ForeignKey(
        "referentials.RomeAppellation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    experience_months = models.PositiveSmallIntegerField("expérience (mois)", default=0)

    class Meta:
        ordering = ["rank", "id"]
        verbose_name = "métier recherché"
        constraints = [models.UniqueConstraint(fields=["profile", "rome"], name="target_job_unique")]

    def __str__(self):
        return f"{self.rome_id} ({self.experience_months} mois)"


class MatchRun(models.Model):
    class Scope(models.TextChoices):
        FULL = "full", "Recalcul complet"
        PERSON = "person", "Une personne"
        OPENING = "opening", "Une offre"

    territory = models.ForeignKey("network.Territory", on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.FULL)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    persons = models.PositiveIntegerField(default=0)
    openings = models.PositiveIntegerField(default=0)
    proposals = models.PositiveIntegerField(default=0)
    blocked = models.PositiveIntegerField(default=0)
    duration_s = models.FloatField(default=0)
    # The engine's congestion and fairness reports, and its rebalancing info.
    congestion = models.JSONField(default=dict, blank=True)
    fairness = models.JSONField(default=dict, blank=True)
    info = models.JSONField(default=dict, blank=True)
    # Congestion prices per opening pk (for on-demand refreshes between two full runs).
    prices = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = "calcul des propositions"

    def __str__(self):
        return f"Calcul {self.scope} du {self.started_at:%d/%m/%Y %H:%M}"


class ProposalKind(models.TextChoices):
    ELIGIBLE = "eligible", "Proposée"
    BLOCKED = "blocked", "Bloquée (levable par une action)"


class Proposal(models.Model):
    """One (person, opening or immersion offer) pair the engine kept, with its reasons."""

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="job_proposals")
    opening = models.ForeignKey(JobOpening, null=True, blank=True, on_delete=models.CASCADE, related_name="proposals")
    immersion_offer = models.ForeignKey(
        ImmersionOffer, null=True, blank=True, on_delete=models.CASCADE, related_name="proposals"
    )
    kind = models.CharField(max_length=8, choices=ProposalKind.choices, default=ProposalKind.ELIGIBLE)
    rank = models.PositiveSmallIntegerField(default=0)
    score = models.FloatField(default=0)
    rank_score = models.FloatField(default=0)
    reasons = models.JSONField(default=list, blank=True)  # engine PairSet.reasons(row)
    blocked_by = models.JSONField(default=list, blank=True)  # engine PairSet.blocked_by(row)
    distance_km = models.FloatField(null=True, blank=True)
    travel_minutes = models.FloatField(null=True, blank=True)
    run = models.ForeignKey(MatchRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["person", "kind", "rank"]
        verbose_name = "proposition"
        indexes = [
            models.Index(fields=["person", "kind", "rank"], name="proposal_person"),
            models.Index(fields=["opening", "kind", "-score"], name="proposal_opening"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(opening__isnull=False, immersion_offer__isnull=True)
                | Q(opening__isnull=True, immersion_offer__isnull=False),
                name="proposal_one_target",
            )
        ]

    def __str__(self):
        return f"{self.person_id} → {self.opening_id or self.immersion_offer_id} ({self.kind})"


class DismissalReason(models.TextChoices):
    NOT_INTERESTED = "not_interested", "La personne n'est pas intéressée"
    NOT_SUITABLE = "not_suitable", "Ne correspond pas au projet"
    ALREADY_APPLIED = "already_applied", "Candidature déjà faite"
    CONSTRAINT = "constraint", "Contrainte non connue de la plateforme"
    OTHER = "other", "Autre"


class Dismissal(models.Model):
    """A proposal a référent set aside, with a reason: never proposed again, kept for review."""

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="job_dismissals")
    opening = models.ForeignKey(JobOpening, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    immersion_offer = models.ForeignKey(
        ImmersionOffer, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField("motif", max_length=20, choices=DismissalReason.choices)
    comment = models.CharField("précision", max_length=300, blank=True)
    score = models.FloatField(null=True, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    structure = models.ForeignKey("network.Structure", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    # Restored: proposed again, the dismissal kept for the record.
    restored_at = models.DateTimeField("rétablie le", null=True, blank=True)
    restored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "proposition écartée"
        verbose_name_plural = "propositions écartées"

    def __str__(self):
        return f"{self.person_id} ✕ {self.opening_id or self.immersion_offer_id} ({self.reason})"


class PositioningStatus(models.TextChoices):
    REQUESTED = "requested", "Demandée par l'entreprise"
    PROPOSED = "proposed", "Proposée à l'entreprise"
    INTERESTED = "interested", "L'entreprise est intéressée"
    INTERVIEW = "interview", "Entretien prévu"
    HIRED = "hired", "Recrutée"
    REFUSED = "refused", "Refusée par l'entreprise"
    WITHDRAWN = "withdrawn", "Retirée"
    DECLINED = "declined", "Déclinée (la personne ne souhaite pas)"


class PositioningRefusal(models.TextChoices):
    PROFILE = "profile", "Le profil ne correspond pas"
    FILLED = "filled", "Le poste est déjà pourvu"
    EXPERIENCE = "experience", "Expérience insuffisante"
    NO_SHOW = "no_show", "La personne ne s'est pas présentée"
    OTHER = "other", "Autre motif"


class Positioning(models.Model):
    """A person put forward for an opening ("mise en relation"), answered by the company."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="positionings")
    opening = models.ForeignKey(JobOpening, on_delete=models.PROTECT, related_name="positionings")
    proposal_score = models.FloatField(null=True, blank=True)
    status = models.CharField(
        "statut", max_length=10, choices=PositioningStatus.choices, default=PositioningStatus.PROPOSED
    )
    # Sending side (the référent's structure); null while it is only a company's request.
    structure = models.ForeignKey(
        "network.Structure", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    consent = models.BooleanField("la personne est d'accord", default=False)
    consent_on = models.DateField("accord recueilli le", null=True, blank=True)
    message = models.TextField("message à l'entreprise", blank=True)
    proposed_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    interview_at = models.DateTimeField("date de l'entretien", null=True, blank=True)
    hired_on = models.DateField("date d'embauche", null=True, blank=True)
    refusal_reason = models.CharField("motif du refus", max_length=12, choices=PositioningRefusal.choices, blank=True)
    status_text = models.TextField("précisions", blank=True)
    employment = models.OneToOneField(
        "followup.Employment", null=True, blank=True, on_delete=models.SET_NULL, related_name="positioning"
    )
    link_expires_at = models.DateTimeField(null=True, blank=True)
    link_version = models.PositiveSmallIntegerField(default=1)
    # Last "send me a new link" from an expired link (at most one e-mail a day to the sender).
    renewal_requested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "mise en relation"
        verbose_name_plural = "mises en relation"
        constraints = [
            models.UniqueConstraint(
                fields=["person", "opening"],
                condition=~Q(status__in=["refused", "withdrawn", "declined"]),
                name="positioning_one_live_per_pair",
            )
        ]
        indexes = [
            models.Index(fields=["opening", "status"], name="positioning_opening"),
            models.Index(fields=["structure", "status", "-created_at"], name="positioning_structure"),
            models.Index(fields=["person", "-created_at"], name="positioning_person"),
        ]

    def __str__(self):
        return f"{self.person_id} → {self.opening_id} ({self.status})"


class PositioningTransition(models.Model):
    positioning = models.ForeignKey(Positioning, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    via_link = models.BooleanField(default=False)
    at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "changement de statut d'une mise en relation"

    def __str__(self):
        return f"{self.from_status or '∅'} → {self.to_status}"
