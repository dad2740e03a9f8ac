"""The positioning workflow's services ("mises en relation"): proposing with consent, a company's
request and its decline, the company's answers (hired records the job, its checkpoints and fills
the opening), withdrawal, the signed links, timeline events and e-mails (never a last name to the
company)."""

import datetime
import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from spie.employers import links
from spie.employers.models import JobOpening, OpeningStatus, Positioning, PositioningTransition, Proposal
from spie.employers.services import positionings as services
from spie.followup.models import Checkpoint, Employment
from spie.followup.services.employment import add_months
from spie.people.models import TimelineEvent
from tests.pathways import conftest as pathways_conftest
from tests.pathways.conftest import membership_of
from tests.people.factories import PersonFactory, add_to_group

from .factories import CompanyFactory, JobOpeningFactory, company_with_account, profile_for

_media_root = pathways_conftest._media_root
world = pathways_conftest.world


@pytest.fixture
def pos_world(world):
    company, company_user = company_with_account(territory=world["territory"], name="Brasserie du Canal")
    company_user.email = "rh@brasserie.example"
    company_user.save()
    opening = JobOpeningFactory(company=company, title="Commis de cuisine", positions=1, duration_months=6,
                                contract_type="cdd")
    return {**world, "company": company, "company_user": company_user, "opening": opening,
            "rose": membership_of(world["referent"])}


def _token_in(body):
    """The answer-link token an e-mail holds (a token is signed with a timestamp: compare what it opens)."""
    match = re.search(r"/reponse/([^/\s]+)/", body)
    return match.group(1) if match else None


def _propose(w, capture, **kwargs):
    with capture(execute=True):
        return services.propose(w["person"], w["opening"], by=w["referent"], membership=w["rose"],
                                consent=kwargs.pop("consent", True), message=kwargs.pop("message", "Très motivée."),
                                **kwargs)


def test_consent_is_required(pos_world):
    w = pos_world
    with pytest.raises(ValidationError) as exc:
        services.propose(w["person"], w["opening"], by=w["referent"], membership=w["rose"], consent=False)
    assert exc.value.message_dict["consent"] == [services.CONSENT_REQUIRED]
    assert not Positioning.objects.exists()


@pytest.mark.parametrize("who", ["outsider", "coordinator"])
def test_only_who_may_open_the_record_proposes(pos_world, who):
    w = pos_world
    with pytest.raises(PermissionDenied):
        services.propose(w["person"], w["opening"], by=w[who], membership=membership_of(w[who]), consent=True)


def test_propose(pos_world, django_capture_on_commit_callbacks):
    w = pos_world
    Proposal.objects.create(person=w["person"], opening=w["opening"], score=0.82)
    positioning = _propose(w, django_capture_on_commit_callbacks)
    positioning.refresh_from_db()
    assert positioning.status == "proposed" and positioning.consent and positioning.consent_on == timezone.localdate()
    assert positioning.structure == w["ref_structure"] and positioning.proposed_by == w["referent"]
    assert positioning.proposal_score == pytest.approx(0.82)
    assert positioning.link_expires_at > timezone.now() + datetime.timedelta(days=29)
    log = list(positioning.transitions.all())
    assert [(t.from_status, t.to_status, t.by) for t in log] == [("", "proposed", w["referent"])]
    assert TimelineEvent.objects.filter(person=w["person"], kind="positioning_proposed").exists()
    assert [m.to for m in mail.outbox] == [["rh@brasserie.example"]]
    body = mail.outbox[0].body
    assert "Camille D." in body and "Dupuis" not in body and "Très motivée." in body
    assert links.read_token(_token_in(body)).pk == positioning.pk
    assert "rose@tremplin.example" in body  # the référent's contact


def test_no_second_live_positioning(pos_world, django_capture_on_commit_callbacks):
    w = pos_world
    _propose(w, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError) as exc:
        _propose(w, django_capture_on_commit_callbacks)
    assert "déjà en cours" in str(exc.value)


def test_closed_opening_or_other_territory(pos_world, django_capture_on_commit_callbacks):
    w = pos_world
    w["opening"].status = OpeningStatus.CLOSED
    w["opening"].save()
    with pytest.raises(ValidationError, match="plus ouverte"):
        _propose(w, django_capture_on_commit_callbacks)
    other = JobOpeningFactory(company=CompanyFactory(territory=w["gers"]))
    with pytest.raises(ValidationError, match="territoire"):
        _propose({**w, "opening": other}, django_capture_on_commit_callbacks)


