"""Quality score of an action, shown to its provider with what to fix.

Modelled on data·inclusion's quality score: a référent skips a sheet that says little, is old,
or gives no way to reach anyone, so the score weighs three things:

- *complétude* (half of the score): the fields a référent reads to decide whether the action
  suits a person (summary, a real description, type, thématiques, publics, fees, where and how
  it is held, how to mobilise it, duration, access conditions);
- *fraîcheur* (a quarter): how long ago the content was last changed or confirmed, against the
  territory's freshness period (``catalogue_freshness_days``, 180 days by default);
- *contact* (a quarter): an e-mail address, a phone number, a named contact.

:func:`quality` is a pure function of the action's fields (no query, so a list of actions can
score every row): pass ``freshness_days`` when the action's territory is not loaded.
"""

from dataclasses import dataclass, field

from django.utils import timezone

from .models import Fees, MobilisationMode, ReceptionMode

WEIGHTS = {"completeness": 0.5, "freshness": 0.25, "contact": 0.25}
DESCRIPTION_MIN = 100  # characters: below, a description rarely says what happens and for whom
SUMMARY_MIN = 20


@dataclass
class Criterion:
    """One completeness check: its weight and the French sentence shown when it fails."""

    weight: int
    met: bool
    fix: str


@dataclass
class Quality:
    score: int  # 0-100
    completeness: int  # 0-100
    freshness: int  # 0-100
    contact: int  # 0-100
    to_fix: list = field(default_factory=list)  # French sentences, most useful first
    age_days: int = 0

    @property
    def level(self):
        """``"good"``, ``"fair"`` or ``"poor"``: the badge's colour on the pages."""
        return "good" if self.score >= 80 else "fair" if self.score >= 50 else "poor"

    @property
    def level_label(self):
        return {"good": "bonne", "fair": "moyenne", "poor": "faible"}[self.level]

    @property
    def sub_scores(self):
        return [("Complétude", self.completeness), ("Fraîcheur", self.freshness), ("Contact", self.contact)]


def _text(value):
    return str(value or "").strip()


def completeness_criteria(action):
    """The completeness checks of ``action``, in the order their fixes are shown."""
    modes = set(action.reception_modes or ())
    in_person = ReceptionMode.IN_PERSON in modes
    mobilisation = set(action.mobilisation_modes or ())
    needs_link = MobilisationMode.LINK in mobilisation
    return [
        Criterion(10, len(_text(action.description)) >= DESCRIPTION_MIN,
                  f"Détaillez la description (au moins {DESCRIPTION_MIN} caractères) : déroulé, objectifs, "
                  "ce que la personne y gagne"),
        Criterion(8, len(_text(action.summary)) >= SUMMARY_MIN,
                  "Étoffez le résumé (une ou deux phrases)" if _text(action.summary) else "Ajoutez un résumé"),
        Criterion(10, bool(action.thematiques), "Choisissez au moins une thématique"),
        Criterion(6, bool(action.type), "Indiquez le type de service"),
        Criterion(8, bool(action.publics), "Précisez les publics concernés"),
        Criterion(6, bool(action.fees) and (action.fees != Fees.PAYANT or bool(_text(action.fees_details))),
                  "Précisez les frais à la charge de la personne" if action.fees == Fees.PAYANT
                  else "Indiquez si l'action est gratuite ou payante"),
        Criterion(8, bool(modes), "Indiquez les modes d'accueil (en présentiel, à distance)"),
        Criterion(8, not in_person or (bool(action.commune_id) and bool(_text(action.address))),
                  "Indiquez l'adresse et la commune du lieu d'accueil"),
        Criterion(10, bool(mobilisation) and (not needs_link or bool(_text(action.mobilisation_link))),
                  "Ajoutez le lien de mobilisation" if needs_link and mobilisation
                  else "Indiquez comment mobiliser l'action"),
        Criterion(6, bool(action.mobilisable_by), "Indiquez qui peut mobiliser l'action (professionnels, personnes)"),
        Criterion(6, bool(_text(action.access_conditions) or _text(action.prerequisites)),
                  "Précisez les conditions d'accès ou les prérequis (ou « aucun »)"),
        Criterion(6, action.weekly_hours is not None and bool(action.weeks),
                  "Indiquez la durée (heures par semaine et nombre de semaines)"),
        Criterion(4, bool(action.spie_kind), "Indiquez le type d'action SPIE"),
        Criterion(4, bool(_text(action.opening_hours)) or bool(getattr(action, "next_session_on", None)),
                  "Indiquez les horaires d'accueil ou ajoutez une session"),
    ]


def freshness_score(age_days, freshness_days):
    """100 while the content is younger than half the period, down to 50 at the period's end,
    then down to 0 at twice the period."""
    half = freshness_days / 2
    if age_days <= half:
        return 100
    if age_days <= freshness_days:
        return round(100 - 50 * (age_days - half) / half)
    if age_days >= 2 * freshness_days:
        return 0
    return round(50 - 50 * (age_days - freshness_days) / freshness_days)


def quality(action, today=None, *, freshness_days=None):
    """The :class:`Quality` of ``action`` on ``today`` (pure: reads only the action's fields, and
    its territory's freshness period unless ``freshness_days`` is given)."""
    today = today or timezone.localdate()
    if freshness_days is None:
        freshness_days = action.territory.setting("catalogue_freshness_days")
    freshness_days = max(1, int(freshness_days))

    criteria = completeness_criteria(action)
    total = sum(c.weight for c in criteria)
    completeness = round(100 * sum(c.weight for c in criteria if c.met) / total)
    to_fix = [c.fix for c in sorted(criteria, key=lambda c: -c.weight) if not c.met]

    updated = action.content_updated_on or today
    age = max(0, (today - updated).days)
    freshness = freshness_score(age, freshness_days)
    if age > freshness_days:
        to_fix.insert(0, f"Confirmez que l'action est à jour (dernière mise à jour il y a {age} jours)")

    has_email, has_phone, has_name = bool(_text(action.email)), bool(_text(action.phone)), bool(
        _text(action.contact_name))
    contact = (40 if has_email else 0) + (40 if has_phone else 0) + (20 if has_name else 0)
    if has_email != has_phone and (has_email or has_phone):
        contact = max(contact, 70 if has_name else 60)  # one way to reach someone is most of it
    if not (has_email or has_phone):
        to_fix.insert(0, "Indiquez un moyen de contact (courriel ou téléphone)")
    elif not has_name:
        to_fix.append("Indiquez le nom de la personne à contacter")
    elif not (has_email and has_phone):
        to_fix.append("Ajoutez " + ("un téléphone" if has_email else "un courriel") + " de contact")

    score = round(
        WEIGHTS["completeness"] * completeness + WEIGHTS["freshness"] * freshness + WEIGHTS["contact"] * contact
    )
    return Quality(score=score, completeness=completeness, freshness=freshness, contact=min(100, contact),
                   to_fix=to_fix, age_days=age)
