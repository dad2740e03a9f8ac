import json
from io import StringIO

from django.apps import apps
from django.core.management import call_command

from spie.core import stats
from tests.network.factories import make_professional
from tests.people.factories import HealthInfoFactory, PersonFactory, add_to_group, oppose_sharing


def run_stats(*args):
    out = StringIO()
    call_command("stats", *args, stdout=out)
    return out.getvalue()


def test_stats_json_counts_match(db):
    referent = make_professional()
    persons = PersonFactory.create_batch(3)
    for person in persons:
        add_to_group(person, referent, kind="referent")
    HealthInfoFactory(person=persons[0])
    oppose_sharing(persons[1])

    counts = json.loads(run_stats("--json"))
    assert list(counts) == [key for key, _, _ in stats.ENTITIES]
    for key, _, label in stats.ENTITIES:
        assert counts[key] == apps.get_model(label).objects.count(), key
    assert counts["persons"] == 3
    assert counts["follow_up_memberships"] == 3
    assert counts["health_infos"] == 1
    assert counts["consents"] == 1
    assert counts["users"] == 1
    assert counts["territories"] == 1


def test_stats_table_is_readable(db):
    PersonFactory()
    text = run_stats()
    assert "Personnes accompagnées" in text
    assert "Communes" in text
    line = next(line for line in text.splitlines() if line.startswith("Personnes accompagnées"))
    assert line.split()[-1] == "1"
