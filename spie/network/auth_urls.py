"""Sign-in, second factor, password reset and "Mon compte" (mounted at ``/compte/``)."""

from django.urls import path

from . import auth_views as views

app_name = "accounts"

urlpatterns = [
    path("", views.account, name="account"),
    path("connexion/", views.login_view, name="login"),
    path("deconnexion/", views.logout_view, name="logout"),
    path("second-facteur/", views.two_factor, name="two_factor"),
    path("structure-active/", views.switch_membership, name="switch_membership"),
    path("jeton-api/", views.api_token, name="api_token"),
    path("codes-de-secours/", views.recovery_codes, name="recovery_codes"),
    path("mot-de-passe-oublie/", views.password_reset, name="password_reset"),
    path("mot-de-passe-oublie/envoye/", views.password_reset_done, name="password_reset_done"),
    path(
        "mot-de-passe/reinitialisation/<uidb64>/<token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("mot-de-passe/reinitialise/", views.password_reset_complete, name="password_reset_complete"),
]
