"""A person's immersion (PMSMP) lifecycle: request, agreement (convention), assessment,
cancellation (issue 6 §1).

- ``immersion_new``: a professional who may open the person's record asks a company to host
  the person, from an immersion offer (``?offre=<uid>``, prefilled) or choosing a company of
  the territory and a job. The page names the person: the read is logged (section JOBS).
- ``immersions``: professionals see the immersions asked by their structure that they asked
  themselves or whose person they may see (``visible_persons_filter``: never a colleague's
  person outside their groups), company users those of their company; a status filter, 25 a
  page, CSV/XLSX export, constant queries.
  Names: the full name only for persons whose group the viewer is in (each export row naming
  a person is written to that person's access log); everyone else reads the short name.
- ``immersion_detail``: everything, with the forms of the next step for who may act
  (``services.immersions.sides``: the sending side or the company side; never coordinators).
  The sending side with access to the record reads the name (access logged); the company side
  reads the first name and initial only, and never the sender side's cancellation reason.
- ``immersion_agree`` / ``immersion_assess`` / ``immersion_cancel``: POST only.

Every write goes through ``services.immersions``.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import BooleanField, Exists, OuterRef, Q, Value
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from spie.core.audit import log_access, log_export
from spie.core.exports import export_format, export_response
from spie.core.links import request_base_url
from spie.core.models import AccessLog
from spie.core.policies import view_policy
from spie.pathways.notifications import short_name
from spie.people import policies as people_policies
from spie.people.models import FollowUpMembership, Person

from .. import policies
from ..forms_immersions import AgreementForm, AssessmentForm, CancelForm, ImmersionFilterForm, ImmersionRequestForm
from ..models import Immersion, ImmersionOffer, ImmersionStatus
from ..services import immersions as services
from .common import person_and_access

CSS = "employers/companies.css"
PAGE_SIZE = 25
S = ImmersionStatus
DENIED = "Vous n'avez pas accès à cette immersion."
LIST_DENIED = ("Les immersions sont suivies par les professionnels qui les demandent et par les entreprises qui les "
               "accueillent ; les coordinateurs consultent les chiffres du bilan.")
COORDINATOR_DENIED = "Les coordinateurs consultent des données agrégées, pas les immersions nominatives."
NO_COMPANY = "Votre espace n'est rattaché à aucune entreprise."

HEADER = [
    "Identifiant", "Personne", "Entreprise", "SIRET", "Code ROME", "Métier", "Offre d'immersion", "Objet",
    "Statut", "Début", "Fin", "Tuteur", "Structure qui demande", "Demandée par", "Demandée le",
    "Compétences observées", "Recruterait", "Bilan le",
]



def _add_errors(form, exc):
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def full_name(person):
    return f"{person.last_name.upper()} {person.first_name}"


# --- New ---------------------------------------------------------------------------------------------


def _person_and_access(request, pk):
    return person_and_access(request, pk, allowed=policies.can_position, denied=services.REQUEST_DENIED,
                             coordinator_denied=COORDINATOR_DENIED)


def _offer_from_query(request, person):
    uid = request.POST.get("offre") or request.GET.get("offre")
    if not uid:
        return None
    try:
        offer = ImmersionOffer.objects.select_related("company", "rome", "appellation", "commune").get(uid=uid)
    except (ImmersionOffer.DoesNotExist, ValidationError):
        raise Http404("Offre d'immersion introuvable.") from None
    if offer.territory_id != person.territory_id:
        raise Http404("Offre d'immersion introuvable.")
    return offer


@view_policy("employers.immersion_new")
def immersion_new(request, pk):
    person, access = _person_and_access(request, pk)
    offer = _offer_from_query(request, person)
    form = ImmersionRequestForm(request.POST or None, offer=offer, territory_id=person.territory_id)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                immersion = services.request_immersion(person, membership=request.membership, access=access,
                                                       base_url=request_base_url(request), **form.service_kwargs())
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                log_access(request, person, AccessLog.Section.JOBS, reason="demande d'immersion (PMSMP)")
                messages.success(request, f"Immersion demandée à {immersion.company.name} : l'entreprise est "
                                          "prévenue par courriel.")
                return redirect("employers:immersion_detail", uid=immersion.uid)
        status = 400
    log_access(request, person, AccessLog.Section.JOBS, reason="demande d'immersion (PMSMP)")
    return render(request, "employers/immersions/new.html", {
        "css": CSS, "form": form, "person": person, "person_name": full_name(person), "offer": offer,
        "places_left": services.places_left(offer) if offer else None,
    }, status=status)


# --- List ----------------------------------------------------------------------------------------------


def _scope(request):
    membership = request.membership
    if policies.is_company_user(membership):
        company = policies.company_of(membership)
        if company is None:
            raise PermissionDenied(NO_COMPANY)
        return Immersion.objects.filter(company=company), True
    if policies.is_professional(membership):
        visible = Person.objects.filter(**people_policies.visible_persons_filter(request.user, membership))
        return Immersion.objects.filter(
            Q(requested_by=request.user) | Q(person__in=visible.values("pk")), structure_id=membership.structure_id,
        ), False
    raise PermissionDenied(LIST_DENIED)


@view_policy("employers.immersions")
def immersions(request):
    qs, company_side = _scope(request)
    form = ImmersionFilterForm(request.GET or None)
    if form.is_valid() and form.cleaned_data["statut"]:
        qs = qs.filter(status=form.cleaned_data["statut"])
    if company_side:
        qs = qs.annotate(named=Value(False, output_field=BooleanField()))
    else:
        qs = qs.annotate(named=Exists(FollowUpMembership.objects.filter(
            person=OuterRef("person"), user=request.user, end_date__isnull=True)))
    qs = qs.select_related("person", "company", "offer", "rome", "structure", "requested_by").order_by(
        "-created_at", "-id")

    fmt = export_format(request)
    if fmt:
        if not company_side:
            log_export(request, qs.filter(named=True).order_by().values_list("person_id", flat=True).distinct()
                       .iterator(), reason="export des immersions (PMSMP)")

        def rows():
            for i in qs.iterator(chunk_size=500):
                yield [
                    str(i.uid), full_name(i.person) if i.named else short_name(i.person), i.company.name,
                    i.company.siret, i.rome_id, i.rome.label, i.offer.title if i.offer_id else "",
                    i.get_objective_display(), i.get_status_display(), i.start_date, i.end_date, i.tutor_name,
                    i.structure.name, str(i.requested_by), i.created_at, i.skills_observed,
                    "" if i.would_hire is None else i.would_hire, i.assessed_on,
                ]
        return export_response(fmt, "immersions", HEADER, rows(), sheet_title="Immersions")

    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for i in page.object_list:
        i.display_name = full_name(i.person) if i.named else short_name(i.person)
    return render(request, "employers/immersions/list.html", {
        "css": CSS, "form": form, "page": page, "company_side": company_side,
        "company": policies.company_of(request.membership) if company_side else None,
        "filtered": bool(request.GET.get("statut")), "logged": not company_side,
    })


# --- Detail and steps -----------------------------------------------------------------------------------


def _load(request, uid):
    """The immersion, the viewer's access on the person (or None) and the viewer's sides."""
    immersion = get_object_or_404(
        Immersion.objects.select_related("person", "company__account", "company__followed_by", "company__commune",
                                         "offer__commune", "rome", "structure", "requested_by"), uid=uid)
    membership = request.membership
    if policies.is_coordinator(membership):
        raise PermissionDenied(COORDINATOR_DENIED)
    access = None
    if policies.is_professional(membership):
        access = people_policies.access_for(request.user, membership, immersion.person)
    sides = services.sides(membership, immersion, access)
    if not sides:
        raise PermissionDenied(DENIED)
    return immersion, access, sides


def _detail(request, immersion, access, sides, *, agree_form=None, assess_form=None, cancel_form=None, status=200,
            step_errors=()):
    today = timezone.localdate()
    can_open = access is not None and access.can_open_record
    if can_open:
        log_access(request, immersion.person, AccessLog.Section.JOBS, reason="immersion (PMSMP)")
    can_agree = immersion.status == S.REQUESTED
    can_assess = immersion.status == S.AGREED and immersion.start_date is not None and immersion.start_date <= today
    can_cancel = immersion.status in services.OPEN_STATES
    # A step posted when it is not (or no longer) allowed: its errors are shown at the top.
    step_errors = list(step_errors)
    for form, allowed in ((agree_form, can_agree), (assess_form, can_assess), (cancel_form, can_cancel)):
        if form is not None and not allowed:
            step_errors += [e for errors in form.errors.values() for e in errors]
    if can_agree and agree_form is None:
        agree_form = AgreementForm(initial={"start_date": immersion.start_date, "end_date": immersion.end_date})
    if can_assess and assess_form is None:
        assess_form = AssessmentForm()
    if can_cancel and cancel_form is None:
        cancel_form = CancelForm()
    return render(request, "employers/immersions/detail.html", {
        "css": CSS, "immersion": immersion, "sides": sides, "can_open": can_open, "step_errors": step_errors,
        "person_name": full_name(immersion.person) if can_open else short_name(immersion.person),
        "is_sender": services.SENDER in sides, "is_company": services.COMPANY in sides,
        "duration": services.duration_days(immersion),
        "agree_form": agree_form if can_agree else None, "assess_form": assess_form if can_assess else None,
        "cancel_form": cancel_form if can_cancel else None,
        "assess_later": immersion.status == S.AGREED and not can_assess,
        "places_left": services.places_left(immersion.offer) if immersion.offer_id else None,
    }, status=status)


@view_policy("employers.immersion_detail")
def immersion_detail(request, uid):
    immersion, access, sides = _load(request, uid)
    return _detail(request, immersion, access, sides)


NOT_RUNNING = ("Cette immersion n'est pas en cours : le bilan se fait après le début d'une immersion "
               "conventionnée.")
ALREADY_ASSESSED = "Le bilan de cette immersion est déjà enregistré."


def _state_error(immersion, step):
    """Why ``step`` is not possible in the immersion's current state, or "" (checked before the
    fields: a step that cannot happen shows why, not what its form lacks)."""
    state = immersion.get_status_display().lower()
    if step == "agree" and immersion.status != S.REQUESTED:
        return f"Cette immersion est « {state} » : elle ne peut pas être conventionnée."
    if step == "cancel" and immersion.status not in services.OPEN_STATES:
        return f"Cette immersion est « {state} » : elle ne peut pas être annulée."
    if step == "assess":
        if immersion.status == S.DONE:
            return ALREADY_ASSESSED
        if immersion.status != S.AGREED:
            return NOT_RUNNING
        if immersion.start_date and immersion.start_date > timezone.localdate():
            return f"Le bilan se fait une fois l'immersion commencée, à partir du {immersion.start_date:%d/%m/%Y}."
    return ""


def _step(request, uid, step, form_class, action, success):
    """POST of a step: the state first (its error alone, 400), then the form; an invalid form or
    a refusal of the service re-renders the page with the form, its values and errors (400)."""
    immersion, access, sides = _load(request, uid)
    form_key = f"{step}_form"
    problem = _state_error(immersion, step)
    if problem:
        return _detail(request, immersion, access, sides, status=400, step_errors=[problem])
    form = form_class(request.POST)
    if form.is_valid():
        kwargs = form.service_kwargs() if hasattr(form, "service_kwargs") else dict(form.cleaned_data)
        try:
            action(immersion, membership=request.membership, access=access, base_url=request_base_url(request),
                   **kwargs)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, success)
            return redirect("employers:immersion_detail", uid=immersion.uid)
    return _detail(request, immersion, access, sides, status=400, **{form_key: form})


@require_POST
@view_policy("employers.immersion_agree")
def immersion_agree(request, uid):
    return _step(request, uid, "agree", AgreementForm, services.agree,
                 "Convention enregistrée : l'autre partie est prévenue par courriel.")


@require_POST
@view_policy("employers.immersion_assess")
def immersion_assess(request, uid):
    return _step(request, uid, "assess", AssessmentForm, services.assess, "Bilan de l'immersion enregistré.")


@require_POST
@view_policy("employers.immersion_cancel")
def immersion_cancel(request, uid):
    return _step(request, uid, "cancel", CancelForm, services.cancel,
                 "Immersion annulée : l'autre partie est prévenue par courriel.")


def immersion_url(immersion):
    return reverse("employers:immersion_detail", args=[immersion.uid])


urlpatterns = [
    path("personnes/<int:pk>/immersions/nouvelle/", immersion_new, name="immersion_new"),
    path("immersions/", immersions, name="immersions"),
    path("immersions/<uuid:uid>/", immersion_detail, name="immersion_detail"),
    path("immersions/<uuid:uid>/convention/", immersion_agree, name="immersion_agree"),
    path("immersions/<uuid:uid>/bilan/", immersion_assess, name="immersion_assess"),
    path("immersions/<uuid:uid>/annuler/", immersion_cancel, name="immersion_cancel"),
]
