"""The platform's fields a file's columns map to, per kind of import, and the automatic mapping.

Actions' fields are named as in the data·inclusion service schema, so a data·inclusion file
(JSON or CSV) maps itself. Headers are compared folded (no accents, case or punctuation): "NOM DE NAISSANCE",
"Date naiss." or "N° allocataire" find their field. A structure's last mapping for the same
layout (same headers) wins over the guess (:class:`~spie.imports.models.SavedMapping`).
"""

import hashlib
from dataclasses import dataclass, field

from spie.core.text import fold, fold_words

from .models import ImportKind, MatchKey

TEXT, DATE, BOOL, CHOICE, EMAIL, NIR, COMMUNE, POSTAL_CODE, ROLE, SIRET = (
    "text", "date", "bool", "choice", "email", "nir", "commune", "postal_code", "role", "siret",
)
# A field of a data·inclusion service, parsed by ``spie.catalogue.interop.parse_service``.
SERVICE = "service"
# A column of a job offer (France Travail "Offres d'emploi v2"), parsed by ``spie.employers.interop.parse_offer``.
OFFER = "offer"


@dataclass(frozen=True)
class Target:
    name: str
    label: str
    type: str = TEXT
    required: bool = False
    max_length: int = 100
    aliases: tuple = field(default_factory=tuple)
    help: str = ""


PERSON_TARGETS = (
    Target("last_name", "Nom", required=True,
           aliases=("nom", "nom d'usage", "nom usage", "nom usuel", "nom de famille", "nom beneficiaire",
                    "nom allocataire")),
    Target("first_name", "Prénom", required=True, aliases=("prenom", "prenoms", "prenom usuel")),
    Target("birth_date", "Date de naissance", DATE, required=True,
           aliases=("date de naissance", "date naissance", "date naiss", "date naiss.", "dt naissance", "naissance",
                    "ne le", "ne(e) le", "date de naiss")),
    Target("sex", "Sexe", CHOICE, max_length=1, aliases=("sexe", "genre", "civilite"),
           help="F, Femme, Mme ; M, H, Homme, M. ; X"),
    Target("birth_name", "Nom de naissance", aliases=("nom de naissance", "nom naissance", "nom de jeune fille")),
    Target("nir", "NIR", NIR, max_length=15,
           aliases=("nir", "numero de securite sociale", "n securite sociale", "numero ss", "n ss", "nss",
                    "securite sociale", "no securite sociale")),
    Target("caf_number", "Numéro d'allocataire CAF", max_length=20,
           aliases=("n allocataire", "numero allocataire", "numero d'allocataire", "numero caf", "n caf",
                    "matricule caf", "allocataire", "no allocataire", "num allocataire", "caf")),
    Target("msa_number", "Numéro MSA", max_length=20, aliases=("numero msa", "n msa", "matricule msa")),
    Target("france_travail_id", "Identifiant France Travail", max_length=20,
           aliases=("identifiant france travail", "id france travail", "identifiant pole emploi", "id pe",
                    "identifiant ft", "n france travail")),
    Target("internal_id", "Identifiant départemental", max_length=30,
           aliases=("identifiant departemental", "id departemental", "identifiant interne", "id interne",
                    "identifiant", "id", "numero de dossier", "n dossier", "reference")),
    Target("email", "Courriel", EMAIL, max_length=254, aliases=("courriel", "email", "e-mail", "mail", "adresse mail",
                                                              "adresse electronique")),
    Target("phone", "Téléphone", max_length=20, aliases=("telephone", "tel", "portable", "mobile", "tel portable")),
    Target("address", "Adresse", max_length=250, aliases=("adresse", "adresse postale", "rue", "voie")),
    Target("postal_code", "Code postal", POSTAL_CODE, max_length=5, aliases=("code postal", "cp")),
    Target("commune", "Commune", COMMUNE,
           aliases=("commune", "ville", "localite", "code insee", "code commune", "insee", "commune de residence"),
           help="code INSEE, ou nom (avec le code postal si plusieurs communes portent ce nom)"),
    Target("rsa", "Bénéficiaire du RSA", BOOL, aliases=("rsa", "beneficiaire rsa", "beneficiaire du rsa")),
    Target("rsa_rights_opened_on", "Ouverture des droits RSA", DATE,
           aliases=("date d'ouverture des droits", "ouverture des droits", "date ouverture droits",
                    "date ouverture droits rsa", "ouverture droits rsa", "date d'entree rsa", "date entree rsa")),
    Target("rsa_droits_devoirs", "Soumis aux droits et devoirs", BOOL,
           aliases=("droits et devoirs", "soumis aux droits et devoirs", "sdd", "soumis droits et devoirs")),
    Target("education_level", "Niveau de formation", CHOICE, max_length=5,
           aliases=("niveau de formation", "niveau d'etudes", "niveau", "diplome", "niveau de diplome"),
           help="aucun, 3 (CAP, BEP), 4 (bac), 5 (bac+2), 6 (licence), 7 (master et plus)"),
)

