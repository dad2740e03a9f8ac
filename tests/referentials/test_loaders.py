import json
import shutil
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from spie.referentials import loaders
from spie.referentials.models import (
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

MODELS = (
    Departement,
    Commune,
    RomeDomain,
    RomeCode,
    RomeAppellation,
    RomeMobility,
    NafCode,
    PathwayTheme,
    PathwayItem,
    DataInclusionTerm,
)


def counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def run(*args):
    out = StringIO()
    call_command("load_referentials", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_full_load_of_the_real_files_is_complete_and_idempotent():
    started = time.perf_counter()
    output = run()
    first_load = time.perf_counter() - started

    assert counts() == {
        "Departement": 109,
        "Commune": 34969,
        "RomeDomain": 124,
        "RomeCode": 1584,
        "RomeAppellation": 13120,
        "RomeMobility": 14912,
        "NafCode": 732,
        "PathwayTheme": 16,
        "PathwayItem": 280,
        "DataInclusionTerm": 223,
    }
    assert "Communes : 34 969 lignes chargées" in output
    assert "Métiers ROME : 1 584 lignes chargées" in output
    assert first_load < 20

    toulouse = Commune.objects.get(code_insee="31555")
    assert toulouse.name == "Toulouse"
    assert toulouse.search_key == "toulouse"
    assert toulouse.departement == "31"
    assert toulouse.postal_codes.split()[0] == "31000"
    assert toulouse.lat == pytest.approx(43.6, abs=0.1)
    assert toulouse.lon == pytest.approx(1.4, abs=0.1)
    assert toulouse.shape["type"] == "Polygon"
    assert len(toulouse.shape["coordinates"][0]) >= 4
    assert Commune.objects.filter(shape__isnull=False).count() == 586
    assert Commune.objects.filter(departement="31").count() == 586
    assert Commune.objects.get(code_insee="31118").search_key == "castelnau d estretefonds"
    assert Departement.objects.get(code="31").name == "Haute-Garonne"

    assert RomeDomain.objects.filter(parent__isnull=True).count() == 14
    assert RomeDomain.objects.get(code="M16").parent_id == "M"
    assert not RomeCode.objects.filter(domain__isnull=True).exists()
    assert RomeCode.objects.get(code="A1101").domain_id == "A11"
    assert RomeAppellation.objects.filter(principal=True).count() == 1584
    assert RomeAppellation.objects.filter(rarely_used=True).count() == 199
    assert RomeCode.objects.filter(regulated=True).exists()
    assert RomeCode.objects.filter(managerial=True).exists()
    assert RomeCode.objects.get(code="A1101").mobility_targets.filter(code="A1102").exists()

    assert NafCode.objects.get(code="88.99B").section_code == "Q"
    assert list(PathwayTheme.objects.values_list("code", flat=True)[:2]) == ["logement", "emploi"]
    assert PathwayTheme.objects.get(code="logement").order == 0
    assert PathwayItem.objects.filter(label="Prêt à suivre une formation").exists()
    assert not PathwayItem.objects.filter(label__contains="  ").exists()
    assert PathwayItem.objects.filter(theme_id="numerique", kind="action").count() == 0
    vocabularies = set(DataInclusionTerm.objects.values_list("vocabulary", flat=True))
    assert {"thematiques", "publics", "categories_thematiques", "reseaux_porteurs"} <= vocabularies
    assert len(vocabularies) == 9
    term = DataInclusionTerm.objects.get(vocabulary="thematiques", value="mobilite--preparer-un-permis")
    assert term.parent_value == "mobilite"
    assert ReferentialVersion.objects.count() == 6

    # Unchanged files: nothing is reloaded, and the check is fast.
    before = counts()
    versions = dict(ReferentialVersion.objects.values_list("name", "loaded_at"))
    started = time.perf_counter()
    output = run()
    assert time.perf_counter() - started < 1
    assert "Référentiels à jour" in output
    assert counts() == before
    assert dict(ReferentialVersion.objects.values_list("name", "loaded_at")) == versions

    # --force reloads, restores edited rows and keeps the counts.
    Commune.objects.filter(code_insee="31555").update(name="Toulouse modifiée", lat=None)
    output = run("--force", "--only", "communes")
    assert "Communes : 34 969 lignes chargées (1 modifiée" in output
    toulouse.refresh_from_db()
    assert toulouse.name == "Toulouse"
    assert toulouse.lat is not None
    output = run("--force")
    assert "Référentiels chargés" in output
    assert "créée" not in output
    assert counts() == before


@pytest.fixture
def data_dir(tmp_path):
    """A copy of the small data files, which a test may edit."""
    for name in ("naf.csv", "referentiel_parcours.json", "data_inclusion_v1.json", "departements.csv"):
        shutil.copy(loaders.DATA_DIR / name, tmp_path / name)
    return tmp_path


def referential(name):
    return loaders.REFERENTIALS_BY_NAME[name]


@pytest.mark.django_db
def test_changed_file_updates_labels_and_prunes_vocabulary_terms(data_dir):
    report = loaders.load(referential("data_inclusion"), data_dir=data_dir)
    assert report.stats[0].created == 223
    assert loaders.load(referential("data_inclusion"), data_dir=data_dir).up_to_date

    path = data_dir / "data_inclusion_v1.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["frais"][0]["label"] = "Gratuit pour tous"
    removed = document["publics"].pop()
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")

    report = loaders.load(referential("data_inclusion"), data_dir=data_dir)
    assert not report.up_to_date
    assert (report.stats[0].updated, report.stats[0].deleted, report.stats[0].created) == (1, 1, 0)
    assert DataInclusionTerm.objects.get(vocabulary="frais", value=document["frais"][0]["value"]).label == (
        "Gratuit pour tous"
    )
    assert not DataInclusionTerm.objects.filter(vocabulary="publics", value=removed["value"]).exists()
    assert DataInclusionTerm.objects.count() == 222


@pytest.mark.django_db
def test_naf_label_change_is_applied(data_dir):
    loaders.load(referential("naf"), data_dir=data_dir)
    path = data_dir / "naf.csv"
    path.write_text(
        path.read_text(encoding="utf-8").replace("Culture du riz,", "Riziculture,", 1),
        encoding="utf-8",
    )
    report = loaders.load(referential("naf"), data_dir=data_dir)
    assert report.stats[0].updated == 1
    assert report.stats[0].message() == "Codes NAF : 732 lignes chargées (1 modifiée)"
    assert NafCode.objects.get(code="01.12Z").label == "Riziculture"
    assert NafCode.objects.count() == 732


@pytest.mark.django_db
def test_pathway_items_keep_their_ids_and_referenced_rows_are_kept(data_dir):
    loaders.load(referential("parcours"), data_dir=data_dir)
    ids = {(item.theme_id, item.kind, item.label): item.pk for item in PathwayItem.objects.all()}
    assert PathwayTheme.objects.count() == 16

    path = data_dir / "referentiel_parcours.json"
    themes = json.loads(path.read_text(encoding="utf-8"))
    themes[0]["situations"].insert(0, "  Nouvelle   situation ")
    dropped_theme = themes.pop()
    path.write_text(json.dumps(themes, ensure_ascii=False), encoding="utf-8")

    report = loaders.load(referential("parcours"), data_dir=data_dir)
    theme_stats, item_stats = report.stats
    # Themes are referenced by items: a theme missing from the file is kept, not deleted.
    assert theme_stats.kept == 1
    assert PathwayTheme.objects.filter(code=dropped_theme["code"]).exists()
    assert item_stats.created == 1
    new_item = PathwayItem.objects.get(label="Nouvelle situation")
    assert new_item.order == 0
    unchanged = PathwayItem.objects.get(theme_id="logement", kind="situation", label="Besoin d'adapter le logement")
    assert unchanged.pk == ids[("logement", "situation", "Besoin d'adapter le logement")]
    assert unchanged.order == 2


@pytest.mark.django_db
def test_rows_deleted_from_the_database_trigger_a_reload(data_dir):
    loaders.load(referential("departements"), data_dir=data_dir)
    Departement.objects.filter(code="31").delete()
    report = loaders.load(referential("departements"), data_dir=data_dir)
    assert not report.up_to_date
    assert report.stats[0].created == 1
    assert Departement.objects.count() == 109


@pytest.mark.django_db
def test_only_option_and_unknown_name():
    output = run("--only", "naf,parcours")
    assert "Codes NAF : 732 lignes chargées (732 créées)" in output
    assert "Thèmes du référentiel de parcours : 16 lignes chargées" in output
    assert Commune.objects.count() == 0
    assert "Référentiels à jour" in run("--only", "naf, parcours")
    with pytest.raises(CommandError, match="Référentiel inconnu : villes"):
        run("--only", "naf,villes")


def test_checksum_depends_on_the_files(data_dir):
    naf = referential("naf")
    digest = loaders.checksum(naf, data_dir)
    assert digest == loaders.checksum(naf, loaders.DATA_DIR)
    (data_dir / "naf.csv").write_text("code,libelle\n", encoding="utf-8")
    assert loaders.checksum(naf, data_dir) != digest


def test_clean_label_and_number_format():
    assert loaders.clean_label("  Prêt  à suivre\tune formation ") == "Prêt à suivre une formation"
    assert loaders.fmt(34969) == "34 969"
    assert loaders.fmt(1584) == "1 584"


@pytest.mark.django_db
def test_a_broken_file_rolls_back_the_whole_referential(data_dir):
    loaders.load(referential("naf"), data_dir=data_dir)
    path = data_dir / "naf.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    changed = lines[1].replace("Culture de céréales", "Céréales", 1)
    path.write_text("".join([lines[0], changed, *lines[2:], lines[-1]]), encoding="utf-8")  # last row twice
    with pytest.raises(ValueError, match="doublon"):
        loaders.load(referential("naf"), data_dir=data_dir)
    assert NafCode.objects.get(code="01.11Z").label.startswith("Culture de céréales")
    assert loaders.load(referential("naf")).up_to_date
