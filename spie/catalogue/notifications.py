"""E-mails of the referral workflow, in French, sent once the transaction commits.

What an e-mail may hold (DESIGN.md §5, need to know): the person's first name and initial, the
action, its place and dates, the structures and the sender, and links to the platform. Never
health detail, never the motivation, never the "what the provider needs to know" text, never a
refusal or drop reason: those are read behind the platform's policies and its access log (the
signed link's page logs its reads too). The person receives plain-language messages.
"""

from django.utils import formats, timezone

from spie.core.mail import SIGNATURE, send_after_commit
from spie.network.models import Membership
from spie.pathways.notifications import short_name

from . import links
from .models import PreferredContact, ReferralStatus

S = ReferralStatus


def _date(value):
    return formats.date_format(value, "d/m/Y") if value else ""


def _datetime(value):
    return formats.date_format(timezone.localtime(value), "d/m/Y à H:i") if value else ""


def provider_emails(referral):
    """The receiving structure's address and the action's own contact address."""
    return [e for e in (referral.to_structure.email, referral.action.email) if e]


def sender_emails(referral):
    return [referral.sent_by.email] if referral.sent_by_id and referral.sent_by.email else []


def _has_members(structure):
    today = timezone.localdate()
    return Membership.objects.filter(structure=structure, is_active=True, start_date__lte=today).exists()


def where(action, session=None):
    """Plain words for the place of the action (or its session)."""
    if session is not None and session.place:
        return session.place
    if action.is_remote and not action.is_in_person:
        return "à distance"
    parts = [action.address, " ".join(p for p in (action.postal_code, action.commune.name if action.commune_id
                                                   else "") if p)]
    text = ", ".join(p for p in parts if p)
    if action.is_remote:
        text = f"{text} ou à distance" if text else "à distance"
    return text or "lieu communiqué par la structure"


def when(referral):
    session = referral.session
    if session is not None:
        text = f"le {_date(session.starts_on)}"
        if session.start_time:
            text += f" à {session.start_time:%H} h {session.start_time:%M}"
        if session.ends_on and session.ends_on != session.starts_on:
            text = f"du {_date(session.starts_on)} au {_date(session.ends_on)}"
        return text
    if referral.start_date:
        return f"à partir du {_date(referral.start_date)}"
    return ""


def who_calls(referral):
    structure = referral.to_structure
    return {
        PreferredContact.PHONE: f"« {structure} » vous appellera au téléphone.",
        PreferredContact.EMAIL: f"« {structure} » vous écrira par courriel.",
        PreferredContact.SMS: f"« {structure} » vous enverra un SMS.",
        PreferredContact.REFERENT: "Votre référent(e) vous donnera les informations.",
    }.get(referral.preferred_contact, f"« {structure} » vous contactera.")


def _greeting(person):
    return f"Bonjour {person.first_name},\n\n"


def _provider_block(referral, base_url, *, with_space=True):
    link = links.answer_url(referral, base_url)
    text = (
        f"Pour lire la demande et y répondre (sans compte), utilisez ce lien personnel, valable jusqu'au "
        f"{_datetime(referral.link_expires_at)} :\n{link}\n"
        "Ne transférez pas ce lien : il donne accès aux informations de la demande.\n"
    )
    if with_space and _has_members(referral.to_structure):
        space = links.detail_url(referral, base_url)
        text += f"\nVous pouvez aussi répondre depuis l'espace de votre structure : {space}\n"
    return text


def referral_sent(referral, *, base_url=None):
    """To the provider (the signed link, its space) and to the person (what, where, when, who)."""
    person, action = referral.person, referral.action
    subject = f"SPIE — nouvelle orientation vers « {action.name} »"
    sender = referral.sent_by
    body = (
        f"Bonjour,\n\n{sender} ({referral.from_structure}) vous oriente {short_name(person)} "
        f"vers votre action « {action.name} »"
        + (f" (session {when(referral)})" if referral.session_id else "")
        + ".\n\n"
        + _provider_block(referral, base_url)
        + "\nMerci de répondre (acceptation ou refus motivé) dans les meilleurs délais.\n"
        + SIGNATURE
    )
    messages = [(subject, body, email) for email in provider_emails(referral)]
    if person.email:
        text = (
            f"Votre référent(e) vous propose de participer à l'action « {action.name} » "
            f"de « {referral.to_structure} ».\n"
            f"Où : {where(action, referral.session)}.\n"
            + (f"Quand : {when(referral)}.\n" if when(referral) else "")
            + "La structure va étudier la demande. "
            + who_calls(referral)
            + "\n"
        )
        messages.append((f"Une action vous est proposée : « {action.name} »", _greeting(person) + text + SIGNATURE,
                         person.email))
    send_after_commit(messages)


