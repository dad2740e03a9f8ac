"""Engagement contract: versions, pre-filling, the weekly hours rule, signature, immutability."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from spie.pathways import services
from spie.pathways.models import EngagementContract, Orientation
from spie.people.models import TimelineEvent

from .conftest import membership_of
from .factories import days_ago, make_diagnostic, make_orientation

C = EngagementContract.Status
OBJECTIVE = {"theme": "emploi", "label": "Trouver un emploi durable", "source": "referentiel"}


@pytest.fixture
def ref(world):
    return membership_of(world["referent"])


def sign(contract, membership, **kwargs):
    kwargs.setdefault("person_signed_on", days_ago(1))
    kwargs.setdefault("referent_signed_on", days_ago(1))
    return services.sign_contract(contract, membership, **kwargs)


def test_first_contract_is_prefilled_from_the_latest_completed_diagnostic(world, ref):
    person = world["person"]
    make_diagnostic(person, world["referent"], world["ref_structure"], result={"suggestions": [
        {"theme": "emploi", "objectives": ["Ancien objectif"], "actions": []}]}, completed_days_ago=30)
    make_diagnostic(person, world["referent"], world["ref_structure"], completed_days_ago=2)  # the latest
    make_diagnostic(person, world["referent"], world["ref_structure"], completed=False)  # a draft is ignored
    contract = services.create_contract(person, ref)
    assert contract.version == 1
    assert contract.status == C.DRAFT
    assert contract.weekly_hours == Decimal("15")
    assert contract.referent == world["referent"]
    assert contract.structure == world["ref_structure"]
    # Junk in the result (a number, a string instead of a list, a string instead of a dict) is skipped.
    assert contract.objectives == [
        {"theme": "logement", "label": "Accéder à un logement", "source": "referentiel"},
        {"theme": "mobilite", "label": "Se déplacer seul", "source": "referentiel"},
    ]
    assert contract.actions == [{"label": "Demande de logement social", "theme": "logement", "hours": None, "due": ""}]
    assert TimelineEvent.objects.filter(person=person, kind="contract_created").exists()


@pytest.mark.parametrize("result", [None, {}, {"suggestions": "non"}, [], "texte", {"suggestions": [None, 3]}])
def test_prefill_survives_any_diagnostic_result(world, ref, result):
    diagnostic = make_diagnostic(world["person"], world["referent"], world["ref_structure"])
    diagnostic.result = result
    diagnostic.save()
    contract = services.create_contract(world["person"], ref)
    assert contract.objectives == [] and contract.actions == []


def test_contract_links_the_latest_decided_orientation(world, ref):
    person = world["person"]
    make_orientation(person, world["officer"], status=Orientation.Status.DECIDED, decided_days_ago=50,
                     structure=world["ref_structure"], referent=world["referent"])
    latest = make_orientation(person, world["officer"], kind=Orientation.Kind.REORIENTATION,
                              status=Orientation.Status.DECIDED, decided_days_ago=5,
                              structure=world["ref_structure"], referent=world["referent"])
    assert services.create_contract(person, ref).orientation == latest


def test_one_draft_at_a_time(world, ref):
    services.create_contract(world["person"], ref)
    with pytest.raises(ValidationError, match="brouillon"):
        services.create_contract(world["person"], ref)


@pytest.mark.parametrize("who", ["member", "officer", "admin_ref", "outsider"])
def test_only_the_referent_writes_the_contract(world, who):
    with pytest.raises(PermissionDenied):
        services.create_contract(world["person"], membership_of(world[who]))


def test_editing_a_signed_contract_creates_v2_and_signing_v2_supersedes_v1(world, ref):
    person = world["person"]
    v1 = services.create_contract(person, ref, data={"objectives": [OBJECTIVE]})
    v1 = sign(v1, ref)
    assert v1.status == C.SIGNED and v1.signed_at is not None
    v2 = services.update_contract(v1, ref, {"weekly_hours": Decimal("20"), "objectives": [OBJECTIVE]})
    assert v2.pk != v1.pk
    assert (v2.version, v2.status, v2.weekly_hours) == (2, C.DRAFT, Decimal("20"))
    v1.refresh_from_db()
    assert (v1.status, v1.weekly_hours) == (C.SIGNED, Decimal("15"))  # untouched
    v2 = services.update_contract(v2, ref, {"review_date": days_ago(-90)})  # a draft is edited in place
    assert v2.version == 2 and v2.review_date == days_ago(-90)
    sign(v2, ref)
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v2.status) == (C.SUPERSEDED, C.SIGNED)
    assert EngagementContract.objects.filter(person=person, status=C.SIGNED).count() == 1
    with pytest.raises(ValidationError, match="remplacée"):
        services.update_contract(v1, ref, {"weekly_hours": 10})
    v3 = services.update_contract(v2, ref, {"objectives": [OBJECTIVE, {"label": "Passer le permis", "source": "free"}]})
    assert v3.version == 3
    assert [o["label"] for o in v3.objectives] == ["Trouver un emploi durable", "Passer le permis"]
    assert v3.review_date == days_ago(-90)  # carried over from the previous version


def test_a_signed_version_cannot_be_signed_again(world, ref):
    contract = sign(services.create_contract(world["person"], ref, data={"objectives": [OBJECTIVE]}), ref)
    with pytest.raises(ValidationError, match="Seul un brouillon"):
        sign(contract, ref)


@pytest.mark.parametrize(
    ("hours", "reason", "error_field"),
    [
        (Decimal("15"), "", None),
        (Decimal("20"), "", None),
        (Decimal("14.5"), "", "hours_reason"),
        (Decimal("10"), "Reprise progressive", None),
        (Decimal("0"), "", "hours_reason"),
        (Decimal("0"), "Dispense : raison de santé attestée", None),
        (Decimal("-1"), "x", "weekly_hours"),
        (Decimal("60"), "", "weekly_hours"),
    ],
)
def test_weekly_hours_rule(world, ref, hours, reason, error_field):
    data = {"weekly_hours": hours, "hours_reason": reason, "objectives": [OBJECTIVE]}
    if error_field:
        with pytest.raises(ValidationError) as exc:
            services.create_contract(world["person"], ref, data=data)
        assert error_field in exc.value.message_dict
        assert not EngagementContract.objects.exists()
    else:
        contract = services.create_contract(world["person"], ref, data=data)
        assert contract.weekly_hours == hours
        assert contract.hours_reason == (reason if hours < 15 else "")


def test_dispense_message_is_french(world, ref):
    with pytest.raises(ValidationError) as exc:
        services.create_contract(world["person"], ref, data={"weekly_hours": 0})
    assert exc.value.message_dict["hours_reason"] == ["Indiquez le motif de la dispense (0 h par semaine)."]


def test_the_territory_may_change_the_default_hours(world, ref):
    world["territory"].settings = {"contract_weekly_hours": 12}
    world["territory"].save()
    person = world["person"]
    person.territory.refresh_from_db()
    contract = services.create_contract(person, ref, data={"weekly_hours": 12})
    assert contract.weekly_hours == 12 and contract.hours_reason == ""


def test_signature_needs_dates_not_in_the_future_and_an_objective(world, ref):
    contract = services.create_contract(world["person"], ref)
    with pytest.raises(ValidationError) as exc:
        sign(contract, ref, person_signed_on=None, referent_signed_on=days_ago(-1))
    errors = exc.value.message_dict
    assert errors["person_signed_on"] == ["Indiquez la date de signature."]
    assert errors["referent_signed_on"] == ["La date de signature ne peut pas être dans le futur."]
    assert "Ajoutez au moins un objectif avant la signature." in errors["__all__"]
    contract.refresh_from_db()
    assert contract.status == C.DRAFT


def test_signature_is_in_the_timeline(world, ref):
    contract = sign(services.create_contract(world["person"], ref, data={"objectives": [OBJECTIVE],
                                                                          "weekly_hours": Decimal("7.5"),
                                                                          "hours_reason": "Garde d'enfant"}), ref)
    event = TimelineEvent.objects.get(person=world["person"], kind="contract_signed")
    assert event.title == f"Contrat d'engagement signé (version {contract.version}, 7,5 h par semaine)"
    assert "Garde" not in event.title


def test_actions_are_cleaned(world, ref):
    contract = services.create_contract(world["person"], ref, data={"actions": [
        {"label": "  Atelier CV ", "theme": "emploi", "hours": "3", "due": days_ago(-10)},
        {"label": "", "hours": 2},
    ]})
    assert contract.actions == [{"label": "Atelier CV", "theme": "emploi", "hours": 3.0,
                                 "due": days_ago(-10).isoformat()}]
    with pytest.raises(ValidationError, match="heures"):
        services.update_contract(contract, ref, {"actions": [{"label": "Stage", "hours": "beaucoup"}]})
