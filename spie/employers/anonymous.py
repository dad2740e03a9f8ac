"""Anonymous profiles shown to company users, and the signed token that designates one.

A company user sees candidates for its openings without knowing who they are: what the person
looks for (jobs, experience, skills), the area (EPCI, else commune: never an address), when and
how the person can work, and the score with its reasons. Never the name, the birth date, the
rights (RSA…), RQTH or health, the situation, nor any contact. The company asks for a
"mise en relation" with a signed token (person, opening); the référent decides.
"""

from django.core import signing
from django.utils.crypto import salted_hmac

from .models import Schedule, TravelMode

SALT = "employers.anonymous-profile"
TOKEN_MAX_AGE = 60 * 60 * 24 * 30  # a month: the page is refreshed long before
REASON_KEYS = ("signal", "label", "text", "value", "estimate")


def profile_token(person_id, opening_id):
    """A signed token naming (person, opening), for the anonymous candidates' forms."""
    return signing.dumps({"p": int(person_id), "o": int(opening_id)}, salt=SALT, compress=True)


def read_profile_token(token, opening):
    """The person id of ``token`` if it was made for ``opening``; ``ValueError`` otherwise
    (bad signature, expired, or another opening)."""
    try:
        payload = signing.loads(token or "", salt=SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature as exc:  # includes SignatureExpired
        raise ValueError("Lien de profil invalide ou expiré.") from exc
    if not isinstance(payload, dict) or payload.get("o") != opening.pk or not isinstance(payload.get("p"), int):
        raise ValueError("Ce profil ne concerne pas cette offre.")
    return payload["p"]


def reference_label(person_id):
    """"Profil n° 3F9A21C0": stable for a person, meaningless without the server's secret."""
    digest = salted_hmac(SALT, str(person_id)).hexdigest()[:8].upper()
    return f"Profil n° {digest}"


def _get(obj, name, default=None):
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def anonymous_profile(person, profile, proposal_like):
    """The anonymous profile of ``person`` (``profile`` its JobSearchProfile, with its targets
    and their ROME codes ideally prefetched) for one opening; ``proposal_like`` is a stored
    ``Proposal`` or a dict from ``matching_adapter.candidates_for_opening``."""
    schedule_labels = dict(Schedule.choices)
    commune = profile.commune if profile is not None and profile.commune_id else person.commune
    area = ""
    if commune is not None:
        area = commune.epci_name or commune.name
    targets = []
    if profile is not None:
        for target in profile.targets.all():
            targets.append({"label": target.rome.label, "code": target.rome_id,
                            "experience_months": int(target.experience_months)})
    reasons = []
    for reason in _get(proposal_like, "reasons", None) or []:
        if isinstance(reason, dict):
            reasons.append({k: reason[k] for k in REASON_KEYS if k in reason})
    return {
        "reference": reference_label(person.pk),
        "targets": targets,
        "skills": [line.strip() for line in (profile.skills if profile else "").splitlines() if line.strip()],
        "area": area,
        "availability": [schedule_labels.get(code, code) for code in (profile.availability if profile else [])],
        "available_from": profile.available_from if profile else None,
        "travel_mode": dict(TravelMode.choices).get(profile.travel_mode, "") if profile else "",
        "max_travel_minutes": profile.max_travel_minutes if profile else None,
        "score": float(_get(proposal_like, "score", 0) or 0),
        "reasons": reasons,
    }