ANSWER_SUBJECTS = {
    S.ACCEPTED: "acceptée",
    S.REFUSED: "refusée",
    S.STARTED: "entrée dans l'action",
    S.COMPLETED: "action terminée",
    S.DROPPED: "action abandonnée",
    S.EXPIRED: "expirée sans réponse",
    S.CANCELLED: "annulée",
}


def _sender_body(referral, to_status, base_url):
    person, action = referral.person, referral.action
    lines = {
        S.ACCEPTED: f"« {referral.to_structure} » a accepté l'orientation de {short_name(person)} vers "
                    f"« {action.name} »" + (f", {when(referral)}" if when(referral) else "") + ".",
        S.REFUSED: f"« {referral.to_structure} » a refusé l'orientation de {short_name(person)} vers "
                   f"« {action.name} ». Le motif est indiqué sur la plateforme.",
        S.STARTED: f"{short_name(person)} a commencé l'action « {action.name} ».",
        S.COMPLETED: f"{short_name(person)} a terminé l'action « {action.name} ».",
        S.DROPPED: f"{short_name(person)} a abandonné l'action « {action.name} ». "
                   "Le motif est indiqué sur la plateforme.",
        S.EXPIRED: f"L'orientation de {short_name(person)} vers « {action.name} » a expiré : "
                   f"« {referral.to_structure} » n'a pas répondu dans le délai.",
        S.CANCELLED: f"L'orientation de {short_name(person)} vers « {action.name} » a été annulée.",
    }
    if to_status == S.DROPPED and _session_cancelled(referral):
        lines[S.DROPPED] = (
            f"« {referral.to_structure} » a annulé la session de « {action.name} » où {short_name(person)} "
            "avait une place : l'orientation est close. Voyez avec la personne une autre session ou une autre action."
        )
    return f"Bonjour,\n\n{lines[to_status]}\n\nDétail : {links.detail_url(referral, base_url)}\n{SIGNATURE}"


def _provider_body(referral, to_status, base_url):
    """The sending side moved the referral: the provider is told (no reason in the mail)."""
    person, action = referral.person, referral.action
    lines = {
        S.STARTED: f"Le référent indique que {short_name(person)} a commencé l'action « {action.name} ».",
        S.COMPLETED: f"Le référent indique que {short_name(person)} a terminé l'action « {action.name} ».",
        S.DROPPED: f"Le référent indique que {short_name(person)} ne suivra pas ou plus l'action « {action.name} ».",
        S.EXPIRED: f"La demande d'orientation de {short_name(person)} vers « {action.name} » a expiré "
                   "faute de réponse dans le délai. Elle n'est plus à traiter.",
        S.CANCELLED: f"L'orientation de {short_name(person)} vers « {action.name} » a été annulée par "
                     f"« {referral.from_structure} ». Elle n'est plus à traiter.",
    }
    return f"Bonjour,\n\n{lines[to_status]}\n{SIGNATURE}"


def _provider_receipt(referral, to_status, base_url):
    """The provider answered through its link: a receipt with the next link (the used one is dead)."""
    return (
        f"Bonjour,\n\nVotre réponse pour l'orientation de {short_name(referral.person)} vers "
        f"« {referral.action.name} » est enregistrée : {ANSWER_SUBJECTS[to_status]}.\n\n"
        "Pour indiquer la suite (entrée dans l'action, fin, abandon), utilisez ce nouveau lien, valable "
        f"jusqu'au {_datetime(referral.link_expires_at)} :\n{links.answer_url(referral, base_url)}\n"
        "Ne transférez pas ce lien : il donne accès aux informations de la demande.\n"
        + SIGNATURE
    )


SESSION_CANCELLED_PREFIX = "Session annulée par la structure"  # set by services.actions.cancel_session


def _session_cancelled(referral):
    return (referral.status_text or "").startswith(SESSION_CANCELLED_PREFIX)


