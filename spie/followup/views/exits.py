"""Pages: exits (in progress)."""

urlpatterns = []
