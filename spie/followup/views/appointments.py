"""Pages: appointments (in progress)."""

urlpatterns = []
