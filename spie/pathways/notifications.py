"""E-mails of the orientation workflow, in French, sent once the transaction commits.

What an e-mail may hold (DESIGN.md §5, need to know): the person's first name and initial,
the structure and the référent chosen, a link to the platform. Never a reason, a barrier,
an orientation type or anything about health or situation: those are read on the platform,
behind its policies and its access log. The person receives plain-language messages.
"""

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from spie.core.mail import SIGNATURE, send_after_commit
from spie.network.models import Membership


def short_name(person):
    """First name and initial ("Camille M."): enough to recognise, little to leak."""
    initial = (person.last_name or "").strip()[:1].upper()
    return f"{person.first_name} {initial}." if initial else person.first_name


def orientation_officers_emails(territory):
    today = timezone.localdate()
    return sorted(
        set(
            Membership.objects.filter(
                Q(end_date__isnull=True) | Q(end_date__gte=today),
                role=Membership.Role.ORIENTATION,
                is_active=True,
                start_date__lte=today,
                structure__territory=territory,
                structure__is_active=True,
                user__is_active=True,
            )
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )


def _person_greeting(person):
    return f"Bonjour {person.first_name},\n\n"


def proposal_received(orientation, *, pending_count, base_url=""):
    """To the chargés d'orientation of the territory (a count and a link), and to the person."""
    from .models import Orientation

    person = orientation.person
    is_reorientation = orientation.kind == Orientation.Kind.REORIENTATION
    what = "demande de réorientation" if is_reorientation else "demande d'orientation"
    link = base_url + reverse("pathways:queue")
    subject = f"SPIE — une nouvelle {what} à traiter"
    body = (
        f"Bonjour,\n\nUne nouvelle {what} ({short_name(person)}) attend une décision.\n"
        f"Demandes en attente sur le territoire : {pending_count}.\n\n"
        f"File des orientations : {link}\n"
        f"{SIGNATURE}"
    )
    messages = [(subject, body, email) for email in orientation_officers_emails(person.territory)]
    if person.email:
        if is_reorientation:
            text = (
                "Votre référent(e) a demandé un changement d'accompagnement pour vous. "
                "Le Département va étudier cette demande et vous écrira pour vous donner sa réponse.\n"
            )
        else:
            text = (
                "Votre dossier a été transmis au Département. Il va décider quelle structure vous "
                "accompagnera dans votre parcours, et qui sera votre référent(e). "
                "Vous recevrez un courriel quand la décision sera prise.\n"
            )
        messages.append(("Votre accompagnement : votre dossier est à l'étude",
                         _person_greeting(person) + text + SIGNATURE, person.email))
    send_after_commit(messages)


def orientation_decided(orientation, *, base_url=""):
    """To the new référent, the author of the proposal, and the person."""
    person = orientation.person
    referent = orientation.decided_referent
    structure = orientation.decided_structure
    link = base_url + reverse("pathways:orientations", args=[person.pk])
    subject = f"SPIE — orientation décidée pour {short_name(person)}"
    messages = []
    if referent and referent.email:
        messages.append((
            subject,
            (
                f"Bonjour,\n\nVous êtes désigné(e) référent(e) unique de {short_name(person)} "
                f"pour la structure « {structure} ».\n"
                "Prenez contact avec la personne et établissez avec elle son contrat d'engagement "
                "(délai cible : 30 jours).\n\n"
                f"Dossier : {link}\n{SIGNATURE}"
            ),
            referent.email,
        ))
    proposer = orientation.proposed_by
    if proposer and proposer.email:
        messages.append((
            subject,
            (
                f"Bonjour,\n\nLa demande que vous avez faite pour {short_name(person)} a été décidée.\n"
                f"Structure d'accompagnement : {structure}. Référent(e) unique : {referent}.\n\n"
                f"Détail : {link}\n{SIGNATURE}"
            ),
            proposer.email,
        ))
    if person.email:
        messages.append((
            "Votre accompagnement : la décision est prise",
            _person_greeting(person)
            + (
                f"La décision est prise : vous serez accompagné(e) par « {structure} ».\n"
                f"Votre référent(e) sera {referent}. Il ou elle vous contactera bientôt pour faire "
                "le point avec vous et préparer ensemble votre contrat d'engagement.\n"
            )
            + SIGNATURE,
            person.email,
        ))
    send_after_commit(messages)


def reorientation_refused(orientation, *, current_referent=None, base_url=""):
    """To the author of the request, the current référent, and the person (no reason in the mail)."""
    person = orientation.person
    link = base_url + reverse("pathways:orientations", args=[person.pk])
    subject = f"SPIE — demande de réorientation refusée pour {short_name(person)}"
    body = (
        f"Bonjour,\n\nLa demande de réorientation pour {short_name(person)} a été refusée.\n"
        f"Le motif est indiqué sur la plateforme : {link}\n{SIGNATURE}"
    )
    messages = []
    for user in (orientation.proposed_by, current_referent):
        if user is not None and user.email:
            messages.append((subject, body, user.email))
    if person.email:
        who = f" avec {current_referent}" if current_referent else ""
        messages.append((
            "Votre accompagnement : réponse à la demande de changement",
            _person_greeting(person)
            + (
                "La demande de changement d'accompagnement n'a pas été acceptée. "
                f"Votre accompagnement continue{who}, qui pourra vous expliquer cette réponse.\n"
            )
            + SIGNATURE,
            person.email,
        ))
    send_after_commit(messages)
