"""Writes on a person's job-search profile (what the engine matches), and its prefill from the
person's last completed diagnostic.

``save_profile`` creates or updates the profile and replaces its targets in one transaction.
``prefill_from_diagnostic`` reads the answers of the last completed diagnostic (``Diagnostic.
answers``: ``{question_code: value}``) and returns initial values for the form; it writes
nothing.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from spie.diagnostics.models import Diagnostic
from spie.people.services import add_event
from spie.referentials.models import Commune, RomeAppellation, RomeCode

from ..models import ContractType, JobSearchProfile, Schedule, TargetJob, TravelMode

MAX_TARGETS = 5
DEFAULT_EXPERIENCE_MONTHS = 12  # the last job held, duration unknown: a year, to be checked

# Answers of the diagnostic frameworks (spie-v1, potentialites-v1) → profile values.
CONTRACTS_FROM_DIAGNOSTIC = {
    "cdi": ContractType.CDI,
    "cdd": ContractType.CDD,
    "interim": ContractType.INTERIM,
    "alternance": ContractType.APPRENTICESHIP,
    "iae": ContractType.INSERTION,
    "contrat_aide": ContractType.INSERTION,
    "saisonnier": ContractType.SEASONAL,
}
CHILDCARE_FROM_DIAGNOSTIC = {
    "aucune_solution": [Schedule.EARLY, Schedule.LATE, Schedule.NIGHT, Schedule.WEEKEND],
    "solution_partielle": [Schedule.EARLY, Schedule.LATE],
}
IMPOSSIBLE_HOURS = {
    "tot_matin": Schedule.EARLY,
    "soir": Schedule.LATE,
    "nuit": Schedule.NIGHT,
    "week_end": Schedule.WEEKEND,
}
HOURS_FROM_DIAGNOSTIC = {"temps_plein": (30, 39), "temps_partiel": (10, 28), "indifferent": (10, 39)}


def _clean_codes(values, allowed):
    return [v for v in dict.fromkeys(values or []) if v in allowed]


def _normalise_targets(targets):
    """``[(RomeCode, RomeAppellation | None, months)]`` from dicts or tuples, validated."""
    out, seen = [], set()
    for item in targets or []:
        if isinstance(item, dict):
            rome, app, months = item.get("rome"), item.get("appellation"), item.get("experience_months", 0)
        elif isinstance(item, (RomeCode, str)):
            rome, app, months = item, None, 0
        else:
            rome, app, months = (list(item) + [None, 0])[:3]
        if rome is None or rome == "":
            continue
        if not isinstance(rome, RomeCode):
            rome = RomeCode.objects.filter(code=str(rome).upper()).first()
            if rome is None:
                raise ValidationError("Métier inconnu dans le répertoire ROME.")
        if app is not None and app != "" and not isinstance(app, RomeAppellation):
            app = RomeAppellation.objects.filter(code_ogr=str(app)).first()
        if app == "":
            app = None
        if app is not None and app.rome_id != rome.code:
            app = None
        if rome.code in seen:
            continue
        seen.add(rome.code)
        try:
            months = max(0, min(int(months or 0), 600))
        except (TypeError, ValueError) as exc:
            raise ValidationError("L'expérience s'exprime en mois (un nombre entier).") from exc
        out.append((rome, app, months))
    if len(out) > MAX_TARGETS:
        raise ValidationError(f"Indiquez au plus {MAX_TARGETS} métiers recherchés.")
    return out


PROFILE_FIELDS = (
    "commune", "travel_mode", "max_travel_minutes", "availability", "childcare_conflicts", "contracts",
    "hours_min", "hours_max", "available_from", "skills", "is_active", "visible_to_employers",
)


@transaction.atomic
def save_profile(person, data, targets, *, user=None, structure=None):
    """Create or update ``person``'s profile from ``data`` (the keys of ``PROFILE_FIELDS``
    that are given) and replace its targets (``[{"rome", "appellation", "experience_months"}]``,
    ``(rome, appellation, months)`` tuples, RomeCode objects or codes, in order of preference).
    Returns the profile."""
    normalised = _normalise_targets(targets)
    profile = JobSearchProfile.objects.select_for_update().filter(person=person).first()
    if profile is None:
        profile = JobSearchProfile(person=person)
    for name in PROFILE_FIELDS:
        if name in data:
            setattr(profile, name, data[name])
    profile.availability = _clean_codes(profile.availability, set(Schedule.values))
    profile.childcare_conflicts = _clean_codes(profile.childcare_conflicts, set(Schedule.values))
    profile.contracts = _clean_codes(profile.contracts, set(ContractType.values))
    if profile.travel_mode not in TravelMode.values:
        raise ValidationError({"travel_mode": "Moyen de transport inconnu."})
    if profile.hours_max and profile.hours_min > profile.hours_max:
        raise ValidationError({"hours_max": "Le maximum d'heures doit être au moins égal au minimum."})
    if profile.visible_to_employers and not normalised:
        raise ValidationError({"visible_to_employers": "Indiquez au moins un métier pour rendre le profil visible."})
    profile.updated_by = user
    profile.full_clean(exclude=["person"])
    profile.save()
    TargetJob.objects.filter(profile=profile).delete()
    TargetJob.objects.bulk_create([
        TargetJob(profile=profile, rank=i, rome=rome, appellation=app, experience_months=months)
        for i, (rome, app, months) in enumerate(normalised)
    ])
    if user is not None:
        labels = [t[0].label for t in normalised[:3]]
        detail = "Métiers recherchés : " + ", ".join(labels) if labels else ""
        if profile.visible_to_employers:
            detail += (" — " if detail else "") + "visible des entreprises (profil anonyme)"
        add_event(person, "job_profile", "Profil de recherche d'emploi mis à jour", actor=user,
                  structure=structure, detail=detail)
    return profile


def last_completed_diagnostic(person):
    return (
        Diagnostic.objects.filter(person=person, status=Diagnostic.Status.COMPLETED)
        .order_by("-completed_at", "-id")
        .only("id", "answers", "completed_at", "person_id")
        .first()
    )


def _rome_items(values):
    """ROME codes of a "rome" answer (codes or appellation codes), with the appellation if any."""
    values = [str(v).strip().upper() for v in (values if isinstance(values, list) else [values] if values else [])]
    codes = [v for v in values if v and not v.isdigit()]
    ogr = [v for v in values if v.isdigit()]
    romes = RomeCode.objects.in_bulk(codes) if codes else {}
    apps = RomeAppellation.objects.select_related("rome").in_bulk(ogr) if ogr else {}
    out = []
    for v in values:
        if v in romes:
            out.append((romes[v], None))
        elif v in apps:
            out.append((apps[v].rome, apps[v]))
    return out


def _date(value):
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        return None


def prefill_from_diagnostic(person):
    """Initial profile values from ``person``'s last completed diagnostic, or None.

    Returns ``{"diagnostic": Diagnostic, "fields": {...}, "targets": [{"rome", "appellation",
    "experience_months"}]}``; only the answers given are turned into fields.
    """
    diagnostic = last_completed_diagnostic(person)
    if diagnostic is None:
        return None
    answers = diagnostic.answers if isinstance(diagnostic.answers, dict) else {}
    fields = {}
    targets = []
    for rome, app in _rome_items(answers.get("metiers_cibles") or answers.get("metiers_envisages")):
        targets.append({"rome": rome, "appellation": app, "experience_months": 0})
    last_job = _rome_items(answers.get("dernier_emploi"))
    if last_job:
        rome, app = last_job[0]
        for target in targets:
            if target["rome"].code == rome.code:
                target["experience_months"] = DEFAULT_EXPERIENCE_MONTHS
                break
        else:
            targets.append({"rome": rome, "appellation": app, "experience_months": DEFAULT_EXPERIENCE_MONTHS})
    targets = targets[:MAX_TARGETS]

    minutes = answers.get("temps_trajet_max")
    if isinstance(minutes, (int, float)) and minutes > 0:
        fields["max_travel_minutes"] = max(5, min(int(minutes), 240))
    commune_code = answers.get("recherche_commune")
    if commune_code:
        commune = Commune.objects.filter(code_insee=str(commune_code)).first()
        if commune is not None:
            fields["commune"] = commune
    licence = answers.get("permis")
    vehicle = answers.get("vehicule")
    has_vehicle = vehicle in ("voiture_moto", True)
    if licence == "b" and has_vehicle:
        fields["travel_mode"] = TravelMode.CAR
    elif vehicle == "velo":
        fields["travel_mode"] = TravelMode.ACTIVE
    elif licence is not None or vehicle is not None:
        fields["travel_mode"] = TravelMode.PUBLIC
    childcare = answers.get("garde_enfants")
    if childcare in CHILDCARE_FROM_DIAGNOSTIC:
        fields["childcare_conflicts"] = list(CHILDCARE_FROM_DIAGNOSTIC[childcare])
    elif childcare is not None:
        fields["childcare_conflicts"] = []
    impossible = answers.get("horaires_impossibles")
    if isinstance(impossible, list):
        blocked = {IMPOSSIBLE_HOURS[v] for v in impossible if v in IMPOSSIBLE_HOURS}
        fields["availability"] = [code for code in Schedule.values if code not in blocked]
    available_from = _date(answers.get("date_disponibilite"))
    if available_from:
        fields["available_from"] = available_from
    availability = answers.get("disponibilite")
    if availability == "temps_partiel":
        fields["hours_min"], fields["hours_max"] = HOURS_FROM_DIAGNOSTIC["temps_partiel"]
    contracts = answers.get("contrats_souhaites")
    if isinstance(contracts, list):
        fields["contracts"] = list(dict.fromkeys(
            CONTRACTS_FROM_DIAGNOSTIC[c] for c in contracts if c in CONTRACTS_FROM_DIAGNOSTIC
        ))
    hours = answers.get("temps_travail")
    if hours in HOURS_FROM_DIAGNOSTIC and availability != "temps_partiel":
        fields["hours_min"], fields["hours_max"] = HOURS_FROM_DIAGNOSTIC[hours]
    return {"diagnostic": diagnostic, "fields": fields, "targets": targets}
