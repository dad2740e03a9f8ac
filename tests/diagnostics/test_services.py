"""Diagnostics services: start, save over several sittings, prefill, completion and freezing."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from spie.diagnostics import services
from spie.diagnostics.models import Barrier, Diagnostic, Framework
from spie.people.models import TimelineEvent
from tests.diagnostics.support import HOUSED_SPIE, completed, membership_of, start
from tests.diagnostics.test_versions import load_v2


def test_group_members_may_start_outsiders_may_not(world):
    person = world["person"]
    diagnostic = start(person, world["member"])
    assert diagnostic.status == Diagnostic.Status.DRAFT
    assert diagnostic.framework == world["frameworks"]["spie"]
    assert diagnostic.framework.is_current
    assert diagnostic.started_by == world["member"]
    assert diagnostic.structure == membership_of(world["member"]).structure
    assert diagnostic.previous is None and diagnostic.answers == {}
    with pytest.raises(PermissionDenied):
        start(person, world["outsider"])
    events = TimelineEvent.objects.filter(person=person, kind="diagnostic_started", title="Diagnostic commencé")
    assert events.count() == 1


def test_starting_twice_resumes_the_open_draft(world):
    first = start(world["person"], world["referent"])
    again = start(world["person"], world["member"])
    assert again.pk == first.pk
    assert Diagnostic.objects.filter(person=world["person"]).count() == 1
    other_kind = start(world["person"], world["member"], "potentialites")
    assert other_kind.pk != first.pk and other_kind.framework.kind == Framework.Kind.POTENTIALITIES


def test_unknown_framework_is_a_clear_error(world):
    with pytest.raises(ValidationError, match="Aucune trame « inconnue »"):
        start(world["person"], world["referent"], "inconnue")


def test_answers_are_kept_across_sittings(world):
    referent = world["referent"]
    diagnostic = start(world["person"], referent)
    assert services.save_answers(diagnostic, {"famille_situation": "parent_isole", "enfants_a_charge": "2"},
                                 referent) == {}
    # Another sitting, another step, another professional.
    again = Diagnostic.objects.get(pk=diagnostic.pk)
    assert services.save_answers(again, {"logement_situation": "hotel", "logement_difficultes": ["impayes"]},
                                 world["member"], person_words="Je veux un logement à moi.") == {}
    stored = Diagnostic.objects.get(pk=diagnostic.pk)
    assert stored.answers == {
        "famille_situation": "parent_isole", "enfants_a_charge": 2,
        "logement_situation": "hotel", "logement_difficultes": ["impayes"],
    }
    assert stored.person_words == "Je veux un logement à moi."


def test_an_invalid_value_is_reported_in_french_and_loses_nothing(world):
    referent = world["referent"]
    diagnostic = start(world["person"], referent)
    services.save_answers(diagnostic, {"enfants_a_charge": "2"}, referent)
    errors = services.save_answers(
        diagnostic,
        {"enfants_a_charge": "quarante", "famille_situation": "couple_avec_enfants", "enfant_moins_3_ans": "oui",
         "garde_enfants": "inexistant"},
        referent,
    )
    assert errors == {
        "enfants_a_charge": "un nombre est attendu",
        "garde_enfants": "choix non proposé : « inexistant »",
    }
    stored = Diagnostic.objects.get(pk=diagnostic.pk).answers
    # The valid answers are saved, the previous valid value of the invalid field is kept.
    assert stored == {"enfants_a_charge": 2, "famille_situation": "couple_avec_enfants", "enfant_moins_3_ans": True}


def test_a_question_of_the_step_sent_empty_is_cleared(world):
    referent = world["referent"]
    diagnostic = start(world["person"], referent)
    services.save_answers(diagnostic, {"logement_situation": "hotel", "logement_difficultes": ["impayes"]}, referent)
    # Unticking every checkbox sends nothing: the step's question list says it was shown.
    services.save_answers(diagnostic, {"logement_situation": "hotel"}, referent,
                          questions=["logement_situation", "logement_difficultes"])
    assert Diagnostic.objects.get(pk=diagnostic.pk).answers == {"logement_situation": "hotel"}


def test_restricted_questions_need_the_health_access(world):
    member, referent = world["member"], world["referent"]
    diagnostic = start(world["person"], member)
    member_access = services.policies.access_for_membership(membership_of(member), world["person"])
    services.save_answers(diagnostic, {"sante_impact": "absences", "permis": "b"}, member, access=member_access)
    assert Diagnostic.objects.get(pk=diagnostic.pk).answers == {"permis": "b"}
    referent_access = services.policies.access_for_membership(membership_of(referent), world["person"])
    services.save_answers(diagnostic, {"sante_impact": "absences"}, referent, access=referent_access)
    assert Diagnostic.objects.get(pk=diagnostic.pk).answers == {"permis": "b", "sante_impact": "absences"}


def test_completion_is_refused_while_required_answers_are_missing(world):
    referent = world["referent"]
    diagnostic = start(world["person"], referent)
    services.save_answers(diagnostic, {"famille_situation": "parent_isole"}, referent)
    with pytest.raises(services.MissingAnswers) as refused:
        services.complete_diagnostic(diagnostic, referent)
    assert "logement_situation" in refused.value.codes
    assert "famille_situation" not in refused.value.codes
    message = " ".join(refused.value.messages)
    assert message.startswith("Le diagnostic ne peut pas être terminé : réponses obligatoires manquantes")
    assert "Quelle est la situation de logement" in message or "logement" in message.lower()
    assert Diagnostic.objects.get(pk=diagnostic.pk).status == Diagnostic.Status.DRAFT
    assert not Barrier.objects.exists()


def test_completion_scores_freezes_and_writes_the_timeline(world):
    person, referent = world["person"], world["referent"]
    diagnostic = completed(person, referent)
    stored = Diagnostic.objects.get(pk=diagnostic.pk)
    assert stored.status == Diagnostic.Status.COMPLETED
    assert stored.completed_by == referent and stored.completed_at is not None
    assert stored.proposed_orientation == "sociale"
    assert stored.result["orientation"]["type"] == "sociale"
    assert stored.result["framework"] == {"code": "spie", "version": 1}
    assert stored.result["context"] == services.person_context(person)
    assert list(Barrier.objects.filter(diagnostic=stored).values_list("theme", "severity", "person_id")) == [
        ("logement", "blocking", person.pk)
    ]
    titles = list(TimelineEvent.objects.filter(person=person).order_by("at", "id").values_list("title", flat=True))
    assert "Diagnostic commencé" in titles
    assert "Diagnostic terminé : orientation proposée sociale" in titles
    # Frozen: no more saves, no second completion.
    with pytest.raises(ValidationError, match="terminé"):
        services.save_answers(stored, {"permis": "aucun"}, referent)
    with pytest.raises(ValidationError, match="terminé"):
        services.complete_diagnostic(stored, referent)
    assert Diagnostic.objects.get(pk=diagnostic.pk).answers["permis"] == "b"


def test_the_context_comes_from_the_person(world):
    person, referent = world["person"], world["referent"]
    diagnostic = completed(
        person, referent,
        {"enfants_moins_3_ans": "1", "mode_garde": "famille", "garde_amplitude": "temps_partiel",
         "reprise_souhaitee": "de_3_a_6_mois"},
        code="potentialites",
    )
    assert diagnostic.result["context"]["lone_parent"] is True
    assert diagnostic.result["context"]["child_under_3"] is True
    family = next(b for b in diagnostic.result["barriers"] if b["theme"] == "contraintes_familiales")
    assert "Parent isolé avec une garde familiale partielle" in family["reasons"]
    assert diagnostic.proposed_orientation == ""
    assert TimelineEvent.objects.filter(person=person, title="Grille des potentialités terminée").exists()


def test_a_new_diagnostic_is_prefilled_from_the_previous_one(world):
    person = world["person"]
    first = completed(person, world["referent"], {**HOUSED_SPIE, "observations": "RAS", "permis_autres": "oui"})
    second = start(person, world["member"])
    assert second.previous == first
    assert second.answers == first.answers
    assert second.status == Diagnostic.Status.DRAFT
    # Completing the second one leaves the first as it was.
    services.save_answers(second, {"permis": "aucun"}, world["member"])
    services.complete_diagnostic(second, world["member"])
    assert Diagnostic.objects.get(pk=first.pk).answers["permis"] == "b"


def test_prefill_keeps_only_questions_of_the_new_version(world, tmp_path):
    person = world["person"]
    first = completed(person, world["referent"], {**HOUSED_SPIE, "observations": "RAS"})
    v2 = load_v2(tmp_path)
    second = start(person, world["referent"])
    assert second.framework == v2 and second.previous == first
    assert "observations" not in second.answers  # removed from version 2
    assert second.answers == {k: v for k, v in first.answers.items() if k != "observations"}
