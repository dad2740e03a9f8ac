"""Background tasks of the follow-up (Django's tasks API, django-tasks backport).

Arguments are ids and strings (JSON); the work is done by ``spie.followup.services``. Tasks are
enqueued inside ``transaction.on_commit`` so a worker never sees a row that was rolled back.
"""

from django_tasks import task

from .services import appointments as appointment_services


@task()
def send_appointment_notifications(appointment_id, kind):
    """Send the ``kind`` message (invitation, change, cancellation, reminder) of one appointment;
    returns how many messages were attempted (each wrote a Notification row)."""
    return len(appointment_services.send_notifications(appointment_id, kind))


@task()
def send_due_reminders():
    """Remind the persons of their appointments starting within 24 hours (once each); returns
    how many appointments were reminded. Same as ``manage.py send_reminders``."""
    return appointment_services.send_due_reminders()
