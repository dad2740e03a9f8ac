"""Placeholder: filled in by the actions part (see catalogue/urls.py)."""

urlpatterns = []
