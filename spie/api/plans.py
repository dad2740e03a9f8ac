"""API of plans (in progress)."""

urlpatterns = []
