"""Pages: notes (in progress)."""

urlpatterns = []
