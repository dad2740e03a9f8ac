"""Load the public referentials from the files in ``spie/referentials/data/``.

Each referential (communes, ROME, NAF…) is loaded in its own transaction and upserted:
rows are compared with the database and only new or changed rows are written, with
``bulk_create(update_conflicts=True)``, which behaves the same on SQLite and PostgreSQL.
Rows that disappeared from the files are deleted only from tables that no other table
references (join tables, vocabularies); referenced rows (a commune used by a structure,
a ROME code) are kept, so that a new file never breaks existing records.

The SHA-256 of a referential's files (and of its loader version) is stored in
:class:`~spie.referentials.models.ReferentialVersion`; a referential whose files did not
change is skipped, so ``load_referentials`` is cheap to run at every deployment.
Bump a referential's ``version`` below when its loading code changes.

File formats are described in ``data/SOURCES.md``.
"""

import csv
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from spie.core.text import fold_words

from .models import (
    Commune,
    DataInclusionTerm,
    Departement,
    NafCode,
    PathwayItem,
    PathwayTheme,
    ReferentialVersion,
    RomeAppellation,
    RomeCode,
    RomeDomain,
    RomeMobility,
)

DATA_DIR = Path(__file__).resolve().parent / "data"

# Rows per INSERT; Django lowers it further on SQLite (999 parameters per query).
BATCH_SIZE = 1000


@dataclass
class SyncStats:
    """What an upsert did to one table."""

    label: str
    total: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    kept: int = 0  # rows absent from the file but kept because other tables reference them
    extra: str = ""

    @property
    def changed(self):
        return bool(self.created or self.updated or self.deleted)

    def message(self):
        details = []
        if self.created:
            details.append(f"{fmt(self.created)} {plural(self.created, 'créée')}")
        if self.updated:
            details.append(f"{fmt(self.updated)} {plural(self.updated, 'modifiée')}")
        if self.deleted:
            details.append(f"{fmt(self.deleted)} {plural(self.deleted, 'supprimée')}")
        if self.kept:
            details.append(
                f"{fmt(self.kept)} {plural(self.kept, 'absente')} du fichier {plural(self.kept, 'conservée')}"
            )
        if not details:
            details.append("aucun changement")
        if self.extra:
            details.append(self.extra)
        suffix = f" ({', '.join(details)})"
        return f"{self.label} : {fmt(self.total)} lignes chargées{suffix}"


@dataclass
class LoadReport:
    """Outcome of one referential."""

    name: str
    label: str
    up_to_date: bool = False
    stats: list[SyncStats] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def changed(self):
        return any(s.changed for s in self.stats)


def plural(count, word):
    return f"{word}s" if count > 1 else word


def fmt(number):
    """French thousands separator: 34969 -> "34 969"."""
    return f"{number:,}".replace(",", " ")


# --- generic upsert -----------------------------------------------------------------------


def _is_referenced(model):
    """True if any table has a foreign key or many-to-many to ``model`` (hidden ones too)."""
    return any(f.is_relation and f.auto_created and not f.concrete for f in model._meta.get_fields(include_hidden=True))


def sync_rows(model, rows, *, unique_fields, update_fields, label, prune=True):
    """Upsert ``rows`` (dicts keyed by attname) into ``model``; return :class:`SyncStats`.

    Only rows that are new or differ from the database are written. Rows of the table
    that are not in ``rows`` are deleted when ``prune`` and no other table references
    ``model``; otherwise they are kept and counted.
    """
    unique_fields = list(unique_fields)
    update_fields = list(update_fields)
    stats = SyncStats(label=label, total=len(rows))

    def key_of(values):
        return tuple(values[name] for name in unique_fields)

    existing = {}
    for values in model.objects.values("pk", *unique_fields, *update_fields).iterator(chunk_size=5000):
        existing[key_of(values)] = values

    to_write = []
    seen = set()
    for row in rows:
        key = key_of(row)
        if key in seen:
            raise ValueError(f"{label} : doublon {key} dans le fichier")
        seen.add(key)
        current = existing.get(key)
        if current is None:
            stats.created += 1
        elif any(current[name] != row[name] for name in update_fields):
            stats.updated += 1
        else:
            continue
        to_write.append(model(**row))

    if to_write:
        model.objects.bulk_create(
            to_write,
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=unique_fields,
            update_fields=update_fields,
        )

    stale = [values["pk"] for key, values in existing.items() if key not in seen]
    if stale:
        if prune and not _is_referenced(model):
            for start in range(0, len(stale), 500):
                model.objects.filter(pk__in=stale[start : start + 500]).delete()
            stats.deleted = len(stale)
        else:
            stats.kept = len(stale)
    return stats


