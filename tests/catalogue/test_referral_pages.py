"""Pages of referrals: the sending form, the lists of my structure and their exports (with the
access log), a referral's page for each side, answers from the provider's space, the signed-link
page without an account (with its access-log row), outsiders refused, and constant query counts."""

import datetime
import re
from html import unescape

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from spie.catalogue import links, workflows
from spie.catalogue.models import Referral, ReferralStatus
from spie.catalogue.services import referrals as services
from spie.core.models import AccessLog
from spie.followup.models import PlanObjective
from spie.pathways.models import EngagementContract
from tests.conftest import login_client
from tests.pathways.conftest import HEALTH_SECRET, PERSON_EMAIL

from .factories import ActionFactory, ActionSessionFactory
from .test_referrals import MOTIVATION, factory_referral, send

S = ReferralStatus


def html_of(response):
    return unescape(response.content.decode())


def text_of(response):
    return " ".join(strip_tags(html_of(response)).split())


def new_url(action, person=None, session=None):
    url = reverse("catalogue:referral_new", args=[action.uid])
    params = []
    if person is not None:
        params.append(f"personne={person.pk}")
    if session is not None:
        params.append(f"session={session.pk}")
    return url + ("?" + "&".join(params) if params else "")


def detail_url(referral):
    return reverse("catalogue:referral_detail", args=[referral.uid])


def answer_url(referral):
    return reverse("catalogue:referral_answer", args=[links.make_token(referral)])


# --- Sending form -------------------------------------------------------------------------------------


def test_form_for_the_referent_offers_sessions_health_sharing_and_plan(world, provider):
    person, action = world["person"], provider["action"]
    session = ActionSessionFactory(action=action, capacity=4, label="Session de printemps")
    ActionSessionFactory(action=action, capacity=1, places_taken=1, label="Session pleine")
    PlanObjective.objects.create(person=person, label="Retrouver confiance", created_by=world["referent"],
                                 structure=world["ref_structure"])
    response = login_client(world["referent"]).get(new_url(action, person, session))
    html = html_of(response)
    assert response.status_code == 200
    assert "Session de printemps" in html and "Session pleine" not in html
    assert f'<option value="{session.pk}" selected>' in html
    assert 'name="consent"' in html and 'name="share_health"' in html and "Retrouver confiance" in html
    assert "aucune information de santé" in html
    row = AccessLog.objects.order_by("-id").first()
    assert (row.user, row.person, row.section) == (world["referent"], person, AccessLog.Section.REFERRAL)


def test_form_hides_health_sharing_from_who_cannot_see_health(world, provider):
    html = html_of(login_client(world["member"]).get(new_url(provider["action"], world["person"])))
    assert 'name="consent"' in html and 'name="share_health"' not in html and 'name="health_info"' not in html


@pytest.mark.parametrize("who, expected", [("outsider", 403), ("coordinator", 403), ("colleague", 403),
                                           ("gers_officer", 404), ("officer", 200)])
def test_form_policy(world, provider, who, expected):
    assert login_client(world[who]).get(new_url(provider["action"], world["person"])).status_code == expected


def test_without_a_person_the_form_asks_whom_to_refer(world, provider):
    html = html_of(login_client(world["referent"]).get(new_url(provider["action"])))
    assert f'<option value="{world["person"].pk}">DUPUIS Camille</option>' in html


def test_a_draft_action_has_no_form(world, provider):
    draft = ActionFactory(territory=world["territory"], structure=provider["structure"], draft=True)
    assert login_client(world["referent"]).get(new_url(draft, world["person"])).status_code == 404


def test_posting_without_consent_keeps_the_input_and_says_why(world, provider):
    client = login_client(world["referent"])
    response = client.post(new_url(provider["action"], world["person"]), {
        "motivation": "Mon texte à garder", "preferred_contact": "phone",
    })
    html = html_of(response)
    assert response.status_code == 400
    assert "L'accord de la personne est obligatoire" in html and "Mon texte à garder" in html
    assert not Referral.objects.exists()


