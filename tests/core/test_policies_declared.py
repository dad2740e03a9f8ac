"""Meta-test: every URL pattern and API route declares its access policy (DESIGN.md §5)."""

from django.urls import URLPattern, URLResolver, get_resolver

from spie.core.policies import declared_policy

# Django's admin has its own staff-only policy (is_staff + second factor); static is public.
EXEMPT_PREFIXES = ("admin/",)


def iter_patterns(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from iter_patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def test_every_route_declares_a_policy():
    routes = list(iter_patterns(get_resolver().url_patterns))
    assert len(routes) > 20
    missing = [
        route for route, callback in routes
        if not route.startswith(EXEMPT_PREFIXES) and declared_policy(callback) is None
    ]
    assert missing == [], f"Routes sans politique d'accès déclarée : {missing}"


def test_meta_test_detects_an_undeclared_view():
    def bare_view(request):
        return None

    assert declared_policy(bare_view) is None
