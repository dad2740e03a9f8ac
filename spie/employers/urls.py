"""URLs of the employer side, mounted at ``/emploi/``. Each part declares its own
``urlpatterns`` in ``views/<part>.py`` (companies, openings, immersion offers and engagements;
a person's job search and proposals; candidates of an opening; the matching report;
positionings and immersions)."""

from .views import companies, immersions, jobsearch, positionings, report

app_name = "employers"

urlpatterns = [
    *companies.urlpatterns,
    *jobsearch.urlpatterns,
    *positionings.urlpatterns,
    *immersions.urlpatterns,
    *report.urlpatterns,
]
