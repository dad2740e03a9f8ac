"""Declared access policies for every view and API route.

Every URL of the platform names the policy that guards it (DESIGN.md §5, deny by default).
A view declares it with :func:`view_policy`; an API view with a ``spie_policy`` attribute.
``tests/core/test_policies_declared.py`` fails when a route has none.

The name is documentation and a hook for the meta-test; the object-level decision (may this
user read this person's record?) is made by the plain functions in each app's ``policies.py``.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

PUBLIC = "public"
AUTHENTICATED = "authenticated"


def view_policy(name, *, login=True, professional=True):
    """Mark a view with its policy name and enforce the login requirement.

    ``login=False`` is for public pages (login, about, healthz). ``professional=True`` requires
    an account attached to at least one active structure membership.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if login:
                if not request.user.is_authenticated:
                    return redirect_to_login(request.get_full_path())
                if professional and getattr(request, "membership", None) is None:
                    raise PermissionDenied("Aucun rattachement actif à une structure.")
            return view(request, *args, **kwargs)

        wrapped.spie_policy = name
        return wrapped

    return decorator


def declared_policy(callback):
    """Return the policy name a resolved URL callback declares, or None."""
    for candidate in (
        callback,
        getattr(callback, "view_class", None),
        getattr(callback, "cls", None),
        getattr(callback, "initkwargs", None) and None,
    ):
        if candidate is not None and getattr(candidate, "spie_policy", None):
            return candidate.spie_policy
    return None
