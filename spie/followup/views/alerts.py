"""Pages: alerts (in progress)."""

urlpatterns = []
