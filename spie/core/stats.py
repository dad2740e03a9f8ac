"""Row counts of the platform's main entities, for ``manage.py stats`` and benchmarks.

To count a new entity, add one line to :data:`ENTITIES`: ``(key, French label, "app_label.Model")``.
"""

from django.apps import apps

ENTITIES = [
    ("territories", "Territoires", "network.Territory"),
    ("structures", "Structures", "network.Structure"),
    ("users", "Comptes utilisateurs", "network.User"),
    ("memberships", "Rattachements aux structures", "network.Membership"),
    ("persons", "Personnes accompagnées", "people.Person"),
    ("follow_up_memberships", "Membres de groupes de suivi", "people.FollowUpMembership"),
    ("consents", "Consentements", "people.Consent"),
    ("access_log_entries", "Consultations journalisées", "core.AccessLog"),
    ("join_requests", "Demandes d'accès à un groupe de suivi", "people.JoinRequest"),
    ("timeline_events", "Événements des parcours", "people.TimelineEvent"),
    ("health_infos", "Sections santé / RQTH", "people.HealthInfo"),
    ("frameworks", "Trames de diagnostic (versions)", "diagnostics.Framework"),
    ("diagnostics", "Diagnostics", "diagnostics.Diagnostic"),
    ("barriers", "Freins périphériques relevés", "diagnostics.Barrier"),
    ("orientations", "Orientations et réorientations", "pathways.Orientation"),
    ("orientation_transitions", "Transitions d'orientation", "pathways.OrientationTransition"),
    ("contracts", "Contrats d'engagement (versions)", "pathways.EngagementContract"),
    ("plan_objectives", "Objectifs des plans d'action", "followup.PlanObjective"),
    ("plan_actions", "Actions des plans d'action", "followup.PlanAction"),
    ("appointments", "Rendez-vous", "followup.Appointment"),
    ("notifications", "Convocations et rappels envoyés", "followup.Notification"),
    ("notes", "Notes de suivi", "followup.Note"),
    ("note_attachments", "Pièces jointes des notes", "followup.NoteAttachment"),
    ("exits", "Sorties du parcours", "followup.PathwayExit"),
    ("employments", "Emplois suivis", "followup.Employment"),
    ("checkpoints", "Points de suivi dans l'emploi", "followup.Checkpoint"),
    ("communes", "Communes", "referentials.Commune"),
    ("rome_codes", "Métiers ROME", "referentials.RomeCode"),
]


def collect():
    """``{key: count}`` in the order of :data:`ENTITIES`."""
    return {key: apps.get_model(label)._base_manager.count() for key, _, label in ENTITIES}


def labels():
    return {key: label for key, label, _ in ENTITIES}
