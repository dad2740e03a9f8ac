"""E-mails of the workflows (orientations, referrals, positionings, immersions), sent once the
transaction commits: a rolled-back step sends nothing, and a mail server that fails never undoes
a recorded step (the e-mail is only a notice; everything is on the platform)."""

import logging

from django.core.mail import get_connection, send_mail
from django.db import transaction

logger = logging.getLogger(__name__)

SIGNATURE = "\n-- \nMessage automatique de la plateforme du SPIE, merci de ne pas y répondre.\n"


def send_after_commit(messages):
    """Send ``[(subject, body, address)]`` one by one after commit, each address once (the first
    message for it), empty addresses skipped."""
    seen, unique = set(), []
    for subject, body, to in messages:
        key = (to or "").strip().lower()
        if key and key not in seen:
            seen.add(key)
            unique.append((subject, body, to))
    if not unique:
        return

    def send():
        connection = get_connection()
        for subject, body, to in unique:
            try:
                send_mail(subject, body, None, [to], connection=connection)
            except Exception:  # noqa: BLE001 - an unreachable SMTP server must not break the workflow
                logger.exception("Courriel non envoyé : %s", subject)

    transaction.on_commit(send)
