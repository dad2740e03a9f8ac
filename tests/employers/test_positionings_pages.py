"""Pages of positionings ("mises en relation"): proposing with and without consent, the company's
answers in its space and through the signed link (expired and replaced links included), hired
→ job + checkpoints + opening filled, a company's request from an anonymous profile answered or
declined by the référent, the lists (tabs, pagination, constant queries, exports), and 403 for
the wrong side and coordinators. No last name ever reaches the company."""

import datetime

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from spie.core.models import AccessLog
from spie.employers import anonymous, links
from spie.employers.models import JobOpening, OpeningStatus, Positioning, Proposal
from spie.employers.services import positionings as services
from spie.followup.models import Checkpoint, Employment
from tests.conftest import login_client
from tests.pathways import conftest as pathways_conftest
from tests.pathways.conftest import membership_of
from tests.people.factories import PersonFactory, add_to_group

from .factories import JobOpeningFactory, company_with_account, profile_for

_media_root = pathways_conftest._media_root
world = pathways_conftest.world

LAST_NAME = "Dupuis"


@pytest.fixture
def pw(world):
    company, company_user = company_with_account(territory=world["territory"], name="Brasserie du Canal")
    company_user.email = "rh@brasserie.example"
    company_user.save()
    other_company, other_user = company_with_account(territory=world["territory"], name="Garage Martin")
    opening = JobOpeningFactory(company=company, title="Commis de cuisine", positions=1)
    Proposal.objects.create(person=world["person"], opening=opening, score=0.77,
                            reasons=[{"signal": "rome", "label": "Métier", "text": "Métier recherché", "value": 1}])
    return {**world, "company": company, "company_user": company_user, "other_user": other_user,
            "opening": opening}


def new_url(w, **extra):
    url = reverse("employers:positioning_new", args=[w["opening"].uid]) + f"?personne={w['person'].pk}"
    return url + "".join(f"&{k}={v}" for k, v in extra.items())


def detail_url(p):
    return reverse("employers:positioning_detail", args=[p.uid])


def propose(w, capture):
    with capture(execute=True):
        return services.propose(w["person"], w["opening"], by=w["referent"], membership=membership_of(w["referent"]),
                                consent=True, message="Motivée, disponible tout de suite.")


def test_new_page(pw):
    client = login_client(pw["referent"])
    response = client.get(new_url(pw))
    assert response.status_code == 200
    html = response.content.decode()
    assert "La personne est d&#x27;accord pour que son profil soit transmis à l&#x27;entreprise" in html
    assert "Commis de cuisine" in html and "77 %" in html and "Métier recherché" in html
    assert "style=" not in html and "<script>" not in html
    assert AccessLog.objects.filter(person=pw["person"], user=pw["referent"], section=AccessLog.Section.JOBS).exists()


