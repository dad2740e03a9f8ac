"""Exchange of the catalogue in the data·inclusion v1 format: every exported service validates
against the schema file the product ships, the CSV parses back, the reverse mapping gives the
action back, and bad values get French errors per field."""

import csv
import datetime
import io
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from spie.catalogue import interop
from spie.catalogue.models import ActionStatus
from spie.referentials.models import PathwayItem, PathwayTheme
from tests.network.factories import CommuneFactory, StructureFactory, TerritoryFactory, make_professional

from .factories import ActionFactory, ActionSessionFactory

pytestmark = pytest.mark.django_db

SCHEMA_KEYS = set(interop.schema()["properties"])


@pytest.fixture
def toulouse():
    return CommuneFactory()


@pytest.fixture
def full_action(toulouse):
    """An action with every field filled in, two upcoming sessions and a cancelled one."""
    CommuneFactory(code_insee="31149", name="Colomiers", postal_codes="31770", epci_siren="243100518")
    territory = TerritoryFactory()
    structure = StructureFactory(territory=territory, name="Association Tremplin", slug="association-tremplin")
    theme, _ = PathwayTheme.objects.get_or_create(code="emploi", defaults={"label": "Emploi"})
    item, _ = PathwayItem.objects.get_or_create(theme=theme, kind=PathwayItem.Kind.ACTION,
                                                label="Préparer ses candidatures")
    action = ActionFactory(
        territory=territory, structure=structure, name="Atelier CV et entretien", summary="Préparer sa candidature.",
        type="atelier",
        thematiques=["preparer-sa-candidature--realiser-un-cv-et-ou-une-lettre-de-motivation",
                     "trouver-un-emploi--convaincre-un-recruteur-en-entretien"],
        fees="payant", fees_details="5 € d'adhésion", publics=["demandeurs-emploi", "jeunes"],
        publics_details="De 18 à 30 ans.", access_conditions="Être inscrit à France Travail.",
        prerequisites="Savoir lire le français.", documents="Pièce d'identité.",
        reception_modes=["en-presentiel", "a-distance"], address="12 rue des Lilas", address_complement="2e étage",
        postal_code="31000", commune=toulouse, eligibility_zone=["31", "243100518", "31149"],
        contact_name="Sam Conseil", email="sam@tremplin.example", phone="+33561000000",
        mobilisation_modes=["envoyer-un-courriel", "telephoner"], mobilisable_by=["professionnels", "usagers"],
        mobilisation_details="Écrire au conseiller.", mobilisation_link="https://tremplin.example/inscription",
        opening_hours="Mo-Fr 09:00-12:00", weekly_hours=Decimal("3.5"), weeks=6, spie_kind="workshop",
        spie_axis="axe3", plan_item=item, capacity=12, languages=["français", "anglais"],
        accessibility="Accessible en fauteuil roulant.", registration_deadline=timezone.localdate()
        + datetime.timedelta(days=30), content_updated_on=datetime.date(2026, 1, 15),
    )
    ActionSessionFactory(action=action, label="Session de printemps", capacity=10, place="Salle 2")
    ActionSessionFactory(action=action, starts_on=timezone.localdate() + datetime.timedelta(days=40), capacity=8)
    ActionSessionFactory(action=action, capacity=5, is_cancelled=True)
    return action


@pytest.fixture
def minimal_action():
    """A remote action with only what the schema requires."""
    return ActionFactory(
        remote=True, name="Info", description="Une information collective à distance.", summary="", type="",
        thematiques=[], fees="", publics=[], reception_modes=[], contact_name="", email="", phone="",
        mobilisation_modes=[], mobilisable_by=[], weekly_hours=None, weeks=None, spie_kind="", spie_axis="",
    )


# --- Action → service --------------------------------------------------------------------------