# --- file readers -------------------------------------------------------------------------


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        yield from csv.DictReader(handle)


def read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def clean_label(value):
    """Strip and collapse runs of whitespace: " Prêt  à suivre " -> "Prêt à suivre"."""
    return " ".join((value or "").split())


def _int_or_none(value):
    value = (value or "").strip()
    return int(value) if value else None


def _float_or_none(value):
    value = (value or "").strip()
    return float(value) if value else None


def _yes(value):
    return (value or "").strip().upper() == "O"


# --- loaders, one per referential ---------------------------------------------------------


def load_departements(data_dir):
    rows = [
        {
            "code": row["code"],
            "name": row["nom"],
            "region_code": row["region"],
            "region_name": row["region_nom"],
        }
        for row in read_csv(data_dir / "departements.csv")
    ]
    return [
        sync_rows(
            Departement,
            rows,
            unique_fields=["code"],
            update_fields=["name", "region_code", "region_name"],
            label="Départements",
        )
    ]


def load_communes(data_dir):
    shapes = {
        feature["properties"]["code_insee"]: feature["geometry"]
        for feature in read_json(data_dir / "communes_31.geojson")["features"]
    }
    rows = [
        {
            "code_insee": row["code_insee"],
            "name": row["nom"],
            "departement": row["departement"],
            "region": row["region"],
            "postal_codes": " ".join(row["codes_postaux"].split()),
            "population": _int_or_none(row["population"]),
            "epci_siren": row["epci_siren"],
            "epci_name": row["epci_nom"],
            "lat": _float_or_none(row["lat"]),
            "lon": _float_or_none(row["lon"]),
            "search_key": fold_words(row["nom"]),
            "shape": shapes.get(row["code_insee"]),
        }
        for row in read_csv(data_dir / "communes_france.csv")
    ]
    with_shape = sum(1 for row in rows if row["shape"] is not None)
    missing = len(shapes) - with_shape
    stats = sync_rows(
        Commune,
        rows,
        unique_fields=["code_insee"],
        update_fields=[name for name in rows[0] if name != "code_insee"] if rows else ["name"],
        label="Communes",
    )
    stats.extra = f"{fmt(with_shape)} avec contour"
    if missing:
        stats.extra += f", {fmt(missing)} contour{'s' if missing > 1 else ''} sans commune"
    return [stats]


