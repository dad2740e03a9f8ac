"""Immersions (PMSMP), issue 6 §1: the services (request with or without an offer, agreement
with its French errors, assessment only once started, cancellation, sides and places) and the
pages (new, list with filter/pagination/export and a constant query count, detail with the
forms of the allowed step, 403 for the wrong side and coordinators, access log)."""

# ruff: noqa: F811 -- pytest fixtures (world, emp) are imported from test_companies_fixtures

import csv
import datetime
import io
import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from spie.core.models import AccessLog
from spie.employers.models import Immersion, ImmersionStatus
from spie.employers.services import immersions as services
from spie.people.models import FollowUpMembership, TimelineEvent
from tests.people.factories import PersonFactory, add_to_group

from .factories import ImmersionOfferFactory, rome
from .test_companies_fixtures import _media_root, emp, membership_of, queries, world  # noqa: F401

S = ImmersionStatus
TODAY = timezone.localdate


def days(n):
    return TODAY() + datetime.timedelta(days=n)


def events(person, kind):
    return list(TimelineEvent.objects.filter(person=person, kind=kind))


def messages_text(exc):
    return " ".join(m for ms in exc.message_dict.values() for m in ms) if hasattr(exc, "error_dict") \
        else " ".join(exc.messages)


@pytest.fixture
def offer(world, emp):
    """An open offer of the company with a space (Maçonnerie Garonne), one place at a time."""
    return ImmersionOfferFactory(company=emp["spaced"], territory=world["territory"], rome=emp["mason"],
                                 title="Découverte de la maçonnerie", commune=emp["muret"], places=1)


def request(world, *, who="member", **kwargs):
    kwargs.setdefault("objective", "discover")
    kwargs.setdefault("consent", True)
    return services.request_immersion(world["person"], membership=membership_of(world[who]), **kwargs)


@pytest.fixture
def requested(world, emp, offer):
    """Camille's immersion requested by Mona (Mission locale Ouest) on the offer."""
    return request(world, offer=offer)


def agreed_immersion(world, emp, offer, *, start=3, length=10):
    immersion = request(world, offer=offer)
    return services.agree(immersion, membership=membership_of(emp["company_user"]), start_date=days(start),
                          end_date=days(start + length - 1), tutor_name="Jean Tuteur")


# --- Request ------------------------------------------------------------------------------------------


