"""Background tasks of the catalogue (Django's tasks API, django-tasks backport).

The work is done by ``services.referrals``; the task only runs it, so the command, the task and
the tests share one code path.
"""

from django_tasks import task

from .services import referrals as referral_services


@task()
def process_referral_deadlines():
    """Expire the referrals left unanswered past the territory's delay (30 days), then remind the
    providers of those waiting past the reminder delay (10 days). Returns both counts."""
    expired = referral_services.expire_due()
    reminded = referral_services.send_due_reminders()
    return {"expired": expired, "reminded": reminded}
