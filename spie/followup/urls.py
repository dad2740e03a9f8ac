"""URLs of the follow-up: each part (plan, appointments, notes, exit and employment, alerts and
caseload) declares its own ``urlpatterns`` in ``views/<part>.py``; they are gathered here."""

from .views import alerts, appointments, exits, notes, plan

app_name = "followup"

urlpatterns = [
    *plan.urlpatterns,
    *appointments.urlpatterns,
    *notes.urlpatterns,
    *exits.urlpatterns,
    *alerts.urlpatterns,
]