def test_request_with_an_offer(world, emp, offer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        immersion = request(world, offer=offer, objective="confirm", start_date=days(7), end_date=days(20),
                            message="Camille aime le travail en extérieur.")
    immersion.refresh_from_db()
    assert immersion.status == S.REQUESTED
    assert (immersion.company, immersion.rome_id, immersion.offer) == (emp["spaced"], "F1703", offer)
    assert immersion.structure == world["other_structure"] and immersion.requested_by == world["member"]
    assert immersion.start_date == days(7) and immersion.end_date == days(20)
    assert immersion.consent is True and immersion.consent_on == TODAY()
    [event] = events(world["person"], "immersion_requested")
    assert "Maçonnerie Garonne" in event.title and event.actor == world["member"]
    # The company's users are told, with the short name only.
    assert [m.to for m in mail.outbox] == [[emp["company_user"].email]]
    body = mail.outbox[0].body
    assert "Camille D." in body and "Dupuis" not in body
    assert "Confirmer un projet professionnel" in body and "travail en extérieur" in body
    assert str(immersion.uid) in body


def test_request_without_an_offer_goes_to_the_contact_address(world, emp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        immersion = request(world, who="referent", company=emp["plain"], rome=emp["cook"])
    assert immersion.offer is None and immersion.company == emp["plain"] and immersion.rome_id == "G1602"
    assert [m.to for m in mail.outbox] == [[emp["plain"].contact_email]]
    assert "Dupuis" not in mail.outbox[0].body and "Camille D." in mail.outbox[0].body


def test_request_needs_company_and_job_without_offer(world):
    with pytest.raises(ValidationError) as exc:
        request(world, objective="nope")
    assert set(exc.value.message_dict) == {"company", "metier", "objective"}


def test_request_denied_to_who_cannot_open_the_record(world, emp, offer):
    for who in ("outsider", "coordinator"):
        with pytest.raises(PermissionDenied):
            request(world, who=who, offer=offer)
    with pytest.raises(PermissionDenied):
        services.request_immersion(world["person"], membership=membership_of(emp["company_user"]), offer=offer,
                                   objective="discover", consent=True)
    assert not Immersion.objects.exists()


def test_request_needs_the_persons_consent(world, emp, offer):
    for consent in (False, None, "on"):
        with pytest.raises(ValidationError) as exc:
            request(world, offer=offer, consent=consent)
        assert exc.value.message_dict["consent"] == [services.CONSENT_REQUIRED]
    assert services.CONSENT_REQUIRED == "Recueillez l'accord de la personne avant de demander l'immersion."
    assert not Immersion.objects.exists() and not mail.outbox


def test_request_on_a_closed_or_full_offer(world, emp, offer):
    offer.is_open = False
    offer.save()
    with pytest.raises(ValidationError, match="fermée"):
        request(world, offer=offer)
    offer.is_open = True
    offer.save()
    other = PersonFactory(territory=world["territory"], first_name="Alex", last_name="Durand")
    add_to_group(other, world["member"])
    # A request does not consume the place; an agreed immersion does.
    first = services.request_immersion(other, membership=membership_of(world["member"]), offer=offer,
                                       objective="discover", consent=True)
    second = request(world, offer=offer)
    services.agree(first, membership=membership_of(emp["company_user"]), start_date=days(1), end_date=days(10),
                   tutor_name="Jean Tuteur")
    third = PersonFactory(territory=world["territory"])
    add_to_group(third, world["member"])
    with pytest.raises(ValidationError, match="plus de place"):
        services.request_immersion(third, membership=membership_of(world["member"]), offer=offer,
                                   objective="discover", consent=True)
    # The agreed one holds the only place on overlapping dates, not after it.
    with pytest.raises(ValidationError, match="places"):
        services.agree(second, membership=membership_of(emp["company_user"]), start_date=days(5),
                       end_date=days(12), tutor_name="Jean Tuteur")
    services.agree(second, membership=membership_of(emp["company_user"]), start_date=days(11), end_date=days(20),
                   tutor_name="Jean Tuteur")
    assert second.status == S.AGREED


def test_request_dates_and_duplicates(world, emp, offer):
    with pytest.raises(ValidationError) as exc:
        request(world, offer=offer, start_date=days(1), end_date=days(40))
    assert exc.value.message_dict["end_date"] == [services.DURATION_ERROR]
    with pytest.raises(ValidationError) as exc:
        request(world, offer=offer, start_date=days(-2))
    assert "passée" in messages_text(exc.value)
    request(world, offer=offer)
    with pytest.raises(ValidationError, match="déjà en cours"):
        request(world, who="referent", offer=offer)


def test_request_in_another_territory_company(world, emp):
    from .factories import CompanyFactory

    far = CompanyFactory(territory=world["gers"])
    with pytest.raises(ValidationError) as exc:
        request(world, company=far, rome=emp["cook"])
    assert "territoire" in exc.value.message_dict["company"][0]


# --- Agreement ------------------------------------------------------------------------------------


@pytest.mark.parametrize("start, end, tutor, field, text", [
    (None, None, "Jean", "start_date", "date de début"),
    (1, 0, "Jean", "end_date", "doit suivre"),
    (1, 32, "Jean", "end_date", "Une immersion dure au plus un mois (renouvelable une fois)."),
    (1, 5, "  ", "tutor_name", "tuteur"),
    (-1, 5, "Jean", "start_date", "passée"),
])
def test_agreement_errors_in_french(world, emp, requested, start, end, tutor, field, text):
    with pytest.raises(ValidationError) as exc:
        services.agree(requested, membership=membership_of(emp["company_user"]),
                       start_date=days(start) if start is not None else None,
                       end_date=days(end) if end is not None else None, tutor_name=tutor)
    assert text in " ".join(exc.value.message_dict[field])
    requested.refresh_from_db()
    assert requested.status == S.REQUESTED


def test_agreement_bad_tutor_email(world, emp, requested):
    with pytest.raises(ValidationError) as exc:
        services.agree(requested, membership=membership_of(emp["company_user"]), start_date=days(1),
                       end_date=days(5), tutor_name="Jean", tutor_email="pas-une-adresse")
    assert "tutor_email" in exc.value.message_dict


def test_agreement_by_the_company_tells_the_sender(world, emp, requested, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        immersion = services.agree(requested, membership=membership_of(emp["company_user"]), start_date=days(2),
                                   end_date=days(32), tutor_name=" Jean  Tuteur ", tutor_email="jean@garonne.example")
    assert immersion.status == S.AGREED and immersion.tutor_name == "Jean Tuteur"
    assert (immersion.end_date - immersion.start_date).days + 1 == services.MAX_DAYS
    [event] = events(world["person"], "immersion_agreed")
    assert event.actor == emp["company_user"]
    assert [m.to for m in mail.outbox] == [[world["member"].email]]
    assert "Jean Tuteur" in mail.outbox[0].body


def test_agreement_by_the_sender_tells_the_company(world, emp, requested, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.agree(requested, membership=membership_of(world["member"]), start_date=days(2), end_date=days(6),
                       tutor_name="Jean Tuteur")
    assert [m.to for m in mail.outbox] == [[emp["company_user"].email]]
    assert "Dupuis" not in mail.outbox[0].body


def test_wrong_side_and_coordinator_cannot_act(world, emp, requested):
    for user in (world["outsider"], world["coordinator"], emp["other_user"]):
        with pytest.raises(PermissionDenied):
            services.agree(requested, membership=membership_of(user), start_date=days(1), end_date=days(5),
                           tutor_name="Jean")
        with pytest.raises(PermissionDenied):
            services.cancel(requested, membership=membership_of(user), reason="Non")
    requested.refresh_from_db()
    assert requested.status == S.REQUESTED


def test_sides(world, emp, requested):
    def sides(user):
        return services.sides(membership_of(user), requested)

    assert sides(world["member"]) == {"sender"}
    # A colleague of the sender's structure outside the follow-up group is on no side.
    assert sides(world["new_referent"]) == set()
    assert sides(world["referent"]) == {"sender", "company"}  # follows the person and the company
    assert sides(emp["company_user"]) == {"company"}
    assert sides(world["coordinator"]) == set() and sides(world["outsider"]) == set()
    # The professional who asked stays on the sender side after leaving the group.
    FollowUpMembership.objects.filter(person=world["person"], user=world["member"]).update(end_date=TODAY())
    assert sides(world["member"]) == {"sender"}
    # Who may open the record is on the sender side, whatever the structure that asked.
    assert sides(world["officer"]) == {"sender"}


def test_colleague_outside_the_group_cannot_act(world, emp, offer, requested, client_for):
    colleague = world["new_referent"]  # same structure as Mona, not in Camille's group
    agreed = agreed_immersion(world, emp, ImmersionOfferFactory(
        company=emp["spaced"], territory=world["territory"], rome=emp["cook"], places=1))
    Immersion.objects.filter(pk=agreed.pk).update(start_date=days(-1))
    agreed.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.agree(requested, membership=membership_of(colleague), start_date=days(1), end_date=days(5),
                       tutor_name="Jean")
    with pytest.raises(PermissionDenied):
        services.assess(agreed, membership=membership_of(colleague), skills_observed=["X"], would_hire=True)
    for immersion in (requested, agreed):
        with pytest.raises(PermissionDenied):
            services.cancel(immersion, membership=membership_of(colleague), reason="Non")
    client = client_for(colleague)
    for immersion in (requested, agreed):
        assert client.get(detail_url(immersion)).status_code == 403
    assert client.post(detail_url(requested, "agree"), {
        "start_date": days(1).isoformat(), "end_date": days(5).isoformat(), "tutor_name": "Jean"}).status_code == 403
    assert client.post(detail_url(agreed, "assess"), {"skills_observed": "X", "would_hire": "yes"}).status_code == 403
    assert client.post(detail_url(requested, "cancel"), {"reason": "Non"}).status_code == 403
    requested.refresh_from_db()
    agreed.refresh_from_db()
    assert (requested.status, agreed.status) == (S.REQUESTED, S.AGREED)
    assert AccessLog.objects.filter(user=colleague).count() == 0


# --- Assessment ------------------------------------------------------------------------------------


def test_assessment_only_once_started(world, emp, offer, django_capture_on_commit_callbacks):
    immersion = agreed_immersion(world, emp, offer, start=3)
    with pytest.raises(ValidationError, match="une fois l'immersion commencée"):
        services.assess(immersion, membership=membership_of(emp["company_user"]), skills_observed=["Ponctualité"],
                        would_hire=True)
    Immersion.objects.filter(pk=immersion.pk).update(start_date=days(-5), end_date=days(2))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        done = services.assess(immersion, membership=membership_of(emp["company_user"]),
                               skills_observed=["Ponctualité", " ponctualité ", "Lecture de plans", ""],
                               would_hire=True, comment="Très motivée.")
    assert done.status == S.DONE and done.assessed_on == TODAY()
    assert done.skills_observed == ["Ponctualité", "Lecture de plans"] and done.would_hire is True
    [event] = events(world["person"], "immersion_assessed")
    assert "oui" in event.title and "Lecture de plans" in event.detail
    assert [m.to for m in mail.outbox] == [[world["member"].email]]
    assert "Lecture de plans" in mail.outbox[0].body and "oui" in mail.outbox[0].body
    with pytest.raises(ValidationError):
        services.assess(immersion, membership=membership_of(emp["company_user"]), skills_observed=["X"],
                        would_hire=False)


def test_assessment_validation(world, emp, offer):
    immersion = agreed_immersion(world, emp, offer, start=3)
    Immersion.objects.filter(pk=immersion.pk).update(start_date=days(-1))
    with pytest.raises(ValidationError) as exc:
        services.assess(immersion, membership=membership_of(world["member"]), skills_observed=[" "], would_hire=None)
    assert set(exc.value.message_dict) == {"skills_observed", "would_hire"}
    with pytest.raises(ValidationError) as exc:
        services.assess(immersion, membership=membership_of(world["member"]),
                        skills_observed=[f"Compétence {i}" for i in range(11)], would_hire=False)
    assert "au plus 10" in exc.value.message_dict["skills_observed"][0]


def test_requested_cannot_be_assessed(world, emp, requested):
    with pytest.raises(ValidationError, match="évaluée"):
        services.assess(requested, membership=membership_of(world["member"]), skills_observed=["X"],
                        would_hire=True)


# --- Cancellation -------------------------------------------------------------------------------------


def test_cancel_requested_and_agreed(world, emp, offer, django_capture_on_commit_callbacks):
    immersion = request(world, offer=offer)
    with pytest.raises(ValidationError) as exc:
        services.cancel(immersion, membership=membership_of(world["member"]), reason=" ")
    assert "motif" in exc.value.message_dict["reason"][0]
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel(immersion, membership=membership_of(world["member"]), reason="La personne a trouvé un emploi.")
    assert immersion.status == S.CANCELLED
    assert [m.to for m in mail.outbox] == [[emp["company_user"].email]]
    assert len(events(world["person"], "immersion_cancelled")) == 1
    with pytest.raises(ValidationError, match="annulée"):
        services.cancel(immersion, membership=membership_of(world["member"]), reason="Encore")
    agreed = agreed_immersion(world, emp, offer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel(agreed, membership=membership_of(emp["company_user"]), reason="Chantier reporté.")
    assert agreed.status == S.CANCELLED and [m.to for m in mail.outbox] == [[world["member"].email]]
    # Cancelled by the company: its reason goes to the sender.
    assert "Chantier reporté." in mail.outbox[0].body


def test_cancel_by_the_sender_gives_the_company_a_neutral_line(world, emp, requested,
                                                                django_capture_on_commit_callbacks):
    reason = "Camille est hospitalisée la semaine prochaine."
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel(requested, membership=membership_of(world["referent"]), reason=reason)
    requested.refresh_from_db()
    assert requested.cancel_reason == reason
    by_address = {m.to[0]: m.body for m in mail.outbox}
    assert set(by_address) == {emp["company_user"].email, world["member"].email}
    company_body = by_address[emp["company_user"].email]
    assert "hospitalisée" not in company_body and "L'immersion est annulée par le référent" in company_body
    # The professional who asked (another sender) reads the reason.
    assert reason in by_address[world["member"].email]
    [event] = events(world["person"], "immersion_cancelled")
    assert reason in event.detail


# --- Pages ------------------------------------------------------------------------------------------------


LIST = reverse("employers:immersions")


def new_url(world, offer=None):
    url = reverse("employers:immersion_new", args=[world["person"].pk])
    return f"{url}?offre={offer.uid}" if offer is not None else url


def detail_url(immersion, step=""):
    names = {"": "immersion_detail", "agree": "immersion_agree", "assess": "immersion_assess",
             "cancel": "immersion_cancel"}
    return reverse(f"employers:{names[step]}", args=[immersion.uid])


def jobs_logs(person, user):
    return AccessLog.objects.filter(person=person, user=user, section=AccessLog.Section.JOBS).count()


def test_new_page_with_an_offer_is_prefilled_and_logged(world, emp, offer, client_for):
    response = client_for(world["member"]).get(new_url(world, offer))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Découverte de la maçonnerie" in page and "Maçonnerie Garonne" in page and "Muret" in page
    assert 'name="company"' not in page and 'name="metier"' not in page
    assert jobs_logs(world["person"], world["member"]) == 1


def test_new_page_policy(world, emp, offer, client_for):
    for user in (world["coordinator"], world["outsider"], emp["company_user"]):
        assert client_for(user).get(new_url(world, offer)).status_code == 403
    client = client_for(world["member"])
    assert client.get(reverse("employers:immersion_new", args=[999999])).status_code == 404
    assert client.get(new_url(world) + "?offre=pas-un-uid").status_code == 404


def test_new_with_offer_creates_and_mails(world, emp, offer, client_for, django_capture_on_commit_callbacks):
    client = client_for(world["member"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(new_url(world, offer), {"offre": str(offer.uid), "objective": "recruit",
                                                      "message": "Disponible dès lundi.", "consent": "on"})
    immersion = Immersion.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(immersion)
    assert immersion.offer == offer and immersion.objective == "recruit"
    assert immersion.consent is True and immersion.consent_on == TODAY()
    assert len(mail.outbox) == 1 and "Dupuis" not in mail.outbox[0].body


def test_new_without_offer_choose_company_and_job(world, emp, client_for):
    client = client_for(world["referent"])
    page = client.get(new_url(world)).content.decode()
    assert "Brasserie du Capitole" in page and 'name="metier"' in page
    response = client.post(new_url(world), {"company": emp["plain"].pk, "metier": "G1602", "objective": "discover",
                                            "start_date": days(3).isoformat(), "end_date": days(9).isoformat(),
                                            "consent": "on"})
    assert response.status_code == 302
    immersion = Immersion.objects.get()
    assert immersion.company == emp["plain"] and immersion.rome_id == "G1602" and immersion.start_date == days(3)


def test_new_errors_in_french_keep_the_values(world, emp, client_for):
    response = client_for(world["referent"]).post(new_url(world), {
        "metier": "G1602", "objective": "discover", "message": "Texte à garder", "start_date": days(1).isoformat(),
        "end_date": days(45).isoformat()})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Choisissez l&#x27;entreprise" in page or "Choisissez l'entreprise" in page
    assert "Texte à garder" in page
    response = client_for(world["referent"]).post(new_url(world), {
        "company": emp["plain"].pk, "metier": "G1602", "objective": "discover", "start_date": days(1).isoformat(),
        "end_date": days(45).isoformat(), "consent": "on"})
    assert response.status_code == 400
    assert "Une immersion dure au plus un mois (renouvelable une fois)." in response.content.decode()
    assert not Immersion.objects.exists()


def test_new_page_asks_for_the_persons_consent(world, emp, offer, client_for):
    client = client_for(world["member"])
    page = client.get(new_url(world, offer)).content.decode()
    assert 'name="consent"' in page
    assert "La personne est d&#x27;accord pour que son prénom et l&#x27;objet de l&#x27;immersion soient transmis " \
           "à l&#x27;entreprise" in page
    response = client.post(new_url(world, offer), {"offre": str(offer.uid), "objective": "confirm",
                                                  "message": "Texte à garder"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Recueillez l&#x27;accord de la personne avant de demander l&#x27;immersion." in page
    assert "Texte à garder" in page and re.search(r'value="confirm"[^>]*checked', page)
    assert not Immersion.objects.exists() and not mail.outbox


def test_detail_sender_reads_the_name_company_the_short_name(world, emp, requested, client_for):
    response = client_for(world["member"]).get(detail_url(requested))
    assert response.status_code == 200
    page = response.content.decode()
    assert "DUPUIS Camille" in page and "Enregistrer la convention" in page and "Annuler l" in page
    assert jobs_logs(world["person"], world["member"]) == 1
    response = client_for(emp["company_user"]).get(detail_url(requested))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Camille D." in page and "Dupuis" not in page and "DUPUIS" not in page
    assert "Enregistrer la convention" in page
    assert AccessLog.objects.filter(user=emp["company_user"]).count() == 0


def test_detail_and_steps_forbidden_to_the_wrong_side(world, emp, requested, client_for):
    for user in (world["outsider"], world["coordinator"], emp["other_user"]):
        client = client_for(user)
        assert client.get(detail_url(requested)).status_code == 403
        for step in ("agree", "cancel", "assess"):
            assert client.post(detail_url(requested, step), {"reason": "x"}).status_code == 403
    assert client_for(world["member"]).get(detail_url(requested, "agree")).status_code == 405


def test_agree_page_errors_then_success(world, emp, requested, client_for, django_capture_on_commit_callbacks):
    client = client_for(emp["company_user"])
    response = client.post(detail_url(requested, "agree"), {
        "start_date": days(2).isoformat(), "end_date": days(40).isoformat(), "tutor_name": "Jean Tuteur"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Une immersion dure au plus un mois (renouvelable une fois)." in page and "Jean Tuteur" in page
    response = client.post(detail_url(requested, "agree"), {"start_date": "", "end_date": "", "tutor_name": ""})
    assert response.status_code == 400 and "Indiquez le nom du tuteur" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(detail_url(requested, "agree"), {
            "start_date": days(2).isoformat(), "end_date": days(15).isoformat(), "tutor_name": "Jean Tuteur"})
    assert response.status_code == 302
    requested.refresh_from_db()
    assert requested.status == S.AGREED and [m.to for m in mail.outbox] == [[world["member"].email]]
    page = client.get(detail_url(requested)).content.decode()
    assert "à partir du" in page and "Enregistrer le bilan" not in page


def test_assess_page_only_after_start(world, emp, offer, client_for):
    immersion = agreed_immersion(world, emp, offer, start=2)
    client = client_for(world["member"])
    data = {"skills_observed": "Ponctualité\nTravail en équipe", "would_hire": "yes", "comment": ""}
    response = client.post(detail_url(immersion, "assess"), data)
    assert response.status_code == 400 and "une fois l&#x27;immersion commencée" in response.content.decode()
    Immersion.objects.filter(pk=immersion.pk).update(start_date=days(-3))
    assert "Enregistrer le bilan" in client.get(detail_url(immersion)).content.decode()
    response = client.post(detail_url(immersion, "assess"), {"skills_observed": "", "would_hire": ""})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Indiquez au moins une compétence" in page and "recruterait la personne (oui ou non)" in page
    assert client.post(detail_url(immersion, "assess"), data).status_code == 302
    immersion.refresh_from_db()
    assert immersion.status == S.DONE and immersion.skills_observed == ["Ponctualité", "Travail en équipe"]
    page = client.get(detail_url(immersion)).content.decode()
    assert "Travail en équipe" in page and "Annuler l" not in page


def test_cancel_page(world, emp, requested, client_for):
    client = client_for(emp["company_user"])
    response = client.post(detail_url(requested, "cancel"), {"reason": ""})
    assert response.status_code == 400 and "Indiquez le motif" in response.content.decode()
    assert client.post(detail_url(requested, "cancel"), {"reason": "Plus de tuteur disponible."}).status_code == 302
    requested.refresh_from_db()
    assert requested.status == S.CANCELLED and requested.cancel_reason == "Plus de tuteur disponible."
    # The reason is shown to the sender side only.
    assert "Plus de tuteur disponible." in client_for(world["member"]).get(detail_url(requested)).content.decode()
    page = client.get(detail_url(requested)).content.decode()
    assert "Cette immersion est annulée" in page and "Plus de tuteur disponible." not in page


def test_detail_hides_the_senders_cancel_reason_from_the_company(world, emp, requested, client_for):
    reason = "Camille est hospitalisée la semaine prochaine."
    response = client_for(world["member"]).post(detail_url(requested, "cancel"), {"reason": reason})
    assert response.status_code == 302
    page = client_for(emp["company_user"]).get(detail_url(requested)).content.decode()
    assert "Cette immersion est annulée" in page and "hospitalisée" not in page
    page = client_for(world["referent"]).get(detail_url(requested)).content.decode()  # both sides
    assert "hospitalisée" in page


# --- List ---------------------------------------------------------------------------------------------


def make_immersions(world, emp, n, *, structure=None, by=None, company=None):
    by = by or world["member"]
    structure = structure or world["other_structure"]
    result = []
    for i in range(n):
        person = PersonFactory(territory=world["territory"], first_name=f"Lou{i}", last_name=f"Secret{i}")
        if i % 2 == 0:
            add_to_group(person, by)
        result.append(Immersion.objects.create(
            person=person, company=company or emp["spaced"], rome=rome(), requested_by=by, structure=structure,
            status=S.AGREED if i % 3 == 0 else S.REQUESTED))
    return result


def test_list_scope_names_and_filter(world, emp, requested, client_for):
    make_immersions(world, emp, 3)
    make_immersions(world, emp, 2, structure=world["ref_structure"], by=world["referent"], company=emp["other"])
    page = client_for(world["member"]).get(LIST).content.decode()
    assert "4 immersions" in page and "DUPUIS Camille" in page
    assert "SECRET0 Lou0" in page and "Lou1 S." in page  # group member vs colleague's person
    page = client_for(emp["company_user"]).get(LIST).content.decode()
    assert "4 immersions" in page and "Camille D." in page and "Dupuis" not in page and "SECRET" not in page
    page = client_for(emp["other_user"]).get(LIST).content.decode()
    assert "2 immersions" in page
    page = client_for(world["member"]).get(LIST, {"statut": "agreed"}).content.decode()
    assert "1 immersion" in page
    assert client_for(world["coordinator"]).get(LIST).status_code == 403


def test_list_names_only_persons_the_viewer_may_see(world, emp, requested, client_for):
    colleague = world["new_referent"]  # same structure as Mona
    hidden = PersonFactory(territory=world["territory"], first_name="Zoé", last_name="Cachée")
    add_to_group(hidden, colleague)
    shared = PersonFactory(territory=world["territory"], first_name="Yann", last_name="Partagé")
    add_to_group(shared, colleague)
    add_to_group(shared, world["member"])
    for person in (hidden, shared):
        Immersion.objects.create(person=person, company=emp["spaced"], rome=rome(), requested_by=colleague,
                                 structure=world["other_structure"], consent=True, consent_on=TODAY())
    client = client_for(world["member"])
    page = client.get(LIST).content.decode()
    assert "2 immersions" in page and "DUPUIS Camille" in page and "PARTAGÉ Yann" in page
    assert "Zoé" not in page and "Cachée" not in page and "CACHÉE" not in page
    content = b"".join(client.get(LIST, {"format": "csv"}).streaming_content).decode("utf-8-sig")
    assert "Zoé" not in content and "PARTAGÉ Yann" in content
    # The colleague sees her two requests, not Mona's for a person she cannot open.
    page = client_for(colleague).get(LIST).content.decode()
    assert "2 immersions" in page and "CACHÉE Zoé" in page and "Camille" not in page


def test_list_pagination_and_constant_queries(world, emp, client_for):
    make_immersions(world, emp, 3)
    client = client_for(world["member"])
    few = queries(client, LIST)
    make_immersions(world, emp, 30)
    many = queries(client, LIST)
    assert few == many
    page = client.get(LIST).content.decode()
    assert "Page 1 sur 2" in page
    assert "Page 2 sur 2" in client.get(LIST, {"page": 2}).content.decode()
    company_client = client_for(emp["company_user"])
    assert queries(company_client, LIST) == queries(company_client, LIST + "?statut=requested")


def test_export_csv_and_xlsx(world, emp, requested, client_for):
    make_immersions(world, emp, 2)
    response = client_for(world["member"]).get(LIST, {"format": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Identifiant", "Personne", "Entreprise"] and len(rows) == 4
    names = {row[1] for row in rows[1:]}
    assert names == {"DUPUIS Camille", "SECRET0 Lou0", "Lou1 S."}
    logged = set(AccessLog.objects.filter(section=AccessLog.Section.EXPORT, user=world["member"])
                 .values_list("person_id", flat=True))
    assert logged == {world["person"].pk, Immersion.objects.get(person__first_name="Lou0").person_id}
    response = client_for(emp["company_user"]).get(LIST, {"format": "csv"})
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Camille D." in content and "Dupuis" not in content and "Secret" not in content
    response = client_for(world["member"]).get(LIST, {"format": "xlsx"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")


# --- QA fixes: the state first, then the fields; nothing typed is lost (F-QA) -------------------------


NOT_RUNNING = ("Cette immersion n&#x27;est pas en cours : le bilan se fait après le début d&#x27;une immersion "
               "conventionnée.")


def test_assess_a_requested_immersion_shows_the_state_error_only(world, emp, requested, client_for):
    client = client_for(emp["company_user"])
    response = client.post(detail_url(requested, "assess"), {})
    assert response.status_code == 400
    page = response.content.decode()
    assert NOT_RUNNING in page
    assert "Indiquez au moins une compétence" not in page and "oui ou non" not in page
    response = client.post(detail_url(requested, "assess"), {"skills_observed": "Ponctualité", "would_hire": "yes"})
    assert response.status_code == 400 and NOT_RUNNING in response.content.decode()
    requested.refresh_from_db()
    assert requested.status == S.REQUESTED and not events(world["person"], "immersion_assessed")


def test_assess_with_an_invalid_answer_keeps_the_typed_values(world, emp, offer, client_for):
    immersion = agreed_immersion(world, emp, offer, start=3)
    Immersion.objects.filter(pk=immersion.pk).update(start_date=days(-2))
    response = client_for(emp["company_user"]).post(detail_url(immersion, "assess"), {
        "skills_observed": "Ponctualité\nLecture de plans", "would_hire": "maybe", "comment": "Très appliquée"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Indiquez si l&#x27;entreprise recruterait la personne (oui ou non)." in page
    assert "Enregistrer le bilan" in page
    assert "Ponctualité\nLecture de plans" in page and "Très appliquée" in page
    immersion.refresh_from_db()
    assert immersion.status == S.AGREED and immersion.skills_observed == []


def test_assess_before_the_start_keeps_its_date_message(world, emp, offer, client_for):
    immersion = agreed_immersion(world, emp, offer, start=3)
    response = client_for(emp["company_user"]).post(detail_url(immersion, "assess"), {})
    assert response.status_code == 400
    page = response.content.decode()
    assert f"à partir du {days(3):%d/%m/%Y}" in page and "Indiquez au moins une compétence" not in page


def test_agree_or_cancel_a_closed_immersion_shows_the_state_error_only(world, emp, requested, client_for):
    client = client_for(emp["company_user"])
    assert client.post(detail_url(requested, "cancel"), {"reason": "Plus de tuteur."}).status_code == 302
    response = client.post(detail_url(requested, "agree"), {})
    assert response.status_code == 400
    page = response.content.decode()
    assert "elle ne peut pas être conventionnée" in page and "Indiquez le nom du tuteur" not in page
    response = client.post(detail_url(requested, "cancel"), {})
    assert response.status_code == 400
    page = response.content.decode()
    assert "elle ne peut pas être annulée" in page and "Indiquez le motif" not in page
    requested.refresh_from_db()
    assert requested.status == S.CANCELLED and requested.cancel_reason == "Plus de tuteur."


def test_cancel_with_a_too_long_reason_keeps_it(world, emp, requested, client_for):
    reason = "r" * 501
    response = client_for(world["member"]).post(detail_url(requested, "cancel"), {"reason": reason})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Le motif ne doit pas dépasser 500 caractères." in page and reason in page
    requested.refresh_from_db()
    assert requested.status == S.REQUESTED and not mail.outbox


def test_agree_errors_keep_the_tutor(world, emp, requested, client_for):
    response = client_for(emp["company_user"]).post(detail_url(requested, "agree"), {
        "start_date": days(-3).isoformat(), "end_date": days(5).isoformat(), "tutor_name": "Jean Tuteur",
        "tutor_email": "jean@"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Saisissez une adresse électronique valide pour le tuteur." in page
    assert "Jean Tuteur" in page and "jean@" in page and days(-3).isoformat() in page
    requested.refresh_from_db()
    assert requested.status == S.REQUESTED
