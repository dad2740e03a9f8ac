"""Demo data for the day-to-day follow-up: plans, appointments, notes, exits, jobs and checkpoints.

Runs after ``seed_pathways`` (``spie.core.demo.seed``) on the persons seeded since the last run
(persons are inserted with increasing primary keys, so "newer than the last person having
follow-up rows"). Everything is synthetic (DESIGN.md §5): note and report texts are generic
sentences, employers are invented names, nothing comes from a real file.

For every person with a signed engagement contract: the plan (the contract's objectives,
source "contract", 1-3 actions each with varied statuses and dates, a few transitions),
appointments over the last 6 months and the next 3 weeks (~10 % no-shows, some excused,
some past ones whose attendance was never recorded), notes (mostly for the group, some for the
structure only, a few in the health section for persons who have one), ``last_contact_on``
derived from the attended appointments and contact notes (with ~10 % of persons left without
contact for more than 90 days), jobs with their checkpoints at 1, 3 and 6 months. About 8 % of
all persons have left the pathway (every exit reason, with a report). Then ``Person.status``
is set for everybody with one UPDATE following the rules of
``spie.followup.services.status.compute_status``.

The demo référente (``referente.demo@spie31.example``) is given at least one alert of every
kind on her home whatever the size of the seed (:func:`_force_referente_alerts`).

Deterministic for a given seed and day; rows are written with ``fast_insert`` in batches.
"""

import random
import time
from bisect import bisect_right
from calendar import monthrange
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Case, DateField, Exists, Max, OuterRef, Subquery, Value, When

BATCH = 2000
REFERENTE_EMAIL = "referente.demo@spie31.example"

EXIT_SHARE_SIGNED = 0.16  # of persons with a contract signed at least two months ago
EXIT_SHARE_OTHERS = 0.05  # of the other persons entered at least four months ago
JOB_SHARE = 0.13  # of persons in pathway (not exited): a job in progress
DORMANT_SHARE = 0.10  # of persons in pathway: no contact for more than 90 days
NO_CONTACT_DAYS = 90

APPOINTMENT_PURPOSES = [
    "Entretien de suivi",
    "Point sur le contrat d'engagement",
    "Bilan des démarches de recherche d'emploi",
    "Préparation d'un entretien d'embauche",
    "Point sur le projet de formation",
    "Accompagnement aux démarches administratives",
    "Point sur la mobilité",
    "Travail sur le CV et les candidatures",
]
CANCEL_REASONS = [
    "Indisponibilité de la personne (rendez-vous médical)",
    "Absence du référent",
    "Rendez-vous déplacé à la demande de la personne",
]

_GROUP_INTERVIEW = [
    "Entretien de suivi : point sur les démarches engagées depuis le dernier rendez-vous. La personne "
    "a mis à jour son CV et envoyé trois candidatures. Prochaine étape : préparer les entretiens.",
    "Point d'étape sur le contrat d'engagement : les objectifs restent d'actualité. La personne se dit "
    "motivée ; nous convenons d'un rendez-vous dans un mois.",
    "Entretien : la personne a participé à l'atelier collectif sur la recherche d'emploi et souhaite "
    "s'orienter vers les métiers de la logistique. Orientation vers une immersion à étudier.",
    "Entretien de suivi : le dossier de demande d'aide au permis de conduire est complet, envoyé ce jour. "
    "Relance prévue dans deux semaines.",
    "Rendez-vous consacré au projet de formation : information sur les aides régionales et sur la "
    "prépa compétences. La personne prend contact avec l'organisme de formation.",
    "Entretien : la garde des enfants reste le principal frein. Démarches auprès du relais petite "
    "enfance engagées ; point à faire au prochain rendez-vous.",
]
_GROUP_PHONE = [
    "Échange téléphonique : la personne confirme sa présence à l'information collective de jeudi.",
    "Appel de la personne : question sur la déclaration trimestrielle de ressources, réponse apportée.",
    "Échange téléphonique : point rapide sur les candidatures en cours, pas de difficulté particulière.",
    "Appel pour reporter le rendez-vous ; nouvelle date convenue ensemble.",
]
_GROUP_OTHER = [
    "Courrier envoyé à la personne avec la liste des pièces à fournir pour le dossier.",
    "Information transmise au groupe de suivi : une place en atelier numérique est disponible le mois prochain.",
    "Observation : la personne s'est présentée spontanément à l'accueil pour déposer des justificatifs.",
    "Message reçu de la personne : elle a obtenu un rendez-vous avec un employeur la semaine prochaine.",
]
_STRUCTURE_NOTES = [
    "Note interne : situation à présenter en réunion d'équipe pour une aide financière exceptionnelle.",
    "Note interne : dossier à reprendre par la collègue pendant les congés du référent.",
    "Note interne : demande d'aide au FSL à instruire par la structure avant la fin du mois.",
    "Note interne : difficultés de paiement du loyer signalées, accompagnement budgétaire proposé.",
]
_HEALTH_NOTES = [
    "Suivi médical en cours signalé par la personne ; aménagement des horaires à prévoir. Information "
    "notée avec son accord.",
    "La personne indique une reconnaissance de la qualité de travailleur handicapé en cours de "
    "renouvellement ; contact avec Cap emploi à envisager.",
    "Arrêt de travail de quelques semaines évoqué ; reprise des démarches à l'issue, selon l'avis du médecin.",
]

_GENERIC_ACTIONS = [
    "Participer à un atelier collectif",
    "Prendre rendez-vous avec le partenaire",
    "Constituer le dossier et le déposer",
    "Faire le point avec le référent",
]
_TRANSITION_REASONS = {
    "abandoned": "La personne ne souhaite plus poursuivre cette action",
    "cancelled": "Action remplacée par une autre plus adaptée",
    "on_hold": "En attente d'une place disponible",
}
_PROVIDERS = ["AFPA Toulouse", "Auto-école solidaire", "Organisme de formation", "Atelier numérique de quartier"]

