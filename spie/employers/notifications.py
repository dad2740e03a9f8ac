"""E-mails of the positioning workflow ("mises en relation"), in French, sent once the
transaction commits (a failure to send never undoes the step).

What an e-mail to a company may hold (DESIGN.md §5, need to know): the person's first name and
initial ("Camille D."), the opening, what the référent wrote for the company (``message``), the
référent's professional contact, and links to the platform. Never the person's last name, birth
date, situation, rights, health or contact, never the reason of a declined request. E-mails to
the sending side say what the company answered; the refusal reason is read on the platform.
"""

import logging

from django.db.models import Q
from django.urls import reverse
from django.utils import formats, timezone

from spie.core.mail import SIGNATURE, send_after_commit
from spie.network.models import Membership
from spie.pathways.notifications import short_name
from spie.people.models import FollowUpMembership

from . import links
from .models import PositioningStatus

logger = logging.getLogger(__name__)
S = PositioningStatus


# --- Sending --------------------------------------------------------------------------------------


def _date(value):
    return formats.date_format(value, "d/m/Y") if value else ""


def _datetime(value):
    return formats.date_format(timezone.localtime(value), "d/m/Y à H:i") if value else ""


# --- Who receives what ----------------------------------------------------------------------------


def _active_member_emails(structure_id, roles=None):
    today = timezone.localdate()
    qs = Membership.objects.filter(
        Q(end_date__isnull=True) | Q(end_date__gte=today),
        structure_id=structure_id, is_active=True, start_date__lte=today, user__is_active=True,
    ).exclude(user__email="")
    if roles:
        qs = qs.filter(role__in=roles)
    return sorted(set(qs.values_list("user__email", flat=True)))


def company_emails(company):
    """The company's users (members of its own space) when it has one, else its contact address."""
    emails = []
    if company.account_id:
        emails = _active_member_emails(company.account_id, roles=[Membership.Role.EMPLOYER])
    if not emails and company.contact_email:
        emails = [company.contact_email]
    return emails


def sender_emails(positioning):
    """Who proposed the person, and the sending structure's own address."""
    emails = []
    if positioning.proposed_by_id and positioning.proposed_by.email and positioning.proposed_by.is_active:
        emails.append(positioning.proposed_by.email)
    if positioning.structure_id and positioning.structure.email:
        emails.append(positioning.structure.email)
    return emails


def referent_emails(person):
    """The person's référent unique; when there is none, the active members of the follow-up group."""
    followups = list(
        FollowUpMembership.objects.filter(person=person, end_date__isnull=True, user__is_active=True)
        .exclude(user__email="").values_list("kind", "user__email")
    )
    referents = [email for kind, email in followups if kind == FollowUpMembership.Kind.REFERENT]
    return referents or sorted({email for _kind, email in followups})


def _has_space(company):
    return bool(company.account_id)


def _referent_contact(positioning):
    user, structure = positioning.proposed_by, positioning.structure
    if user is None:
        return ""
    parts = [f"{user} ({structure})" if structure else str(user)]
    if user.email:
        parts.append(user.email)
    if user.phone:
        parts.append(user.phone)
    return " — ".join(parts)


def _answer_block(positioning, base_url):
    text = (
        "Pour répondre (intéressé, entretien, recrutement ou refus), sans compte, utilisez ce lien personnel, "
        f"valable jusqu'au {_datetime(positioning.link_expires_at)} :\n{links.answer_url(positioning, base_url)}\n"
        "Ne transférez pas ce lien : il permet de répondre au nom de votre entreprise.\n"
    )
    if _has_space(positioning.opening.company):
        space = links.detail_url(positioning, base_url)
        text += f"\nVous pouvez aussi répondre depuis votre espace entreprise : {space}\n"
    return text


# --- Messages -------------------------------------------------------------------------------------


def positioning_proposed(positioning, *, base_url=None):
    """To the company: a candidate for its opening (first name + initial), the référent's words,
    the référent's contact, the signed answer link and the link to its space."""
    opening = positioning.opening
    name = short_name(positioning.person)
    subject = f"SPIE — une candidature pour votre offre « {opening.title} »"
    body = (
        f"Bonjour,\n\n{positioning.structure} vous propose la candidature de {name} pour votre offre "
        f"« {opening.title} ». La personne est d'accord pour cette mise en relation.\n"
    )
    if positioning.message:
        body += f"\nMessage du référent :\n{positioning.message}\n"
    contact = _referent_contact(positioning)
    if contact:
        body += f"\nVotre contact : {contact}\n"
    body += "\n" + _answer_block(positioning, base_url) + SIGNATURE
    send_after_commit([(subject, body, email) for email in company_emails(opening.company)])


ANSWER_LINES = {
    S.INTERESTED: "« {company} » est intéressée par la candidature de {name} pour l'offre « {title} ».",
    S.INTERVIEW: "« {company} » propose un entretien à {name} pour l'offre « {title} », le {interview}.",
    S.HIRED: "« {company} » recrute {name} pour l'offre « {title} » (embauche le {hired}). "
             "Les points de suivi dans l'emploi à 1, 3 et 6 mois sont prévus.",
    S.REFUSED: "« {company} » ne retient pas la candidature de {name} pour l'offre « {title} ». "
               "Le motif est indiqué sur la plateforme.",
}
ANSWER_SUBJECTS = {
    S.INTERESTED: "entreprise intéressée",
    S.INTERVIEW: "entretien prévu",
    S.HIRED: "recrutement",
    S.REFUSED: "candidature non retenue",
}