PROFESSIONAL_TARGETS = (
    Target("email", "Courriel", EMAIL, required=True, max_length=254,
           aliases=("courriel", "email", "e-mail", "mail", "adresse electronique", "adresse mail")),
    Target("first_name", "Prénom", aliases=("prenom",)),
    Target("last_name", "Nom", aliases=("nom", "nom de famille")),
    Target("role", "Rôle", ROLE, required=True, aliases=("role", "profil", "fonction spie", "droits"),
           help="référent, chargé d'orientation, administrateur, coordinateur"),
    Target("job_title", "Fonction", max_length=150, aliases=("fonction", "poste", "intitule du poste", "metier")),
)

MEMBERSHIP_TARGETS = (
    Target("email", "Courriel", EMAIL, required=True, max_length=254,
           aliases=("courriel", "email", "e-mail", "mail", "adresse electronique")),
    Target("siret", "SIRET de la structure", SIRET, required=True, max_length=14,
           aliases=("siret", "siret structure", "siret de la structure", "n siret", "numero siret")),
    Target("role", "Rôle", ROLE, required=True, aliases=("role", "profil"),
           help="référent, chargé d'orientation, administrateur, coordinateur"),
    Target("first_name", "Prénom", aliases=("prenom",)),
    Target("last_name", "Nom", aliases=("nom", "nom de famille")),
    Target("job_title", "Fonction", max_length=150, aliases=("fonction", "poste")),
)


def _service(name, label, *, required=False, max_length=300, aliases=(), help=""):
    """A catalogue action's field, named as in the data·inclusion schema (so a data·inclusion file
    maps itself); the aliases are the French headers partners' spreadsheets use."""
    return Target(name, label, SERVICE, required=required, max_length=max_length, aliases=aliases, help=help)


