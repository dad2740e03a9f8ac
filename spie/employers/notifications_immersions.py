"""E-mails of the immersion (PMSMP) workflow, in French, sent once the transaction commits.

What an e-mail may hold (DESIGN.md §5, need to know): to the company, the person's first name
and initial only (``short_name``), the job discovered, the objective, the dates, the tutor and
what the professional chose to write; never the person's last name, situation or health, nor
the sender's reason for a cancellation. To the sender (the professional who asked for the
immersion), the same plus the assessment and the cancellation's reason. Every
e-mail links to the immersion's page, where the rest is read behind the platform's policies.

Recipients: the company's users (active members of its own space, ``company.account``) when it
has one, else its contact address; on the sending side, the professional who asked.
"""

from django.urls import reverse
from django.utils import formats

from spie.core.links import site_url
from spie.core.mail import SIGNATURE, send_after_commit
from spie.pathways.notifications import short_name

from .notifications import company_emails


def detail_url(immersion, base_url=None):
    return site_url(base_url) + reverse("employers:immersion_detail", args=[immersion.uid])


def _date(value):
    return formats.date_format(value, "d/m/Y") if value else ""


def sender_emails(immersion):
    user = immersion.requested_by
    return [user.email] if user is not None and user.email else []


def _without(emails, actor):
    """Nobody is told by e-mail what they just did themselves."""
    own = (getattr(actor, "email", "") or "").strip().lower()
    return [e for e in emails if e.strip().lower() != own]


def _what(immersion):
    return immersion.offer.title if immersion.offer_id else immersion.rome.label


def _dates(immersion):
    if immersion.start_date and immersion.end_date:
        return f"du {_date(immersion.start_date)} au {_date(immersion.end_date)}"
    if immersion.start_date:
        return f"à partir du {_date(immersion.start_date)}"
    return ""


def immersion_requested(immersion, *, message="", base_url=None):
    """To the company: who asks (structure), for whom (first name + initial), what and why."""
    person, company = immersion.person, immersion.company
    wished = _dates(immersion)
    body = (
        f"Bonjour,\n\n{immersion.requested_by} ({immersion.structure}) demande une immersion professionnelle "
        f"(PMSMP) chez {company.name} pour {short_name(person)}.\n\n"
        f"Métier découvert : {_what(immersion)} ({immersion.rome_id})\n"
        f"Objet : {immersion.get_objective_display()}\n"
        + (f"Dates souhaitées : {wished}\n" if wished else "")
        + (f"\nMessage du professionnel :\n{message.strip()}\n" if message.strip() else "")
        + "\nPour convenir des dates et du tuteur (la convention), ou décliner la demande :\n"
        + f"{detail_url(immersion, base_url)}\n"
        + SIGNATURE
    )
    subject = f"SPIE — demande d'immersion : {_what(immersion)}"
    send_after_commit([(subject, body, email) for email in company_emails(company)])


def immersion_agreed(immersion, *, actor, base_url=None):
    """To both sides (but the one who recorded it): the dates and the tutor."""
    person = immersion.person
    tutor = immersion.tutor_name + (f" ({immersion.tutor_email})" if immersion.tutor_email else "")
    body = (
        f"Bonjour,\n\nLa convention d'immersion (PMSMP) de {short_name(person)} chez {immersion.company.name} "
        f"est enregistrée.\n\n"
        f"Métier découvert : {_what(immersion)} ({immersion.rome_id})\n"
        f"Dates : {_dates(immersion)}\n"
        f"Tuteur : {tutor}\n\n"
        f"Le détail de l'immersion : {detail_url(immersion, base_url)}\n"
        "À la fin de l'immersion, l'entreprise ou le professionnel enregistre le bilan "
        "(compétences observées, recrutement envisagé).\n"
        + SIGNATURE
    )
    subject = f"SPIE — convention d'immersion signée : {_what(immersion)}"
    recipients = _without(company_emails(immersion.company) + sender_emails(immersion), actor)
    send_after_commit([(subject, body, email) for email in recipients])


def immersion_assessed(immersion, *, actor, base_url=None):
    """To the sender: the assessment (skills observed, would hire, comment)."""
    person = immersion.person
    skills = "\n".join(f"- {skill}" for skill in immersion.skills_observed)
    body = (
        f"Bonjour,\n\nLe bilan de l'immersion de {short_name(person)} chez {immersion.company.name} "
        f"({_what(immersion)}, {_dates(immersion)}) est enregistré.\n\n"
        f"Compétences observées :\n{skills}\n\n"
        f"L'entreprise recruterait la personne : {'oui' if immersion.would_hire else 'non'}\n"
        + (f"\nCommentaire :\n{immersion.assessment_comment}\n" if immersion.assessment_comment else "")
        + f"\nLe détail de l'immersion : {detail_url(immersion, base_url)}\n"
        + SIGNATURE
    )
    subject = f"SPIE — bilan d'immersion : {_what(immersion)}"
    send_after_commit([(subject, body, email) for email in _without(sender_emails(immersion), actor)])


CANCELLED_BY_SENDER = "L'immersion est annulée par le référent."


def immersion_cancelled(immersion, *, actor, reason, by_sender, base_url=None):
    """To both sides (but the one who cancelled). The sender side reads the reason; the company
    reads it only when the company cancelled. Cancelled by the sender side, the company gets a
    neutral line (:data:`CANCELLED_BY_SENDER`): the professional's reason may tell the person's
    situation or health."""
    person = immersion.person
    dates = _dates(immersion)

    def body(line):
        return (
            f"Bonjour,\n\nL'immersion de {short_name(person)} chez {immersion.company.name} ({_what(immersion)}"
            + (f", {dates}" if dates else "")
            + ") est annulée.\n\n"
            + f"{line}\n\n"
            + f"Le détail de l'immersion : {detail_url(immersion, base_url)}\n"
            + SIGNATURE
        )

    subject = f"SPIE — immersion annulée : {_what(immersion)}"
    with_reason = body(f"Motif : {reason}")
    to_company = body(CANCELLED_BY_SENDER) if by_sender else with_reason
    # The sender side first: ``send_after_commit`` keeps an address's first message, so an
    # address on both sides reads the reason.
    send_after_commit([(subject, with_reason, email) for email in _without(sender_emails(immersion), actor)]
                      + [(subject, to_company, email) for email in _without(company_emails(immersion.company), actor)])
