"""Staged import of job offers: the France Travail "Offres d'emploi v2" JSON and a CSV with French
headers, companies found by SIRET or name (or created), French row errors (ROME code missing or
unknown, commune not found), re-imports that update by (source, id), and who may import."""

import json
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from spie.employers import interop
from spie.employers.models import Company, JobOpening, OpeningStatus
from spie.imports import services
from spie.imports.models import ImportKind, ImportStatus, RowAction
from tests.employers.factories import CompanyFactory, JobOpeningFactory, company_with_account, rome
from tests.network.factories import CommuneFactory

from .conftest import membership_of
from .utils import commit, row, upload, validate

pytestmark = pytest.mark.django_db

SAMPLES = Path(interop.__file__).parent / "samples"
COMMUNES = [("31555", "Toulouse", "31000"), ("31069", "Blagnac", "31700"), ("31395", "Muret", "31600"),
            ("31149", "Colomiers", "31770"), ("31483", "Saint-Gaudens", "31800")]
ROMES = ["G1602", "N1103", "K1304", "D1106", "K2204"]


@pytest.fixture
def referentials(world):
    for code, name, postal in COMMUNES:
        CommuneFactory(code_insee=code, name=name, postal_codes=postal, search_key=name.lower().replace("-", " "))
    CommuneFactory(code_insee="32013", name="Auch", departement="32", postal_codes="32000", search_key="auch")
    for code in ROMES:
        rome(code, label=f"Métier {code}", domain=code[:3])


@pytest.fixture
def admin(world, referentials):
    return membership_of(world["admin_ref"])


def luhn_siret(n):
    """A SIRET valid for ``validate_siret``: Luhn key on the SIREN and on the whole SIRET."""
    from stdnum import luhn

    siren = f"{n:08d}"[-8:]
    siren += luhn.calc_check_digit(siren)
    body = siren + "0001"
    return body + luhn.calc_check_digit(body)


def offer(n=1, **overrides):
    data = {
        "id": f"T{n:05d}", "intitule": f"Commis de cuisine {n}", "description": "Plonge et mise en place.",
        "dateCreation": "2026-11-02T09:15:00.000Z",
        "lieuTravail": {"libelle": "31 - TOULOUSE", "codePostal": "31000", "commune": "31555"},
        "romeCode": "G1602", "entreprise": {"nom": "Brasserie Test", "siret": luhn_siret(900_000 + n)},
        "typeContrat": "CDD", "typeContratLibelle": "Contrat à durée déterminée - 6 Mois",
        "experienceExige": "E", "experienceLibelle": "2 ans",
        "langues": [{"libelle": "Anglais", "exigence": "E"}, {"libelle": "Espagnol", "exigence": "S"}],
        "permis": [{"libelle": "B - Véhicule léger Exigé", "exigence": "E"}],
        "dureeTravailLibelle": "24H Travail de nuit", "dureeTravailLibelleConverti": "Temps partiel",
        "alternance": False, "nombrePostes": 2, "accessibleTH": True,
    }
    data.update(overrides)
    return data


def offers_json(items, *, wrap=True):
    return json.dumps({"resultats": items} if wrap else items).encode("utf-8")


def run(membership, content, name="offres.json"):
    job = upload(membership, content, name=name, kind=ImportKind.OPENINGS)
    return validate(job, membership)


def test_france_travail_json_maps_itself_and_creates_openings_and_companies(admin, world):
    job = upload(admin, offers_json([offer(1), offer(2, entreprise={"nom": "Brasserie Test",
                                                                       "siret": luhn_siret(900_001)})]),
                 kind=ImportKind.OPENINGS)
    assert job.file_format == "json"
    assert job.mapping["romeCode"] == "romeCode" and job.mapping["lieuTravail"] == "lieuTravail"
    job = validate(job, admin)
    assert job.status == ImportStatus.READY
    assert (job.create_count, job.error_count) == (2, 0)
    assert "company" in row(job, 1).diff  # a new company, said in the preview
    assert not JobOpening.objects.exists() and not Company.objects.exists()  # nothing before the commit
    job = commit(job, admin)
    assert job.status == ImportStatus.COMMITTED
    company = Company.objects.get()  # one company for the two rows of the same SIRET
    assert company.siret == luhn_siret(900_001) and company.territory == world["territory"]
    assert company.followed_by == admin.structure
    first = JobOpening.objects.get(source_id="T00001")
    assert first.source == interop.FRANCE_TRAVAIL and first.company == company
    assert first.rome_id == "G1602" and first.commune_id == "31555" and first.contract_type == "cdd"
    assert first.duration_months == 6 and first.weekly_hours == 24 and first.schedule == ["night"]
    assert first.min_experience_months == 24 and first.languages == ["Anglais"] and first.requires_licence
    assert first.positions == 2 and first.adapted_position and first.status == OpeningStatus.OPEN
    assert first.opened_on.isoformat() == "2026-11-02" and first.created_by == admin.user