LIST_HELP = "plusieurs valeurs séparées par « | »"
ACTION_TARGETS = (
    _service("id", "Identifiant", max_length=200,
             aliases=("identifiant", "identifiant du service", "id service", "identifiant de l'action", "reference",
                      "ref"),
             help="identifiant stable de l'action à la source : un nouvel import met à jour l'action au lieu d'en "
                  "créer une autre"),
    _service("source", "Source", max_length=100, aliases=("source", "producteur", "origine")),
    _service("nom", "Nom", required=True, max_length=150,
             aliases=("nom", "nom de l'action", "intitule", "intitule de l'action", "titre", "libelle", "action",
                      "nom du service")),
    _service("description", "Description", required=True, max_length=10000,
             aliases=("description", "descriptif", "presentation", "contenu", "description de l'action")),
    _service("spie_resume", "Résumé", max_length=280, aliases=("resume", "accroche", "presentation courte")),
    _service("type", "Type", aliases=("type", "type de service", "type d'offre"),
             help="accompagnement, aide-financiere, aide-materielle, atelier, formation, information"),
    _service("thematiques", "Thématiques", max_length=2000, aliases=("thematiques", "thematique", "themes", "theme"),
             help=f"codes ou libellés data·inclusion, {LIST_HELP}"),
    _service("frais", "Frais", aliases=("frais", "cout", "tarif", "gratuit ou payant"), help="gratuit ou payant"),
    _service("frais_precisions", "Précisions sur les frais",
             aliases=("precisions sur les frais", "precisions frais", "details des frais")),
    _service("publics", "Publics", max_length=1000, aliases=("publics", "public", "public vise", "publics vises"),
             help=f"codes ou libellés data·inclusion (« tous-publics » seul), {LIST_HELP}"),
    _service("publics_precisions", "Précisions sur les publics", max_length=500,
             aliases=("precisions sur les publics", "precisions publics")),
    _service("conditions_acces", "Conditions d'accès", max_length=10000,
             aliases=("conditions d'acces", "conditions", "criteres d'acces", "prerequis"),
             help="paragraphes « Prérequis : » et « Justificatifs à fournir : » reconnus"),
    _service("modes_accueil", "Modes d'accueil", aliases=("modes d'accueil", "mode d'accueil", "modalite d'accueil"),
             help=f"en-presentiel, a-distance, {LIST_HELP}"),
    _service("adresse", "Adresse", max_length=250, aliases=("adresse", "adresse postale", "rue", "lieu")),
    _service("complement_adresse", "Complément d'adresse", max_length=250,
             aliases=("complement d'adresse", "complement adresse", "complement")),
    _service("code_postal", "Code postal", max_length=5, aliases=("code postal", "cp")),
    _service("commune", "Commune", aliases=("commune", "ville", "localite"),
             help="nom de la commune (avec le code postal si plusieurs communes portent ce nom)"),
    _service("code_insee", "Code INSEE", max_length=5, aliases=("code insee", "insee", "code commune")),
    _service("latitude", "Latitude", max_length=30, aliases=("latitude", "lat")),
    _service("longitude", "Longitude", max_length=30, aliases=("longitude", "lon", "lng")),
    _service("zone_eligibilite", "Zone d'éligibilité", max_length=2000,
             aliases=("zone d'eligibilite", "zone", "territoire", "perimetre"),
             help=f"codes INSEE de communes, codes de départements, SIREN d'EPCI ou « france », {LIST_HELP}"),
    _service("horaires_accueil", "Horaires d'accueil", max_length=250, aliases=("horaires d'accueil", "horaires")),
    _service("contact_nom_prenom", "Contact", max_length=150,
             aliases=("contact", "nom du contact", "interlocuteur", "personne a contacter")),
    _service("courriel", "Courriel", max_length=254, aliases=("courriel", "email", "e-mail", "mail",
                                                               "adresse electronique")),
    _service("telephone", "Téléphone", max_length=20, aliases=("telephone", "tel")),
    _service("modes_mobilisation", "Modes de mobilisation", aliases=("modes de mobilisation", "mode de mobilisation"),
             help=f"envoyer-un-courriel, se-presenter, telephoner, utiliser-lien-mobilisation, {LIST_HELP}"),
    _service("mobilisable_par", "Mobilisable par", aliases=("mobilisable par", "qui peut mobiliser"),
             help=f"usagers, professionnels, {LIST_HELP}"),
    _service("mobilisation_precisions", "Comment mobiliser l'action", max_length=5000,
             aliases=("comment mobiliser l'action", "comment mobiliser", "modalites d'inscription", "inscription",
                      "precisions sur la mobilisation")),
    _service("lien_mobilisation", "Lien de mobilisation", max_length=500,
             aliases=("lien de mobilisation", "lien d'inscription", "lien", "url", "site web")),
    _service("volume_horaire_hebdomadaire", "Heures par semaine", max_length=10,
             aliases=("heures par semaine", "volume horaire hebdomadaire", "volume horaire", "heures hebdomadaires")),
    _service("nombre_semaines", "Nombre de semaines", max_length=10,
             aliases=("nombre de semaines", "semaines", "duree en semaines")),
    _service("date_maj", "Date de mise à jour", max_length=20,
             aliases=("date de mise a jour", "mise a jour", "date maj", "derniere mise a jour"),
             help="AAAA-MM-JJ ou JJ/MM/AAAA (aujourd'hui si vide)"),
    _service("spie_type_action", "Type d'action SPIE", aliases=("type d'action spie", "type spie", "type d'action"),
             help="immersion, company_visit, webinar, job_discovery, workshop, training, coaching, collective_info… "
                  "ou leur libellé"),
    _service("spie_axe", "Axe du plan SPIE", aliases=("axe du plan spie", "axe spie", "axe"),
             help="axe1, axe2, axe3, transverse"),
    _service("spie_capacite", "Places", max_length=10, aliases=("places", "capacite", "nombre de places")),
    _service("spie_date_limite_inscription", "Date limite d'inscription", max_length=20,
             aliases=("date limite d'inscription", "date limite")),
    _service("spie_langues", "Langues", max_length=500, aliases=("langues", "langue"), help=LIST_HELP),
    _service("spie_accessibilite", "Accessibilité", max_length=500, aliases=("accessibilite", "handicap")),
)

