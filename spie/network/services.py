"""Writes on the network: inviting and deactivating members."""

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from . import policies
from .models import Membership, User


@transaction.atomic
def invite_member(*, by_membership, structure, email, first_name, last_name, role, job_title="", base_url="",
                  authorized=False):
    """Create (or reuse) the account and an active membership; e-mail a link to set a password.

    ``authorized``: the caller has already checked a policy of its own that lets
    ``by_membership`` (which may belong to another structure) invite here — the professional who
    follows a company opens its space (``employers.policies.can_give_account``)."""
    if not authorized and not policies.can_manage_members(by_membership, structure):
        raise PermissionDenied("Seul l'administrateur de la structure invite des membres.")
    if role not in policies.grantable_roles(structure):
        raise ValidationError("Ce rôle ne peut pas être attribué dans ce type de structure.")
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if created:
        user = User.objects.create_user(email=email, password=None, first_name=first_name, last_name=last_name)
    if Membership.objects.filter(user=user, structure=structure, role=role, is_active=True).exists():
        raise ValidationError("Cette personne est déjà membre de la structure avec ce rôle.")
    membership = Membership.objects.create(
        user=user, structure=structure, role=role, job_title=job_title, invited_by=by_membership.user
    )
    link = ""
    if created or not user.has_usable_password():
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        token = default_token_generator.make_token(user)
        link = base_url + reverse("accounts:password_reset_confirm", args=[uid, token])
    body = (
        f"Bonjour,\n\n{by_membership.user} vous a ajouté(e) à la structure « {structure} » sur la plateforme "
        f"du SPIE, avec le rôle « {membership.get_role_display()} ».\n\n"
    )
    if link:
        body += f"Pour choisir votre mot de passe et activer votre compte, ouvrez ce lien :\n{link}\n\n"
    else:
        body += "Connectez-vous avec votre compte habituel : la structure apparaît dans « Mon compte ».\n\n"
    body += "À votre première connexion, vous configurerez un second facteur d'authentification (application TOTP).\n"
    subject, to = f"SPIE — invitation à rejoindre {structure}", [user.email]
    # Sent once the membership is really saved: a rolled-back import invites nobody.
    transaction.on_commit(lambda: send_mail(subject, body, None, to))
    return membership


@transaction.atomic
def deactivate_member(*, by_membership, membership):
    if not policies.can_manage_members(by_membership, membership.structure):
        raise PermissionDenied("Seul l'administrateur de la structure désactive des membres.")
    if membership.pk == by_membership.pk:
        raise ValidationError("Vous ne pouvez pas désactiver votre propre rattachement.")
    membership.is_active = False
    membership.end_date = timezone.localdate()
    membership.save(update_fields=["is_active", "end_date"])
    return membership