def test_propose_without_consent_keeps_the_message(pw):
    client = login_client(pw["referent"])
    response = client.post(new_url(pw), {"message": "Mon message soigné"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Recueillez l&#x27;accord de la personne" in html and "Mon message soigné" in html
    assert not Positioning.objects.exists()


def test_propose_with_consent(pw, django_capture_on_commit_callbacks):
    client = login_client(pw["referent"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(new_url(pw), {"consent": "on", "message": "Motivée"})
    positioning = Positioning.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(positioning)
    assert positioning.status == "proposed" and positioning.proposal_score == pytest.approx(0.77)
    company_mails = [m for m in mail.outbox if m.to == ["rh@brasserie.example"]]
    assert len(company_mails) == 1
    body = company_mails[0].body
    assert "http://testserver/emploi/reponse/" in body and "Camille D." in body and LAST_NAME not in body
    assert "http://testserver" + detail_url(positioning) in body  # the company's space
    # A second proposal of the same pair is refused, nothing lost.
    response = client.post(new_url(pw), {"consent": "on", "message": "Encore"})
    assert response.status_code == 400 and "déjà en cours" in response.content.decode()


@pytest.mark.parametrize("who", ["outsider", "coordinator", "company_user"])
def test_new_page_denied(pw, who):
    assert login_client(pw[who]).get(new_url(pw)).status_code == 403


def test_new_page_other_territory_is_404(pw):
    assert login_client(pw["gers_officer"]).get(new_url(pw)).status_code in (403, 404)


def test_detail_each_side(pw, django_capture_on_commit_callbacks):
    positioning = propose(pw, django_capture_on_commit_callbacks)
    html = login_client(pw["referent"]).get(detail_url(positioning)).content.decode()
    assert "Camille Dupuis" in html and "Retirer la candidature" in html and "Enregistrer la réponse" not in html
    assert AccessLog.objects.filter(person=pw["person"], user=pw["referent"], reason="mise en relation").exists()
    before = AccessLog.objects.count()
    response = login_client(pw["company_user"]).get(detail_url(positioning))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Camille D." in html and LAST_NAME not in html and "Enregistrer la réponse" in html
    assert "Motivée, disponible tout de suite." in html and "rose@tremplin.example" in html
    assert "Retirer" not in html
    # The company's read of the positioning is logged too (the person sees who read about her).
    assert AccessLog.objects.count() == before + 1
    log = AccessLog.objects.filter(person=pw["person"], user=pw["company_user"]).get()
    assert log.section == AccessLog.Section.JOBS and log.reason == "mise en relation (entreprise)"
    for who in ("outsider", "coordinator", "other_user", "gers_officer"):
        assert login_client(pw[who]).get(detail_url(positioning)).status_code == 403, who
    assert login_client(pw["referent"]).get(reverse("employers:positioning_detail",
                                                    args=["00000000-0000-0000-0000-000000000000"])).status_code == 404


def test_wrong_side_posts_are_403(pw, django_capture_on_commit_callbacks):
    positioning = propose(pw, django_capture_on_commit_callbacks)
    referent, company = login_client(pw["referent"]), login_client(pw["company_user"])
    answer = reverse("employers:positioning_answer", args=[positioning.uid])
    assert referent.post(answer, {"status": "interested"}).status_code == 403
    assert company.post(reverse("employers:positioning_withdraw", args=[positioning.uid])).status_code == 403
    assert company.post(reverse("employers:positioning_decline", args=[positioning.uid])).status_code == 403
    assert login_client(pw["coordinator"]).post(answer, {"status": "interested"}).status_code == 403
    assert login_client(pw["other_user"]).post(answer, {"status": "interested"}).status_code == 403
    positioning.refresh_from_db()
    assert positioning.status == "proposed"


def test_company_answers_in_its_space_until_hired(pw, django_capture_on_commit_callbacks):
    positioning = propose(pw, django_capture_on_commit_callbacks)
    client = login_client(pw["company_user"])
    answer = reverse("employers:positioning_answer", args=[positioning.uid])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(answer, {"status": "interested", "comment": "Profil intéressant"}).status_code == 302
    assert "rose@tremplin.example" in {m.to[0] for m in mail.outbox}
    response = client.post(answer, {"status": "interview"})
    assert response.status_code == 400 and "Indiquez la date et l&#x27;heure de l&#x27;entretien" in \
        response.content.decode()
    when = (timezone.localtime() + datetime.timedelta(days=2)).strftime("%Y-%m-%dT10:00")
    assert client.post(answer, {"status": "interview", "interview_at": when}).status_code == 302
    too_late = (timezone.localdate() + datetime.timedelta(days=120)).isoformat()
    response = client.post(answer, {"status": "hired", "hired_on": too_late})
    assert response.status_code == 400 and "3 mois" in response.content.decode()
    assert client.post(answer, {"status": "hired", "hired_on": timezone.localdate().isoformat()}).status_code == 302
    positioning.refresh_from_db()
    assert positioning.status == "hired" and positioning.employment is not None
    assert Checkpoint.objects.filter(employment=positioning.employment).count() == 3
    assert Employment.objects.get().employer_name == "Brasserie du Canal"
    pw["opening"].refresh_from_db()
    assert pw["opening"].status == OpeningStatus.FILLED
    html = login_client(pw["referent"]).get(detail_url(positioning)).content.decode()
    assert "suivi dans l'emploi ouvert" in html and "Entretien prévu" in html
    # Nothing more to answer.
    assert client.post(answer, {"status": "refused", "refusal_reason": "profile"}).status_code == 400


def test_link_answer(pw, django_capture_on_commit_callbacks):
    positioning = propose(pw, django_capture_on_commit_callbacks)
    token = links.make_token(positioning)
    url = reverse("employers:positioning_link", args=[token])
    client = Client()
    response = client.get(url)
    assert response.status_code == 200
    assert response["Referrer-Policy"] == "same-origin" and response["Cache-Control"] == "no-store"
    html = response.content.decode()
    assert "Camille D." in html and LAST_NAME not in html and "Motivée" in html
    log = AccessLog.objects.filter(person=pw["person"], channel=AccessLog.Channel.LINK).get()
    assert log.user is None and token not in log.path
    # Interested through the link: the link keeps working.
    assert client.post(url, {"status": "interested"}).status_code == 200
    response = client.post(url, {"status": "refused"})
    assert response.status_code == 400 and "Choisissez le motif du refus" in response.content.decode()
    mail.outbox.clear()
    logged = AccessLog.objects.filter(person=pw["person"], channel=AccessLog.Channel.LINK).count()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"status": "refused", "refusal_reason": "experience", "comment": "Trop juste"})
    assert response.status_code == 200 and "ce lien ne fonctionne plus" in response.content.decode()
    # The page shown after the final answer (first name and initial) is logged as well.
    assert AccessLog.objects.filter(person=pw["person"], channel=AccessLog.Channel.LINK).count() == logged + 1
    assert token not in AccessLog.objects.filter(channel=AccessLog.Channel.LINK).latest("id").path
    positioning.refresh_from_db()
    assert positioning.status == "refused" and positioning.transitions.last().via_link
    assert "rose@tremplin.example" in {m.to[0] for m in mail.outbox}
    # A final answer kills the link.
    response = client.get(url)
    assert response.status_code == 404 and "pas valable" in response.content.decode()


def test_expired_and_replaced_links(pw, django_capture_on_commit_callbacks):
    positioning = propose(pw, django_capture_on_commit_callbacks)
    token = links.make_token(positioning)
    Positioning.objects.filter(pk=positioning.pk).update(link_expires_at=timezone.now() - datetime.timedelta(hours=1))
    client = Client()
    response = client.get(reverse("employers:positioning_link", args=[token]))
    assert response.status_code == 410 and "Demander un nouveau lien" in response.content.decode()
    assert client.post(reverse("employers:positioning_link", args=[token]), {"status": "interested"}).status_code == 410
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("employers:positioning_link_renew", args=[token]))
    assert response.status_code == 200 and "Demande envoyée" in response.content.decode()
    assert "rose@tremplin.example" in {m.to[0] for m in mail.outbox}
    # The référent sends a new link: the old one is dead, the new one works.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert login_client(pw["referent"]).post(
            reverse("employers:positioning_renew", args=[positioning.uid])).status_code == 302
    positioning.refresh_from_db()
    new_token = links.make_token(positioning)
    assert any(new_token in m.body for m in mail.outbox)
    assert client.get(reverse("employers:positioning_link", args=[token])).status_code == 404
    assert client.get(reverse("employers:positioning_link", args=[new_token])).status_code == 200
    assert client.get(reverse("employers:positioning_link", args=["garbage"])).status_code == 404
    assert Positioning.objects.get(pk=positioning.pk).status == "proposed"


