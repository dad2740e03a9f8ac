"""URLs of the catalogue: each part (search and public pages, actions management, referrals,
data·inclusion exchange) declares its own ``urlpatterns`` in ``views/<part>.py``."""

from .views import actions, interop, referrals, search

app_name = "catalogue"

urlpatterns = [
    *search.urlpatterns,
    *actions.urlpatterns,
    *referrals.urlpatterns,
    *interop.urlpatterns,
]
