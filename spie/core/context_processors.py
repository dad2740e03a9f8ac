from django.conf import settings


def platform(request):
    membership = getattr(request, "membership", None)
    territory = membership.structure.territory if membership else None
    return {
        "SPIE_VERSION": settings.VERSION,
        "SPIE_DEMO_SKIP_2FA": settings.SPIE_DEMO_SKIP_2FA,
        "active_membership": membership,
        "territory": territory,
    }