def _person_text(referral, to_status):
    action = referral.action
    if to_status == S.DROPPED and _session_cancelled(referral):
        return (
            f"La session de l'action « {action.name} » où vous aviez une place est annulée par "
            f"« {referral.to_structure} ». Votre référent(e) va voir avec vous une autre date ou une autre action.\n"
        )
    if to_status == S.ACCEPTED:
        text = f"Bonne nouvelle : « {referral.to_structure} » a accepté votre participation à « {action.name} ».\n"
        text += f"Où : {where(action, referral.session)}.\n"
        if when(referral):
            text += f"Quand : {when(referral)}.\n"
        return text + who_calls(referral) + "\n"
    if to_status == S.REFUSED:
        return (
            f"« {referral.to_structure} » ne peut pas vous accueillir dans l'action « {action.name} ». "
            "Votre référent(e) va voir avec vous une autre solution.\n"
        )
    if to_status == S.EXPIRED:
        return (
            f"La demande pour l'action « {action.name} » n'a pas reçu de réponse. "
            "Votre référent(e) va voir avec vous une autre solution.\n"
        )
    if to_status == S.CANCELLED:
        return f"La demande pour l'action « {action.name} » est annulée. Votre référent(e) vous en parlera.\n"
    return ""


def referral_moved(referral, to_status, *, actor, via_link=False, next_link=False, base_url=None):
    """At each step: the sender on every answer of the provider (or the system), the provider when
    the sending side moves it, and the person for the steps that change what they will do."""
    from .workflows import PROVIDER, SENDER, SYSTEM

    subject = f"SPIE — orientation de {short_name(referral.person)} {ANSWER_SUBJECTS[to_status]}"
    messages = []
    if actor in (PROVIDER, SYSTEM):
        messages += [(subject, _sender_body(referral, to_status, base_url), e) for e in sender_emails(referral)]
    if actor in (SENDER, SYSTEM) and to_status in (S.STARTED, S.COMPLETED, S.DROPPED, S.EXPIRED, S.CANCELLED):
        messages += [(subject, _provider_body(referral, to_status, base_url), e) for e in provider_emails(referral)]
    if actor == PROVIDER and via_link and next_link:
        messages += [(subject, _provider_receipt(referral, to_status, base_url), e) for e in provider_emails(referral)]
    person = referral.person
    text = _person_text(referral, to_status)
    if person.email and text:
        messages.append((f"Votre demande pour l'action « {referral.action.name} »", _greeting(person) + text
                         + SIGNATURE, person.email))
    send_after_commit(messages)


def link_renewed(referral, *, base_url=None):
    """The provider receives the new link (the older ones no longer work)."""
    subject = f"SPIE — nouveau lien pour l'orientation de {short_name(referral.person)}"
    body = (
        f"Bonjour,\n\nUn nouveau lien a été créé pour l'orientation de {short_name(referral.person)} vers "
        f"« {referral.action.name} ». Les liens précédents ne fonctionnent plus.\n\n"
        + _provider_block(referral, base_url) + SIGNATURE
    )
    send_after_commit([(subject, body, e) for e in provider_emails(referral)])


def reminder(referral, *, base_url=None):
    """No answer yet: the provider gets a fresh link, the sender is told the reminder went."""
    person, action = referral.person, referral.action
    days = (timezone.now() - referral.sent_at).days
    subject = f"SPIE — relance : orientation de {short_name(person)} vers « {action.name} »"
    provider_body = (
        f"Bonjour,\n\nL'orientation de {short_name(person)} vers votre action « {action.name} », envoyée le "
        f"{_date(timezone.localtime(referral.sent_at).date())} par {referral.sent_by} ({referral.from_structure}), "
        f"attend toujours votre réponse ({days} jours).\n\n"
        + _provider_block(referral, base_url) + SIGNATURE
    )
    sender_body = (
        f"Bonjour,\n\n« {referral.to_structure} » n'a pas encore répondu à l'orientation de {short_name(person)} "
        f"vers « {action.name} » (envoyée il y a {days} jours). Une relance lui a été envoyée.\n\n"
        f"Détail : {links.detail_url(referral, base_url)}\n{SIGNATURE}"
    )
    messages = [(subject, provider_body, e) for e in provider_emails(referral)]
    messages += [(subject, sender_body, e) for e in sender_emails(referral)]
    send_after_commit(messages)


def renewal_requested(referral, *, base_url=None):
    """The provider's link has expired and it asks for a new one: the sender may renew it."""
    subject = f"SPIE — la structure demande un nouveau lien ({short_name(referral.person)})"
    body = (
        f"Bonjour,\n\n« {referral.to_structure} » souhaite répondre à l'orientation de {short_name(referral.person)} "
        f"vers « {referral.action.name} », mais son lien a expiré.\n"
        f"Envoyez-lui un nouveau lien depuis la page de l'orientation : {links.detail_url(referral, base_url)}\n"
        f"{SIGNATURE}"
    )
    send_after_commit([(subject, body, e) for e in sender_emails(referral)])
