"""A proposal prefilled from a diagnostic never carries health reasons (page and API)."""

from django.urls import reverse

from spie.diagnostics.selectors import shareable_reasons
from tests.diagnostics.support import client_of, completed, frameworks, world  # noqa: F401


def test_health_reasons_are_left_out_of_the_prefilled_proposal(world):  # noqa: F811
    diagnostic = completed(world["person"], world["referent"])
    diagnostic.result = {
        **diagnostic.result,
        "orientation": {"type": "sociale", "reasons": ["Frein bloquant", "Santé : détail médical",
                                                       "Logement : sans hébergement"]},
    }
    diagnostic.save(update_fields=["result"])
    assert shareable_reasons(diagnostic) == ["Frein bloquant", "Logement : sans hébergement"]
    url = reverse("pathways:orientations", args=[world["person"].pk]) + f"?diagnostic={diagnostic.pk}"
    html = client_of(world["referent"]).get(url).content.decode()
    assert "Logement : sans hébergement" in html
    assert "détail médical" not in html
