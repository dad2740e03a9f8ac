"""API of appointments (in progress)."""

urlpatterns = []