def test_full_action_exports_a_valid_service_with_every_field(full_action):
    service = interop.to_service(full_action, base_url="https://spie.example")
    assert interop.validate_services([service]) == []
    assert service["id"] == f"spie-31--{full_action.uid}"
    assert service["source"] == "spie-31"
    assert service["structure_id"] == "spie-31--association-tremplin"
    assert service["date_maj"] == "2026-01-15"
    assert service["code_insee"] == "31555" and service["commune"] == "Toulouse" and service["code_postal"] == "31000"
    assert service["latitude"] == pytest.approx(43.60047) and service["longitude"] == pytest.approx(1.43259)
    assert service["zone_eligibilite"] == ["31", "243100518", "31149"]
    assert service["conditions_acces"] == (
        "Conditions d'accès : Être inscrit à France Travail.\n\nPrérequis : Savoir lire le français."
        "\n\nJustificatifs à fournir : Pièce d'identité."
    )
    assert service["volume_horaire_hebdomadaire"] == 3.5 and service["nombre_semaines"] == 6
    assert service["lien_source"] == f"https://spie.example/catalogue/actions/{full_action.uid}/"
    assert (service["contact_nom_prenom"], service["courriel"], service["telephone"]) == (
        "Sam Conseil", "sam@tremplin.example", "+33561000000")
    # SPIE extensions travel as additional properties, allowed by the schema.
    assert service["spie_type_action"] == "workshop" and service["spie_axe"] == "axe3"
    assert service["spie_action_referentiel"] == "Préparer ses candidatures"
    assert service["spie_capacite"] == 12 and service["spie_langues"] == ["français", "anglais"]
    assert [s["places"] for s in service["spie_sessions"]] == [10, 8]  # the cancelled one is left out
    assert set(service) - SCHEMA_KEYS == set(interop.EXTENSION_KEYS)


def test_minimal_action_exports_nulls_for_empty_optional_fields(minimal_action):
    service = interop.to_service(minimal_action)
    assert interop.validate_services([service]) == []
    for key in ("type", "thematiques", "frais", "publics", "modes_accueil", "code_insee", "commune", "code_postal",
                "latitude", "zone_eligibilite", "courriel", "modes_mobilisation", "mobilisable_par",
                "volume_horaire_hebdomadaire", "nombre_semaines", "conditions_acces", "lien_source",
                "spie_sessions", "spie_resume"):
        assert service[key] is None, key
    assert service["nom"] == "Info"


def test_without_contacts_the_contact_fields_are_null(full_action):
    service = interop.to_service(full_action, with_contacts=False)
    assert service["contact_nom_prenom"] is None and service["courriel"] is None and service["telephone"] is None
    assert service["lien_mobilisation"] == "https://tremplin.example/inscription"
    assert interop.validate_services([service]) == []


def test_validation_errors_are_french_and_name_the_service_and_field(full_action):
    good = interop.to_service(full_action)
    broken = dict(good, courriel="pas-une-adresse", thematiques=["cuisine--recettes"], nom="AB",
                  zone_eligibilite=["31", "XX-1"], date_maj="15/01/2026", lien_mobilisation="pas une url")
    missing = {k: v for k, v in good.items() if k != "description"}
    errors = interop.validate_services([good, broken, missing, "texte"])
    text = "\n".join(errors)
    assert all(e.startswith("Service n° ") for e in errors)
    assert "Service n° 2 (« spie-31--" in text
    assert "champ « courriel » : adresse électronique invalide « pas-une-adresse »" in text
    assert "champ « thematiques » : valeur inconnue « cuisine--recettes »" in text
    assert "champ « nom » : texte trop court (2 caractères, 3 au moins)" in text
    assert "champ « zone_eligibilite » : code « XX-1 » invalide" in text
    assert "champ « date_maj » : date invalide (attendu AAAA-MM-JJ)" in text
    assert "champ « lien_mobilisation » : adresse web invalide" in text
    assert "Service n° 3" in text and "champ « description » : champ obligatoire « description » manquant" in text
    assert "Service n° 4 : un objet JSON est attendu." in text
    assert not any(e.startswith("Service n° 1 ") for e in errors)
    assert interop.validate_services({"services": []}) == [
        "Le document doit être une liste de services (tableau JSON)."]


def test_conditions_split_back_into_the_three_texts():
    combined = interop.combine_conditions("Habiter Toulouse.", "", "Un justificatif de domicile.")
    assert combined == ("Conditions d'accès : Habiter Toulouse.\n\n"
                        "Justificatifs à fournir : Un justificatif de domicile.")
    assert interop.split_conditions(combined) == {
        "access_conditions": "Habiter Toulouse.", "prerequisites": "", "documents": "Un justificatif de domicile."}
    assert interop.combine_conditions("Habiter Toulouse.", "", "") == "Habiter Toulouse."
    assert interop.split_conditions("Texte libre, sans intertitre.")["access_conditions"] == (
        "Texte libre, sans intertitre.")


# --- Export page -------------------------------------------------------------------------------


def _download(client, **params):
    response = client.get("/catalogue/export/", params)
    assert response.status_code == 200, response
    assert response.streaming
    return b"".join(response.streaming_content).decode("utf-8"), response