def test_withdraw(pw, django_capture_on_commit_callbacks):
    positioning = propose(pw, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = login_client(pw["referent"]).post(
            reverse("employers:positioning_withdraw", args=[positioning.uid]), {"reason": "Plus disponible"})
    assert response.status_code == 302
    positioning.refresh_from_db()
    assert positioning.status == "withdrawn"
    body = next(m.body for m in mail.outbox if m.to == ["rh@brasserie.example"])
    assert "retirée" in body and "Plus disponible" not in body and LAST_NAME not in body
    html = login_client(pw["company_user"]).get(detail_url(positioning)).content.decode()
    assert "Plus disponible" not in html and "Enregistrer la réponse" not in html


def test_request_then_propose(pw, django_capture_on_commit_callbacks):
    profile_for(pw["person"], "G1602", visible_to_employers=True)
    company = login_client(pw["company_user"])
    request_url = reverse("employers:positioning_request", args=[pw["opening"].uid])
    response = company.post(request_url, {"profile": "forged"})
    assert response.status_code == 302 and not Positioning.objects.exists()
    token = anonymous.profile_token(pw["person"].pk, pw["opening"].pk)
    assert login_client(pw["other_user"]).post(request_url, {"profile": token}).status_code == 403
    assert login_client(pw["coordinator"]).post(request_url, {"profile": token}).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = company.post(request_url, {"profile": token})
    positioning = Positioning.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(positioning)
    assert positioning.status == "requested" and positioning.requested_by == pw["company_user"]
    assert [m.to for m in mail.outbox] == [["rose@tremplin.example"]]
    html = company.get(detail_url(positioning)).content.decode()
    assert "Profil n°" in html and "Camille" not in html
    referent = login_client(pw["referent"])
    html = referent.get(detail_url(positioning)).content.decode()
    assert "transmettre sa candidature" in html and "Décliner la demande" in html
    propose_url = new_url(pw, demande=positioning.uid)
    assert propose_url.replace("&", "&amp;") in html
    assert referent.get(propose_url).status_code == 200
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = referent.post(propose_url, {"consent": "on", "message": ""})
    assert response.status_code == 302
    positioning.refresh_from_db()
    assert positioning.status == "proposed" and positioning.structure == pw["ref_structure"]
    assert [t.to_status for t in positioning.transitions.all()] == ["requested", "proposed"]
    assert "rh@brasserie.example" in {m.to[0] for m in mail.outbox}
    html = company.get(detail_url(positioning)).content.decode()
    assert "Camille D." in html and LAST_NAME not in html


def test_decline_request(pw, django_capture_on_commit_callbacks):
    profile_for(pw["person"], "G1602", visible_to_employers=True)
    positioning = services.request_positioning(pw["opening"], pw["person"], by=pw["company_user"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = login_client(pw["referent"]).post(
            reverse("employers:positioning_decline", args=[positioning.uid]), {"reason": "Soucis de santé"})
    assert response.status_code == 302
    positioning.refresh_from_db()
    assert positioning.status == "declined"
    assert [m.to for m in mail.outbox] == [["rh@brasserie.example"]]
    body = mail.outbox[0].body
    assert "n'a pas donné suite" in body and "santé" not in body and "Camille" not in body
    html = login_client(pw["company_user"]).get(detail_url(positioning)).content.decode()
    assert "santé" not in html and "Camille" not in html


def _many(pw, n):
    membership = membership_of(pw["referent"])
    now = timezone.now()
    for i in range(n):
        opening = JobOpeningFactory(company=pw["company"], title=f"Plongeur {i}")
        Positioning.objects.create(person=pw["person"], opening=opening, status="proposed",
                                   structure=membership.structure, proposed_by=pw["referent"], consent=True,
                                   proposed_at=now, link_expires_at=now + datetime.timedelta(days=30))


@pytest.mark.parametrize("who", ["referent", "company_user"])
def test_list_pagination_and_constant_queries(pw, who):
    client = login_client(pw[who])
    url = reverse("employers:positionings")
    _many(pw, 3)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Camille D." in html and LAST_NAME not in html and "Plongeur 2" in html
    _many(pw, 30)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(many) == len(few)
    html = response.content.decode()
    assert "Page 1 sur 2" in html and "33 résultats" in html
    assert client.get(url + "?page=2").status_code == 200
    assert "Aucune mise en relation" in client.get(url + "?statut=hired").content.decode()


def test_list_tabs_and_denials(pw, django_capture_on_commit_callbacks):
    positioning = propose(pw, django_capture_on_commit_callbacks)
    client = login_client(pw["referent"])
    html = client.get(reverse("employers:positionings")).content.decode()
    assert "Envoyées par ma structure" in html and detail_url(positioning) in html
    html = client.get(reverse("employers:positionings") + "?onglet=recues").content.decode()
    assert detail_url(positioning) not in html  # the company has its own space, not followed by Rose's structure
    assert login_client(pw["coordinator"]).get(reverse("employers:positionings")).status_code == 403
    html = login_client(pw["other_user"]).get(reverse("employers:positionings")).content.decode()
    assert detail_url(positioning) not in html


def test_exports(pw, django_capture_on_commit_callbacks):
    propose(pw, django_capture_on_commit_callbacks)
    response = login_client(pw["referent"]).get(reverse("employers:positionings") + "?format=csv")
    assert response.status_code == 200
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Camille D." in content and LAST_NAME not in content and "Commis de cuisine" in content
    assert AccessLog.objects.filter(person=pw["person"], section=AccessLog.Section.EXPORT).count() == 1
    response = login_client(pw["company_user"]).get(reverse("employers:positionings") + "?format=xlsx")
    assert response.status_code == 200
    response = login_client(pw["company_user"]).get(reverse("employers:positionings") + "?format=csv")
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Camille D." in content and LAST_NAME not in content
    assert AccessLog.objects.filter(section=AccessLog.Section.EXPORT).count() == 1


def test_jobsearch_page_lists_the_positionings(pw, django_capture_on_commit_callbacks):
    positioning = propose(pw, django_capture_on_commit_callbacks)
    html = login_client(pw["referent"]).get(reverse("employers:jobsearch", args=[pw["person"].pk])).content.decode()
    assert detail_url(positioning) in html and "Mise en relation : Commis de cuisine" in html


# --- Review fixes (F-POS) ----------------------------------------------------------------------


def test_company_never_learns_the_structure_of_a_declined_request(pw, django_capture_on_commit_callbacks):
    profile_for(pw["person"], "G1602", visible_to_employers=True)
    positioning = services.request_positioning(pw["opening"], pw["person"], by=pw["company_user"])
    services.decline_request(positioning, by=pw["referent"], membership=membership_of(pw["referent"]))
    structure = pw["ref_structure"].name
    company = login_client(pw["company_user"])
    html = company.get(detail_url(positioning)).content.decode()
    assert "Profil n°" in html and structure not in html and "Structure qui accompagne" not in html
    html = company.get(reverse("employers:positionings")).content.decode()
    assert detail_url(positioning) in html and structure not in html
    response = company.get(reverse("employers:positionings") + "?format=csv")
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Commis de cuisine" in content and structure not in content
    # The sending side still sees it; and the company does once a person is proposed.
    assert structure in login_client(pw["referent"]).get(detail_url(positioning)).content.decode()
    other = JobOpeningFactory(company=pw["company"], title="Serveur")
    proposed = services.propose(pw["person"], other, by=pw["referent"], membership=membership_of(pw["referent"]),
                                consent=True)
    html = company.get(detail_url(proposed)).content.decode()
    assert "Structure qui accompagne" in html and structure in html


def test_sent_tab_lists_only_persons_the_user_may_open(pw, django_capture_on_commit_callbacks):
    positioning = propose(pw, django_capture_on_commit_callbacks)
    # Paul works in Rose's structure but does not follow Camille.
    html = login_client(pw["colleague"]).get(reverse("employers:positionings")).content.decode()
    assert detail_url(positioning) not in html and "Camille" not in html
    response = login_client(pw["colleague"]).get(reverse("employers:positionings") + "?format=csv")
    assert "Camille" not in b"".join(response.streaming_content).decode("utf-8-sig")
    assert login_client(pw["colleague"]).get(detail_url(positioning)).status_code == 403
    # Rose (who proposed her) and Mona (in her group, another structure: not "sent by my structure").
    html = login_client(pw["referent"]).get(reverse("employers:positionings")).content.decode()
    assert detail_url(positioning) in html
    html = login_client(pw["member"]).get(reverse("employers:positionings")).content.decode()
    assert detail_url(positioning) not in html


def test_sent_tab_keeps_what_the_user_proposed(pw, django_capture_on_commit_callbacks):
    """Rose left Camille's group after proposing her: the positioning she sent stays in her list."""
    positioning = propose(pw, django_capture_on_commit_callbacks)
    pw["person"].followups.filter(user=pw["referent"]).update(end_date=timezone.localdate())
    html = login_client(pw["referent"]).get(reverse("employers:positionings")).content.decode()
    assert detail_url(positioning) in html


def test_pending_requests_listed_for_who_follows_the_person(pw):
    profile_for(pw["person"], "G1602", visible_to_employers=True)
    positioning = services.request_positioning(pw["opening"], pw["person"], by=pw["company_user"])
    assert detail_url(positioning) in login_client(pw["referent"]).get(
        reverse("employers:positionings")).content.decode()
    assert detail_url(positioning) not in login_client(pw["colleague"]).get(
        reverse("employers:positionings")).content.decode()


def test_no_hire_on_a_filled_opening_from_the_page(pw, django_capture_on_commit_callbacks):
    positioning = propose(pw, django_capture_on_commit_callbacks)
    JobOpening.objects.filter(pk=pw["opening"].pk).update(status=OpeningStatus.FILLED)
    response = login_client(pw["company_user"]).post(
        reverse("employers:positioning_answer", args=[positioning.uid]),
        {"status": "hired", "hired_on": timezone.localdate().isoformat()})
    assert response.status_code == 400 and "Tous les postes de cette offre sont déjà pourvus." in \
        response.content.decode()
    positioning.refresh_from_db()
    assert positioning.status == "proposed" and not Employment.objects.exists()


def test_filling_the_opening_from_the_page_ends_the_others(pw, django_capture_on_commit_callbacks):
    positioning = propose(pw, django_capture_on_commit_callbacks)
    other = PersonFactory(territory=pw["territory"], first_name="Sami", last_name="Kaci")
    add_to_group(other, pw["referent"], "referent")
    second = services.propose(other, pw["opening"], by=pw["referent"], membership=membership_of(pw["referent"]),
                              consent=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert login_client(pw["company_user"]).post(
            reverse("employers:positioning_answer", args=[positioning.uid]), {"status": "hired"}).status_code == 302
    second.refresh_from_db()
    assert second.status == "refused" and second.refusal_reason == "filled"
    html = login_client(pw["company_user"]).get(detail_url(second)).content.decode()
    assert "Le poste est déjà pourvu" in html and "Enregistrer la réponse" not in html


def test_renewal_request_is_throttled(pw, django_capture_on_commit_callbacks):
    positioning = propose(pw, django_capture_on_commit_callbacks)
    token = links.make_token(positioning)
    Positioning.objects.filter(pk=positioning.pk).update(link_expires_at=timezone.now() - datetime.timedelta(hours=1))
    client = Client()
    url = reverse("employers:positioning_link_renew", args=[token])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url)
    sent = len(mail.outbox)
    assert first.status_code == 200 and sent >= 1
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            again = client.post(url)
        assert again.status_code == 200 and "Demande envoyée" in again.content.decode()
    assert len(mail.outbox) == sent  # the référent is not flooded
    assert Positioning.objects.get(pk=positioning.pk).renewal_requested_at is not None


# --- QA fixes: bad input re-renders the page with the error, nothing changes (F-QA) -------------


def _nothing_changed(positioning, status, transitions):
    positioning.refresh_from_db()
    assert positioning.status == status and positioning.status_text == ""
    assert positioning.transitions.count() == transitions


def test_withdraw_with_a_too_long_reason_is_refused(pw, django_capture_on_commit_callbacks):
    positioning = propose(pw, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = login_client(pw["referent"]).post(
            reverse("employers:positioning_withdraw", args=[positioning.uid]), {"reason": "y" * 10000})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Le motif ne doit pas dépasser 2000 caractères." in html and "Retirer la candidature" in html
    assert "y" * 10000 in html  # what was typed is kept
    _nothing_changed(positioning, "proposed", 1)
    assert not mail.outbox


def test_decline_with_a_too_long_reason_is_refused(pw, django_capture_on_commit_callbacks):
    profile_for(pw["person"], "G1602", visible_to_employers=True)
    positioning = services.request_positioning(pw["opening"], pw["person"], by=pw["company_user"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = login_client(pw["referent"]).post(
            reverse("employers:positioning_decline", args=[positioning.uid]), {"reason": "z" * 10000})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Le motif ne doit pas dépasser 2000 caractères." in html and "Décliner la demande" in html
    _nothing_changed(positioning, "requested", 1)
    assert not mail.outbox


def test_withdraw_when_no_longer_possible_says_why(pw, django_capture_on_commit_callbacks):
    positioning = propose(pw, django_capture_on_commit_callbacks)
    services.answer(positioning, "refused", refusal_reason="experience")
    response = login_client(pw["referent"]).post(
        reverse("employers:positioning_withdraw", args=[positioning.uid]), {"reason": "Plus disponible"}, follow=True)
    assert "ne peut plus être retirée" in response.content.decode()
    positioning.refresh_from_db()
    assert positioning.status == "refused"


def test_answer_with_a_past_interview_date_keeps_the_values(pw, django_capture_on_commit_callbacks):
    positioning = propose(pw, django_capture_on_commit_callbacks)
    client = login_client(pw["company_user"])
    answer = reverse("employers:positioning_answer", args=[positioning.uid])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(answer, {"status": "interview", "interview_at": "1990-01-01T10:00",
                                        "comment": "Entretien avec le chef"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "La date de l&#x27;entretien ne peut pas être passée." in html
    assert "Entretien avec le chef" in html and "1990-01-01T10:00" in html
    _nothing_changed(positioning, "proposed", 1)
    assert not mail.outbox
    too_far = (timezone.localdate() + datetime.timedelta(days=200)).strftime("%Y-%m-%dT10:00")
    response = client.post(answer, {"status": "interview", "interview_at": too_far})
    assert response.status_code == 400
    assert "La date de l&#x27;entretien ne peut pas être à plus de 6 mois." in response.content.decode()
    # Through the signed link too.
    url = reverse("employers:positioning_link", args=[links.make_token(positioning)])
    response = Client().post(url, {"status": "interview", "interview_at": "1990-01-01T10:00"})
    assert response.status_code == 400
    assert "La date de l&#x27;entretien ne peut pas être passée." in response.content.decode()
    _nothing_changed(positioning, "proposed", 1)


def test_answer_with_a_too_long_comment_keeps_the_values(pw, django_capture_on_commit_callbacks):
    positioning = propose(pw, django_capture_on_commit_callbacks)
    response = login_client(pw["company_user"]).post(
        reverse("employers:positioning_answer", args=[positioning.uid]),
        {"status": "interested", "comment": "c" * 2001})
    assert response.status_code == 400
    html = response.content.decode()
    assert "La précision ne doit pas dépasser 2000 caractères." in html and "c" * 2001 in html
    _nothing_changed(positioning, "proposed", 1)


def test_propose_with_a_too_long_message_keeps_it(pw):
    response = login_client(pw["referent"]).post(new_url(pw), {"consent": "on", "message": "m" * 2001})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Le message ne doit pas dépasser 2000 caractères." in html and "m" * 2001 in html
    assert not Positioning.objects.exists()
