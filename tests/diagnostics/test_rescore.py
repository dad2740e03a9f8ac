"""Batch re-scoring of completed diagnostics (after an engine change) and its command."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from spie.diagnostics import services
from spie.diagnostics.models import Barrier, Diagnostic
from tests.diagnostics.support import HOUSED_SPIE, REQUIRED_SPIE, completed, start
from tests.people.factories import PersonFactory, add_to_group


@pytest.fixture
def many(world):
    """Five completed SPIE diagnostics (two persons), a completed grid and a draft."""
    referent = world["referent"]
    persons = [world["person"]]
    for _ in range(4):
        person = PersonFactory(territory=world["territory"])
        add_to_group(person, referent)
        persons.append(person)
    diagnostics = [
        completed(person, referent, REQUIRED_SPIE if i % 2 == 0 else HOUSED_SPIE) for i, person in enumerate(persons)
    ]
    grid = completed(world["person"], referent, {"enfants_moins_3_ans": "1", "mode_garde": "aucune",
                                                 "reprise_souhaitee": "immediate"}, code="potentialites")
    draft = start(persons[1], referent)
    return {"diagnostics": diagnostics, "grid": grid, "draft": draft}


def simulate_engine_change(diagnostic):
    """What an older engine might have stored: another orientation, no barrier."""
    result = {**diagnostic.result, "barriers": [], "orientation": {"type": "professionnelle", "reasons": ["Ancien"]}}
    Diagnostic.objects.filter(pk=diagnostic.pk).update(result=result, proposed_orientation="professionnelle")
    Barrier.objects.filter(diagnostic=diagnostic).delete()


def test_rescore_recomputes_and_reports_the_changes(many):
    changed = many["diagnostics"][0]
    expected = Diagnostic.objects.get(pk=changed.pk).result
    simulate_engine_change(changed)
    calls = []
    counts = services.rescore(Diagnostic.objects.all(), batch_size=2, progress=calls.append)
    assert counts == {"scored": 6, "changed": 1}  # 5 + the grid; the draft is not scored
    assert sum(calls) == 6 and len(calls) == 3
    changed.refresh_from_db()
    assert changed.result == expected
    assert changed.proposed_orientation == "sociale"
    assert list(Barrier.objects.filter(diagnostic=changed).values_list("theme", "severity")) == [
        ("logement", "blocking")
    ]
    # Nothing left to change the second time.
    assert services.rescore(Diagnostic.objects.all()) == {"scored": 6, "changed": 0}
    draft = Diagnostic.objects.get(pk=many["draft"].pk)
    assert draft.result is None and not Barrier.objects.filter(diagnostic=draft).exists()


def test_rescore_repairs_missing_barrier_rows(many):
    target = many["grid"]
    assert Barrier.objects.filter(diagnostic=target).exists()
    Barrier.objects.filter(diagnostic=target).delete()
    assert services.rescore(Diagnostic.objects.all()) == {"scored": 6, "changed": 1}
    assert Barrier.objects.filter(diagnostic=target, theme="contraintes_familiales", severity="strong").exists()


def test_rescore_uses_the_context_frozen_at_completion(many, world):
    person = world["person"]
    person.lone_parent = False
    person.children_birth_years = []
    person.save()
    assert services.rescore(Diagnostic.objects.filter(person=person)) == {"scored": 2, "changed": 0}


def test_rescore_of_results_stored_without_context_uses_the_person(many):
    target = many["diagnostics"][1]
    result = {k: v for k, v in target.result.items() if k != "context"}
    Diagnostic.objects.filter(pk=target.pk).update(result=result)
    assert services.rescore(Diagnostic.objects.all())["changed"] == 1
    target.refresh_from_db()
    completed_on = timezone.localdate(target.completed_at)
    assert target.result["context"] == services.person_context(target.person, on=completed_on)


def test_command_with_progress_bar(many):
    simulate_engine_change(many["diagnostics"][2])
    simulate_engine_change(many["grid"])
    out, err = StringIO(), StringIO()
    call_command("rescore_diagnostics", "--framework", "spie", "--batch-size", "2", stdout=out, stderr=err)
    assert "5 diagnostic(s) recalculé(s), 1 résultat(s) modifié(s)." in out.getvalue()
    assert "5/5" in err.getvalue()  # tqdm's bar
    assert Diagnostic.objects.get(pk=many["grid"].pk).result["barriers"] == []  # other framework untouched
    call_command("rescore_diagnostics", stdout=out, stderr=err)
    assert "6 diagnostic(s) recalculé(s), 1 résultat(s) modifié(s)." in out.getvalue()


def test_command_refuses_an_unknown_framework(many):
    with pytest.raises(CommandError, match="Trame inconnue"):
        call_command("rescore_diagnostics", "--framework", "nope", stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError, match="batch-size"):
        call_command("rescore_diagnostics", "--batch-size", "0", stdout=StringIO(), stderr=StringIO())
