"""Forms of referrals: the sending form and one small form per transition.

Choices (open sessions, the plan's open objectives) are loaded once by the view and given to
the forms, so a page costs the same number of queries whatever it shows. The forms only shape
the input; the rules live in ``services/referrals.py`` and their French errors come back onto
the fields (:func:`add_service_errors`).
"""

from django import forms
from django.utils import timezone

from .models import DropReason, PreferredContact, ReferralStatus, RefusalReason

S = ReferralStatus
NO_HEALTH_HELP = (
    "N'indiquez ici aucune information de santé ni de handicap : cette zone est lue par la structure "
    "qui porte l'action. Si une information de santé est utile, utilisez la case prévue plus bas."
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def session_label(session):
    text = f"{session.starts_on:%d/%m/%Y}"
    if session.start_time:
        text += f" à {session.start_time:%H} h {session.start_time:%M}"
    if session.label:
        text = f"{session.label} — {text}"
    if session.place:
        text += f" · {session.place}"
    left = session.places_left
    return f"{text} ({left} place{'s' if left > 1 else ''} restante{'s' if left > 1 else ''})"


def open_sessions(action, today=None):
    """Sessions of ``action`` one can still register to (one query)."""
    today = today or timezone.localdate()
    return [s for s in action.sessions.filter(is_cancelled=False, starts_on__gte=today) if s.is_open(today)]


def add_service_errors(form, exc):
    """Put a service's ``ValidationError`` on the form's fields (unknown keys: on the form)."""
    if hasattr(exc, "error_dict"):
        for key, errors in exc.message_dict.items():
            form.add_error(key if key in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class ReferralForm(forms.Form):
    session = forms.TypedChoiceField(label="Session", required=False, coerce=int, empty_value=None)
    consent = forms.BooleanField(
        label="La personne est d'accord pour participer à cette action et pour que la structure reçoive "
              "les informations de cette demande.",
        error_messages={"required": "L'accord de la personne est obligatoire pour l'orienter vers une action."},
    )
    motivation = forms.CharField(
        label="Pourquoi cette action ?", widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Indiquez pourquoi cette action est proposée à la personne."},
    )
    availability = forms.CharField(label="Disponibilités de la personne", required=False, max_length=300,
                                   help_text="Par exemple : les matins, pas le mercredi.")
    preferred_contact = forms.ChoiceField(label="Comment la structure doit-elle contacter la personne ?",
                                          choices=PreferredContact.choices, initial=PreferredContact.PHONE,
                                          widget=forms.RadioSelect)
    provider_info = forms.CharField(label="Ce que la structure doit savoir", required=False,
                                    widget=forms.Textarea(attrs={"rows": 3}), help_text=NO_HEALTH_HELP)
    share_health = forms.BooleanField(
        label="Partager une information de santé avec la structure (section restreinte du dossier)", required=False,
    )
    health_info = forms.CharField(
        label="Information de santé à partager", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Seulement ce qui est utile à la structure pour accueillir la personne, avec son accord. "
                  "Elle sera lue par la structure qui porte l'action, jamais envoyée par courriel.",
    )
    plan_objective = forms.TypedChoiceField(label="Rattacher à un objectif du plan d'action", required=False,
                                            coerce=int, empty_value=None)

    def __init__(self, *args, sessions=(), objectives=(), can_share_health=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.sessions = {s.pk: s for s in sessions}
        self.objectives = {o.pk: o for o in objectives}
        if self.sessions:
            self.fields["session"].choices = [("", "Sans session précise")] + [
                (s.pk, session_label(s)) for s in sessions
            ]
        else:
            del self.fields["session"]
        if self.objectives:
            self.fields["plan_objective"].choices = [("", "Ne pas rattacher au plan")] + [
                (o.pk, o.label) for o in objectives
            ]
            self.fields["plan_objective"].help_text = (
                "Une action « prévue » sera ajoutée à cet objectif ; son statut suivra celui de l'orientation."
            )
        else:
            del self.fields["plan_objective"]
        if not can_share_health:
            del self.fields["share_health"]
            del self.fields["health_info"]

    def clean(self):
        data = super().clean()
        if data.get("share_health") and not (data.get("health_info") or "").strip():
            self.add_error("health_info", "Écrivez l'information de santé à partager, ou décochez la case.")
        return data

    @property
    def chosen_session(self):
        return self.sessions.get(self.cleaned_data.get("session"))

    @property
    def chosen_objective(self):
        return self.objectives.get(self.cleaned_data.get("plan_objective"))

    def service_data(self):
        data = self.cleaned_data
        return {
            "consent": bool(data.get("consent")),
            "motivation": data.get("motivation", ""),
            "availability": data.get("availability", ""),
            "preferred_contact": data.get("preferred_contact") or PreferredContact.PHONE,
            "provider_info": data.get("provider_info", ""),
            "share_health": bool(data.get("share_health")),
            "health_info": data.get("health_info", ""),
        }


# --- Transitions ------------------------------------------------------------------------------


class MoveForm(forms.Form):
    """Base of the transition forms; ``target`` is the status it moves to."""

    target = None
    submit = "Enregistrer"

    def __init__(self, *args, sessions=(), **kwargs):
        kwargs.setdefault("prefix", self.target)
        super().__init__(*args, **kwargs)
        self.sessions = {s.pk: s for s in sessions}

    def service_kwargs(self):
        return {}


class AcceptForm(MoveForm):
    target = S.ACCEPTED
    submit = "Accepter"
    title = "Accepter l'orientation"
    session = forms.TypedChoiceField(label="Session", required=False, coerce=int, empty_value=None)
    start_date = forms.DateField(label="Date de début prévue", required=False, widget=DateInput,
                                 help_text="Sans session : la date à laquelle la personne commencera.")

    def __init__(self, *args, sessions=(), current=None, **kwargs):
        super().__init__(*args, sessions=sessions, **kwargs)
        if current is not None:
            self.sessions.setdefault(current.pk, current)
        if self.sessions:
            self.fields["session"].choices = [("", "Sans session précise")] + [
                (s.pk, session_label(s)) for s in self.sessions.values()
            ]
            if current is not None:
                self.fields["session"].initial = current.pk
        else:
            del self.fields["session"]

    def service_kwargs(self):
        return {"session": self.sessions.get(self.cleaned_data.get("session")),
                "start_date": self.cleaned_data.get("start_date")}


class RefuseForm(MoveForm):
    target = S.REFUSED
    submit = "Refuser"
    title = "Refuser l'orientation"
    reason = forms.ChoiceField(label="Motif du refus", choices=[("", "Choisissez un motif")] + RefusalReason.choices,
                               error_messages={"required": "Choisissez le motif du refus dans la liste.",
                                               "invalid_choice": "Choisissez le motif du refus dans la liste."})
    text = forms.CharField(label="Précisions", required=False, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text="Lues par le référent. Aucune information de santé.")

    def service_kwargs(self):
        return {"reason": self.cleaned_data["reason"], "text": self.cleaned_data.get("text", "")}


class _DatedForm(MoveForm):
    on = forms.DateField(label="Date", widget=DateInput, required=False,
                         help_text="Aujourd'hui si vous ne précisez pas.")

    def service_kwargs(self):
        return {"on": self.cleaned_data.get("on")}


class StartForm(_DatedForm):
    target = S.STARTED
    submit = "Enregistrer l'entrée"
    title = "La personne a commencé l'action"


class CompleteForm(_DatedForm):
    target = S.COMPLETED
    submit = "Enregistrer la fin"
    title = "La personne a terminé l'action"


class DropForm(_DatedForm):
    target = S.DROPPED
    submit = "Enregistrer l'abandon"
    title = "La personne ne suit pas ou plus l'action"
    reason = forms.ChoiceField(label="Motif de l'abandon", choices=[("", "Choisissez un motif")] + DropReason.choices,
                               error_messages={"required": "Choisissez le motif de l'abandon dans la liste.",
                                               "invalid_choice": "Choisissez le motif de l'abandon dans la liste."})
    text = forms.CharField(label="Précisions", required=False, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text="Aucune information de santé.")

    def service_kwargs(self):
        return {**super().service_kwargs(), "reason": self.cleaned_data["reason"],
                "text": self.cleaned_data.get("text", "")}


class CancelForm(MoveForm):
    target = S.CANCELLED
    submit = "Annuler l'orientation"
    title = "Annuler l'orientation"
    reason = forms.CharField(label="Motif de l'annulation", max_length=500,
                             error_messages={"required": "Indiquez le motif de l'annulation."})

    def service_kwargs(self):
        return {"reason": self.cleaned_data["reason"]}


MOVE_FORMS = {form.target: form for form in (AcceptForm, RefuseForm, StartForm, CompleteForm, DropForm, CancelForm)}


def move_forms(targets, *, data=None, bound_target=None, sessions=(), current_session=None):
    """One form per allowed target; the one just posted (``bound_target``) is bound to ``data``."""
    result = []
    for target in targets:
        form_class = MOVE_FORMS.get(target)
        if form_class is None:
            continue
        kwargs = {"sessions": sessions}
        if form_class is AcceptForm:
            kwargs["current"] = current_session
        if data is not None and target == bound_target:
            result.append(form_class(data, **kwargs))
        else:
            result.append(form_class(**kwargs))
    return result