def test_company_answers_up_to_hired(pos_world, django_capture_on_commit_callbacks):
    w = pos_world
    positioning = _propose(w, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.answer(positioning, "interested", by=w["company_user"])
    with pytest.raises(ValidationError) as exc:
        services.answer(positioning, "interview", by=w["company_user"])
    assert "interview_at" in exc.value.message_dict
    when = timezone.now() + datetime.timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        services.answer(positioning, "interview", by=w["company_user"], interview_at=when)
    hired_on = timezone.localdate() + datetime.timedelta(days=7)
    with django_capture_on_commit_callbacks(execute=True):
        services.answer(positioning, "hired", by=w["company_user"], hired_on=hired_on)
    positioning.refresh_from_db()
    assert positioning.status == "hired" and positioning.hired_on == hired_on and positioning.answered_at
    employment = positioning.employment
    assert employment.employer_name == "Brasserie du Canal" and employment.job_title == "Commis de cuisine"
    assert employment.contract_type == Employment.ContractType.CDD and employment.started_on == hired_on
    assert employment.created_by == w["referent"] and employment.structure == w["ref_structure"]
    assert employment.planned_end_on is not None
    assert Checkpoint.objects.filter(employment=employment).count() == 3
    w["opening"].refresh_from_db()
    assert w["opening"].status == OpeningStatus.FILLED and w["opening"].filled_on == timezone.localdate()
    assert [t.to_status for t in positioning.transitions.all()] == ["proposed", "interested", "interview", "hired"]
    kinds = set(TimelineEvent.objects.filter(person=w["person"]).values_list("kind", flat=True))
    assert {"positioning_interested", "positioning_interview", "positioning_hired", "employment_started"} <= kinds
    senders = {"rose@tremplin.example", w["ref_structure"].email}
    assert len(mail.outbox) == 6 and {m.to[0] for m in mail.outbox} == senders
    assert "recrute Camille D." in mail.outbox[-1].body
    assert positioning.link_version == 2  # final: the older link is dead
    with pytest.raises(ValidationError):
        services.answer(positioning, "refused", refusal_reason="profile")


def test_opening_filled_only_with_the_last_position(pos_world, django_capture_on_commit_callbacks):
    w = pos_world
    w["opening"].positions = 2
    w["opening"].save()
    first = _propose(w, django_capture_on_commit_callbacks)
    services.answer(first, "hired", by=w["company_user"])
    w["opening"].refresh_from_db()
    assert w["opening"].status == OpeningStatus.OPEN
    other = PersonFactory(territory=w["territory"], first_name="Sami", last_name="Kaci")
    add_to_group(other, w["referent"], "referent")
    second = services.propose(other, w["opening"], by=w["referent"], membership=w["rose"], consent=True)
    services.answer(second, "hired", by=w["company_user"])
    w["opening"].refresh_from_db()
    assert w["opening"].status == OpeningStatus.FILLED


def test_hired_date_checks(pos_world, django_capture_on_commit_callbacks):
    w = pos_world
    positioning = _propose(w, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError) as exc:
        services.answer(positioning, "hired", hired_on=timezone.localdate() + datetime.timedelta(days=93))
    assert "hired_on" in exc.value.message_dict
    assert not Employment.objects.exists()
    positioning.refresh_from_db()
    assert positioning.status == "proposed"


def test_refusal_needs_a_reason(pos_world, django_capture_on_commit_callbacks):
    w = pos_world
    positioning = _propose(w, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError) as exc:
        services.answer(positioning, "refused")
    assert "refusal_reason" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.answer(positioning, "refused", refusal_reason="other")
    assert "reason" in exc.value.message_dict
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.answer(positioning, "refused", refusal_reason="experience", via_link=True)
    positioning.refresh_from_db()
    assert positioning.status == "refused" and positioning.refusal_reason == "experience"
    transition = positioning.transitions.last()
    assert transition.via_link and transition.by is None and "Expérience insuffisante" in transition.reason
    assert "Le motif est indiqué sur la plateforme" in mail.outbox[0].body
    # A new positioning of the pair is possible once refused.
    again = _propose(w, django_capture_on_commit_callbacks)
    assert again.pk != positioning.pk


def test_unknown_answer(pos_world, django_capture_on_commit_callbacks):
    w = pos_world
    positioning = _propose(w, django_capture_on_commit_callbacks)
    for status in ("withdrawn", "declined", "proposed", "nonsense"):
        with pytest.raises(ValidationError):
            services.answer(positioning, status)


def test_withdraw(pos_world, django_capture_on_commit_callbacks):
    w = pos_world
    positioning = _propose(w, django_capture_on_commit_callbacks)
    token = links.make_token(positioning)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.withdraw(positioning, by=w["referent"], reason="A trouvé un emploi ailleurs")
    positioning.refresh_from_db()
    assert positioning.status == "withdrawn"
    assert mail.outbox[0].to == ["rh@brasserie.example"]
    assert "retirée" in mail.outbox[0].body and "ailleurs" not in mail.outbox[0].body
    assert "Dupuis" not in mail.outbox[0].body
    with pytest.raises(links.LinkInvalid):
        links.read_token(token)
    with pytest.raises(ValidationError):
        services.withdraw(positioning, by=w["referent"])
    assert TimelineEvent.objects.filter(person=w["person"], kind="positioning_withdrawn").exists()


def test_request_then_propose(pos_world, django_capture_on_commit_callbacks):
    w = pos_world
    with pytest.raises(ValidationError, match="visible"):
        services.request_positioning(w["opening"], w["person"], by=w["company_user"])
    profile_for(w["person"], "G1602", visible_to_employers=True)
    with django_capture_on_commit_callbacks(execute=True):
        request = services.request_positioning(w["opening"], w["person"], by=w["company_user"])
    assert request.status == "requested" and request.structure is None and request.requested_by == w["company_user"]
    assert [m.to for m in mail.outbox] == [["rose@tremplin.example"]]
    assert "Brasserie du Canal" in mail.outbox[0].body
    assert TimelineEvent.objects.filter(person=w["person"], kind="positioning_requested").exists()
    with pytest.raises(ValidationError, match="déjà en cours"):
        services.request_positioning(w["opening"], w["person"], by=w["company_user"])
    mail.outbox.clear()
    positioning = _propose(w, django_capture_on_commit_callbacks, positioning=request)
    assert positioning.pk == request.pk and positioning.status == "proposed"
    assert [(t.from_status, t.to_status) for t in PositioningTransition.objects.filter(positioning=request)] == [
        ("", "requested"), ("requested", "proposed")]
    assert mail.outbox[0].to == ["rh@brasserie.example"]


def test_proposing_answers_a_pending_request(pos_world, django_capture_on_commit_callbacks):
    w = pos_world
    profile_for(w["person"], "G1602", visible_to_employers=True)
    request = services.request_positioning(w["opening"], w["person"], by=w["company_user"])
    positioning = _propose(w, django_capture_on_commit_callbacks)
    assert positioning.pk == request.pk and Positioning.objects.count() == 1


def test_decline_request(pos_world, django_capture_on_commit_callbacks):
    w = pos_world
    profile_for(w["person"], "G1602", visible_to_employers=True)
    request = services.request_positioning(w["opening"], w["person"], by=w["company_user"])
    with pytest.raises(PermissionDenied):
        services.decline_request(request, by=w["outsider"], membership=membership_of(w["outsider"]))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.decline_request(request, by=w["referent"], membership=w["rose"], reason="Santé fragile en ce moment")
    request.refresh_from_db()
    assert request.status == "declined" and request.structure == w["ref_structure"]
    assert [m.to for m in mail.outbox] == [["rh@brasserie.example"]]
    body = mail.outbox[0].body
    assert "n'a pas donné suite" in body and "Santé" not in body and "Camille" not in body
    assert TimelineEvent.objects.filter(person=w["person"], kind="positioning_declined").exists()
    with pytest.raises(ValidationError):
        services.decline_request(request, by=w["referent"], membership=w["rose"])


def test_company_without_account_gets_its_contact_email(world, django_capture_on_commit_callbacks):
    company = CompanyFactory(territory=world["territory"], contact_email="contact@garage.example")
    opening = JobOpeningFactory(company=company)
    with django_capture_on_commit_callbacks(execute=True):
        services.propose(world["person"], opening, by=world["referent"], membership=membership_of(world["referent"]),
                         consent=True)
    assert [m.to for m in mail.outbox] == [["contact@garage.example"]]
    assert "espace entreprise" not in mail.outbox[0].body


def test_links(pos_world, django_capture_on_commit_callbacks, settings):
    w = pos_world
    positioning = _propose(w, django_capture_on_commit_callbacks)
    token = links.make_token(positioning)
    assert links.read_token(token).pk == positioning.pk
    with pytest.raises(links.LinkInvalid):
        links.read_token(token[:-2] + "xx")
    with pytest.raises(links.LinkInvalid):
        links.read_token("nonsense")
    with pytest.raises(links.LinkExpired) as exc:
        links.read_token(token, now=timezone.now() + datetime.timedelta(days=31))
    assert exc.value.positioning.pk == positioning.pk
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.renew_link(positioning)
    with pytest.raises(links.LinkInvalid):
        links.read_token(token)
    new = _token_in(mail.outbox[0].body)
    assert new != token and links.read_token(new).pk == positioning.pk
    settings.SPIE_POSITIONING_LINK_DAYS = 3
    assert links.new_expiry() < timezone.now() + datetime.timedelta(days=4)


def test_request_renewal_emails_the_sender(pos_world, django_capture_on_commit_callbacks):
    w = pos_world
    positioning = _propose(w, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.request_renewal(positioning)
    assert {m.to[0] for m in mail.outbox} == {"rose@tremplin.example", w["ref_structure"].email}


# --- Review fixes (F-POS) ----------------------------------------------------------------------


def _second_person(w, first_name="Sami", last_name="Kaci"):
    other = PersonFactory(territory=w["territory"], first_name=first_name, last_name=last_name)
    add_to_group(other, w["referent"], "referent")
    return other


def test_no_hire_beyond_the_positions(pos_world, django_capture_on_commit_callbacks):
    """Two "hired" on a 1-position opening: the second is refused, even if the opening is still open."""
    w = pos_world
    w["opening"].positions = 2
    w["opening"].save()
    first = _propose(w, django_capture_on_commit_callbacks)
    second = services.propose(_second_person(w), w["opening"], by=w["referent"], membership=w["rose"], consent=True)
    services.answer(first, "hired", by=w["company_user"])
    JobOpening.objects.filter(pk=w["opening"].pk).update(positions=1)  # edited down meanwhile
    with pytest.raises(ValidationError) as exc:
        services.answer(second, "hired", by=w["company_user"])
    assert exc.value.message_dict["status"] == [services.ALL_FILLED]
    second.refresh_from_db()
    assert second.status == "proposed" and second.employment is None
    assert Positioning.objects.filter(opening=w["opening"], status="hired").count() == 1


@pytest.mark.parametrize("opening_status", ["closed", "filled"])
def test_positive_answers_need_an_open_opening(pos_world, django_capture_on_commit_callbacks, opening_status):
    w = pos_world
    positioning = _propose(w, django_capture_on_commit_callbacks)
    JobOpening.objects.filter(pk=w["opening"].pk).update(status=opening_status)
    for status, kwargs in (("hired", {}), ("interested", {}),
                           ("interview", {"interview_at": timezone.now() + datetime.timedelta(days=2)})):
        with pytest.raises(ValidationError) as exc:
            services.answer(positioning, status, by=w["company_user"], **kwargs)
        assert "status" in exc.value.message_dict, status
    assert not Employment.objects.exists()
    # A refusal stays possible.
    services.answer(positioning, "refused", by=w["company_user"], refusal_reason="filled")
    positioning.refresh_from_db()
    assert positioning.status == "refused"


def test_the_last_hire_ends_the_other_positionings(pos_world, django_capture_on_commit_callbacks):
    w = pos_world
    hired = _propose(w, django_capture_on_commit_callbacks)
    sami = _second_person(w)
    interested = services.propose(sami, w["opening"], by=w["referent"], membership=w["rose"], consent=True)
    services.answer(interested, "interested", by=w["company_user"])
    token = links.make_token(Positioning.objects.get(pk=interested.pk))
    lea = _second_person(w, "Léa", "Roux")
    profile_for(lea, "G1602", visible_to_employers=True)
    requested = services.request_positioning(w["opening"], lea, by=w["company_user"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.answer(hired, "hired", by=w["company_user"])
    w["opening"].refresh_from_db()
    assert w["opening"].status == OpeningStatus.FILLED
    interested.refresh_from_db()
    requested.refresh_from_db()
    assert interested.status == "refused" and interested.refusal_reason == "filled"
    assert requested.status == "declined" and requested.refusal_reason == ""
    assert [(t.from_status, t.to_status, t.by) for t in interested.transitions.all()][-1] == (
        "interested", "refused", w["company_user"])
    assert requested.transitions.last().to_status == "declined"
    assert TimelineEvent.objects.filter(person=sami, kind="positioning_refused").exists()
    assert TimelineEvent.objects.filter(person=lea, kind="positioning_declined").exists()
    with pytest.raises(links.LinkInvalid):
        links.read_token(token)
    ended = [m for m in mail.outbox if "n'est plus à l'étude" in m.body]
    assert {m.to[0] for m in ended} == {"rose@tremplin.example", w["ref_structure"].email}
    assert all("Sami K." in m.body and "Kaci" not in m.body and "pourvue" in m.body for m in ended)
    assert not any("Léa" in m.body for m in mail.outbox)  # nobody was proposed for the request
    assert not any(m.to == ["rh@brasserie.example"] for m in mail.outbox if "n'est plus" in m.body)


def test_close_live_positionings_of_a_closed_opening(pos_world, django_capture_on_commit_callbacks):
    w = pos_world
    positioning = _propose(w, django_capture_on_commit_callbacks)
    assert services.close_live_positionings(w["opening"]) == []  # still open: nothing happens
    positioning.refresh_from_db()
    assert positioning.status == "proposed"
    w["opening"].status = OpeningStatus.CLOSED
    w["opening"].save()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ended = services.close_live_positionings(w["opening"], by=w["company_user"])
    assert [p.pk for p in ended] == [positioning.pk]
    positioning.refresh_from_db()
    assert positioning.status == "refused" and positioning.refusal_reason == "filled" and positioning.answered_at
    assert "fermée" in positioning.transitions.last().reason
    assert mail.outbox and all("fermée" in m.body for m in mail.outbox)
    assert services.close_live_positionings(w["opening"]) == []  # once only


def test_no_new_request_after_a_decline(pos_world, django_capture_on_commit_callbacks):
    w = pos_world
    profile_for(w["person"], "G1602", visible_to_employers=True)
    request = services.request_positioning(w["opening"], w["person"], by=w["company_user"])
    services.decline_request(request, by=w["referent"], membership=w["rose"])
    with pytest.raises(ValidationError) as exc:
        services.request_positioning(w["opening"], w["person"], by=w["company_user"])
    assert exc.value.messages == [services.ALREADY_DECLINED]
    assert Positioning.objects.count() == 1
    # The référent may still propose the person if she changes her mind.
    assert _propose(w, django_capture_on_commit_callbacks).status == "proposed"


def test_request_renewal_at_most_once_a_day(pos_world, django_capture_on_commit_callbacks):
    w = pos_world
    positioning = _propose(w, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.request_renewal(positioning) is True
    sent = len(mail.outbox)
    assert sent == 2
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            assert services.request_renewal(positioning) is False
    assert len(mail.outbox) == sent
    Positioning.objects.filter(pk=positioning.pk).update(
        renewal_requested_at=timezone.now() - datetime.timedelta(hours=25))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.request_renewal(positioning) is True
    assert len(mail.outbox) == 2 * sent


def test_answer_and_withdraw_check_the_side_when_given_a_membership(pos_world, django_capture_on_commit_callbacks):
    w = pos_world
    positioning = _propose(w, django_capture_on_commit_callbacks)
    company = membership_of(w["company_user"])
    for who in ("referent", "outsider", "colleague"):
        with pytest.raises(PermissionDenied):
            services.answer(positioning, "interested", by=w[who], membership=membership_of(w[who]))
    for membership, user in ((company, w["company_user"]), (membership_of(w["outsider"]), w["outsider"]),
                             (membership_of(w["colleague"]), w["colleague"])):
        with pytest.raises(PermissionDenied):
            services.withdraw(positioning, by=user, membership=membership)
    positioning.refresh_from_db()
    assert positioning.status == "proposed"
    services.answer(positioning, "interested", by=w["company_user"], membership=company)
    services.withdraw(positioning, by=w["referent"], membership=w["rose"])
    positioning.refresh_from_db()
    assert positioning.status == "withdrawn"


# --- QA fixes: dates and lengths checked by the service (F-QA) ----------------------------------


def _untouched(positioning, status="proposed"):
    positioning.refresh_from_db()
    assert positioning.status == status
    assert [t.to_status for t in positioning.transitions.all()][-1] == status


@pytest.mark.parametrize("when, text", [
    (datetime.datetime(1990, 1, 1, 10, 0), "La date de l'entretien ne peut pas être passée."),
    ("yesterday", "La date de l'entretien ne peut pas être passée."),
    ("in_7_months", "La date de l'entretien ne peut pas être à plus de 6 mois."),
])
def test_interview_date_in_the_past_or_too_far_is_refused(pos_world, django_capture_on_commit_callbacks, when, text):
    w = pos_world
    positioning = _propose(w, django_capture_on_commit_callbacks)
    now = timezone.localtime()
    when = {"yesterday": now - datetime.timedelta(days=1),
            "in_7_months": now + datetime.timedelta(days=7 * 31)}.get(when, when)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as exc:
        services.answer(positioning, "interview", by=w["company_user"], interview_at=when)
    assert exc.value.message_dict == {"interview_at": [text]}
    _untouched(positioning)
    assert positioning.interview_at is None and not mail.outbox
    assert not TimelineEvent.objects.filter(person=w["person"], kind="positioning_interview").exists()


def test_interview_today_and_within_six_months_is_accepted(pos_world, django_capture_on_commit_callbacks):
    w = pos_world
    positioning = _propose(w, django_capture_on_commit_callbacks)
    # Earlier today (an interview held this morning, recorded in the afternoon) is not "past".
    today_start = timezone.localtime().replace(hour=0, minute=1, second=0, microsecond=0)
    services.answer(positioning, "interview", by=w["company_user"], interview_at=today_start)
    positioning.refresh_from_db()
    assert positioning.status == "interview" and positioning.interview_at == today_start
    other = _second_person(w)
    second = services.propose(other, w["opening"], by=w["referent"], membership=w["rose"], consent=True)
    last_day = add_months(timezone.localdate(), 6)
    limit = timezone.make_aware(datetime.datetime.combine(last_day, datetime.time(9, 0)))
    services.answer(second, "interview", by=w["company_user"], interview_at=limit)
    second.refresh_from_db()
    assert second.status == "interview"


def test_hired_on_bounds(pos_world, django_capture_on_commit_callbacks):
    w = pos_world
    positioning = _propose(w, django_capture_on_commit_callbacks)
    today = timezone.localdate()
    with pytest.raises(ValidationError) as exc:
        services.answer(positioning, "hired", hired_on=today - datetime.timedelta(days=1))
    assert exc.value.message_dict == {
        "hired_on": [f"La date d'embauche ne peut pas précéder la mise en relation ({today:%d/%m/%Y})."]}
    with pytest.raises(ValidationError) as exc:
        services.answer(positioning, "hired", hired_on=today + datetime.timedelta(days=93))
    assert exc.value.message_dict == {"hired_on": ["La date d'embauche ne peut pas être à plus de 3 mois (92 jours)."]}
    _untouched(positioning)
    assert not Employment.objects.exists()
    # The bounds themselves are allowed: 92 days ahead.
    services.answer(positioning, "hired", hired_on=today + datetime.timedelta(days=92))
    positioning.refresh_from_db()
    assert positioning.status == "hired" and positioning.hired_on == today + datetime.timedelta(days=92)


def test_too_long_texts_are_refused_not_cut(pos_world, django_capture_on_commit_callbacks):
    w = pos_world
    positioning = _propose(w, django_capture_on_commit_callbacks)
    long = "x" * (services.MAX_TEXT + 1)
    with pytest.raises(ValidationError) as exc:
        services.answer(positioning, "interested", by=w["company_user"], reason=long)
    assert "reason" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.withdraw(positioning, by=w["referent"], reason=long)
    assert exc.value.message_dict["reason"] == [
        f"Le motif ne doit pas dépasser {services.MAX_TEXT} caractères."]
    _untouched(positioning)
    other = _second_person(w)
    profile_for(other, "G1602", visible_to_employers=True)
    request = services.request_positioning(w["opening"], other, by=w["company_user"])
    with pytest.raises(ValidationError) as exc:
        services.decline_request(request, by=w["referent"], membership=w["rose"], reason=long)
    assert "reason" in exc.value.message_dict
    _untouched(request, "requested")
