"""A person's timeline: every event newest first, filtered by type, period and actor's
structure (bad dates get a French error and keep what was typed), paginated, exported."""

import datetime
import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from spie.core.models import AccessLog
from spie.people.models import TimelineEvent
from tests.pathways import conftest as pathways_conftest
from tests.pathways.factories import days_ago

# The pathways tests' world (territory 31, référent, member, outsider, chargés…).
world = pathways_conftest.world
_media_root = pathways_conftest._media_root


def event(person, kind, title, *, days=0, actor=None, structure=None, detail=""):
    at = timezone.make_aware(datetime.datetime.combine(days_ago(days), datetime.time(10)))
    return TimelineEvent.objects.create(person=person, kind=kind, title=title, at=at, actor=actor,
                                        structure=structure, detail=detail)


@pytest.fixture
def events(world):
    person = world["person"]
    TimelineEvent.objects.filter(person=person).delete()
    return [
        event(person, "orientation_decided", "Orientation décidée", days=40, actor=world["officer"],
              structure=world["departement"]),
        event(person, "appointment_attendance", "Rendez-vous honoré", days=10, actor=world["referent"],
              structure=world["ref_structure"]),
        event(person, "appointment_attendance", "Rendez-vous manqué", days=5, actor=world["member"],
              structure=world["other_structure"]),
        event(person, "note", "=Note ajoutée", days=0, actor=world["referent"], structure=world["ref_structure"]),
    ]


def titles(response):
    return [e.title for e in response.context["page"].object_list]


def url(world):
    return reverse("people:timeline", args=[world["person"].pk])


def test_all_events_newest_first(world, events, client_for):
    response = client_for(world["referent"]).get(url(world))
    assert titles(response) == ["=Note ajoutée", "Rendez-vous manqué", "Rendez-vous honoré", "Orientation décidée"]
    assert AccessLog.objects.filter(user=world["referent"], section=AccessLog.Section.TIMELINE).count() == 1


def test_filters_by_type_period_and_structure(world, events, client_for):
    client = client_for(world["referent"])
    by_type = client.get(url(world), {"type": "appointment_attendance"})
    assert titles(by_type) == ["Rendez-vous manqué", "Rendez-vous honoré"]
    period = {"du": days_ago(10).isoformat(), "au": days_ago(5).isoformat()}
    assert titles(client.get(url(world), period)) == ["Rendez-vous manqué", "Rendez-vous honoré"]
    assert titles(client.get(url(world), {"du": days_ago(5).isoformat()})) == ["=Note ajoutée", "Rendez-vous manqué"]
    assert titles(client.get(url(world), {"au": days_ago(40).strftime("%d/%m/%Y")})) == ["Orientation décidée"]
    response = client.get(url(world), {"structure": world["ref_structure"].pk})
    assert titles(response) == ["=Note ajoutée", "Rendez-vous honoré"]
    both = client.get(url(world), {"structure": world["ref_structure"].pk, "type": "note"})
    assert titles(both) == ["=Note ajoutée"]


def test_structure_choices_are_those_of_the_events(world, events, client_for):
    response = client_for(world["referent"]).get(url(world))
    choices = dict(response.context["form"].fields["structure"].choices)
    assert set(choices) == {"", world["departement"].pk, world["ref_structure"].pk, world["other_structure"].pk}
    response = client_for(world["referent"]).get(url(world), {"structure": world["outsider_structure"].pk})
    assert "structure" in response.context["form"].errors
    assert len(titles(response)) == 4  # an invalid filter is not applied


