"""API of imports (in progress)."""

urlpatterns = []