def load_rome(data_dir):
    rome_dir = data_dir / "rome"

    domain_rows = [
        {
            "code": row["code"],
            "label": clean_label(row["libelle"]),
            "level": row["niveau"],
            "parent_id": row["code_parent"] or None,
        }
        for row in read_csv(rome_dir / "rome_domaines.csv")
    ]
    # Grands domaines first, so that parents exist before their children.
    domain_rows.sort(key=lambda row: (row["parent_id"] is not None, row["code"]))
    domain_codes = {row["code"] for row in domain_rows}

    code_rows = [
        {
            "code": row["code_rome"],
            "label": clean_label(row["libelle_rome"]),
            "code_ogr": row["code_ogr"],
            "parent_code": row["code_rome_parent"],
            "domain_id": row["code_rome"][:3] if row["code_rome"][:3] in domain_codes else None,
            "regulated": _yes(row["emploi_reglemente"]),
            "managerial": _yes(row["emploi_cadre"]),
        }
        for row in read_csv(rome_dir / "unix_referentiel_code_rome_v460_utf8.csv")
    ]
    rome_codes = {row["code"] for row in code_rows}

    appellation_rows = []
    for row in read_csv(rome_dir / "unix_referentiel_appellation_v460_utf8.csv"):
        if row["code_rome"] not in rome_codes:
            continue
        label = clean_label(row["libelle_appellation_long"])
        appellation_rows.append(
            {
                "code_ogr": row["code_ogr"],
                "label": label,
                "short_label": clean_label(row["libelle_appellation_court"]),
                "rome_id": row["code_rome"],
                "principal": row["classification"].strip().upper() == "PRINCIPALE",
                "rarely_used": _yes(row["peu_usite"]),
                "search_key": fold_words(label),
            }
        )

    mobility_rows = [
        {
            "source_id": row["code_rome"],
            "target_id": row["code_rome_cible"],
            "rank": _int_or_none(row["numero_ordre"]) or 0,
        }
        for row in read_csv(rome_dir / "unix_rubrique_mobilite_v460_utf8.csv")
        if row["code_rome"] in rome_codes and row["code_rome_cible"] in rome_codes
    ]

    return [
        sync_rows(
            RomeDomain,
            domain_rows,
            unique_fields=["code"],
            update_fields=["label", "level", "parent_id"],
            label="Domaines ROME",
        ),
        sync_rows(
            RomeCode,
            code_rows,
            unique_fields=["code"],
            update_fields=["label", "code_ogr", "parent_code", "domain_id", "regulated", "managerial"],
            label="Métiers ROME",
        ),
        sync_rows(
            RomeAppellation,
            appellation_rows,
            unique_fields=["code_ogr"],
            update_fields=["label", "short_label", "rome_id", "principal", "rarely_used", "search_key"],
            label="Appellations ROME",
        ),
        sync_rows(
            RomeMobility,
            mobility_rows,
            unique_fields=["source_id", "target_id"],
            update_fields=["rank"],
            label="Mobilités ROME",
        ),
    ]


def load_naf(data_dir):
    rows = [
        {
            "code": row["code"],
            "label": clean_label(row["libelle"]),
            "class_code": row["classe_code"],
            "group_code": row["groupe_code"],
            "division_code": row["division_code"],
            "division_label": clean_label(row["division_libelle"]),
            "section_code": row["section_code"],
            "section_label": clean_label(row["section_libelle"]),
        }
        for row in read_csv(data_dir / "naf.csv")
    ]
    return [
        sync_rows(
            NafCode,
            rows,
            unique_fields=["code"],
            update_fields=[name for name in rows[0] if name != "code"] if rows else ["label"],
            label="Codes NAF",
        )
    ]


PATHWAY_KINDS = (
    ("situations", PathwayItem.Kind.SITUATION),
    ("objectifs", PathwayItem.Kind.OBJECTIVE),
    ("actions", PathwayItem.Kind.ACTION),
)


def load_parcours(data_dir):
    themes = read_json(data_dir / "referentiel_parcours.json")
    theme_rows = []
    item_rows = []
    for theme_order, theme in enumerate(themes):
        theme_rows.append({"code": theme["code"], "label": clean_label(theme["label"]), "order": theme_order})
        for key, kind in PATHWAY_KINDS:
            seen = set()
            order = 0
            for raw in theme.get(key) or []:
                label = clean_label(raw)
                if not label or label in seen:
                    continue
                seen.add(label)
                item_rows.append({"theme_id": theme["code"], "kind": kind.value, "label": label, "order": order})
                order += 1
    return [
        sync_rows(
            PathwayTheme,
            theme_rows,
            unique_fields=["code"],
            update_fields=["label", "order"],
            label="Thèmes du référentiel de parcours",
        ),
        sync_rows(
            PathwayItem,
            item_rows,
            unique_fields=["theme_id", "kind", "label"],
            update_fields=["order"],
            label="Éléments du référentiel de parcours",
        ),
    ]


