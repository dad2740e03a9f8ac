"""Fixtures of the follow-up tests: the same world as the pathways tests (territory 31 with a
chargé d'orientation, référent, colleague, member of another structure, outsider, structure
admin, coordinator, a neighbour territory) and private media under a temporary directory."""

from tests.pathways.conftest import _media_root, membership_of, world  # noqa: F401
