"""Public referentials, loaded from files kept in the repository (see ``data/SOURCES.md`` and ``loaders.py``)."""

from django.db import models


class Departement(models.Model):
    code = models.CharField(max_length=3, primary_key=True)
    name = models.CharField(max_length=100)
    region_code = models.CharField(max_length=3)
    region_name = models.CharField(max_length=100)

    class Meta:
        ordering = ["code"]
        verbose_name = "département"

    def __str__(self):
        return f"{self.name} ({self.code})"


class Commune(models.Model):
    code_insee = models.CharField("code INSEE", max_length=5, primary_key=True)
    name = models.CharField("nom", max_length=100)
    departement = models.CharField(max_length=3, db_index=True)
    region = models.CharField(max_length=3, blank=True)
    postal_codes = models.CharField("codes postaux", max_length=200, blank=True)
    population = models.PositiveIntegerField(null=True, blank=True)
    epci_siren = models.CharField(max_length=9, blank=True, db_index=True)
    epci_name = models.CharField("EPCI", max_length=200, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    # Accent- and case-free name for search ("saint-gaudens" -> "saint gaudens").
    search_key = models.CharField(max_length=100, db_index=True)
    # GeoJSON geometry (simplified), kept for the territory's communes only.
    shape = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "commune"

    def __str__(self):
        return f"{self.name} ({self.code_insee})"

    @property
    def main_postal_code(self):
        return self.postal_codes.split(" ")[0] if self.postal_codes else ""


class RomeDomain(models.Model):
    """ROME v3 tree still followed by ROME 4.0: 14 grands domaines, 110 domaines pro."""

    code = models.CharField(max_length=3, primary_key=True)
    label = models.CharField(max_length=200)
    level = models.CharField(max_length=30)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE)

    class Meta:
        ordering = ["code"]
        verbose_name = "domaine ROME"

    def __str__(self):
        return f"{self.code} {self.label}"


class RomeCode(models.Model):
    code = models.CharField(max_length=5, primary_key=True)
    label = models.CharField(max_length=250)
    code_ogr = models.CharField(max_length=10, blank=True)
    parent_code = models.CharField("fiche ROME v3", max_length=5, blank=True)
    domain = models.ForeignKey(RomeDomain, null=True, blank=True, on_delete=models.SET_NULL)
    regulated = models.BooleanField(default=False)
    managerial = models.BooleanField(default=False)
    mobility_targets = models.ManyToManyField(
        "self", through="RomeMobility", symmetrical=False, related_name="mobility_sources"
    )

    class Meta:
        ordering = ["code"]
        verbose_name = "métier ROME"

    def __str__(self):
        return f"{self.code} {self.label}"


class RomeAppellation(models.Model):
    code_ogr = models.CharField(max_length=10, primary_key=True)
    label = models.CharField(max_length=250)
    short_label = models.CharField(max_length=250, blank=True)
    rome = models.ForeignKey(RomeCode, on_delete=models.CASCADE, related_name="appellations")
    principal = models.BooleanField(default=False)
    rarely_used = models.BooleanField(default=False)
    search_key = models.CharField(max_length=250, db_index=True)

    class Meta:
        ordering = ["label"]
        verbose_name = "appellation ROME"

    def __str__(self):
        return self.label


class RomeMobility(models.Model):
    source = models.ForeignKey(RomeCode, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(RomeCode, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["source", "rank"]
        constraints = [models.UniqueConstraint(fields=["source", "target"], name="rome_mobility_unique")]
        verbose_name = "mobilité ROME"

    def __str__(self):
        return f"{self.source_id} → {self.target_id}"


class NafCode(models.Model):
    code = models.CharField(max_length=6, primary_key=True)
    label = models.CharField(max_length=250)
    class_code = models.CharField(max_length=5)
    group_code = models.CharField(max_length=4)
    division_code = models.CharField(max_length=2)
    division_label = models.CharField(max_length=250)
    section_code = models.CharField(max_length=1)
    section_label = models.CharField(max_length=250)

    class Meta:
        ordering = ["code"]
        verbose_name = "code NAF"

    def __str__(self):
        return f"{self.code} {self.label}"


class PathwayTheme(models.Model):
    """Theme of the national pathway référentiel (Carnet de bord)."""

    code = models.SlugField(max_length=50, primary_key=True)
    label = models.CharField(max_length=200)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order"]
        verbose_name = "thème du référentiel de parcours"

    def __str__(self):
        return self.label


class PathwayItem(models.Model):
    class Kind(models.TextChoices):
        SITUATION = "situation", "Situation"
        OBJECTIVE = "objective", "Objectif"
        ACTION = "action", "Action"

    theme = models.ForeignKey(PathwayTheme, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    label = models.CharField(max_length=300)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["theme__order", "kind", "order"]
        constraints = [
            models.UniqueConstraint(fields=["theme", "kind", "label"], name="pathway_item_unique")
        ]
        verbose_name = "élément du référentiel de parcours"

    def __str__(self):
        return self.label


class DataInclusionTerm(models.Model):
    """A value of a data·inclusion v1 vocabulary (thematiques, publics, frais…)."""

    vocabulary = models.CharField(max_length=40)
    value = models.CharField(max_length=120)
    label = models.CharField(max_length=250)
    description = models.TextField(blank=True)
    parent_value = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["vocabulary", "label"]
        constraints = [
            models.UniqueConstraint(fields=["vocabulary", "value"], name="di_term_unique")
        ]
        verbose_name = "terme data·inclusion"

    def __str__(self):
        return self.label


class ReferentialVersion(models.Model):
    """Checksum of the files a referential was last loaded from (see ``loaders.py``).

    Lets ``load_referentials`` skip a referential whose files and loader have not changed.
    """

    name = models.CharField(max_length=40, unique=True)
    checksum = models.CharField(max_length=64)
    rows = models.PositiveIntegerField("lignes", default=0)
    loaded_at = models.DateTimeField("chargé le")

    class Meta:
        ordering = ["name"]
        verbose_name = "version de référentiel"
        verbose_name_plural = "versions des référentiels"

    def __str__(self):
        return f"{self.name} ({self.loaded_at:%d/%m/%Y %H:%M})"