def _opening_targets():
    """Job offers: France Travail keys as names (a JSON of the API maps itself), the French
    headers of ``spie.employers.interop.CSV_HEADER`` as labels."""
    from spie.employers.interop import COLUMNS

    return tuple(Target(c.name, c.label, OFFER, required=c.required, max_length=c.max_length, aliases=c.aliases,
                        help=c.help) for c in COLUMNS)


OPENING_TARGETS = _opening_targets()

TARGETS = {
    ImportKind.PERSONS: PERSON_TARGETS,
    ImportKind.PROFESSIONALS: PROFESSIONAL_TARGETS,
    ImportKind.MEMBERSHIPS: MEMBERSHIP_TARGETS,
    ImportKind.ACTIONS: ACTION_TARGETS,
    ImportKind.OPENINGS: OPENING_TARGETS,
}

# The field(s) each match key needs in the file.
MATCH_KEY_FIELDS = {
    MatchKey.INTERNAL_ID: ("internal_id",),
    MatchKey.NIR: ("nir",),
    MatchKey.CAF_NUMBER: ("caf_number",),
    MatchKey.NAMES_BIRTH_DATE: ("last_name", "first_name", "birth_date"),
}


def targets(kind):
    return TARGETS[kind]


def target_map(kind):
    return {t.name: t for t in TARGETS[kind]}


def signature(headers):
    """A stable fingerprint of a file layout (same columns, in any order and case)."""
    folded = sorted(fold_words(h) for h in headers)
    return hashlib.sha256("\x1f".join(folded).encode()).hexdigest()


def _key(text):
    return fold(text)


def auto_map(kind, headers):
    """``{target: header}`` guessed from the header names (exact alias first, then prefix)."""
    by_key = {}
    for header in headers:
        by_key.setdefault(_key(header), header)
    mapping, used = {}, set()
    # Pass 1: a header equal to the field's label or one of its aliases.
    for target in TARGETS[kind]:
        for candidate in (target.label, target.name, *target.aliases):
            header = by_key.get(_key(candidate))
            if header and header not in used:
                mapping[target.name] = header
                used.add(header)
                break
    # Pass 2: a header starting with an alias of at least 5 letters ("Date de naissance (JJ/MM/AAAA)").
    for target in TARGETS[kind]:
        if target.name in mapping:
            continue
        for candidate in (target.label, *target.aliases):
            folded = _key(candidate)
            if len(folded) < 5:
                continue
            header = next((h for k, h in by_key.items() if k.startswith(folded) and h not in used), None)
            if header:
                mapping[target.name] = header
                used.add(header)
                break
    return mapping


def clean_mapping(kind, headers, mapping):
    """Keep only known targets mapped to existing columns."""
    known = target_map(kind)
    return {t: h for t, h in (mapping or {}).items() if t in known and h in headers}


def missing_required(kind, mapping, match_key=None):
    """Labels of the required fields (and of the match key's fields) that no column feeds."""
    names = [t.name for t in TARGETS[kind] if t.required]
    if kind == ImportKind.PERSONS and match_key:
        names += [n for n in MATCH_KEY_FIELDS.get(match_key, ()) if n not in names]
    labels = target_map(kind)
    return [labels[n].label for n in names if not mapping.get(n)]
