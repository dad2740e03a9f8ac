"""Writing the access log. Every read of a person's record goes through :func:`log_access`."""

from .models import AccessLog


def client_ip(request):
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded:
        return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def log_access(request, person, section, *, channel=AccessLog.Channel.PAGE, reason=""):
    """Record that ``request.user`` read ``section`` of ``person`` (without the data)."""
    membership = getattr(request, "membership", None)
    return AccessLog.objects.create(
        user=request.user,
        structure_id=membership.structure_id if membership else None,
        person=person,
        section=section,
        channel=channel,
        reason=reason[:200],
        path=request.get_full_path()[:300],
        ip_address=client_ip(request),
    )


def log_reads(request, person_ids, section, *, channel=AccessLog.Channel.PAGE, reason=""):
    """Record, in one insert, that ``request.user`` read ``section`` of each of ``person_ids``
    (a page listing several persons: candidates of an opening, registrations of an event…)."""
    membership = getattr(request, "membership", None)
    AccessLog.objects.bulk_create([
        AccessLog(user=request.user, structure_id=membership.structure_id if membership else None, person_id=pk,
                  section=section, channel=channel, reason=reason[:200], path=request.get_full_path()[:300],
                  ip_address=client_ip(request))
        for pk in dict.fromkeys(person_ids)
    ])


def log_export(request, person_ids, *, reason=""):
    """Record that ``request.user`` exported a list naming ``person_ids`` (one row each)."""
    membership = getattr(request, "membership", None)
    common = {
        "user": request.user,
        "structure_id": membership.structure_id if membership else None,
        "section": AccessLog.Section.EXPORT,
        "channel": AccessLog.Channel.EXPORT,
        "reason": reason[:200],
        "path": request.get_full_path()[:300],
        "ip_address": client_ip(request),
    }
    batch = []
    for pk in person_ids:  # any iterable: a values_list iterator is never held in memory
        batch.append(AccessLog(person_id=pk, **common))
        if len(batch) >= 2000:
            AccessLog.objects.bulk_create(batch)
            batch = []
    if batch:
        AccessLog.objects.bulk_create(batch)