def test_posting_sends_the_referral(world, provider, django_capture_on_commit_callbacks):
    person, action = world["person"], provider["action"]
    session = ActionSessionFactory(action=action, capacity=4)
    client = login_client(world["referent"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(new_url(action, person), {
            "session": session.pk, "consent": "on", "motivation": MOTIVATION, "availability": "Les après-midi",
            "preferred_contact": "email", "provider_info": "", "share_health": "on", "health_info": HEALTH_SECRET,
        })
    referral = Referral.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(referral)
    assert (referral.session, referral.preferred_contact, referral.health_info) == (session, "email", HEALTH_SECRET)
    assert "accueil@former31.example" in {m.to[0] for m in mail.outbox}
    assert all("http://testserver/catalogue/reponse/" in m.body for m in mail.outbox
               if m.to[0] == "accueil@former31.example")
    again = client.post(new_url(action, person), {"consent": "on", "motivation": "x", "preferred_contact": "phone"})
    assert again.status_code == 400 and "déjà en cours" in html_of(again)


# --- Lists and exports ----------------------------------------------------------------------------------


def test_sent_and_received_lists_with_status_filter(world, provider):
    referral = send(world, provider)
    other = ActionFactory(territory=world["territory"], structure=provider["structure"], name="Visite d'entreprise")
    refused = send(world, provider, action=other)
    services.move(refused, S.REFUSED, actor=workflows.PROVIDER, by=provider["admin"], reason="full")
    sent = html_of(login_client(world["colleague"]).get(reverse("catalogue:referrals_sent")))
    assert "Camille D." in sent and "Atelier confiance en soi" in sent and "Visite d'entreprise" in sent
    assert detail_url(referral) in sent and "en attente depuis 0 j" in sent
    received = login_client(provider["referent"]).get(reverse("catalogue:referrals_received") + "?statut=refused")
    html = html_of(received)
    assert "Visite d'entreprise" in html and "Atelier confiance en soi" not in html
    assert "Dupuis" not in html  # the short name only
    none = html_of(login_client(world["outsider"]).get(reverse("catalogue:referrals_received")))
    assert "Aucune orientation" in none


def test_coordinators_see_no_nominative_list(world, provider):
    client = login_client(world["coordinator"])
    assert client.get(reverse("catalogue:referrals_sent")).status_code == 403
    assert client.get(reverse("catalogue:referrals_received")).status_code == 403


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_log_the_persons_named(world, provider, fmt):
    send(world, provider)
    client = login_client(provider["admin"])
    before = AccessLog.objects.count()
    response = client.get(reverse("catalogue:referrals_received") + f"?format={fmt}")
    body = b"".join(response.streaming_content) if response.streaming else response.getvalue()
    assert response.status_code == 200
    if fmt == "csv":
        text = body.decode("utf-8-sig")
        assert text.startswith("Envoyée le;Personne;Action") and "Camille D." in text
        assert "Atelier confiance en soi" in text and MOTIVATION not in text
    else:
        assert body[:2] == b"PK"
    rows = AccessLog.objects.filter(section=AccessLog.Section.EXPORT).order_by("-id")
    assert AccessLog.objects.count() == before + 1
    assert (rows[0].user, rows[0].person, rows[0].structure) == (provider["admin"], world["person"],
                                                                  provider["structure"])


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("name, who", [("catalogue:referrals_sent", "referent"),
                                       ("catalogue:referrals_received", "provider_admin")])
def test_lists_have_a_constant_query_count(world, provider, name, who):
    from tests.people.factories import PersonFactory

    user = provider["admin"] if who == "provider_admin" else world["referent"]
    client = login_client(user)
    url = reverse(name)

    def add(n):
        for _ in range(n):
            person = PersonFactory(territory=world["territory"])
            action = ActionFactory(territory=world["territory"], structure=provider["structure"])
            session = ActionSessionFactory(action=action)
            Referral.objects.create(person=person, action=action, session=session,
                                    from_structure=world["ref_structure"], to_structure=provider["structure"],
                                    sent_by=world["referent"], consent=True, motivation="x")

    add(2)
    small = _count_queries(client, url)
    add(18)
    large = _count_queries(client, url)
    assert small == large


def test_record_page_query_count_does_not_grow_with_referrals(world, provider):
    client = login_client(world["referent"])
    url = reverse("people:record", args=[world["person"].pk])
    factory_referral(world, provider["action"])
    small = _count_queries(client, url)
    for _ in range(15):
        factory_referral(world, ActionFactory(territory=world["territory"], structure=provider["structure"]))
    assert _count_queries(client, url) == small


# --- A referral's page, each side -------------------------------------------------------------------------


def test_sender_side_sees_everything_and_the_read_is_logged(world, provider):
    referral = send(world, provider, share_health=True, health_info=HEALTH_SECRET)
    response = login_client(world["referent"]).get(detail_url(referral))
    html = html_of(response)
    assert response.status_code == 200
    assert MOTIVATION in html and HEALTH_SECRET in html and PERSON_EMAIL in html
    assert reverse("people:record", args=[world["person"].pk]) in html
    assert "Annuler l'orientation" in html and "Accepter" not in html
    row = AccessLog.objects.order_by("-id").first()
    assert (row.user, row.section, row.structure) == (world["referent"], AccessLog.Section.REFERRAL,
                                                      world["ref_structure"])


def test_a_sender_without_health_right_does_not_see_the_shared_health_detail(world, provider):
    referral = send(world, provider, share_health=True, health_info=HEALTH_SECRET)
    html = html_of(login_client(world["member"]).get(detail_url(referral)))
    assert MOTIVATION in html and HEALTH_SECRET not in html and "section restreinte" in html
    # A colleague of the sender who may not open the record is not on the sending side.
    assert login_client(world["colleague"]).get(detail_url(referral)).status_code == 403


def test_provider_side_sees_only_what_the_referral_carries(world, provider):
    person = world["person"]
    person.phone = "06 12 34 56 78"
    person.save()
    referral = send(world, provider, share_health=True, health_info=HEALTH_SECRET)
    response = login_client(provider["referent"]).get(detail_url(referral))
    html = html_of(response)
    assert response.status_code == 200
    assert "Camille D." in html and "Dupuis" not in html and "DUPUIS" not in html
    assert "06 12 34 56 78" in html and PERSON_EMAIL not in html  # preferred contact: phone
    assert MOTIVATION in html and HEALTH_SECRET in html
    assert reverse("people:record", args=[person.pk]) not in html
    assert "Accepter" in html and "Refuser" in html
    row = AccessLog.objects.order_by("-id").first()
    assert (row.user, row.person, row.section, row.structure, row.channel) == (
        provider["referent"], person, AccessLog.Section.REFERRAL, provider["structure"], AccessLog.Channel.PAGE)


def test_provider_side_without_shared_health_sees_none(world, provider):
    referral = send(world, provider)
    html = html_of(login_client(provider["admin"]).get(detail_url(referral)))
    assert HEALTH_SECRET not in html and "Information de santé partagée" not in html


@pytest.mark.parametrize("who, expected", [("outsider", 403), ("coordinator", 403), ("gers_officer", 403),
                                           ("member", 200), ("colleague", 403), ("officer", 200)])
def test_referral_page_policy(world, provider, who, expected):
    referral = send(world, provider)
    before = AccessLog.objects.count()
    assert login_client(world[who]).get(detail_url(referral)).status_code == expected
    assert AccessLog.objects.count() == before + (1 if expected == 200 else 0)


def test_outsider_cannot_move_or_renew(world, provider):
    referral = send(world, provider)
    client = login_client(world["outsider"])
    move = client.post(reverse("catalogue:referral_move", args=[referral.uid]), {"statut": "cancelled",
                                                                                  "cancelled-reason": "x"})
    renew = client.post(reverse("catalogue:referral_renew", args=[referral.uid]))
    assert (move.status_code, renew.status_code) == (403, 403)
    referral.refresh_from_db()
    assert (referral.status, referral.link_version) == (S.SENT, 1)


def test_provider_answers_from_its_space(world, provider, django_capture_on_commit_callbacks):
    session = ActionSessionFactory(action=provider["action"], capacity=3)
    referral = send(world, provider)
    client = login_client(provider["referent"])
    url = reverse("catalogue:referral_move", args=[referral.uid])
    refused = client.post(url, {"statut": "refused", "refused-reason": "", "refused-text": "Texte gardé"})
    assert refused.status_code == 400
    assert "Choisissez le motif du refus dans la liste." in html_of(refused) and "Texte gardé" in html_of(refused)
    with django_capture_on_commit_callbacks(execute=True):
        accepted = client.post(url, {"statut": "accepted", "accepted-session": session.pk})
    assert accepted.status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.session, referral.answered_by) == (S.ACCEPTED, session, provider["referent"])
    assert "rose@tremplin.example" in {m.to[0] for m in mail.outbox}
    started = client.post(url, {"statut": "started", "started-on": ""})
    assert started.status_code == 302
    referral.refresh_from_db()
    assert referral.status == S.STARTED and referral.started_on == timezone.localdate()


def test_a_step_not_allowed_to_the_side_is_refused(world, provider):
    referral = send(world, provider)
    response = login_client(world["referent"]).post(reverse("catalogue:referral_move", args=[referral.uid]),
                                                     {"statut": "accepted"})
    assert response.status_code == 400 and "Cette étape n'est pas possible" in html_of(response)
    referral.refresh_from_db()
    assert referral.status == S.SENT


def test_full_session_error_comes_back_on_the_form(world, provider):
    session = ActionSessionFactory(action=provider["action"], capacity=1)
    referral = send(world, provider, session=session)
    type(session).objects.filter(pk=session.pk).update(places_taken=1)  # filled up meanwhile
    response = login_client(provider["admin"]).post(reverse("catalogue:referral_move", args=[referral.uid]),
                                                    {"statut": "accepted"})
    assert response.status_code == 400 and "complète" in html_of(response)


def test_sender_renews_the_link_from_the_page(world, provider, django_capture_on_commit_callbacks):
    referral = send(world, provider)
    with django_capture_on_commit_callbacks(execute=True):
        response = login_client(world["referent"]).post(reverse("catalogue:referral_renew", args=[referral.uid]))
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.link_version == 2
    assert any("http://testserver/catalogue/reponse/" in m.body for m in mail.outbox)


# --- The signed-link page ----------------------------------------------------------------------------------


def test_link_page_without_login_shows_the_referral_and_logs_the_read(world, provider):
    referral = send(world, provider, share_health=True, health_info=HEALTH_SECRET)
    token = links.make_token(referral)
    response = Client().get(reverse("catalogue:referral_answer", args=[token]))
    html = html_of(response)
    assert response.status_code == 200
    assert "Camille D." in html and "Dupuis" not in html and MOTIVATION in html
    # Shared health detail is read in the provider's space, never through the e-mailed link.
    assert HEALTH_SECRET not in html and "ne s'affiche pas par ce lien" in html
    assert "Accepter" in html and "Refuser" in html
    assert (response["Cache-Control"], response["Referrer-Policy"]) == ("no-store", "same-origin")
    row = AccessLog.objects.order_by("-id").first()
    assert (row.user, row.structure, row.person, row.section, row.channel) == (
        None, provider["structure"], world["person"], AccessLog.Section.REFERRAL, AccessLog.Channel.LINK)
    assert token not in row.path


def test_link_answer_without_login_with_csrf(world, provider, django_capture_on_commit_callbacks):
    referral = send(world, provider)
    url = answer_url(referral)
    client = Client(enforce_csrf_checks=True)
    assert client.post(url, {"statut": "accepted"}).status_code == 403  # no CSRF token
    client.get(url)
    csrf = client.cookies["csrftoken"].value
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"statut": "accepted", "csrfmiddlewaretoken": csrf,
                                     "accepted-start_date": (timezone.localdate() + datetime.timedelta(3)).isoformat()})
    assert response.status_code == 200 and "votre réponse est enregistrée" in html_of(response)
    referral.refresh_from_db()
    assert referral.status == S.ACCEPTED and referral.answered_via_link and referral.answered_by is None
    assert referral.transitions.last().via_link
    provider_mails = [m for m in mail.outbox if m.to[0] == "accueil@former31.example"]
    # The next link: a token opening this referral at its new version (a token carries a timestamp,
    # so it is read back rather than compared with a freshly made one).
    tokens = re.findall(r"/catalogue/reponse/([^/\s]+)/", provider_mails[-1].body) if provider_mails else []
    assert tokens and links.read_token(tokens[-1]) == referral
    again = client.post(url, {"statut": "started", "csrfmiddlewaretoken": csrf})
    assert again.status_code == 404 and "Ce lien ne fonctionne pas" in html_of(again)