def test_json_export_is_public_valid_and_only_has_visible_actions_without_contacts(client, full_action,
                                                                                   minimal_action):
    territory = full_action.territory
    ActionFactory(territory=territory, draft=True, name="Brouillon caché")
    ActionFactory(territory=territory, status=ActionStatus.ARCHIVED, name="Archive cachée")
    ActionFactory(territory=territory, status=ActionStatus.SUSPENDED, name="Suspension en cours",
                  suspended_until=timezone.localdate() + datetime.timedelta(days=3))
    ActionFactory(territory=territory, status=ActionStatus.SUSPENDED, name="Suspension finie",
                  suspended_until=timezone.localdate() - datetime.timedelta(days=1))
    ActionFactory(territory=TerritoryFactory(code="32", name="Gers", display_name="SPIE Gers"), name="Du Gers")
    body, response = _download(client, format="json")
    assert response["Content-Type"].startswith("application/json")
    assert 'filename="catalogue-spie-31-' in response["Content-Disposition"]
    services = json.loads(body)
    assert interop.validate_services(services) == []
    assert sorted(s["nom"] for s in services) == ["Atelier CV et entretien", "Info", "Suspension finie"]
    assert all(s["courriel"] is None and s["telephone"] is None and s["contact_nom_prenom"] is None
               for s in services)
    assert "sam@tremplin.example" not in body and "Sam Conseil" not in body


def test_json_export_for_a_professional_has_the_contacts(client_for, full_action):
    user = make_professional(structure=StructureFactory(territory=full_action.territory))
    body, response = _download(client_for(user), format="json")
    services = json.loads(body)
    assert services[0]["courriel"] == "sam@tremplin.example" and services[0]["contact_nom_prenom"] == "Sam Conseil"
    assert interop.validate_services(services) == []
    assert "no-store" in response["Cache-Control"]


def test_export_of_another_territory_and_bad_format(client, full_action):
    ActionFactory(territory=TerritoryFactory(code="32", name="Gers", display_name="SPIE Gers"), name="Du Gers")
    body, _response = _download(client, format="json", territoire="32")
    assert [s["nom"] for s in json.loads(body)] == ["Du Gers"]
    assert json.loads(body)[0]["source"] == "spie-32"
    assert client.get("/catalogue/export/", {"territoire": "99"}).status_code == 404
    response = client.get("/catalogue/export/", {"format": "pdf"})
    assert response.status_code == 400
    assert "Format inconnu « pdf »" in response.content.decode()


def csv_services(body):
    reader = csv.DictReader(io.StringIO(body.lstrip("\ufeff")), delimiter=";")
    return [interop.service_from_csv(row) for row in reader], reader.fieldnames


def test_csv_export_parses_back_into_valid_services(client_for, full_action, minimal_action):
    user = make_professional(structure=StructureFactory(territory=full_action.territory))
    body, response = _download(client_for(user), format="csv")
    assert response["Content-Type"].startswith("text/csv")
    services, header = csv_services(body)
    assert header == list(interop.CSV_COLUMNS)
    assert interop.validate_services(services) == []
    by_name = {s["nom"]: s for s in services}
    full = by_name["Atelier CV et entretien"]
    assert full["thematiques"] == full_action.thematiques
    assert full["zone_eligibilite"] == ["31", "243100518", "31149"]
    assert full["telephone"] == "+33561000000"  # neutralised for spreadsheets in the file, read back as is
    assert "'+33561000000" in body
    assert full["volume_horaire_hebdomadaire"] == 3.5 and full["nombre_semaines"] == 6
    assert full["latitude"] == pytest.approx(43.60047)
    assert by_name["Info"]["thematiques"] is None and by_name["Info"]["latitude"] is None
    assert full == {k: v for k, v in interop.to_service(full_action, base_url="http://testserver").items()
                    if k in interop.CSV_COLUMNS}


def test_export_query_count_does_not_grow_with_the_catalogue(client, toulouse):
    territory = TerritoryFactory()
    structure = StructureFactory(territory=territory)

    def count_queries(fmt):
        with CaptureQueriesContext(connection) as ctx:
            _download(client, format=fmt)
        return len(ctx.captured_queries)

    for _ in range(2):
        ActionSessionFactory(action=ActionFactory(territory=territory, structure=structure, commune=toulouse))
    small = {fmt: count_queries(fmt) for fmt in ("json", "csv")}
    for _ in range(18):
        ActionSessionFactory(action=ActionFactory(territory=territory, structure=StructureFactory(territory=territory),
                                                  commune=toulouse))
    assert {fmt: count_queries(fmt) for fmt in ("json", "csv")} == small


# --- Service → action --------------------------------------------------------------------------

ROUND_TRIP_FIELDS = (
    "name", "description", "type", "thematiques", "fees", "fees_details", "publics", "publics_details",
    "access_conditions", "prerequisites", "documents", "reception_modes", "address", "address_complement",
    "postal_code", "lat", "lon", "eligibility_zone", "contact_name", "email", "phone", "mobilisation_modes",
    "mobilisable_by", "mobilisation_details", "mobilisation_link", "opening_hours", "weekly_hours", "weeks",
    "content_updated_on", "summary", "spie_kind", "spie_axis", "capacity", "registration_deadline", "languages",
    "accessibility",
)