_EMPLOYER_WORDS = (
    ["Transports", "Nettoyage", "Restauration", "Logistique", "Bâtiment", "Services à domicile", "Espaces verts",
     "Commerce", "Maintenance", "Boulangerie"],
    ["du Sud-Ouest", "Garonne", "des Coteaux", "Pyrénées", "du Lauragais", "Occitanie", "des Minimes", "de l'Ariège"],
    ["SARL", "SAS", "SCOP", "Association"],
)
_JOBS = [
    ("Agent d'entretien", "K2204"), ("Préparateur de commandes", "N1103"), ("Aide à domicile", "K1304"),
    ("Employé de restauration", "G1603"), ("Manœuvre du bâtiment", "F1703"), ("Agent de sécurité", "K2503"),
    ("Employé libre-service", "D1507"), ("Jardinier paysagiste", "A1203"), ("Chauffeur livreur", "N4105"),
    ("Aide-soignant", "J1501"),
]
_CONTRACT_TYPES = [("cdd", 35), ("cdi", 20), ("interim", 20), ("iae", 20), ("alternance", 5)]
_CHECKPOINT_COMMENTS = [
    "Bonne intégration dans l'équipe, horaires tenus.",
    "Quelques difficultés de transport au début, solution de covoiturage trouvée.",
    "L'employeur est satisfait ; une prolongation du contrat est envisagée.",
    "La personne souhaite une formation pour évoluer dans le poste.",
]

# Exit reasons: (weight among persons with a contract, weight among the others) and the report.
_EXIT_WEIGHTS = {
    "sustainable_job": (24, 0), "short_job": (20, 0), "training": (14, 0), "business_creation": (5, 0),
    "moved": (10, 35), "lost_contact": (12, 35), "end_of_rights": (9, 20), "other": (6, 10),
}
_EXIT_REPORTS = {
    "sustainable_job": ("Embauche en contrat durable après une période d'essai validée.",
                        "Mobilité au début du parcours, levée grâce à l'aide au permis.",
                        "Je suis contente d'avoir retrouvé un travail stable."),
    "short_job": ("Reprise d'un emploi en contrat court ; expérience utile pour le CV.",
                  "Manque d'expérience récente dans le métier visé.",
                  "Ce contrat me remet le pied à l'étrier."),
    "training": ("Entrée en formation qualifiante financée par la Région.",
                 "Projet professionnel long à préciser.",
                 "La formation correspond à ce que je voulais faire."),
    "business_creation": ("Création d'une micro-entreprise avec l'appui des partenaires de la création.",
                          "Démarches administratives de la création.",
                          "J'ai pu lancer mon activité."),
    "moved": ("Démarches engagées transmises au département d'arrivée.",
              "Déménagement en cours de parcours.",
              ""),
    "lost_contact": ("Premières démarches réalisées avant la rupture du contact.",
                     "Plusieurs rendez-vous non honorés malgré les relances.",
                     ""),
    "end_of_rights": ("Accompagnement réalisé pendant la durée des droits.",
                      "Fin des droits au RSA (ressources supérieures au plafond).",
                      ""),
    "other": ("Parcours clos d'un commun accord.",
              "",
              "Je n'ai plus besoin d'accompagnement pour le moment."),
}
_EXIT_NEXT_STEPS = [
    "Relais vers le service emploi de la commune si besoin.",
    "La personne sait qu'elle peut revenir vers la structure.",
    "Suivi dans l'emploi prévu par le référent pendant six mois.",
    "",
]


@dataclass
class _Person:
    """What the generator needs about one person (read once, in bulk)."""

    id: int
    entered_on: date
    last_contact_on: date | None
    start: date | None = None  # start of the orientation delay: RSA rights opened, or the entry
    referent: tuple | None = None  # (user id, structure id)
    members: list = field(default_factory=list)  # [(user id, structure id)]
    contract: tuple | None = None  # (contract id, objectives, sign day)
    health: bool = False
    # Forced by _force_referente_alerts: "dormant", "review", "pending", "job".
    forced: set = field(default_factory=set)


def seed_followup(territory, *, seed, today, log=print, progress_file=None):
    """Plans, appointments, notes, exits, jobs and checkpoints of the persons seeded since the last
    run; then every person's status. Returns counts by kind of row."""
    from tqdm import tqdm

    started = time.monotonic()
    counts = dict.fromkeys(
        ("objectives", "actions", "transitions", "appointments", "notes", "exits", "employments",
         "checkpoints", "timeline_events", "contacts_updated", "forced_alerts"), 0,
    )
    persons = _load(territory)
    if persons:
        rng = random.Random(f"{seed}-followup")
        gen = _Generator(rng, today, counts)
        forced = _force_referente_alerts(territory, persons, today, gen)
        progress = tqdm(
            total=len(persons), desc="Suivi des parcours", unit=" pers.", file=progress_file,
            disable=True if progress_file is None else None, mininterval=0.5, dynamic_ncols=True,
        )
        with _fast_writes(), transaction.atomic():
            for start in range(0, len(persons), BATCH):
                chunk = persons[start:start + BATCH]
                for person in chunk:
                    gen.person(person)
                gen.flush()
                progress.update(len(chunk))
            forced()
            gen.finish()
        progress.close()
    with transaction.atomic():
        set_statuses(territory, today=today)
    log(
        f"Suivi : {counts['objectives']} objectifs et {counts['actions']} actions de plan, "
        f"{counts['appointments']} rendez-vous, {counts['notes']} notes, {counts['exits']} sorties, "
        f"{counts['employments']} emplois ({counts['checkpoints']} points de suivi) en "
        f"{time.monotonic() - started:.1f} s."
    )
    return counts