def test_link_refusal_needs_its_reason(world, provider):
    referral = send(world, provider)
    url = answer_url(referral)
    response = Client().post(url, {"statut": "refused", "refused-reason": "nope"})
    assert response.status_code == 400 and "Choisissez le motif du refus" in html_of(response)
    refused = Client().post(url, {"statut": "refused", "refused-reason": "out_of_zone"})
    assert refused.status_code == 200
    referral.refresh_from_db()
    assert (referral.status, referral.refusal_reason) == (S.REFUSED, "out_of_zone")


def test_expired_link_offers_to_ask_for_a_new_one(world, provider, django_capture_on_commit_callbacks):
    referral = send(world, provider)
    token = links.make_token(referral)
    Referral.objects.filter(pk=referral.pk).update(link_expires_at=timezone.now() - datetime.timedelta(hours=1))
    before = AccessLog.objects.count()
    response = Client().get(reverse("catalogue:referral_answer", args=[token]))
    html = html_of(response)
    assert response.status_code == 410 and "Ce lien a expiré" in html and "Demander un nouveau lien" in html
    assert MOTIVATION not in html and "Camille" not in html
    assert AccessLog.objects.count() == before
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        asked = Client().post(reverse("catalogue:referral_answer_renew", args=[token]))
    assert asked.status_code == 200 and "Demande envoyée" in html_of(asked)
    assert [m.to[0] for m in mail.outbox] == ["rose@tremplin.example"]
    assert detail_url(referral) in mail.outbox[0].body


