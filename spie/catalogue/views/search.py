"""Placeholder: filled in by the search part (see catalogue/urls.py)."""

urlpatterns = []