def test_from_service_gives_the_action_back(full_action):
    fields = interop.from_service(interop.to_service(full_action))
    for name in ROUND_TRIP_FIELDS:
        assert fields[name] == getattr(full_action, name), name
    assert fields["commune_id"] == "31555"
    assert fields["source"] == "spie-31" and fields["source_id"] == f"spie-31--{full_action.uid}"


def test_from_service_round_trips_through_csv_text(full_action):
    row = dict(zip(interop.CSV_COLUMNS, interop.service_row(interop.to_service(full_action)), strict=True))
    fields = interop.from_service(row)
    for name in ROUND_TRIP_FIELDS:
        assert fields[name] == getattr(full_action, name), name


def test_from_service_accepts_french_labels_and_nationwide_zone(toulouse):
    fields = interop.from_service({
        "nom": "Atelier numérique", "description": "Découvrir l'ordinateur.", "type": "Atelier",
        "frais": "Gratuit", "modes_accueil": "En présentiel|À distance", "publics": "Jeunes",
        "thematiques": "Maîtriser les fondamentaux du numérique", "mobilisable_par": "Professionnels",
        "commune": "Toulouse", "code_postal": "31000", "zone_eligibilite": ["france"],
        "volume_horaire_hebdomadaire": "2,5", "date_maj": "01/02/2026", "spie_type_action": "Atelier",
    })
    assert fields["type"] == "atelier" and fields["fees"] == "gratuit"
    assert fields["reception_modes"] == ["en-presentiel", "a-distance"]
    assert fields["publics"] == ["jeunes"]
    assert fields["thematiques"] == ["numerique--maitriser-les-fondamentaux-du-numerique"]
    assert fields["commune_id"] == "31555" and fields["eligibility_zone"] == []
    assert fields["weekly_hours"] == Decimal("2.5") and fields["content_updated_on"] == datetime.date(2026, 2, 1)
    assert fields["spie_kind"] == "workshop"


def test_from_service_errors_are_french_per_field(toulouse):
    fields, errors = interop.parse_service({
        "nom": "Atelier", "description": "Une description suffisante.",
        "thematiques": ["cuisine--recettes", "mobilite--preparer-un-permis"], "publics": "martiens",
        "type": "conférence", "frais": "selon revenus", "modes_accueil": "en-vol",
        "modes_mobilisation": "pigeon", "mobilisable_par": "tout le monde", "code_insee": "99999",
        "courriel": "pas-une-adresse", "zone_eligibilite": "31|123456789", "nombre_semaines": "0",
        "latitude": "quatre-vingt", "date_maj": "hier", "spie_type_action": "pique-nique",
    })
    assert errors["thematiques"].startswith("valeur inconnue « cuisine--recettes »")
    assert errors["publics"].startswith("valeur inconnue « martiens »")
    assert errors["type"].startswith("valeur inconnue « conférence » (attendu : accompagnement")
    assert errors["frais"] == "valeur inconnue « selon revenus » (attendu : gratuit ou payant)"
    assert errors["modes_accueil"].startswith("valeur inconnue « en-vol »")
    assert errors["modes_mobilisation"].startswith("valeur inconnue « pigeon »")
    assert errors["mobilisable_par"].startswith("valeur inconnue « tout le monde »")
    assert errors["code_insee"] == "commune inconnue : code INSEE « 99999 »"
    assert errors["courriel"] == "adresse électronique invalide « pas-une-adresse »"
    assert errors["zone_eligibilite"].startswith("code inconnu « 123456789 »")
    assert errors["nombre_semaines"].startswith("nombre entier attendu")
    assert errors["latitude"].startswith("coordonnée invalide")
    assert errors["date_maj"].startswith("date illisible « hier »")
    assert errors["spie_type_action"].startswith("valeur inconnue « pique-nique »")
    assert fields["name"] == "Atelier"  # the valid fields are kept
    with pytest.raises(ValidationError) as raised:
        interop.from_service({"nom": "", "description": "Txt"})
    assert raised.value.message_dict == {"nom": ["valeur obligatoire manquante"],
                                         "description": ["description trop courte (5 caractères au moins)"]}


def test_tous_publics_cannot_be_combined():
    _fields, errors = interop.parse_service({"nom": "Atelier", "description": "Une description.",
                                             "publics": ["tous-publics", "jeunes"]})
    assert errors["publics"] == "« tous-publics » ne se combine pas avec d'autres publics"