def test_bad_dates_get_a_french_error_and_keep_the_input(world, events, client_for):
    client = client_for(world["referent"])
    response = client.get(url(world), {"du": "31/02/2026", "type": "note"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "Saisissez une date valide" in text
    assert 'value="31/02/2026"' in text
    assert titles(response) == ["=Note ajoutée"]  # the valid filters still apply
    response = client.get(url(world), {"du": days_ago(1).isoformat(), "au": days_ago(9).isoformat()})
    assert "La date de fin doit être postérieure ou égale à la date de début." in response.content.decode()
    assert titles(response) == ["=Note ajoutée"]  # only the valid start applies


def test_paginated(world, client_for):
    person = world["person"]
    for i in range(60):
        event(person, "note", f"Note {i}", days=i % 20)
    client = client_for(world["referent"])
    response = client.get(url(world), {"type": "note"})
    assert len(titles(response)) == 50
    assert "type=note&amp;page=2" in response.content.decode()
    assert len(titles(client.get(url(world), {"type": "note", "page": 2}))) == 10


def test_export_csv_and_xlsx_filtered_and_logged(world, events, client_for):
    client = client_for(world["referent"])
    response = client.get(url(world), {"format": "csv", "type": "appointment_attendance"})
    text = b"".join(response.streaming_content).decode("utf-8")
    lines = text.strip().splitlines()
    assert lines[0] == "\ufeffDate;Type;Événement;Détail;Par;Structure"
    assert len(lines) == 3 and "Rendez-vous manqué" in lines[1] and "Mission locale Ouest" in lines[1]
    response = client.get(url(world), {"format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 5 and rows[1][2] == "'=Note ajoutée"
    assert isinstance(rows[1][0], datetime.datetime)
    exports = AccessLog.objects.filter(user=world["referent"], section=AccessLog.Section.EXPORT)
    assert list(exports.values_list("person_id", flat=True)) == [world["person"].pk] * 2


def test_timeline_policy(world, events, client_for):
    assert client_for(world["outsider"]).get(url(world)).status_code == 403
    assert client_for(world["outsider"]).get(url(world), {"format": "csv"}).status_code == 403
    assert client_for(world["gers_officer"]).get(url(world)).status_code == 404
    assert client_for(world["member"]).get(url(world)).status_code == 200


# --- Event types in French ----------------------------------------------------------------------


def test_event_types_are_shown_in_french_never_as_codes(world, events, client_for):
    event(world["person"], "legacy_code", "Ancien événement", days=1)
    response = client_for(world["referent"]).get(url(world))
    body = response.content.decode()
    for label in ("Orientation décidée", "Présence à un rendez-vous", "Note", "Autre événement"):
        assert f'<span class="badge">{label}</span>' in body
    for code in ("orientation_decided", "appointment_attendance", "legacy_code"):
        assert f">{code}<" not in body  # neither a badge nor an <option> label
    choices = response.context["form"].fields["type"].choices
    assert choices == [("", "Tous"), ("note", "Note"), ("orientation_decided", "Orientation décidée"),
                       ("appointment_attendance", "Présence à un rendez-vous"), ("autre", "Autre événement")]


def test_filter_on_other_events_and_export_type_column(world, events, client_for):
    event(world["person"], "legacy_code", "Ancien événement", days=1)
    client = client_for(world["referent"])
    assert titles(client.get(url(world), {"type": "autre"})) == ["Ancien événement"]
    response = client.get(url(world), {"format": "csv"})
    lines = b"".join(response.streaming_content).decode("utf-8-sig").strip().splitlines()
    types = [line.split(";")[1] for line in lines[1:]]
    assert types == ["Note", "Autre événement", "Présence à un rendez-vous", "Présence à un rendez-vous",
                     "Orientation décidée"]


def test_every_event_kind_written_by_the_code_has_a_french_label():
    """Each kind passed to add_event / TimelineEvent(kind=…) in spie/ has an entry in EVENT_LABELS."""
    import pathlib
    import re

    from spie.people.models import EVENT_LABELS

    root = pathlib.Path(__file__).resolve().parents[2] / "spie"
    pattern = re.compile(r"(?:add_event\(\s*[\w.]+,\s*|kind=)\"([a-z_]+)\"(?:\s*if[^,]*else\s*\"([a-z_]+)\")?")
    found = set()
    for path in root.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if "add_event(" not in text and "TimelineEvent(" not in text:
            continue
        for match in pattern.finditer(text):
            window = text[max(0, match.start() - 200):match.start()]
            if match.group(0).startswith("kind=") and "TimelineEvent(" not in window:
                continue
            found.update(kind for kind in match.groups() if kind)
    assert {"created", "note", "exit", "plan_action_status", "plan_objective_status"} <= found
    assert found - set(EVENT_LABELS) == set()
