"""End of the pathway: exit rules and rights, status transitions, re-opening, the exit page and
the printable bilan, the access log, and the record's summary tag."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from spie.core.models import AccessLog
from spie.followup.models import (
    Appointment,
    Checkpoint,
    Employment,
    ExitReason,
    PathwayExit,
    PlanAction,
    PlanObjective,
    PlanStatus,
)
from spie.followup.services import employment as employment_services
from spie.followup.services import exits as exit_services
from spie.pathways.models import EngagementContract
from spie.people import policies as people_policies
from spie.people.models import Person, TimelineEvent
from tests.pathways.factories import days_ago, make_contract

from .conftest import membership_of

EXIT_URL = "/personnes/{}/sortie/"


def access(user, person):
    person = Person.objects.get(pk=person.pk)
    return people_policies.access_for(user, membership_of(user), person)


@pytest.fixture
def person(world):
    """Camille, in the pathway for 400 days, with a signed contract (status "in_pathway")."""
    p = world["person"]
    Person.objects.filter(pk=p.pk).update(entered_on=days_ago(400), status=Person.Status.IN_PATHWAY)
    p.refresh_from_db()
    make_contract(p, world["referent"], world["ref_structure"], status=EngagementContract.Status.SIGNED,
                  signed_days_ago=300)
    return p


def close(world, person, user=None, **data):
    user = user or world["referent"]
    payload = {"reason": ExitReason.TRAINING, "exit_date": days_ago(2), "achievements": "Formation trouvée",
               **data}
    return exit_services.close_pathway(person, membership_of(user), access=access(user, person), data=payload)


def exit_post(**overrides):
    data = {"reason": "training", "exit_date": days_ago(1).isoformat(), "achievements": "Permis B obtenu",
            "difficulties": "", "person_words": "Je suis contente", "next_steps": "Relais mission locale",
            "written_with_person": "on"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- Services: rules --------------------------------------------------------------------------


def test_close_creates_exit_status_timeline_and_contact(world, person):
    exit_ = close(world, person, written_with_person=True, exit_date=days_ago(3))
    person.refresh_from_db()
    assert exit_.pk and exit_.created_by == world["referent"] and exit_.structure == world["ref_structure"]
    assert person.status == Person.Status.EXITED and person.exited_on == days_ago(3)
    assert person.last_contact_on == days_ago(3)
    event = TimelineEvent.objects.get(person=person, kind="exit")
    assert "formation qualifiante" in event.title
    assert "Formation trouvée" not in event.title + event.detail  # the bilan stays out of the timeline


def test_close_without_person_does_not_record_a_contact(world, person):
    close(world, person, written_with_person=False)
    person.refresh_from_db()
    assert person.last_contact_on is None


@pytest.mark.parametrize("who", ["referent", "admin_ref"])
def test_referent_and_structure_admin_may_close(world, person, who):
    close(world, person, user=world[who])
    assert PathwayExit.objects.filter(person=person, cancelled_at__isnull=True).count() == 1


@pytest.mark.parametrize("who", ["member", "colleague", "officer", "outsider"])
def test_others_may_not_close(world, person, who):
    with pytest.raises(PermissionDenied):
        close(world, person, user=world[who])
    assert not PathwayExit.objects.exists()


@pytest.mark.parametrize("data, field, message", [
    ({"reason": ExitReason.OTHER, "reason_detail": ""}, "reason_detail", "Précisez le motif"),
    ({"reason": "vacances"}, "reason", "Choisissez le motif"),
    ({"exit_date": timezone.localdate() + datetime.timedelta(days=1)}, "exit_date", "dans le futur"),
    ({"exit_date": days_ago(401)}, "exit_date", "précéder l'entrée dans le parcours"),
])
def test_close_rules(world, person, data, field, message):
    with pytest.raises(ValidationError) as exc:
        close(world, person, **data)
    assert message in " ".join(exc.value.message_dict[field])
    assert not PathwayExit.objects.exists()
    person.refresh_from_db()
    assert person.status == Person.Status.IN_PATHWAY


def test_other_with_detail_and_entry_day_are_accepted(world, person):
    exit_ = close(world, person, reason=ExitReason.OTHER, reason_detail="Incarcération", exit_date=days_ago(400))
    assert exit_.reason_detail == "Incarcération" and exit_.exit_date == person.entered_on


def test_one_active_exit(world, person):
    close(world, person)
    with pytest.raises(ValidationError, match="déjà clos"):
        close(world, person)
    assert PathwayExit.objects.filter(person=person).count() == 1


def test_reopen_then_close_again_keeps_the_history(world, person):
    first = close(world, person)
    with pytest.raises(ValidationError) as exc:
        exit_services.reopen_pathway(person, membership_of(world["referent"]),
                                     access=access(world["referent"], person), reason="  ")
    assert "motif de la réouverture" in exc.value.message_dict["reason"][0]
    with pytest.raises(PermissionDenied):
        exit_services.reopen_pathway(person, membership_of(world["member"]),
                                     access=access(world["member"], person), reason="Retour")
    exit_services.reopen_pathway(person, membership_of(world["referent"]),
                                 access=access(world["referent"], person), reason="Fin de la formation")
    first.refresh_from_db()
    person.refresh_from_db()
    assert first.cancelled_at is not None and first.cancelled_by == world["referent"]
    assert first.cancel_reason == "Fin de la formation"
    assert person.status == Person.Status.IN_PATHWAY and person.exited_on is None
    assert TimelineEvent.objects.filter(person=person, kind="exit_cancelled").exists()
    with pytest.raises(ValidationError, match="pas clos"):
        exit_services.reopen_pathway(person, membership_of(world["referent"]),
                                     access=access(world["referent"], person), reason="Encore")
    close(world, person, reason=ExitReason.MOVED)
    assert PathwayExit.objects.filter(person=person).count() == 2
    assert PathwayExit.objects.filter(person=person, cancelled_at__isnull=True).get().reason == ExitReason.MOVED


def test_status_transitions_with_a_job(world, person):
    referent = world["referent"]
    job = employment_services.record_job(person, membership_of(referent), access=access(referent, person), data={
        "employer_name": "Boulangerie Dupain", "job_title": "Vendeuse", "contract_type": "cdd",
        "started_on": days_ago(10),
    })
    person.refresh_from_db()
    assert person.status == Person.Status.IN_JOB
    close(world, person, reason=ExitReason.SHORT_JOB)
    person.refresh_from_db()
    assert person.status == Person.Status.EXITED
    exit_services.reopen_pathway(person, membership_of(referent), access=access(referent, person), reason="Retour")
    person.refresh_from_db()
    assert person.status == Person.Status.IN_JOB
    employment_services.end_job(job, membership_of(referent), access=access(referent, person),
                                ended_on=days_ago(1), reason="Fin de CDD")
    person.refresh_from_db()
    assert person.status == Person.Status.IN_PATHWAY


def test_close_with_a_job_records_it_in_the_same_transaction(world, person):
    referent = world["referent"]
    job = {"employer_name": "Garage Martin", "job_title": "Mécanicien", "contract_type": "cdi",
           "started_on": days_ago(5)}
    exit_ = exit_services.close_pathway(
        person, membership_of(referent), access=access(referent, person),
        data={"reason": ExitReason.SUSTAINABLE_JOB, "exit_date": days_ago(1)}, job=job,
    )
    assert exit_.employment.checkpoints.count() == 3
    # A job with a non-job reason is refused, and nothing is written.
    exit_services.reopen_pathway(person, membership_of(referent), access=access(referent, person), reason="x")
    with pytest.raises(ValidationError, match="motif d'emploi"):
        exit_services.close_pathway(person, membership_of(referent), access=access(referent, person),
                                    data={"reason": ExitReason.MOVED, "exit_date": days_ago(1)}, job=job)
    assert Employment.objects.count() == 1
    # A bad job rolls the whole exit back.
    with pytest.raises(ValidationError):
        exit_services.close_pathway(person, membership_of(referent), access=access(referent, person),
                                    data={"reason": ExitReason.SHORT_JOB, "exit_date": days_ago(1)},
                                    job={**job, "employer_siret": "12345678901234"})
    assert PathwayExit.objects.filter(cancelled_at__isnull=True).count() == 0
    assert Employment.objects.count() == 1


# --- Pages ----------------------------------------------------------------------------------


def test_exit_page_form_for_referent_with_future_appointments_warning(world, person, client_for):
    Appointment.objects.create(
        person=person, starts_at=timezone.now() + datetime.timedelta(days=3), purpose="Point CV",
        with_user=world["referent"], structure=world["ref_structure"], created_by=world["referent"],
    )
    Appointment.objects.create(
        person=person, starts_at=timezone.now() - datetime.timedelta(days=3), purpose="Entretien passé",
        with_user=world["referent"], structure=world["ref_structure"], created_by=world["referent"],
    )
    response = client_for(world["referent"]).get(EXIT_URL.format(person.pk))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Clore le parcours" in html and "Enregistrer la sortie" in html
    assert "Point CV" in html and "Entretien passé" not in html
    assert "1 rendez-vous est prévu" in html
    assert AccessLog.objects.filter(person=person, user=world["referent"], section=AccessLog.Section.EXIT).exists()


def test_exit_page_for_member_is_read_only_and_post_is_forbidden(world, person, client_for):
    client = client_for(world["member"])
    response = client.get(EXIT_URL.format(person.pk))
    assert response.status_code == 200
    assert "Enregistrer la sortie" not in response.content.decode()
    assert client.post(EXIT_URL.format(person.pk), exit_post()).status_code == 403
    assert not PathwayExit.objects.exists()


def test_exit_page_404_and_403(world, person, client_for):
    assert client_for(world["gers_officer"]).get(EXIT_URL.format(person.pk)).status_code == 404
    assert client_for(world["referent"]).get(EXIT_URL.format(999999)).status_code == 404
    assert client_for(world["outsider"]).get(EXIT_URL.format(person.pk)).status_code == 403
    assert client_for(world["coordinator"]).get(EXIT_URL.format(person.pk)).status_code == 403
    assert not AccessLog.objects.filter(section=AccessLog.Section.EXIT).exists()


def test_exit_post_closes_and_redirects(world, person, client_for):
    client = client_for(world["referent"])
    response = client.post(EXIT_URL.format(person.pk), exit_post())
    assert response.status_code == 302 and response["Location"] == EXIT_URL.format(person.pk)
    exit_ = PathwayExit.objects.get(person=person)
    assert exit_.person_words == "Je suis contente" and exit_.written_with_person
    page = client.get(EXIT_URL.format(person.pk)).content.decode()
    assert "Parcours clos le" in page and "Rouvrir le parcours" in page and "Bilan imprimable" in page


def test_exit_post_errors_keep_the_values(world, person, client_for):
    client = client_for(world["referent"])
    response = client.post(EXIT_URL.format(person.pk), exit_post(reason="other", reason_detail="",
                                                               achievements="Texte à garder"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Précisez le motif de sortie" in html
    assert "Texte à garder" in html
    future = (timezone.localdate() + datetime.timedelta(days=2)).isoformat()
    html = client.post(EXIT_URL.format(person.pk), exit_post(exit_date=future)).content.decode()
    assert "ne peut pas être dans le futur" in html
    assert not PathwayExit.objects.exists()


def test_exit_post_with_job(world, person, client_for):
    client = client_for(world["referent"])
    job = {"job-employer_name": "Mairie de Muret", "job-job_title": "Agent d'entretien", "job-contract_type": "cdd",
           "job-started_on": days_ago(3).isoformat(), "job-employer_siret": "732 829 320 00074"}
    # Not a job reason: refused, values kept.
    html = client.post(EXIT_URL.format(person.pk), exit_post(record_job="on", **job)).content.decode()
    assert "motif d&#x27;emploi" in html and "Mairie de Muret" in html
    # Bad SIRET: refused on the job part.
    html = client.post(EXIT_URL.format(person.pk), exit_post(
        reason="short_job", record_job="on", **{**job, "job-employer_siret": "12345678901234"})).content.decode()
    assert "SIRET n&#x27;est pas valide" in html
    assert not PathwayExit.objects.exists() and not Employment.objects.exists()
    response = client.post(EXIT_URL.format(person.pk), exit_post(reason="short_job", record_job="on", **job))
    assert response.status_code == 302
    employment = Employment.objects.get(person=person)
    assert employment.employer_siret == "73282932000074"
    assert Checkpoint.objects.filter(employment=employment).count() == 3


def test_job_fields_without_the_box_are_ignored(world, person, client_for):
    client = client_for(world["referent"])
    response = client.post(EXIT_URL.format(person.pk), exit_post(**{"job-employer_name": "Ignorée"}))
    assert response.status_code == 302
    assert not Employment.objects.exists()


def test_reopen_page(world, person, client_for):
    close(world, person)
    url = f"/personnes/{person.pk}/sortie/rouvrir/"
    assert client_for(world["member"]).post(url, {"reopen-reason": "Retour"}).status_code == 403
    client = client_for(world["referent"])
    html = client.post(url, {"reopen-reason": ""}).content.decode()
    assert "Rouvrir le parcours" in html and "obligatoire" in html
    assert client.post(url, {"reopen-reason": "Retour de la personne"}).status_code == 302
    person.refresh_from_db()
    assert person.status == Person.Status.IN_PATHWAY
    html = client.get(EXIT_URL.format(person.pk)).content.decode()
    assert "Sorties annulées" in html and "Retour de la personne" in html


# --- Bilan ----------------------------------------------------------------------------------


def test_bilan_page_content_and_access_log(world, person, client_for):
    referent = world["referent"]
    objective = PlanObjective.objects.create(person=person, label="Obtenir le permis B", status=PlanStatus.DONE,
                                             created_by=referent, structure=world["ref_structure"])
    PlanAction.objects.create(objective=objective, person=person, label="Code de la route",
                              status=PlanStatus.DONE, created_by=referent)
    employment_services.record_job(person, membership_of(referent), access=access(referent, person), data={
        "employer_name": "Transports Occitans", "job_title": "Chauffeuse", "contract_type": "cdi",
        "started_on": days_ago(20),
    })
    close(world, person, reason=ExitReason.SUSTAINABLE_JOB, person_words="Un vrai tournant",
          next_steps="Suivi à 6 mois", written_with_person=True)
    client = client_for(world["member"])
    response = client.get(f"/personnes/{person.pk}/sortie/bilan/")
    html = response.content.decode()
    assert response.status_code == 200
    for text in ("Bilan de fin de parcours", "Camille DUPUIS", days_ago(400).strftime("%d/%m/%Y"),
                 days_ago(300).strftime("%d/%m/%Y"), days_ago(2).strftime("%d/%m/%Y"),
                 "Emploi durable (CDI, ou CDD ou intérim de 6 mois et plus)", "Obtenir le permis B",
                 "Code de la route", "Réalisée",
                 "Un vrai tournant", "Suivi à 6 mois", "rédigé avec la personne", "Chauffeuse",
                 "Transports Occitans"):
        assert text in html, text
    assert "<style" not in html and "style=" not in html and "<script>" not in html
    log = AccessLog.objects.filter(person=person, user=world["member"], section=AccessLog.Section.EXIT).get()
    assert log.reason == "bilan imprimable"
    # The health section never appears in the bilan.
    assert "dépression" not in html


def test_bilan_without_exit_redirects_and_outsider_is_refused(world, person, client_for):
    assert client_for(world["referent"]).get(f"/personnes/{person.pk}/sortie/bilan/").status_code == 302
    close(world, person)
    assert client_for(world["outsider"]).get(f"/personnes/{person.pk}/sortie/bilan/").status_code == 403
    assert client_for(world["gers_officer"]).get(f"/personnes/{person.pk}/sortie/bilan/").status_code == 404


def test_bilan_page_query_count_does_not_grow(world, person, client_for):
    referent = world["referent"]
    close(world, person)
    client = client_for(referent)
    url = f"/personnes/{person.pk}/sortie/bilan/"

    def add_objectives(n):
        for i in range(n):
            o = PlanObjective.objects.create(person=person, label=f"Objectif {i}", created_by=referent,
                                             structure=world["ref_structure"])
            PlanAction.objects.create(objective=o, person=person, label=f"Action {i}", created_by=referent)

    add_objectives(2)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    add_objectives(8)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small)


# --- Record summary tag ---------------------------------------------------------------------


def render_summary(user, person):
    template = Template("{% load exits_tags %}{% exit_summary person access %}")
    person = Person.objects.get(pk=person.pk)
    with CaptureQueriesContext(connection) as queries:
        html = template.render(Context({"person": person, "access": access(user, person)}))
    return html, queries


def test_exit_summary_tag(world, person):
    html, _ = render_summary(world["referent"], person)
    assert "Clore le parcours" in html
    html, _ = render_summary(world["member"], person)
    assert "Clore le parcours" not in html and "En cours" in html
    referent = world["referent"]
    employment_services.record_job(person, membership_of(referent), access=access(referent, person), data={
        "employer_name": "Cuisine Centrale", "job_title": "Commis", "contract_type": "cdd",
        "started_on": days_ago(40),
    })
    close(world, person, reason=ExitReason.SHORT_JOB)
    acc = access(referent, person)
    template = Template("{% load exits_tags %}{% exit_summary person access %}")
    with CaptureQueriesContext(connection) as queries:
        html = template.render(Context({"person": person, "access": acc}))
    assert len(queries) <= 2
    assert "Clos le" in html and "Emploi de moins de 6 mois" in html
    assert "Commis chez Cuisine Centrale" in html
    assert "À 1 mois" in html and "En retard" in html  # started 40 days ago: the 1-month point is overdue
    html, _ = render_summary(world["outsider"], person)
    assert html.strip() == ""


def test_second_exit_post_says_already_closed(world, person, client_for):
    close(world, person)
    client = client_for(world["referent"])
    response = client.post(EXIT_URL.format(person.pk), exit_post(), follow=True)
    assert "déjà clos" in response.content.decode()
    assert PathwayExit.objects.filter(person=person).count() == 1
