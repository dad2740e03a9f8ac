"""Demo data for the entry into the pathway: diagnostics, orientations, engagement contracts.

Runs after the persons are seeded (``spie.core.demo.seed``). Answers are drawn from the real
framework file and scored by the real engine, so results, barriers and proposals are what the
platform itself would compute. Rows are written with ``fast_insert`` like the persons.
A realistic share of persons is over the legal delays (45 days to the orientation decision,
30 days from the decision to the signed contract).
"""

import random
from datetime import UTC, datetime, timedelta

from django.db import transaction

COMMON_ROME = ["K1304", "K2204", "N1103", "H1102", "G1603", "D1507", "K1302", "F1703", "A1203", "N4105"]
BATCH = 2000


def _answer(rng, question, person):
    kind = question.kind
    if kind in ("single",):
        options = question.options
        # Earlier options are the more common (frameworks list the usual situation first).
        index = min(int(rng.expovariate(1.1)), len(options) - 1)
        return options[index].value
    if kind == "multiple":
        if rng.random() < 0.65:
            return []
        options = [o for o in question.options if not o.exclusive] or list(question.options)
        return sorted({rng.choice(options).value for _ in range(rng.randint(1, 2))})
    if kind == "yes_no":
        return rng.random() < 0.25
    if kind == "scale":
        low, high = int(question.min or 0), int(question.max if question.max is not None else 4)
        return rng.randint(max(low, (low + high) // 2 - 1), high)
    if kind == "number":
        low = question.min or 0
        high = question.max if question.max is not None else 60
        return int(rng.uniform(low, min(high, low + 60)))
    if kind == "date":
        return None
    if kind == "rome":
        return [rng.choice(COMMON_ROME)]
    if kind == "commune":
        return person["commune_id"]
    return None  # free text stays empty in the demo


def _context(person, today):
    from spie.people.models import birth_date_bounds_for_age

    under_26 = person["birth_date"] > birth_date_bounds_for_age(max_age=25, on=today)["birth_date__gt"]
    over_50 = person["birth_date"] <= birth_date_bounds_for_age(min_age=50, on=today)["birth_date__lte"]
    return {
        "under_26": under_26,
        "over_50": over_50,
        "child_under_3": any(today.year - int(y) < 3 for y in person["children_birth_years"] or []),
        "rsa": person["rsa"],
        "lone_parent": person["lone_parent"],
        "driving_licence": person["driving_licence"] in ("B", "other"),
        "has_vehicle": person["has_vehicle"],
    }


def seed_pathways(territory, *, seed, today, log=print, progress_file=None):
    """Diagnostics for ~70 % of persons, orientations and contracts after them. Returns counts."""
    from tqdm import tqdm

    from spie.core.bulk import fast_insert
    from spie.diagnostics import engine
    from spie.diagnostics.loaders import compiled_for, current_framework, load_frameworks
    from spie.diagnostics.models import Barrier, Diagnostic
    from spie.network.models import Membership
    from spie.pathways.models import EngagementContract, Orientation, OrientationTransition
    from spie.people.models import FollowUpMembership, Person, TimelineEvent

    load_frameworks()
    framework = current_framework("spie")
    compiled = compiled_for(framework)
    rng = random.Random(f"{seed}-pathways")
    deciders = list(
        Membership.objects.filter(
            structure__territory=territory, role=Membership.Role.ORIENTATION, is_active=True
        ).values_list("user_id", flat=True)
    )
    referents = {
        row["person_id"]: (row["user_id"], row["structure_id"], row["start_date"])
        for row in FollowUpMembership.objects.filter(
            person__territory=territory, kind=FollowUpMembership.Kind.REFERENT, end_date__isnull=True
        ).values("person_id", "user_id", "structure_id", "start_date")
    }
    persons = list(
        Person.objects.filter(territory=territory, diagnostics__isnull=True)
        .order_by("id")
        .values("id", "rsa", "rsa_rights_opened_on", "entered_on", "birth_date", "children_birth_years",
                "lone_parent", "driving_licence", "has_vehicle", "commune_id", "rsa_droits_devoirs")
    )
    counts = {"diagnostics": 0, "orientations": 0, "contracts": 0}
    if not persons or not deciders:
        return counts
    objectives_by_theme = compiled.suggestions

    def at(day):
        return datetime(day.year, day.month, day.day, rng.randint(8, 17), rng.randint(0, 59), tzinfo=UTC)

    progress = tqdm(total=len(persons), desc="Diagnostics et orientations", unit=" pers.", file=progress_file,
                    disable=True if progress_file is None else None, mininterval=0.5, dynamic_ncols=True)
    for start in range(0, len(persons), BATCH):
        chunk = persons[start:start + BATCH]
        diagnostics, barriers, orientations, transitions, contracts, events = [], [], [], [], [], []
        plans = []
        for person in chunk:
            referent = referents.get(person["id"])
            if referent is None:
                continue
            if rng.random() > (0.75 if person["rsa"] else 0.5):
                # Oriented before the platform (no diagnostic here), most of the older ones.
                began = person["rsa_rights_opened_on"] or person["entered_on"]
                if person["rsa_droits_devoirs"] and (today - began).days > 90 and rng.random() < 0.9:
                    user_id, structure_id, _assigned = referent
                    kind = rng.choice(["professionnelle"] * 2 + ["socio_professionnelle"] * 2 + ["sociale"])
                    decided_on = began + timedelta(days=rng.choice([rng.randint(15, 44)] * 4 + [rng.randint(46, 90)]))
                    orientation = Orientation(
                        person_id=person["id"], proposed_type=kind, proposed_structure_id=structure_id,
                        proposal_reason="Orientation établie avant la mise en service de la plateforme",
                        proposed_by_id=user_id, proposed_at=at(began + timedelta(days=7)),
                        status=Orientation.Status.DECIDED, decided_type=kind, decided_structure_id=structure_id,
                        decided_referent_id=user_id, decision_reason="Reprise de l'historique",
                        decided_by_id=rng.choice(deciders), decided_at=at(decided_on),
                    )
                    orientations.append((orientation, person, user_id, structure_id, decided_on))
                continue
            user_id, structure_id, assigned = referent
            began = person["rsa_rights_opened_on"] or person["entered_on"]
            diag_day = min(today, max(assigned, began) + timedelta(days=rng.randint(3, 35)))
            if rng.random() < 0.06:  # a draft in progress
                answers = {code: _answer(rng, q, person) for code, q in list(compiled.questions.items())[:15]}
                diagnostics.append(Diagnostic(
                    person_id=person["id"], framework=framework, status=Diagnostic.Status.DRAFT,
                    answers={k: v for k, v in answers.items() if v not in (None, [])},
                    started_by_id=user_id, structure_id=structure_id,
                ))
                plans.append(None)
                continue
            answers = {}
            for code, question in compiled.questions.items():
                value = _answer(rng, question, person)
                if value not in (None, []):
                    answers[code] = value
            context = _context(person, today)
            result = {**engine.storable(engine.score(compiled, answers, context)), "context": context}
            orientation_type = (result.get("orientation") or {}).get("type", "")
            diagnostic = Diagnostic(
                person_id=person["id"], framework=framework, status=Diagnostic.Status.COMPLETED,
                answers=answers, result=result, proposed_orientation=orientation_type,
                started_by_id=user_id, structure_id=structure_id, completed_by_id=user_id,
                completed_at=at(diag_day),
            )
            diagnostics.append(diagnostic)
            plans.append((person, referent, diag_day, result, orientation_type))
        fast_insert(Diagnostic, diagnostics, assign_pk=True)

        for diagnostic, plan in zip(diagnostics, plans, strict=True):
            if plan is None:
                continue
            person, (user_id, structure_id, _assigned), diag_day, result, orientation_type = plan
            counts["diagnostics"] += 1
            for barrier in result["barriers"]:
                barriers.append(Barrier(diagnostic_id=diagnostic.pk, person_id=person["id"],
                                        theme=barrier["theme"], severity=barrier["severity"]))
            events.append(TimelineEvent(
                person_id=person["id"], at=diagnostic.completed_at, kind="diagnostic_completed",
                title=f"Diagnostic terminé : orientation {orientation_type.replace('_', '-')} proposée",
                actor_id=user_id, structure_id=structure_id,
            ))
            began = person["rsa_rights_opened_on"] or person["entered_on"]
            decided = rng.random() < 0.8
            # Decision day: mostly within the 45 days from rights opened, some beyond.
            delay = rng.choice([rng.randint(10, 44)] * 4 + [rng.randint(46, 120)])
            decision_day = max(diag_day, began + timedelta(days=delay))
            if decision_day > today:
                decided = False
            orientation = Orientation(
                person_id=person["id"], diagnostic_id=diagnostic.pk, proposed_type=orientation_type,
                proposed_structure_id=structure_id, proposal_reason="; ".join(result["orientation"]["reasons"][:2]),
                proposed_by_id=user_id, proposed_at=diagnostic.completed_at,
                status=Orientation.Status.DECIDED if decided else Orientation.Status.PROPOSED,
            )
            if decided:
                orientation.decided_type = orientation_type
                orientation.decided_structure_id = structure_id
                orientation.decided_referent_id = user_id
                orientation.decision_reason = "Conforme à la proposition issue du diagnostic"
                orientation.decided_by_id = rng.choice(deciders)
                orientation.decided_at = at(decision_day)
            orientations.append((orientation, person, user_id, structure_id, decision_day if decided else None))
        fast_insert(Orientation, [o for o, *_ in orientations], assign_pk=True)
        results = {d.pk: d.result for d in diagnostics if d.result}

        for orientation, person, user_id, structure_id, decision_day in orientations:
            counts["orientations"] += 1
            transitions.append(OrientationTransition(
                orientation_id=orientation.pk, from_status="", to_status="proposed", by_id=user_id,
                at=orientation.proposed_at, reason="Proposition issue du diagnostic",
            ))
            events.append(TimelineEvent(
                person_id=person["id"], at=orientation.proposed_at, kind="orientation_proposed",
                title="Orientation proposée", actor_id=user_id, structure_id=structure_id,
            ))
            if decision_day is None:
                continue
            transitions.append(OrientationTransition(
                orientation_id=orientation.pk, from_status="proposed", to_status="decided",
                by_id=orientation.decided_by_id, at=orientation.decided_at, reason=orientation.decision_reason,
            ))
            events.append(TimelineEvent(
                person_id=person["id"], at=orientation.decided_at, kind="orientation_decided",
                title=f"Orientation {orientation.decided_type.replace('_', '-')} décidée",
                actor_id=orientation.decided_by_id,
            ))
            if rng.random() > 0.75:
                continue
            sign_day = decision_day + timedelta(days=rng.choice([rng.randint(3, 29)] * 4 + [rng.randint(31, 75)]))
            signed = sign_day <= today
            stored = results.get(orientation.diagnostic_id) or {}
            themes = [b["theme"] for b in stored.get("barriers", [])][:3]
            objectives = [
                {"theme": theme, "label": label, "source": "referentiel"}
                for theme in themes for label in objectives_by_theme.get(theme, {}).get("objectives", [])[:1]
            ]
            contracts.append(EngagementContract(
                person_id=person["id"], version=1, orientation_id=orientation.pk,
                status=EngagementContract.Status.SIGNED if signed else EngagementContract.Status.DRAFT,
                objectives=objectives, actions=[], weekly_hours=15,
                review_date=(sign_day + timedelta(days=180)) if signed else None,
                referent_id=user_id, structure_id=structure_id, created_by_id=user_id,
                signed_by_person_on=sign_day if signed else None, signed_by_referent_on=sign_day if signed else None,
                signed_at=at(sign_day) if signed else None,
            ))
            if signed:
                events.append(TimelineEvent(
                    person_id=person["id"], at=at(sign_day), kind="contract_signed",
                    title="Contrat d'engagement signé (version 1, 15 h par semaine)",
                    actor_id=user_id, structure_id=structure_id,
                ))
        counts["contracts"] += len(contracts)
        with transaction.atomic():
            fast_insert(Barrier, barriers)
            fast_insert(OrientationTransition, transitions)
            fast_insert(EngagementContract, contracts)
            fast_insert(TimelineEvent, events)
        progress.update(len(chunk))
    progress.close()
    log(
        f"Parcours : {counts['diagnostics']} diagnostics terminés, {counts['orientations']} orientations, "
        f"{counts['contracts']} contrats."
    )
    return counts