def load_data_inclusion(data_dir):
    document = read_json(data_dir / "data_inclusion_v1.json")
    rows = []
    for vocabulary, terms in document.items():
        # Metadata keys hold strings; vocabularies are lists of {value, label, description}.
        if not isinstance(terms, list) or not all(isinstance(term, dict) and "value" in term for term in terms):
            continue
        for term in terms:
            rows.append(
                {
                    "vocabulary": vocabulary,
                    "value": term["value"],
                    "label": clean_label(term.get("label") or term["value"]),
                    "description": (term.get("description") or "").strip(),
                    "parent_value": term.get("categorie") or "",
                }
            )
    return [
        sync_rows(
            DataInclusionTerm,
            rows,
            unique_fields=["vocabulary", "value"],
            update_fields=["label", "description", "parent_value"],
            label="Vocabulaires data·inclusion",
        )
    ]


# --- registry and orchestration -----------------------------------------------------------


@dataclass(frozen=True)
class Referential:
    name: str
    label: str
    files: tuple[str, ...]
    loader: Callable[[Path], list[SyncStats]]
    models: tuple[type, ...]
    version: str = "1"


REFERENTIALS = (
    Referential("departements", "Départements", ("departements.csv",), load_departements, (Departement,)),
    Referential("communes", "Communes", ("communes_france.csv", "communes_31.geojson"), load_communes, (Commune,)),
    Referential(
        "rome",
        "ROME",
        (
            "rome/rome_domaines.csv",
            "rome/unix_referentiel_code_rome_v460_utf8.csv",
            "rome/unix_referentiel_appellation_v460_utf8.csv",
            "rome/unix_rubrique_mobilite_v460_utf8.csv",
        ),
        load_rome,
        (RomeDomain, RomeCode, RomeAppellation, RomeMobility),
    ),
    Referential("naf", "NAF", ("naf.csv",), load_naf, (NafCode,)),
    Referential(
        "parcours",
        "Référentiel de parcours",
        ("referentiel_parcours.json",),
        load_parcours,
        (PathwayTheme, PathwayItem),
    ),
    Referential(
        "data_inclusion",
        "data·inclusion",
        ("data_inclusion_v1.json",),
        load_data_inclusion,
        (DataInclusionTerm,),
    ),
)
REFERENTIALS_BY_NAME = {referential.name: referential for referential in REFERENTIALS}


def select(names=None):
    """The referentials named in ``names`` (all if empty), in loading order.

    Raises ``KeyError`` listing the unknown names.
    """
    if not names:
        return list(REFERENTIALS)
    wanted = {name.strip().lower().replace("-", "_") for name in names if name.strip()}
    unknown = sorted(wanted - REFERENTIALS_BY_NAME.keys())
    if unknown:
        raise KeyError(", ".join(unknown))
    return [referential for referential in REFERENTIALS if referential.name in wanted]


def checksum(referential, data_dir=DATA_DIR):
    """SHA-256 of the loader version and of every file of ``referential``."""
    digest = hashlib.sha256(f"{referential.name}:{referential.version}".encode())
    for name in referential.files:
        digest.update(f"\0{name}\0".encode())
        with open(Path(data_dir) / name, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def row_count(referential):
    return sum(model.objects.count() for model in referential.models)


def is_up_to_date(referential, digest):
    version = ReferentialVersion.objects.filter(name=referential.name).first()
    return version is not None and version.checksum == digest and version.rows == row_count(referential)


def load(referential, *, force=False, data_dir=DATA_DIR):
    """Load one referential in one transaction; return a :class:`LoadReport`."""
    data_dir = Path(data_dir)
    started = time.perf_counter()
    report = LoadReport(name=referential.name, label=referential.label)
    digest = checksum(referential, data_dir)
    if not force and is_up_to_date(referential, digest):
        report.up_to_date = True
    else:
        with transaction.atomic():
            report.stats = referential.loader(data_dir)
            ReferentialVersion.objects.update_or_create(
                name=referential.name,
                defaults={"checksum": digest, "rows": row_count(referential), "loaded_at": timezone.now()},
            )
    report.seconds = time.perf_counter() - started
    return report


def load_all(names=None, *, force=False, data_dir=DATA_DIR, progress=None) -> list[LoadReport]:
    """Load the selected referentials in order; ``progress(report)`` is called after each."""
    reports = []
    for referential in select(names):
        report = load(referential, force=force, data_dir=data_dir)
        reports.append(report)
        if progress:
            progress(report)
    return reports
