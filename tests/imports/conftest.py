"""Fixtures of the import tests (same world as the pathways tests, private media in tmp)."""

from tests.pathways.conftest import _media_root, membership_of, world  # noqa: F401
