"""Fixtures of the diagnostics page and service tests (defined in ``support.py``)."""

from tests.diagnostics.support import frameworks, world  # noqa: F401
