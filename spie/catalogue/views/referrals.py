"""Placeholder: filled in by the referrals part (see catalogue/urls.py)."""

urlpatterns = []