def test_tampered_link_page(world, provider):
    referral = send(world, provider)
    token = links.make_token(referral)
    response = Client().get(reverse("catalogue:referral_answer", args=[token[:-3] + "xyz"]))
    assert response.status_code == 404 and "Ce lien ne fonctionne pas" in html_of(response)
    renew = Client().post(reverse("catalogue:referral_answer_renew", args=["abc"]))
    assert renew.status_code == 404


# --- Record, contract, plan ------------------------------------------------------------------------------------


def test_record_contract_and_plan_show_referrals_and_hours(world, provider):
    objective = PlanObjective.objects.create(person=world["person"], label="Retrouver confiance",
                                             created_by=world["referent"], structure=world["ref_structure"])
    referral = send(world, provider, plan_objective=objective)
    services.move(referral, S.ACCEPTED, actor=workflows.PROVIDER, by=provider["admin"])
    client = login_client(world["referent"])
    pk = world["person"].pk
    response = client.get(reverse("people:record", args=[pk]))
    record = html_of(response)
    assert "Orientations vers des actions" in record and "Atelier confiance en soi" in record
    assert "Heures d'activité par semaine des actions acceptées : 3 h sur 15 h" in text_of(response)
    assert detail_url(referral) in record
    EngagementContract.objects.create(person=world["person"], version=1, status=EngagementContract.Status.SIGNED,
                                      weekly_hours=10, referent=world["referent"], structure=world["ref_structure"],
                                      created_by=world["referent"])
    contract = text_of(client.get(reverse("pathways:contract", args=[pk])))
    assert "actions acceptées : 3 h sur 10 h" in contract
    plan = html_of(client.get(reverse("followup:plan", args=[pk])))
    assert "Actions du plan portées par une orientation" in plan and "Acceptée" in plan


def test_record_hides_referrals_from_who_cannot_open_it(world, provider):
    send(world, provider)
    html = html_of(login_client(world["outsider"]).get(reverse("people:record", args=[world["person"].pk])))
    assert "Orientations vers des actions" not in html


def test_a_coordinator_of_the_sending_structure_never_sees_nor_moves_the_referral(world, provider):
    """The département's chargé d'orientation refers; the département's coordinator gets nothing."""
    referral = send(world, provider, user="officer")
    client = login_client(world["coordinator"])
    assert client.get(reverse("catalogue:referral_detail", args=[referral.uid])).status_code == 403
    response = client.post(reverse("catalogue:referral_move", args=[referral.uid]),
                           {"status": "cancelled", "reason": "test"})
    assert response.status_code == 403
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT
