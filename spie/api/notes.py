"""API of notes (in progress)."""

urlpatterns = []