def answer_given(positioning, status, *, base_url=None):
    """To the sending side, at each answer of the company."""
    opening = positioning.opening
    name = short_name(positioning.person)
    line = ANSWER_LINES[status].format(
        company=opening.company.name, name=name, title=opening.title,
        interview=_datetime(positioning.interview_at), hired=_date(positioning.hired_on),
    )
    subject = f"SPIE — mise en relation de {name} : {ANSWER_SUBJECTS[status]}"
    body = f"Bonjour,\n\n{line}\n\nDétail : {links.detail_url(positioning, base_url)}\n{SIGNATURE}"
    send_after_commit([(subject, body, email) for email in sender_emails(positioning)])


def positioning_withdrawn(positioning, *, base_url=None):
    """To the company: the candidate is withdrawn (no reason in the mail)."""
    opening = positioning.opening
    name = short_name(positioning.person)
    subject = f"SPIE — candidature retirée pour votre offre « {opening.title} »"
    body = (
        f"Bonjour,\n\nLa candidature de {name} pour votre offre « {opening.title} » a été retirée par "
        f"{positioning.structure or 'la structure qui accompagne la personne'}. Elle n'est plus à traiter.\n"
        + SIGNATURE
    )
    send_after_commit([(subject, body, email) for email in company_emails(opening.company)])


def request_declined(positioning, *, base_url=None):
    """To the company that asked: the person did not follow up (never why)."""
    opening = positioning.opening
    subject = f"SPIE — votre demande de mise en relation pour « {opening.title} »"
    body = (
        f"Bonjour,\n\nVotre demande de mise en relation avec un profil pour l'offre « {opening.title} » "
        "n'aboutira pas : la personne n'a pas donné suite.\n"
        "D'autres profils peuvent correspondre à votre offre : consultez-les depuis votre espace.\n"
        + SIGNATURE
    )
    emails = company_emails(opening.company)
    if positioning.requested_by_id and positioning.requested_by.email:
        emails = [positioning.requested_by.email, *emails]
    send_after_commit([(subject, body, email) for email in emails])


def positioning_requested(positioning, *, base_url=None):
    """To the person's référent(s): a company asks to meet the person (seen as an anonymous profile)."""
    opening = positioning.opening
    person = positioning.person
    link = links.site_url(base_url) + reverse("employers:positioning_detail", args=[positioning.uid])
    subject = f"SPIE — une entreprise souhaite rencontrer {short_name(person)}"
    body = (
        f"Bonjour,\n\n« {opening.company.name} » a vu le profil anonyme de {short_name(person)} et demande une "
        f"mise en relation pour son offre « {opening.title} ».\n"
        "Parlez-en avec la personne : si elle est d'accord, proposez sa candidature ; sinon, déclinez la demande "
        "(l'entreprise saura seulement que la personne n'a pas donné suite).\n\n"
        f"Répondre à la demande : {link}\n{SIGNATURE}"
    )
    send_after_commit([(subject, body, email) for email in referent_emails(person)])


def link_renewed(positioning, *, base_url=None):
    """The company receives a new link (older ones no longer work)."""
    opening = positioning.opening
    subject = f"SPIE — nouveau lien pour la candidature de {short_name(positioning.person)}"
    body = (
        f"Bonjour,\n\nVoici un nouveau lien pour répondre à la candidature de {short_name(positioning.person)} "
        f"pour votre offre « {opening.title} ». Les liens précédents ne fonctionnent plus.\n\n"
        + _answer_block(positioning, base_url) + SIGNATURE
    )
    send_after_commit([(subject, body, email) for email in company_emails(opening.company)])


def renewal_requested(positioning, *, base_url=None):
    """The company's link has expired and it asks for a new one: the sending side may renew it."""
    subject = f"SPIE — l'entreprise demande un nouveau lien ({short_name(positioning.person)})"
    body = (
        f"Bonjour,\n\n« {positioning.opening.company.name} » souhaite répondre à la candidature de "
        f"{short_name(positioning.person)} pour l'offre « {positioning.opening.title} », mais son lien a expiré.\n"
        f"Envoyez-lui un nouveau lien depuis la page de la mise en relation : "
        f"{links.detail_url(positioning, base_url)}\n{SIGNATURE}"
    )
    send_after_commit([(subject, body, email) for email in sender_emails(positioning)])


def opening_ended(positioning, *, base_url=None):
    """To the sending side: the opening was filled or closed, the candidacy ends with it."""
    opening = positioning.opening
    name = short_name(positioning.person)
    state = opening.get_status_display().lower()
    subject = f"SPIE — mise en relation de {name} : offre {state}"
    body = (
        f"Bonjour,\n\nL'offre « {opening.title} » de « {opening.company.name} » est désormais {state} : "
        f"la candidature de {name} n'est plus à l'étude.\n"
        "D'autres offres peuvent lui correspondre : consultez ses propositions sur la plateforme.\n\n"
        f"Détail : {links.detail_url(positioning, base_url)}\n{SIGNATURE}"
    )
    send_after_commit([(subject, body, email) for email in sender_emails(positioning)])
