"""The stored result leaves out the suggestions, which the framework version determines."""

from django.urls import reverse

from spie.diagnostics.selectors import full_result
from tests.diagnostics.support import client_of, completed


def test_suggestions_are_derived_not_stored(world):
    diagnostic = completed(world["person"], world["referent"])
    assert "suggestions" not in diagnostic.result
    result = full_result(diagnostic)
    themes = [b["theme"] for b in result["barriers"]]
    assert "logement" in themes
    housing = next(s for s in result["suggestions"] if s["theme"] == "logement")
    assert housing["objectives"]
    # The result page shows them.
    page = client_of(world["referent"]).get(
        reverse("diagnostics:detail", args=[world["person"].pk, diagnostic.pk])
    )
    assert housing["objectives"][0] in page.content.decode()
