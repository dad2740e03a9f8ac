"""Territories, partner structures, users and their memberships (roles)."""

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone

from spie.core.text import fold_words

from .validators import validate_siret


class Territory(models.Model):
    """A département served by the platform. Its settings are data, not code."""

    DEFAULT_SETTINGS = {
        "orientation_delay_days": 45,
        "contract_delay_days": 30,
        "retention_months": 24,
        "no_contact_alert_days": 90,
        "contract_weekly_hours": 15,
        # Catalogue (banque d'actions) and referrals.
        "catalogue_radius_km": 50,
        "catalogue_freshness_days": 180,
        "referral_reminder_days": 10,
        "referral_expiry_days": 30,
        "referral_link_days": 8,
    }

    code = models.CharField("code du département", max_length=3, unique=True)
    name = models.CharField("nom", max_length=100)
    display_name = models.CharField("nom affiché", max_length=150)
    settings = models.JSONField("paramètres", default=dict, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "territoire"

    def __str__(self):
        return self.display_name or self.name

    def setting(self, key):
        return {**self.DEFAULT_SETTINGS, **(self.settings or {})}[key]

    @property
    def orientation_delay_days(self):
        return self.setting("orientation_delay_days")

    @property
    def contract_delay_days(self):
        return self.setting("contract_delay_days")

    @property
    def retention_months(self):
        return self.setting("retention_months")


class Structure(models.Model):
    class Kind(models.TextChoices):
        DEPARTEMENT = "departement", "Département"
        STATE = "state", "Service de l'État (DDETS, préfecture)"
        FRANCE_TRAVAIL = "france_travail", "France Travail"
        CAF = "caf", "CAF"
        MSA = "msa", "MSA"
        CPAM = "cpam", "CPAM"
        ARS = "ars", "ARS"
        MISSION_LOCALE = "mission_locale", "Mission locale"
        CAP_EMPLOI = "cap_emploi", "Cap emploi"
        PLIE = "plie", "PLIE"
        CCAS = "ccas", "CCAS / CIAS"
        ASSOCIATION = "association", "Association"
        SIAE = "siae", "Structure d'insertion par l'activité économique (SIAE)"
        GEIQ = "geiq", "GEIQ"
        TRAINING = "training", "Organisme de formation"
        CHAMBER = "chamber", "Chambre consulaire (CCI, CMA)"
        EMPLOYERS = "employers", "Fédération ou club d'employeurs"
        LOCAL_AUTHORITY = "local_authority", "Collectivité / EPCI"
        COMPANY = "company", "Entreprise"

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="structures")
    name = models.CharField("nom", max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    kind = models.CharField("type", max_length=30, choices=Kind.choices)
    siret = models.CharField("SIRET", max_length=14, blank=True, validators=[validate_siret])
    address = models.CharField("adresse", max_length=250, blank=True)
    postal_code = models.CharField("code postal", max_length=5, blank=True)
    commune = models.ForeignKey(
        "referentials.Commune", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    phone = models.CharField("téléphone", max_length=20, blank=True)
    email = models.EmailField("courriel", blank=True)
    website = models.URLField("site web", blank=True)
    description = models.TextField("présentation", blank=True)
    # data·inclusion "publics" values and pathway référentiel theme codes.
    publics = models.JSONField("publics accompagnés", default=list, blank=True)
    themes = models.JSONField("thématiques", default=list, blank=True)
    is_active = models.BooleanField("active", default=True)
    search_key = models.CharField(max_length=200, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "structure"

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.search_key = fold_words(self.name)
        super().save(*args, **kwargs)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("L'adresse électronique est obligatoire.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in: professionals here; later companies and people accompanied."""

    email = models.EmailField("adresse électronique", unique=True)
    first_name = models.CharField("prénom", max_length=100, blank=True)
    last_name = models.CharField("nom", max_length=100, blank=True)
    phone = models.CharField("téléphone", max_length=20, blank=True)
    is_active = models.BooleanField("actif", default=True)
    is_staff = models.BooleanField("accès à l'administration", default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    search_key = models.CharField(max_length=200, blank=True, db_index=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name = "utilisateur"

    def __str__(self):
        return self.get_full_name() or self.email

    def get_full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self):
        return self.first_name or self.email

    def save(self, *args, **kwargs):
        self.email = (self.email or "").lower()
        self.search_key = fold_words(f"{self.last_name} {self.first_name}")
        super().save(*args, **kwargs)

    def active_memberships(self):
        today = timezone.localdate()
        return (
            self.memberships.filter(Q(end_date__isnull=True) | Q(end_date__gte=today), is_active=True)
            .filter(start_date__lte=today)
            .select_related("structure__territory")
        )


class Membership(models.Model):
    """A user's role in a structure, dated. A user may belong to several structures."""

    class Role(models.TextChoices):
        REFERENT = "referent", "Référent"
        ORIENTATION = "orientation", "Chargé d'orientation"
        ADMIN = "admin", "Administrateur de la structure"
        COORDINATOR = "coordinator", "Coordinateur SPIE"
        EMPLOYER = "employer", "Recruteur (espace entreprise)"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField("rôle", max_length=20, choices=Role.choices, default=Role.REFERENT)
    job_title = models.CharField("fonction", max_length=150, blank=True)
    # What this professional works on, for the network directory.
    publics = models.JSONField("publics", default=list, blank=True)
    themes = models.JSONField("thématiques", default=list, blank=True)
    start_date = models.DateField("début", default=timezone.localdate)
    end_date = models.DateField("fin", null=True, blank=True)
    is_active = models.BooleanField("actif", default=True)
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Folded job title for accent-insensitive directory search (set in save()).
    search_key = models.CharField(max_length=150, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["structure__name", "user__last_name"]
        verbose_name = "rattachement"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "structure", "role"],
                condition=Q(is_active=True),
                name="membership_unique_active_role",
            )
        ]
        indexes = [models.Index(fields=["structure", "is_active"], name="membership_structure_active")]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} — {self.structure}"

    def save(self, *args, **kwargs):
        self.search_key = fold_words(self.job_title)
        super().save(*args, **kwargs)

    @property
    def territory(self):
        return self.structure.territory

    @property
    def is_current(self):
        today = timezone.localdate()
        return self.is_active and self.start_date <= today and (self.end_date is None or self.end_date >= today)
