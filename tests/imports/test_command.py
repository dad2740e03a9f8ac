"""``manage.py import_file``: same services, automatic mapping, one summary line."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from spie.imports.samples import write_persons_csv
from spie.people.models import Person
from tests.network.factories import CommuneFactory


def run(*args):
    out = StringIO()
    call_command("import_file", *args, stdout=out)
    return out.getvalue()


def summary(output):
    line = output.strip().splitlines()[-1]
    assert line.startswith("IMPORT ")
    return dict(pair.split("=") for pair in line.split()[1:])


def test_command_validates_commits_and_reimports(world, tmp_path):
    CommuneFactory()  # Toulouse: the other communes of the sample are unknown → errors
    path = write_persons_csv(tmp_path / "rsa.csv", 30, seed=4, communes=[("31555", "Toulouse", "31000")],
                             error_every=10)
    base = [str(path), "--kind", "persons", "--structure-id", str(world["ref_structure"].pk),
            "--user-email", world["admin_ref"].email, "--match-key", "internal_id"]
    preview = summary(run(*base))
    assert (preview["rows"], preview["valid"], preview["errors"], preview["created"]) == ("30", "27", "3", "0")
    assert not Person.objects.filter(internal_id__startswith="D31-").exists()
    output = run(*base, "--commit")
    assert "Ligne 11, colonne « Date de naissance » : date illisible" in output
    done = summary(output)
    assert (done["created"], done["errors"], done["updated"]) == ("27", "3", "0")
    assert re.fullmatch(r"\d+\.\d\d", done["validate_s"]) and re.fullmatch(r"\d+\.\d\d", done["commit_s"])
    assert Person.objects.filter(internal_id__startswith="D31-").count() == 27
    again = summary(run(*base, "--commit"))
    assert (again["created"], again["unchanged"]) == ("0", "27")
    assert Person.objects.filter(internal_id__startswith="D31-").count() == 27


def test_command_refuses_a_non_admin(world, tmp_path):
    path = write_persons_csv(tmp_path / "rsa.csv", 2)
    with pytest.raises(CommandError, match="n'est pas administrateur"):
        run(str(path), "--structure-id", str(world["ref_structure"].pk), "--user-email", world["referent"].email)
