"""API of exits (in progress)."""

urlpatterns = []