def test_sample_files_import_without_errors(admin):
    job = run(admin, (SAMPLES / "offres_v2_exemple.json").read_bytes())
    assert (job.rows_count, job.error_count) == (6, 0), [r.errors for r in job.rows.filter(action="error")]
    commit(job, admin)
    assert Company.objects.count() == 5 and JobOpening.objects.count() == 6
    alternance = JobOpening.objects.get(source_id="EX00004")
    assert alternance.contract_type == "alternance" and alternance.languages == []
    job = upload(admin, (SAMPLES / "offres_exemple.csv").read_bytes(), name="offres.csv", kind=ImportKind.OPENINGS)
    assert set(interop.CSV_HEADER) <= set(job.headers)
    assert job.mapping["commune"] == "Commune" and job.mapping["entreprise"] == "Entreprise"
    job = validate(job, admin)
    assert (job.rows_count, job.error_count, job.create_count) == (5, 0, 5)
    commit(job, admin)
    assert Company.objects.count() == 5  # found again by SIRET
    night = JobOpening.objects.get(source_id="CSV-002")
    assert night.source == f"csv-{admin.structure_id}" and night.commune_id == "31069"
    assert night.contract_type == "interim" and night.schedule == ["night"] and night.min_experience_months == 6


def test_row_errors_in_french_and_the_other_rows_go_on(admin):
    content = offers_json([
        offer(1),
        offer(2, romeCode=""),
        offer(3, romeCode="Z9999"),
        offer(4, lieuTravail={"libelle": "31 - Nulle part", "commune": "31999"}),
        offer(5, lieuTravail={"libelle": "32 - AUCH", "commune": "32013"}),
        offer(6, entreprise={"nom": "Sans clé", "siret": "12345678901234"}),
        offer(7, typeContrat="XYZ", typeContratLibelle=""),
        offer(1, intitule="doublon"),
    ])
    job = run(admin, content)
    assert (job.create_count, job.error_count) == (1, 7)
    assert "code ROME manquant" in row(job, 2).errors["romeCode"]
    assert row(job, 2).errors["romeCode"].startswith("Ligne 2, colonne « romeCode »")
    assert "code ROME inconnu « Z9999 »" in row(job, 3).errors["romeCode"]
    assert "commune introuvable" in row(job, 4).errors["lieuTravail"]
    assert "n'est pas dans le territoire" in row(job, 5).errors["lieuTravail"]
    assert "clé de contrôle" in row(job, 6).errors["siret"]
    assert "type de contrat non reconnu" in row(job, 7).errors["typeContrat"]
    assert "doublon de la ligne 1" in row(job, 8).errors["__all__"]
    # Drop the bad rows: the good one is imported alone.
    for line in range(2, 9):
        services.drop_row(job=job, row=row(job, line), membership=admin)
    commit(job, admin)
    assert list(JobOpening.objects.values_list("source_id", flat=True)) == ["T00001"]


def test_fixing_a_row_validates_it_again(admin):
    job = upload(admin, "Intitulé;Code ROME;Entreprise;SIRET;Commune;Type de contrat\n"
                        f"Plongeur;;Chez Max;{luhn_siret(777)};Toulouse;CDI\n".encode(), name="o.csv",
                 kind=ImportKind.OPENINGS)
    job = validate(job, admin)
    assert job.error_count == 1
    fixed = services.fix_row(job=job, row=row(job, 2), membership=admin, values={"romeCode": "g1602"})
    assert fixed.action == RowAction.CREATE
    commit(job, admin)
    opening = JobOpening.objects.get()
    assert opening.rome_id == "G1602" and opening.source_id == "" and opening.company.name == "Chez Max"