@contextmanager
def _fast_writes():
    """On SQLite, a larger page cache and no per-row foreign-key lookups while the rows (whose
    keys all come from the database) are written; PostgreSQL is left as is."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        cache_size = cursor.fetchone()[0]
        cursor.execute("PRAGMA cache_size = -262144")  # 256 MB
    try:
        with connection.constraint_checks_disabled():
            yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(cache_size)}")


def _threshold(territory):
    """Persons with a primary key above this one have no follow-up rows yet."""
    from spie.followup.models import Appointment, Employment, Note, PathwayExit, PlanObjective

    tops = [
        model.objects.filter(person__territory=territory).aggregate(top=Max("person_id"))["top"] or 0
        for model in (PlanObjective, Appointment, Note, PathwayExit, Employment)
    ]
    return max(tops)


def _load(territory):
    from spie.pathways.models import EngagementContract
    from spie.people.models import FollowUpMembership, HealthInfo, Person

    if connection.vendor == "postgresql":
        # Fresh bulk-loaded tables have no planner statistics yet (``spie.core.demo._analyze`` runs
        # at the very end): without them the joins below get nested-loop plans taking minutes.
        tables = ", ".join(
            connection.ops.quote_name(model._meta.db_table)
            for model in (Person, FollowUpMembership, EngagementContract, HealthInfo)
        )
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {tables}")
    threshold = _threshold(territory)
    # Plain fetches (no server-side cursor: its fast-start plans are slow on these joins).
    persons = {
        pk: _Person(pk, entered_on, last_contact, opened or entered_on)
        for pk, entered_on, last_contact, opened in Person.objects.filter(territory=territory, pk__gt=threshold)
        .order_by("pk").values_list("pk", "entered_on", "last_contact_on", "rsa_rights_opened_on")
    }
    if not persons:
        return []
    scope = {"person__territory": territory, "person_id__gt": threshold}
    for person_id, user_id, structure_id, kind in FollowUpMembership.objects.filter(
        end_date__isnull=True, **scope
    ).order_by("person_id", "start_date", "pk").values_list("person_id", "user_id", "structure_id", "kind"):
        person = persons[person_id]
        if kind == FollowUpMembership.Kind.REFERENT:
            person.referent = (user_id, structure_id)
        else:
            person.members.append((user_id, structure_id))
    for person_id, contract_id, objectives, signed_on, signed_at in EngagementContract.objects.filter(
        status=EngagementContract.Status.SIGNED, **scope
    ).order_by("person_id", "version").values_list(
        "person_id", "pk", "objectives", "signed_by_referent_on", "signed_at"
    ):
        day = signed_on or (signed_at.date() if signed_at else None)
        if day is not None:
            persons[person_id].contract = (contract_id, objectives or [], day)  # the latest version wins
    for person_id in HealthInfo.objects.filter(**scope).values_list("person_id", flat=True):
        persons[person_id].health = True
    return [p for p in persons.values() if p.referent is not None]


class _Table:
    """Rows of one model as plain tuples, written with ``executemany`` (SQLite) or ``COPY``
    (PostgreSQL): building hundreds of thousands of model instances would cost more than the
    inserts. Columns not given get their field's default (``auto_now`` fields: now). With
    ``assign_pk`` rows get consecutive primary keys after the current maximum (a one-off seed
    inside a transaction, like ``fast_insert``)."""

    def __init__(self, model, columns, *, assign_pk=False):
        from django.utils import timezone

        meta = model._meta
        self.model = model
        self.assign_pk = assign_pk
        given = (meta.pk.attname, *columns) if assign_pk else tuple(columns)
        fields = {f.attname: f for f in meta.concrete_fields}
        now = timezone.now()
        extra = [
            (attname, now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default())
            for attname, f in fields.items() if attname not in given and not f.primary_key
        ]
        self.fields = [fields[a] for a in given] + [fields[a] for a, _ in extra]
        self.constants = tuple(value for _, value in extra)
        self.rows = []
        self.next_pk = None
        self.written = 0

    def add(self, *values):
        if self.assign_pk:
            if self.next_pk is None:
                self.next_pk = (self.model._base_manager.aggregate(top=Max("pk"))["top"] or 0) + 1
            pk = self.next_pk
            self.next_pk += 1
            self.rows.append((pk, *values))
            return pk
        self.rows.append(values)
        return None

    def flush(self):
        if not self.rows:
            return
        ops = connection.ops
        vendor = connection.vendor
        constants = self.constants
        if vendor == "sqlite":
            adapters = []
            for f in self.fields:
                kind = f.get_internal_type()
                if kind == "DateTimeField":
                    # Aware UTC datetimes: stored as naive UTC text, like Django does.
                    adapters.append(lambda v: None if v is None else str(v.replace(tzinfo=None)))
                elif kind == "DateField":
                    adapters.append(lambda v: None if v is None else str(v))
                elif kind == "DecimalField":
                    adapters.append(lambda v, f=f: f.get_db_prep_save(v, connection))
                else:
                    adapters.append(None)
            given = len(self.fields) - len(constants)
            adapted_constants = tuple(
                c if adapt is None else adapt(c) for c, adapt in zip(constants, adapters[given:], strict=True)
            )
            plan = [(i, adapt) for i, adapt in enumerate(adapters[:given]) if adapt is not None]
            rows = []
            for row in self.rows:
                if plan:
                    row = list(row)
                    for i, adapt in plan:
                        row[i] = adapt(row[i])
                rows.append((*row, *adapted_constants))
        else:
            rows = [(*row, *constants) for row in self.rows]
        table = ops.quote_name(self.model._meta.db_table)
        columns = ", ".join(ops.quote_name(f.column) for f in self.fields)
        with connection.cursor() as cursor:
            raw = cursor.cursor
            if vendor == "sqlite":
                placeholders = ", ".join(["%s"] * len(self.fields))
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", rows)  # noqa: S608
            elif vendor == "postgresql" and hasattr(raw, "copy"):
                with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # noqa: S608 - quoted names
                    for row in rows:
                        copy.write_row(row)
            else:
                names = [f.attname for f in self.fields]
                self.model._base_manager.bulk_create([self.model(**dict(zip(names, row, strict=True))) for row in rows],
                                                    batch_size=BATCH)
        self.written += len(rows)
        self.rows = []

    def reset_sequence(self):
        if self.assign_pk and self.written:
            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_sql(no_style(), [self.model]):
                    cursor.execute(sql)


def _chooser(rng, pairs):
    """A function drawing a value with weights (``random.choices`` is slower per call)."""
    values = [v for v, _ in pairs]
    cumulative = list(accumulate(w for _, w in pairs))
    total = cumulative[-1]
    last = len(values) - 1

    def choose():
        return values[min(bisect_right(cumulative, rng.random() * total), last)]

    return choose


class _Generator:
    """Builds the rows of each person and writes them per batch."""

    def __init__(self, rng, today, counts):
        from spie.followup.models import (
            Appointment,
            Note,
            PlanAction,
            PlanObjective,
            PlanStatus,
            PlanTransition,
        )
        from spie.people.models import TimelineEvent
        from spie.referentials.models import PathwayItem, PathwayTheme

        self.rng = rng
        self.today = today
        self.yesterday = today - timedelta(days=1)
        self.counts = counts
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self._offsets = {}
        self.exited = set()
        self.themes = set(PathwayTheme.objects.values_list("code", flat=True))
        self.objective_items = {}
        self.action_items = {}
        for pk, theme_id, kind, label in PathwayItem.objects.values_list("pk", "theme_id", "kind", "label"):
            if kind == PathwayItem.Kind.OBJECTIVE:
                self.objective_items[(theme_id, label)] = pk
            elif kind == PathwayItem.Kind.ACTION and label != "Autre":
                self.action_items.setdefault(theme_id, []).append((pk, label))
        self.objectives = _Table(PlanObjective, (
            "person_id", "theme_id", "item_id", "label", "source", "contract_id", "contract_position", "status",
            "started_on", "ended_on", "position", "created_by_id", "structure_id",
        ), assign_pk=True)
        self.actions = _Table(PlanAction, (
            "objective_id", "person_id", "item_id", "label", "status", "planned_on", "due_on", "started_on",
            "ended_on", "responsible_user_id", "responsible_structure_id", "provider", "created_by_id",
        ), assign_pk=True)
        self.transitions = _Table(PlanTransition, ("action_id", "from_status", "to_status", "by_id", "at", "reason"))
        self.appointments = _Table(Appointment, (
            "person_id", "starts_at", "duration_minutes", "mode", "place", "purpose", "with_user_id", "structure_id",
            "status", "cancel_reason", "attendance", "attendance_recorded_at", "attendance_recorded_by_id",
            "invitation_sent_at", "reminder_sent_at", "created_by_id",
        ))
        self.notes = _Table(Note, (
            "person_id", "confidentiality", "kind", "is_contact", "body", "author_id", "author_structure_id",
            "created_at",
        ))
        self.events = _Table(TimelineEvent, ("person_id", "at", "kind", "title", "actor_id", "structure_id"))
        self.tables = (self.objectives, self.actions, self.transitions, self.appointments, self.notes, self.events)
        self.exits = []  # PathwayExit instances (few: fast_insert)
        self.employments = []  # (Employment, [checkpoint kwargs])
        self.contacts = []  # (day, person id)

        S = PlanStatus
        self.S = S
        self.objective_status = _chooser(rng, [("done", 22), ("planned", 8), ("on_hold", 6), ("abandoned", 4),
                                               ("in_progress", 60)])
        self.action_status = _chooser(rng, [(S.IN_PROGRESS, 40), (S.DONE, 30), (S.ON_HOLD, 8), (S.ABANDONED, 7),
                                            (S.PLANNED, 10), (S.CANCELLED, 5)])
        self.action_count = _chooser(rng, [(1, 55), (2, 35), (3, 10)])
        self.mode = _chooser(rng, [("in_person", 62), ("phone", 24), ("video", 8), ("home", 6)])
        self.extra_note_kind = _chooser(rng, [("phone", 50), ("message", 30), ("observation", 20)])
        self.contract_type = _chooser(rng, _CONTRACT_TYPES)
        self.exit_reason = {
            signed: _chooser(rng, [(reason, w[0 if signed else 1]) for reason, w in _EXIT_WEIGHTS.items()])
            for signed in (True, False)
        }
        self.unused_reasons = list(_EXIT_WEIGHTS)
        self.health_notes = 0
        self.hours = (9, 9, 10, 10, 11, 14, 14, 15, 16)
        self.minutes = (0, 0, 15, 30, 30, 45)

    # ---------------------------------------------------------------------------------------
    def at(self, day, hour=None, minute=None):
        """An aware UTC datetime for a local day and time (drawn among office hours by default)."""
        rng = self.rng
        hour = self.hours[int(rng.random() * 9)] if hour is None else hour
        minute = self.minutes[int(rng.random() * 6)] if minute is None else minute
        offset = self._offsets.get(day)
        if offset is None:
            offset = self._offsets[day] = self.tz.utcoffset(datetime(day.year, day.month, day.day, 12))
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - offset

    def days_between(self, start, end):
        """A random day in [start, end] (start when the range is empty)."""
        span = (end - start).days
        return start + timedelta(days=int(self.rng.random() * (span + 1))) if span > 0 else start

    def event(self, person, moment, kind, title, actor):
        self.events.add(person.id, moment, kind, title, actor[0], actor[1])

    # ---------------------------------------------------------------------------------------
    def person(self, person):
        rng, today = self.rng, self.today
        contract = person.contract
        if contract is None:
            # No signed contract: only a share of exits (moved, lost contact, end of rights…).
            if not person.forced and person.entered_on <= today - timedelta(days=120) \
                    and rng.random() < EXIT_SHARE_OTHERS:
                exit_day = self.days_between(person.entered_on + timedelta(days=60), self.yesterday)
                written = self.exit(person, exit_day, self.exit_reason[False]())
                last = person.last_contact_on
                self.contacts.append((exit_day if written or last is None else min(last, exit_day), person.id))
            return
        sign_day = contract[2]
        exit_day = reason = None
        if not person.forced and sign_day <= today - timedelta(days=61) and rng.random() < EXIT_SHARE_SIGNED:
            exit_day = self.days_between(sign_day + timedelta(days=60), self.yesterday)
            # Every reason at least once (the first exits), then drawn with their weights.
            reason = self.unused_reasons.pop(0) if self.unused_reasons else self.exit_reason[True]()
        end = exit_day or today
        dormant = "dormant" in person.forced or (
            exit_day is None and not person.forced and sign_day <= today - timedelta(days=NO_CONTACT_DAYS + 10)
            and rng.random() < DORMANT_SHARE
        )
        job = "job" in person.forced or (
            exit_day is None and not dormant and not person.forced and sign_day <= today - timedelta(days=20)
            and rng.random() < JOB_SHARE
        )
        self.plan(person, contract, end)
        contacts = [sign_day]
        if dormant:
            last = self.days_between(sign_day, today - timedelta(days=NO_CONTACT_DAYS + 5))
            contacts += self.appointments_for(person, sign_day, last, future=False)
            # Since then: invitations not honoured.
            if last < today - timedelta(days=20) and rng.random() < 0.7:
                since = max(last + timedelta(days=10), today - timedelta(days=180))
                self.appointment(person, self.days_between(since, today - timedelta(days=2)), attendance="absent")
        else:
            contacts += self.appointments_for(person, sign_day, end - timedelta(days=1), future=exit_day is None)
        if "pending" in person.forced:
            self.appointment(person, today - timedelta(days=rng.randint(2, 6)), attendance="pending",
                             with_referent=True)
        if job:
            started = today - timedelta(days=rng.randint(35, 70)) if "job" in person.forced else \
                self.days_between(sign_day + timedelta(days=14), self.yesterday)
            self.employment(person, started, today, keep_first_open="job" in person.forced)
        if reason is not None:
            if reason in ("sustainable_job", "short_job", "business_creation"):
                months = 7 if reason == "sustainable_job" else rng.randint(1, 5)
                started = max(sign_day + timedelta(days=7), _add_months(exit_day, -months))
                self.employment(person, started, exit_day, business=reason == "business_creation")
            if self.exit(person, exit_day, reason):
                contacts.append(exit_day)
        self.contacts.append((max(contacts), person.id))

    # ---------------------------------------------------------------------------------------
    def plan(self, person, contract, end):
        rng, today, S = self.rng, self.today, self.S
        contract_id, objectives, sign_day = contract
        referent = person.referent
        entries = [(o.get("theme"), o.get("label"), i) for i, o in enumerate(objectives) if o.get("label")]
        if not entries:
            entries = [("trouver_un_emploi", "Accéder à un emploi", None)]
        age = (today - sign_day).days
        for position, (theme, label, contract_position) in enumerate(entries):
            theme = theme if theme in self.themes else None
            status = self.objective_status()
            if (status == "done" and age <= 90) or (status == "abandoned" and age <= 60):
                status = "in_progress"
            status = S(status)
            started = None if status == S.PLANNED else min(end, sign_day + timedelta(days=int(rng.random() * 21)))
            ended = self.days_between(started, end) if status in (S.DONE, S.ABANDONED) else None
            from_contract = contract_position is not None
            objective_id = self.objectives.add(
                person.id, theme, self.objective_items.get((theme, label)), label,
                "contract" if from_contract else "free", contract_id if from_contract else None,
                contract_position, status.value, started, ended, position, referent[0], referent[1],
            )
            log_transitions = rng.random() < 0.2
            pool = self.action_items.get(theme) or []
            for _ in range(self.action_count()):
                if pool and rng.random() < 0.85:
                    item_id, action_label = pool[int(rng.random() * len(pool))]
                else:
                    item_id, action_label = None, _GENERIC_ACTIONS[int(rng.random() * len(_GENERIC_ACTIONS))]
                self.action(person, objective_id, status, item_id, action_label, sign_day, end, log_transitions)
            self.counts["objectives"] += 1
        self.event(person, self.at(min(today, sign_day + timedelta(days=int(rng.random() * 8)))), "plan_created",
                   f"Plan d'action repris du contrat d'engagement ({len(entries)} objectif"
                   f"{'s' if len(entries) > 1 else ''})", referent)

    def action(self, person, objective_id, objective_status, item_id, label, sign_day, end, log_transitions):
        rng, today, S = self.rng, self.today, self.S
        planned_on = sign_day + timedelta(days=int(rng.random() * 151))
        due_on = planned_on + timedelta(days=(30, 45, 60, 90)[int(rng.random() * 4)])
        if objective_status == S.PLANNED:
            status = S.PLANNED if rng.random() < 0.8 else S.CANCELLED
        elif objective_status == S.DONE:
            status = S.DONE
        elif planned_on > today:
            status = S.PLANNED
        else:
            status = self.action_status()
        started = ended = None
        path = []  # (from, to, day)
        if status in (S.IN_PROGRESS, S.DONE, S.ON_HOLD, S.ABANDONED):
            started = min(planned_on, end)
            path.append((S.PLANNED, S.IN_PROGRESS, started))
        if status in (S.DONE, S.ABANDONED, S.ON_HOLD):
            ended_day = self.days_between(started, end)
            path.append((S.IN_PROGRESS, status, ended_day))
            if status != S.ON_HOLD:
                ended = ended_day
        if status == S.CANCELLED:
            ended = min(planned_on, end)
            path.append((S.PLANNED, S.CANCELLED, ended))
        r = rng.random()
        responsible_user = responsible_structure = None
        provider = ""
        if r < 0.7:
            responsible_user = person.referent[0]
        elif r < 0.9:
            responsible_structure = (rng.choice(person.members) if person.members else person.referent)[1]
        else:
            provider = _PROVIDERS[int(rng.random() * len(_PROVIDERS))]
        action_id = self.actions.add(
            objective_id, person.id, item_id, label, status.value, planned_on, due_on, started, ended,
            responsible_user, responsible_structure, provider, person.referent[0],
        )
        self.counts["actions"] += 1
        if log_transitions:
            for a, b, day in path:
                self.transitions.add(action_id, a.value, b.value, person.referent[0], self.at(day),
                                     _TRANSITION_REASONS.get(b, ""))

    # ---------------------------------------------------------------------------------------
    def appointments_for(self, person, start, last, *, future):
        """Past appointments between ``start`` and ``last`` (every 4 to 8 weeks, over the last six
        months at most), and the next one within 3 weeks when ``future``. Returns the days of
        contact (attended appointments, contact notes)."""
        rng, today = self.rng, self.today
        contacts = []
        day = max(start, today - timedelta(days=182)) + timedelta(days=7 + int(rng.random() * 30))
        until = min(last, self.yesterday)
        while day <= until:
            r = rng.random()
            if r < 0.05:
                self.appointment(person, day, cancelled=True)
            elif r < 0.15:
                self.appointment(person, day, attendance="absent")
            elif r < 0.21:
                self.appointment(person, day, attendance="excused")
            elif r < 0.24:
                self.appointment(person, day, attendance="pending")
            else:
                author = self.appointment(person, day, attendance="present")
                contacts.append(day)
                if rng.random() < 0.5:
                    self.note(person, day, "interview", author)
            if rng.random() < 0.3:
                extra = day + timedelta(days=3 + int(rng.random() * 13))
                if extra <= until:
                    kind = self.extra_note_kind()
                    self.note(person, extra, kind, None)
                    if kind == "phone":
                        contacts.append(extra)
            day += timedelta(days=28 + int(rng.random() * 29))
        if future and rng.random() < 0.65:
            self.appointment(person, today + timedelta(days=1 + int(rng.random() * 21)), attendance="pending")
        return contacts

    def appointment(self, person, day, *, attendance="pending", cancelled=False, with_referent=False):
        rng = self.rng
        who = person.referent if with_referent or not person.members or rng.random() < 0.85 else \
            rng.choice(person.members)
        starts_at = self.at(day)
        mode = self.mode()
        if mode == "in_person":
            place = "Dans les locaux de la structure"
        elif mode == "video":
            place = f"https://visio.spie31.example/rdv-{rng.randint(100000, 999999)}"
        elif mode == "home":
            place = "Au domicile de la personne"
        else:
            place = ""
        past = day < self.today
        recorded = past and not cancelled and attendance != "pending"
        self.appointments.add(
            person.id, starts_at, (30, 45, 45, 60)[int(rng.random() * 4)], mode, place,
            APPOINTMENT_PURPOSES[int(rng.random() * len(APPOINTMENT_PURPOSES))], who[0], who[1],
            "cancelled" if cancelled else "scheduled",
            CANCEL_REASONS[int(rng.random() * len(CANCEL_REASONS))] if cancelled else "",
            "pending" if cancelled else attendance,
            starts_at + timedelta(hours=1) if recorded else None, who[0] if recorded else None,
            starts_at - timedelta(days=7 + int(rng.random() * 14)),
            starts_at - timedelta(days=1) if past or day == self.today + timedelta(days=1) else None,
            who[0],
        )
        self.counts["appointments"] += 1
        if attendance == "absent" and not cancelled:
            self.event(person, starts_at + timedelta(hours=1), "appointment_absent",
                       f"Absence au rendez-vous du {day:%d/%m/%Y}", who)
        return who

    def note(self, person, day, kind, author):
        rng = self.rng
        author = author or (person.referent if not person.members or rng.random() < 0.75 else
                            rng.choice(person.members))
        r = rng.random()
        if person.health and author == person.referent and (r < 0.1 or not self.health_notes):
            confidentiality, texts = "health", _HEALTH_NOTES
            self.health_notes += 1
        elif r < 0.2:
            confidentiality, texts = "structure", _STRUCTURE_NOTES
        else:
            confidentiality = "group"
            texts = _GROUP_INTERVIEW if kind == "interview" else _GROUP_PHONE if kind == "phone" else _GROUP_OTHER
        created_at = self.at(day, hour=9 + int(rng.random() * 9), minute=int(rng.random() * 60))
        self.notes.add(person.id, confidentiality, kind, kind in ("interview", "phone"),
                       texts[int(rng.random() * len(texts))], author[0], author[1], created_at)
        self.counts["notes"] += 1

    # ---------------------------------------------------------------------------------------
    def employment(self, person, started, until, business=False, keep_first_open=False):
        from spie.followup.models import Checkpoint, Employment

        rng, today = self.rng, self.today
        referent = person.referent
        job_title, _rome = rng.choice(_JOBS)
        if business:
            employer, contract_type = "Micro-entreprise de la personne", "creation"
            job_title = "Travailleur indépendant"
        else:
            words = _EMPLOYER_WORDS
            employer = f"{rng.choice(words[0])} {rng.choice(words[1])} {rng.choice(words[2])}"
            contract_type = self.contract_type()
        planned_end = None
        if contract_type in ("cdd", "iae", "interim", "alternance"):
            planned_end = _add_months(started, rng.choice((3, 4, 6, 6, 12)))
        employment = Employment(
            person_id=person.id, employer_name=employer,
            employer_siret=_fake_siret(rng) if not business and rng.random() < 0.5 else "",
            employer_contact="Service des ressources humaines" if rng.random() < 0.5 else "",
            job_title=job_title, contract_type=contract_type,
            weekly_hours=Decimal(rng.choice(("35.0", "35.0", "24.0", "28.0", "30.0", "20.0"))),
            started_on=started, planned_end_on=planned_end, created_by_id=referent[0], structure_id=referent[1],
        )
        checkpoints = []
        for month in Checkpoint.MONTHS:
            due = _add_months(started, month)
            row = {"month": month, "due_on": due}
            overdue_days = (today - due).days
            # Done a few days after the due date, mostly; some due or overdue stay open (never the
            # ones before the end of the follow-up, nor the ones overdue for more than 3 months).
            if overdue_days > 0 and not (keep_first_open and month == 1) and (
                rng.random() < 0.7 or overdue_days > 90 or (until < today and due <= until)
            ):
                done = min(today, due + timedelta(days=rng.randint(0, 10)))
                reached = rng.random() < 0.93
                row.update(
                    done_on=done, done_by_id=referent[0], contacted_person=reached,
                    contacted_employer=rng.random() < 0.5,
                    outcome="in_job" if reached else "unreachable",
                    comment=rng.choice(_CHECKPOINT_COMMENTS) if reached else "",
                )
            checkpoints.append(row)
        self.employments.append((employment, checkpoints))
        self.counts["employments"] += 1
        self.event(person, self.at(started), "employment_started",
                   f"Reprise d'emploi : {job_title} ({dict(Employment.ContractType.choices)[contract_type]})",
                   referent)
        for row in checkpoints:
            if row.get("done_on"):
                self.event(person, self.at(row["done_on"]), "checkpoint_done",
                           f"Point de suivi dans l'emploi à {row['month']} mois", referent)

    def exit(self, person, exit_day, reason):
        """An exit with its report; True when written with the person (a contact that day)."""
        from spie.followup.models import ExitReason, PathwayExit

        rng = self.rng
        achievements, difficulties, words = _EXIT_REPORTS[reason]
        written = reason not in ("lost_contact", "moved") and rng.random() < 0.8
        self.exits.append(PathwayExit(
            person_id=person.id, reason=reason,
            reason_detail="Fin d'accompagnement à la demande de la personne" if reason == "other" else "",
            exit_date=exit_day, achievements=achievements, difficulties=difficulties,
            person_words=words if written else "", next_steps=rng.choice(_EXIT_NEXT_STEPS),
            written_with_person=written, created_by_id=person.referent[0], structure_id=person.referent[1],
        ))
        self.counts["exits"] += 1
        self.exited.add(person.id)
        self.event(person, self.at(exit_day), "exit", f"Sortie du parcours : {ExitReason(reason).label}",
                   person.referent)
        return written

    # ---------------------------------------------------------------------------------------
    def flush(self):
        """Write the rows built since the last flush (objectives before their actions, jobs before
        their checkpoints), then move ``last_contact_on`` to the latest contact."""
        from spie.core.bulk import fast_insert
        from spie.followup.models import Checkpoint, Employment, PathwayExit
        from spie.people.models import Person

        for table in self.tables:
            table.flush()
        fast_insert(PathwayExit, self.exits)
        fast_insert(Employment, [e for e, _ in self.employments], assign_pk=True)
        checkpoints = [
            Checkpoint(employment_id=employment.pk, person_id=employment.person_id, **row)
            for employment, rows in self.employments for row in rows
        ]
        fast_insert(Checkpoint, checkpoints)
        if self.contacts:
            table = connection.ops.quote_name(Person._meta.db_table)
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {table} SET last_contact_on = %s WHERE id = %s",  # noqa: S608 - quoted model table
                    [(connection.ops.adapt_datefield_value(day), pk) for day, pk in self.contacts],
                )
        self.counts["checkpoints"] += len(checkpoints)
        self.counts["contacts_updated"] += len(self.contacts)
        self.exits, self.employments, self.contacts = [], [], []

    def finish(self):
        """Counts of the rows written, and the primary-key sequences after the explicit keys."""
        for table in self.tables:
            table.reset_sequence()
        self.counts["transitions"] = self.transitions.written
        self.counts["timeline_events"] = self.events.written


# --------------------------------------------------------------------------------------------
# The demo référente's alerts
# --------------------------------------------------------------------------------------------


def _force_referente_alerts(territory, persons, today, gen):
    """Make sure the demo référente's home shows one alert of every kind, whatever the seed size.

    Marks persons of her caseload before the generation (no contact for more than 90 days,
    attendance never recorded, a job whose first checkpoint is overdue; none of them exits) and
    returns a function run after it, which backdates a contract's review date and an
    orientation when the data drawn has none (or creates the missing orientation rows).
    """
    from spie.network.models import Membership, User
    from spie.pathways.models import EngagementContract, Orientation

    user = User.objects.filter(email=REFERENTE_EMAIL).first()
    if user is None:
        return lambda: None
    mine = [p for p in persons if p.referent and p.referent[0] == user.pk]
    signed = [p for p in mine if p.contract is not None]
    old_signed = [p for p in signed if p.contract[2] <= today - timedelta(days=NO_CONTACT_DAYS + 10)]
    ids = [p.id for p in mine]
    decided = set(Orientation.objects.filter(person_id__in=ids, status=Orientation.Status.DECIDED)
                  .values_list("person_id", flat=True))
    pending = set(Orientation.objects.filter(person_id__in=ids, status=Orientation.Status.PROPOSED)
                  .values_list("person_id", flat=True))
    unsigned = [p for p in mine if p.contract is None]

    # Before the generation: flags read by _Generator.person.
    dormant = (old_signed or [None])[0]
    if dormant is not None:
        dormant.forced.add("dormant")
    others = [p for p in signed if p is not dormant]
    if others:
        others[0].forced.add("pending")
        others[0].forced.add("review")
        # The job: preferably someone whose contract was signed before the job started.
        settled = [p for p in others[1:] if p.contract[2] <= today - timedelta(days=75)]
        (settled or others)[-1].forced.add("job")
    elif dormant is not None:
        dormant.forced.add("pending")
        dormant.forced.add("review")

    def after():
        forced = 0
        # No contact: when no signed contract was old enough, an unsigned person entered long ago.
        if dormant is None:
            candidates = [
                p for p in unsigned
                if p.entered_on <= today - timedelta(days=NO_CONTACT_DAYS + 10) and p.id not in gen.exited
            ]
            if candidates:
                p = candidates[0]
                p.forced.add("dormant")
                from spie.people.models import Person

                Person.objects.filter(pk=p.id).update(
                    last_contact_on=gen.days_between(p.entered_on, today - timedelta(days=NO_CONTACT_DAYS + 5))
                )
                forced += 1
        # Contract review due.
        review = [p.contract[0] for p in signed if "review" in p.forced]
        if review and not EngagementContract.objects.filter(
            person_id__in=ids, status=EngagementContract.Status.SIGNED, review_date__lte=today
        ).exists():
            EngagementContract.objects.filter(pk=review[0]).update(review_date=today - timedelta(days=3))
            forced += 1
        # Orientation delay (a request pending for more than the delay) and contract delay (a
        # decision older than the delay, no contract signed since).
        deciders = list(Membership.objects.filter(
            structure__territory=territory, role=Membership.Role.ORIENTATION, is_active=True
        ).values_list("user_id", flat=True).order_by("user_id"))
        free = [
            p for p in unsigned
            if p.id not in decided and p.id not in pending and p.id not in gen.exited and "dormant" not in p.forced
        ]
        old_start = today - timedelta(days=territory.orientation_delay_days + 15)
        # A first orientation waits since the start date (as in the chargé d'orientation's queue).
        over_pending = [
            p for p in unsigned
            if p.id in pending and p.id not in gen.exited and p.start < today - timedelta(
                days=territory.orientation_delay_days)
        ]
        if not over_pending:
            started = [p for p in free if p.start <= old_start]
            if started:
                p = started[0]
                free.remove(p)
                _orientation(p, user, gen.at(p.start + timedelta(days=7)), None, None)
                forced += 1
        cutoff = gen.at(today - timedelta(days=territory.contract_delay_days + 1), 0, 0)
        signed_persons = {p.id for p in signed}
        if not Orientation.objects.filter(
            person_id__in=[pk for pk in decided if pk not in signed_persons],
            status=Orientation.Status.DECIDED, decided_at__lt=cutoff,
        ).exists() and deciders:
            started = [p for p in free if p.start <= old_start]
            if started:
                p = started[0]
                _orientation(p, user, gen.at(p.start + timedelta(days=7)), gen.at(today - timedelta(days=40)),
                             deciders[0])
                forced += 1
        gen.counts["forced_alerts"] = forced

    return after


def _orientation(person, user, proposed_at, decided_at, decider):
    """A proposed (or decided, when ``decided_at``) orientation for a person of the référente."""
    from spie.pathways.models import Orientation, OrientationTransition
    from spie.people.models import TimelineEvent

    structure_id = person.referent[1]
    orientation = Orientation.objects.create(
        person_id=person.id, proposed_type="sociale", proposed_structure_id=structure_id,
        proposal_reason="Demande d'orientation issue du premier entretien", proposed_by=user,
        proposed_at=proposed_at,
        status=Orientation.Status.DECIDED if decided_at else Orientation.Status.PROPOSED,
        decided_type="sociale" if decided_at else "",
        decided_structure_id=structure_id if decided_at else None,
        decided_referent=user if decided_at else None,
        decision_reason="Conforme à la proposition" if decided_at else "",
        decided_by_id=decider, decided_at=decided_at,
    )
    rows = [OrientationTransition(orientation=orientation, from_status="", to_status="proposed", by=user,
                                  at=proposed_at, reason="Demande d'orientation")]
    events = [TimelineEvent(person_id=person.id, at=proposed_at, kind="orientation_proposed",
                            title="Orientation proposée", actor=user, structure_id=structure_id)]
    if decided_at:
        rows.append(OrientationTransition(orientation=orientation, from_status="proposed", to_status="decided",
                                          by_id=decider, at=decided_at, reason=orientation.decision_reason))
        events.append(TimelineEvent(person_id=person.id, at=decided_at, kind="orientation_decided",
                                    title="Orientation sociale décidée", actor_id=decider))
    OrientationTransition.objects.bulk_create(rows)
    TimelineEvent.objects.bulk_create(events)


# --------------------------------------------------------------------------------------------
# Statuses, in bulk
# --------------------------------------------------------------------------------------------


def set_statuses(territory, *, today):
    """``Person.status`` and ``exited_on`` of every person of the territory in one UPDATE, with the
    rules of ``spie.followup.services.status.compute_status``: exited > in job > in pathway
    (signed contract) > oriented (decided orientation) > to orient."""
    from spie.followup.models import Employment, PathwayExit
    from spie.pathways.models import EngagementContract, Orientation
    from spie.people.models import Person

    Status = Person.Status
    active_exit = PathwayExit.objects.filter(person=OuterRef("pk"), cancelled_at__isnull=True)
    job = Employment.objects.filter(person=OuterRef("pk"), started_on__lte=today, ended_on__isnull=True)
    signed = EngagementContract.objects.filter(person=OuterRef("pk"), status=EngagementContract.Status.SIGNED)
    decided = Orientation.objects.filter(person=OuterRef("pk"), status=Orientation.Status.DECIDED)
    return Person.objects.filter(territory=territory).update(
        status=Case(
            When(Exists(active_exit), then=Value(Status.EXITED)),
            When(Exists(job), then=Value(Status.IN_JOB)),
            When(Exists(signed), then=Value(Status.IN_PATHWAY)),
            When(Exists(decided), then=Value(Status.ORIENTED)),
            default=Value(Status.TO_ORIENT),
        ),
        exited_on=Subquery(active_exit.order_by("-exit_date").values("exit_date")[:1], output_field=DateField()),
    )


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _add_months(day, months):
    """The same day ``months`` later (or earlier), clamped at the end of the month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def _fake_siret(rng):
    """A 14-digit number passing the Luhn check, as SIRETs do (invented: no real company)."""
    digits = [rng.randint(0, 9) for _ in range(13)]
    for check in range(10):
        candidate = digits + [check]
        total = 0
        for i, d in enumerate(reversed(candidate)):
            if i % 2:
                d *= 2
                if d > 9:
                    d -= 9
            total += d
        if total % 10 == 0:
            return "".join(map(str, candidate))
    return ""  # unreachable: one check digit always fits

