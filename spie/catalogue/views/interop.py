"""Placeholder: filled in by the interop part (see catalogue/urls.py)."""

urlpatterns = []