def test_reimport_updates_by_source_id_instead_of_duplicating(admin):
    commit(run(admin, offers_json([offer(1), offer(2)])), admin)
    opening = JobOpening.objects.get(source_id="T00001")
    opening.status = OpeningStatus.FILLED
    opening.save()
    job = run(admin, offers_json([offer(1, intitule="Commis de cuisine confirmé", nombrePostes=3), offer(2),
                                  offer(3)]))
    assert (job.update_count, job.unchanged_count, job.create_count) == (1, 1, 1)
    assert row(job, 1).diff["title"] == ["Commis de cuisine 1", "Commis de cuisine confirmé"]
    commit(job, admin)
    assert JobOpening.objects.count() == 3
    opening.refresh_from_db()
    assert opening.title == "Commis de cuisine confirmé" and opening.positions == 3
    assert opening.status == OpeningStatus.FILLED  # the status is kept


def test_company_found_by_name_without_siret_or_error(admin, world):
    known = CompanyFactory(territory=world["territory"], name="Boulangerie du Coin")
    job = run(admin, offers_json([
        offer(1, entreprise={"nom": "boulangerie du coin"}),
        offer(2, entreprise={"nom": "Inconnue SARL"}),
        offer(3, entreprise={}),
    ]))
    assert row(job, 1).action == RowAction.CREATE and row(job, 1).cleaned["company_id"] == known.pk
    assert "indiquez son SIRET" in row(job, 2).errors["siret"]
    assert "entreprise manquante" in row(job, 3).errors["entreprise"]


def test_company_with_its_own_space_is_not_imported_into_by_another_structure(admin, world):
    company, _user = company_with_account(territory=world["territory"])
    job = run(admin, offers_json([offer(1, entreprise={"nom": company.name})]))
    assert "a son propre espace" in row(job, 1).errors["__all__"]


def test_company_user_imports_the_offers_of_their_company_only(world, referentials):
    company, user = company_with_account(territory=world["territory"])
    other = CompanyFactory(territory=world["territory"])
    JobOpeningFactory(company=other, source=interop.FRANCE_TRAVAIL, source_id="T00009")
    membership = membership_of(user)
    assert services.importable_kinds(membership) == (ImportKind.OPENINGS,)
    with pytest.raises(PermissionDenied):
        upload(membership, b"Nom;Prenom\nA;B\n", kind=ImportKind.PERSONS)
    job = run(membership, offers_json([
        offer(1, entreprise={"nom": "Ignoré"}),
        offer(2, entreprise={"nom": other.name, "siret": luhn_siret(4242)}),
        offer(9, entreprise={}),
    ]))
    assert row(job, 1).action == RowAction.CREATE and row(job, 1).cleaned["company_id"] == company.pk
    assert "celle d'une autre entreprise" in row(job, 2).errors["__all__"]
    assert "autre entreprise" in row(job, 3).errors["__all__"]
    services.drop_row(job=job, row=row(job, 2), membership=membership)
    services.drop_row(job=job, row=row(job, 3), membership=membership)
    commit(job, membership)
    assert list(company.openings.values_list("source_id", flat=True)) == ["T00001"]
    assert Company.objects.count() == 2  # no company created by a company user


def test_referent_may_not_import_and_pages_follow_the_kinds(client_for, world, referentials):
    assert not services.can_import(membership_of(world["referent"]))
    company, user = company_with_account(territory=world["territory"])
    response = client_for(user).get(reverse("imports:upload"))
    assert response.status_code == 200
    kinds = [value for value, _label in response.context["form"].fields["kind"].choices]
    assert kinds == ["openings"]
    assert client_for(world["referent"]).get(reverse("imports:upload")).status_code == 403


def test_upload_page_documents_the_csv_header(client_for, admin):
    response = client_for(admin.user).get(reverse("imports:upload"))
    assert "Code ROME" in response.content.decode() and "Offres d'emploi" in response.content.decode()


def test_parse_helpers():
    assert interop.experience_months("2 ans") == 24
    assert interop.experience_months("6 mois") == 6
    assert interop.experience_months("1 an - en cuisine") == 12
    assert interop.weekly_hours_from("35H Horaires normaux") == 35
    assert str(interop.weekly_hours_from("24H30 Travail de nuit")) == "24.5"
    assert interop.schedule_from("journée | week-end") == ["day", "weekend"]
    assert interop.contract_from("CDD", "Contrat apprentissage")[0] == "alternance"
    assert interop.contract_from("MIS")[0] == "interim" and interop.contract_from("SAI")[0] == "saisonnier"
    assert interop.naf_code("5610a") == "56.10A"
