"""Pages: plan (in progress)."""

urlpatterns = []
