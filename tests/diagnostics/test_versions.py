"""Framework versions: a completed diagnostic keeps the version it was filled with."""

from pathlib import Path

from django.urls import reverse

from spie.diagnostics import services
from spie.diagnostics.loaders import FRAMEWORKS_DIR, load_frameworks
from spie.diagnostics.models import Diagnostic, Framework
from tests.diagnostics.support import HOUSED_SPIE, client_of, completed, start

REMOVED_QUESTION = """      - code: observations
        kind: text
        label: Observations du référent
        max_length: 4000
"""
ADDED_QUESTION = """      - code: observations_v2
        kind: text
        label: Observations (version 2)
"""


def load_v2(directory: Path):
    """Load a version 2 of the SPIE framework (one question replaced) from ``directory``."""
    text = (FRAMEWORKS_DIR / "spie-v1.yaml").read_text(encoding="utf-8")
    assert REMOVED_QUESTION in text
    text = text.replace("\nversion: 1\n", "\nversion: 2\n", 1).replace(REMOVED_QUESTION, ADDED_QUESTION)
    (directory / "spie-v2.yaml").write_text(text, encoding="utf-8")
    rows = load_frameworks(directory)
    return next(row for row in rows if row.version == 2)


def test_completed_diagnostics_keep_their_version_when_a_new_one_is_loaded(world, tmp_path):
    person, referent = world["person"], world["referent"]
    v1 = world["frameworks"]["spie"]
    old = completed(person, referent, {**HOUSED_SPIE, "observations": "Première version"})
    draft_other = start(world["other"], world["outsider"])
    v2 = load_v2(tmp_path)
    assert Framework.objects.get(pk=v2.pk).is_current
    assert not Framework.objects.get(pk=v1.pk).is_current
    old.refresh_from_db()
    assert old.framework_id == v1.pk
    assert old.result["framework"] == {"code": "spie", "version": 1}
    # A draft started before stays on its version too (its questions do not move under it).
    assert Diagnostic.objects.get(pk=draft_other.pk).framework_id == v1.pk
    # Re-scoring uses the diagnostic's own version: nothing changes.
    counts = services.rescore(Diagnostic.objects.all())
    assert counts == {"scored": 1, "changed": 0}
    old.refresh_from_db()
    assert old.framework_id == v1.pk and old.answers["observations"] == "Première version"
    # The result page still shows the old version's answers and result.
    response = client_of(referent).get(reverse("diagnostics:print", args=[person.pk, old.pk]))
    assert "Première version" in response.content.decode()
    # New diagnostics use the new version.
    assert start(person, referent).framework_id == v2.pk
