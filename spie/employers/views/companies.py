"""Pages of the company side (``/emploi/``): companies, their openings, immersion offers and
engagements, and the company space.

- Lists (companies, openings, immersion offers, engagements) of the viewer's territory, 25 a
  page, with filters, CSV/XLSX export (no person in them) and a constant number of queries.
  A company user (role ``employer``) sees only its own company's rows; its home is
  ``company_space``.
- A company's page: identity, partners, contacts, openings, immersion offers, engagements, and
  the buttons of who manages it (``policies.can_manage_company``) or may open its space
  (``policies.can_give_account``).
- An opening's page: every field in French, the status buttons (pourvue / fermée / rouvrir)
  behind a confirmation, the positionings count by status and the link to the suggested
  candidates (``employers:candidates``).
- Engagements: counts by kind and month; a professional registers a person whose record they
  may open (access logged, section JOBS); the organiser marks attendance; coordinators see
  counts, never names.

Every write goes through ``services.companies``.
"""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, TruncMonth
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from spie.core.audit import log_access, log_reads
from spie.core.exports import export_format, export_response
from spie.core.links import request_base_url
from spie.core.models import AccessLog
from spie.core.policies import view_policy
from spie.core.text import fold_words
from spie.diagnostics import selectors as rome_selectors
from spie.pathways.notifications import short_name
from spie.people import policies as people_policies
from spie.people import selectors as people_selectors
from spie.people.models import Person

from .. import policies
from ..forms_companies import (
    AttendanceForm,
    CompanyAccountForm,
    CompanyFilterForm,
    CompanyForm,
    EngagementFilterForm,
    EngagementForm,
    ImmersionOfferFilterForm,
    ImmersionOfferForm,
    OpeningFilterForm,
    OpeningForm,
    OpeningStatusForm,
    RegistrationForm,
    health_labels,
    schedule_labels,
)
from ..models import (
    Company,
    Engagement,
    EngagementKind,
    EngagementRegistration,
    ImmersionOffer,
    JobOpening,
    OpeningStatus,
    Positioning,
    PositioningStatus,
    Proposal,
    ProposalKind,
)
from ..services import companies as services

CSS = "employers/companies.css"
PAGE_SIZE = 25
LIST_DENIED = "Les entreprises et leurs offres sont réservées aux professionnels du territoire."
SEE_DENIED = "Vous n'avez pas accès à cette entreprise."
SPACE_DENIED = "L'espace entreprise est réservé aux utilisateurs d'une entreprise."
AWAITING = (PositioningStatus.PROPOSED, PositioningStatus.INTERESTED, PositioningStatus.INTERVIEW)
MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre"]

# Status buttons of an opening: (target, label, explanation), by current status.
STATUS_BUTTONS = {
    OpeningStatus.FILLED: ("Pourvue", "L'offre est marquée pourvue à la date choisie : elle n'est plus proposée aux "
                                      "personnes ni aux référents."),
    OpeningStatus.CLOSED: ("Fermée", "L'offre est fermée sans recrutement par la plateforme : elle n'est plus "
                                     "proposée."),
    OpeningStatus.OPEN: ("Rouvrir", "L'offre redevient ouverte : elle sera de nouveau proposée au prochain calcul "
                                    "des propositions."),
}


# --- Helpers ---------------------------------------------------------------------------------------


def _count(model, field, **filters):
    """A correlated ``COUNT`` of ``model`` rows pointing to the outer row (0 when none)."""
    rows = (model.objects.filter(**{field: OuterRef("pk")}, **filters).order_by().values(field)
            .annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def _add_errors(form, exc):
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _territory_id(membership):
    return membership.structure.territory_id


def _require_list(membership):
    if not (policies.is_company_user(membership) or policies.can_list_companies(membership)):
        raise PermissionDenied(LIST_DENIED)


def _own_company(membership):
    """The company of a company user (403 when its space has no company)."""
    company = policies.company_of(membership)
    if company is None:
        raise PermissionDenied(SPACE_DENIED)
    return company


def _scope(qs, membership):
    """Rows of the viewer's territory, or of a company user's own company."""
    if policies.is_company_user(membership):
        return qs.filter(company=_own_company(membership))
    return qs.filter(territory_id=_territory_id(membership))


def load_company(request, uid):
    company = get_object_or_404(
        Company.objects.select_related("naf", "commune", "account", "followed_by", "territory"), uid=uid)
    if not policies.can_see_company(request.membership, company):
        raise PermissionDenied(SEE_DENIED)
    return company


def _load(request, model, uid):
    obj = get_object_or_404(
        model.objects.select_related("company__account", "company__followed_by", "company__commune", "commune"),
        uid=uid)
    if not policies.can_see_company(request.membership, obj.company):
        raise PermissionDenied(SEE_DENIED)
    return obj


def load_engagement(request, uid):
    engagement = get_object_or_404(
        Engagement.objects.select_related("company__account", "company__followed_by", "commune", "partner"), uid=uid)
    membership = request.membership
    if engagement.company_id is not None:
        allowed = policies.can_see_company(membership, engagement.company)
    else:
        allowed = (policies.is_professional(membership) or policies.is_coordinator(membership)) and \
            policies.same_territory(membership, engagement)
    if not allowed:
        raise PermissionDenied(SEE_DENIED)
    return engagement


def _company_from_query(request):
    """The company of ``?entreprise=<uid>`` (a company user: its own) that the viewer manages."""
    membership = request.membership
    uid = request.GET.get("entreprise") or request.POST.get("entreprise")
    if policies.is_company_user(membership):
        company = _own_company(membership)
    elif uid:
        try:
            company = get_object_or_404(Company.objects.select_related("account", "commune"), uid=uid)
        except ValidationError:
            raise Http404 from None
    else:
        return None
    if not policies.can_manage_company(membership, company):
        raise PermissionDenied(services.MANAGE_DENIED)
    return company


def _rome_filter(qs, text):
    """Filter on a ROME code, a picked appellation, or words of the title or the ROME label."""
    text = " ".join(text.split())
    if not text:
        return qs
    if rome_selectors.ROME_CODE.match(text.upper()) or len(text) < 5 and text[:1].isalpha() and \
            text[1:].isdigit():
        return qs.filter(rome__code__startswith=text.upper())
    try:
        code = rome_selectors.resolve_rome(text)
    except rome_selectors.RomeNotFound:
        code = None
    if code and rome_selectors.ROME_CODE.match(code):
        return qs.filter(rome_id=code)
    if code:
        return qs.filter(Q(appellation_id=code) | Q(rome__appellations__code_ogr=code)).distinct()
    return qs.filter(Q(title__icontains=text) | Q(rome__label__icontains=text) | Q(appellation__label__icontains=text))


def _filtered(request):
    return any(value for key, value in request.GET.items() if key not in ("page", "format"))


def _month_label(day):
    return f"{MONTHS[day.month - 1]} {day.year}"


# --- Companies ---------------------------------------------------------------------------------------


COMPANY_HEADER = [
    "Identifiant", "SIRET", "Raison sociale", "Code NAF", "Activité", "Section NAF", "Effectif", "Commune",
    "Code INSEE", "EPCI", "Adresse", "Contact", "Courriel", "Téléphone", "Entreprise inclusive", "Partenaires",
    "Espace entreprise", "Suivie par", "Offres ouvertes",
]


@view_policy("employers.companies")
def companies(request):
    membership = request.membership
    if policies.is_company_user(membership):
        return redirect("employers:company_space")
    _require_list(membership)
    territory_id = _territory_id(membership)
    form = CompanyFilterForm(request.GET or None, territory_id=territory_id)
    qs = Company.objects.filter(territory_id=territory_id)
    if form.is_valid():
        data = form.cleaned_data
        digits = data["q"].replace(" ", "")
        if digits.isdigit():
            qs = qs.filter(siret__startswith=digits)
        elif fold_words(data["q"]):
            qs = qs.filter(search_key__contains=fold_words(data["q"]))
        if data["section"]:
            qs = qs.filter(naf__section_code=data["section"])
        if data["commune"]:
            qs = qs.filter(commune=data["commune"])
        if data["epci"]:
            qs = qs.filter(commune__epci_siren=data["epci"])
        if data["partenaire"]:
            qs = qs.filter(partners__pk=data["partenaire"])
    qs = qs.annotate(open_openings=_count(JobOpening, "company", status=OpeningStatus.OPEN)).order_by("name", "id")

    fmt = export_format(request)
    if fmt:
        def rows():
            for c in qs.select_related("naf", "commune", "account", "followed_by").prefetch_related("partners"):
                yield [
                    str(c.uid), c.siret, c.name, c.naf_id or "", c.naf.label if c.naf_id else "",
                    c.naf.section_code if c.naf_id else "", c.get_size_display(),
                    c.commune.name if c.commune_id else "", c.commune_id or "",
                    c.commune.epci_name if c.commune_id else "", c.address, c.contact_name, c.contact_email,
                    c.contact_phone, c.is_inclusive, [p.name for p in c.partners.all()], c.account_id is not None,
                    c.followed_by.name if c.followed_by_id else "", c.open_openings,
                ]
        return export_response(fmt, "entreprises", COMPANY_HEADER, rows(), sheet_title="Entreprises")

    page = Paginator(qs.select_related("naf", "commune").prefetch_related("partners"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "employers/companies/list.html", {
        "css": CSS, "form": form, "page": page, "filtered": _filtered(request),
        "can_create": policies.can_create_company(membership),
    })


@view_policy("employers.company_new")
def company_new(request):
    membership = request.membership
    if not policies.can_create_company(membership):
        raise PermissionDenied(services.CREATE_DENIED)
    territory_id = _territory_id(membership)
    form = CompanyForm(request.POST or None, territory_id=territory_id,
                       instance=Company(territory_id=territory_id))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                company = services.create_company(membership=membership, data=form.company_data())
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, f"Entreprise « {company.name} » enregistrée.")
                return redirect("employers:company_detail", uid=company.uid)
        status = 400
    return render(request, "employers/companies/form.html", {"css": CSS, "form": form, "creating": True},
                  status=status)


@view_policy("employers.company_detail")
def company_detail(request, uid):
    company = load_company(request, uid)
    membership = request.membership
    openings = list(
        company.openings.select_related("rome", "commune")
        .annotate(positioning_count=_count(Positioning, "opening"),
                  awaiting=_count(Positioning, "opening", status__in=AWAITING))
        .order_by("status", "-opened_on", "-id")[:100])
    offers = list(company.immersion_offers.select_related("rome", "commune")
                  .order_by("-is_open", "-created_at", "-id")[:50])
    engagements = list(
        company.engagements.select_related("commune")
        .annotate(registered=_count(EngagementRegistration, "engagement"))
        .order_by("-date", "-id")[:50])
    account_members = []
    if company.account_id:
        account_members = list(company.account.memberships.filter(is_active=True).select_related("user")
                               .order_by("user__last_name", "user__first_name"))
    return render(request, "employers/companies/detail.html", {
        "css": CSS, "company": company, "partners": list(company.partners.order_by("name")),
        "openings": openings, "offers": offers, "engagements": engagements, "account_members": account_members,
        "can_manage": policies.can_manage_company(membership, company),
        "can_give_account": policies.can_give_account(membership, company),
        "is_company_user": policies.is_company_user(membership),
    })


@view_policy("employers.company_edit")
def company_edit(request, uid):
    company = load_company(request, uid)
    membership = request.membership
    if not policies.can_manage_company(membership, company):
        raise PermissionDenied(services.MANAGE_DENIED)
    status = 200
    if request.method == "POST":
        # The form works on its own copy: the service compares it with the stored company.
        form = CompanyForm(request.POST, territory_id=company.territory_id, instance=load_company(request, uid))
        if form.is_valid():
            try:
                changed = services.update_company(company, membership=membership, data=form.company_data())
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, "Entreprise enregistrée." if changed else "Aucune modification.")
                return redirect("employers:company_detail", uid=company.uid)
        status = 400
    else:
        form = CompanyForm(territory_id=company.territory_id, instance=company)
    return render(request, "employers/companies/form.html", {"css": CSS, "form": form, "company": company},
                  status=status)


@view_policy("employers.company_account")
def company_account(request, uid):
    company = load_company(request, uid)
    membership = request.membership
    if not policies.can_give_account(membership, company):
        raise PermissionDenied(services.ACCOUNT_DENIED)
    form = CompanyAccountForm(request.POST or None, initial={"email": company.contact_email})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                invited = services.open_company_space(
                    company, membership=membership, email=data["email"], first_name=data["first_name"],
                    last_name=data["last_name"], job_title=data["job_title"],
                    base_url=request_base_url(request))
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, f"Espace entreprise ouvert : une invitation a été envoyée à "
                                          f"{invited.user.email}.")
                return redirect("employers:company_detail", uid=company.uid)
        status = 400
    return render(request, "employers/companies/account.html", {"css": CSS, "form": form, "company": company},
                  status=status)


# --- Openings ----------------------------------------------------------------------------------------


OPENING_HEADER = [
    "Identifiant", "Entreprise", "SIRET", "Intitulé", "Code ROME", "Métier", "Appellation", "Contrat",
    "Durée (mois)", "Heures par semaine", "Horaires", "Lieu de travail", "Code INSEE", "Télétravail complet",
    "Postes", "Permis B", "Qualification", "Expérience (mois)", "Langues", "Contraintes physiques",
    "Formation", "Tutorat", "Poste aménageable", "Statut", "Publiée le", "Pourvue le", "Fermée le",
    "Mises en relation", "Source",
]


@view_policy("employers.openings")
def openings(request):
    membership = request.membership
    _require_list(membership)
    form = OpeningFilterForm(request.GET or None)
    qs = _scope(JobOpening.objects.all(), membership)
    status = ""
    if form.is_valid():
        data = form.cleaned_data
        status = data["statut"]
        qs = _rome_filter(qs, data["q"])
        if data["contrat"]:
            qs = qs.filter(contract_type=data["contrat"])
        if data["commune"]:
            qs = qs.filter(commune=data["commune"])
    if status != OpeningFilterForm.ALL:
        qs = qs.filter(status=status or OpeningStatus.OPEN)
    qs = qs.annotate(positioning_count=_count(Positioning, "opening")).order_by("-opened_on", "-id")

    fmt = export_format(request)
    if fmt:
        contracts = dict(JobOpening._meta.get_field("contract_type").choices)

        def rows():
            for o in qs.select_related("company", "rome", "appellation", "commune"):
                yield [
                    str(o.uid), o.company.name, o.company.siret, o.title, o.rome_id, o.rome.label,
                    o.appellation.label if o.appellation_id else "", contracts.get(o.contract_type, ""),
                    o.duration_months, o.weekly_hours, schedule_labels(o.schedule),
                    o.commune.name if o.commune_id else "", o.commune_id or "", o.remote, o.positions,
                    o.requires_licence, o.qualification, o.min_experience_months, o.languages,
                    health_labels(o.health_demands), o.offers_training, o.offers_mentoring, o.adapted_position,
                    o.get_status_display(), o.opened_on, o.filled_on, o.closed_on, o.positioning_count, o.source,
                ]
        return export_response(fmt, "offres-emploi", OPENING_HEADER, rows(), sheet_title="Offres d'emploi")

    page = Paginator(qs.select_related("company", "rome", "commune"), PAGE_SIZE).get_page(request.GET.get("page"))
    company = policies.company_of(membership)
    return render(request, "employers/openings/list.html", {
        "css": CSS, "form": form, "page": page, "company": company, "status": status,
        "filtered": _filtered(request),
    })


def _opening_form_page(request, form, *, company, opening=None, status=200):
    return render(request, "employers/openings/form.html", {
        "css": CSS, "form": form, "company": company, "opening": opening, "creating": opening is None,
    }, status=status)


@view_policy("employers.opening_new")
def opening_new(request):
    membership = request.membership
    company = _company_from_query(request)
    if company is None:
        messages.info(request, "Choisissez d'abord l'entreprise qui recrute, puis « Nouvelle offre ».")
        return redirect("employers:companies")
    form = OpeningForm(request.POST or None, initial={"commune": company.commune})
    if request.method == "POST":
        if form.is_valid():
            try:
                opening = services.create_opening(company, membership=membership, data=form.opening_data())
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, f"Offre « {opening.title} » enregistrée et ouverte.")
                return redirect("employers:opening_detail", uid=opening.uid)
        return _opening_form_page(request, form, company=company, status=400)
    return _opening_form_page(request, form, company=company)


def _opening_context(request, opening, *, status_form=None):
    membership = request.membership
    by_status = dict(Positioning.objects.filter(opening=opening).order_by().values_list("status")
                     .annotate(n=Count("pk")))
    labels = dict(PositioningStatus.choices)
    can_manage = policies.can_manage_company(membership, opening.company)
    buttons = []
    if can_manage:
        targets = [OpeningStatus.FILLED, OpeningStatus.CLOSED] if opening.status == OpeningStatus.OPEN \
            else [OpeningStatus.OPEN]
        buttons = [{"status": t.value, "label": STATUS_BUTTONS[t][0], "explanation": STATUS_BUTTONS[t][1],
                    "needs_date": t != OpeningStatus.OPEN} for t in targets]
    return {
        "css": CSS, "opening": opening, "company": opening.company,
        "schedule": schedule_labels(opening.schedule), "health": health_labels(opening.health_demands),
        "positionings": [(labels.get(s, s), n) for s, n in sorted(by_status.items())],
        "positioning_total": sum(by_status.values()),
        "awaiting": sum(n for s, n in by_status.items() if s in AWAITING),
        "can_manage": can_manage, "buttons": buttons, "status_form": status_form,
        "can_see_candidates": policies.can_see_anonymous_candidates(membership, opening),
        "today": timezone.localdate(),
    }


@view_policy("employers.opening_detail")
def opening_detail(request, uid):
    opening = _load(request, JobOpening, uid)
    opening = JobOpening.objects.select_related(
        "company__account", "company__followed_by", "company__commune", "commune", "rome", "appellation",
        "created_by").get(pk=opening.pk)
    return render(request, "employers/openings/detail.html", _opening_context(request, opening))


@view_policy("employers.opening_edit")
def opening_edit(request, uid):
    opening = _load(request, JobOpening, uid)
    membership = request.membership
    if not policies.can_manage_company(membership, opening.company):
        raise PermissionDenied(services.MANAGE_DENIED)
    if request.method == "POST":
        form = OpeningForm(request.POST, instance=_load(request, JobOpening, uid))
        if form.is_valid():
            try:
                changed = services.update_opening(opening, membership=membership, data=form.opening_data())
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, "Offre enregistrée." if changed else "Aucune modification.")
                return redirect("employers:opening_detail", uid=opening.uid)
        return _opening_form_page(request, form, company=opening.company, opening=opening, status=400)
    form = OpeningForm(instance=opening)
    return _opening_form_page(request, form, company=opening.company, opening=opening)


@require_POST
@view_policy("employers.opening_status")
def opening_status(request, uid):
    opening = _load(request, JobOpening, uid)
    membership = request.membership
    if not policies.can_manage_company(membership, opening.company):
        raise PermissionDenied(services.MANAGE_DENIED)
    form = OpeningStatusForm(request.POST)
    if form.is_valid():
        target = form.cleaned_data["status"]
        try:
            services.change_opening_status(opening, target, membership=membership, on=form.cleaned_data["on"],
                                           base_url=request_base_url(request))
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"L'offre « {opening.title} » est {services.OPENING_TARGETS[target]}.")
            return redirect("employers:opening_detail", uid=opening.uid)
    opening = JobOpening.objects.select_related(
        "company__account", "company__followed_by", "commune", "rome", "appellation").get(pk=opening.pk)
    return render(request, "employers/openings/detail.html", _opening_context(request, opening, status_form=form),
                  status=400)


# --- Immersion offers ---------------------------------------------------------------------------------


OFFER_HEADER = ["Identifiant", "Entreprise", "SIRET", "Intitulé", "Code ROME", "Métier", "Appellation", "Lieu",
                "Code INSEE", "Horaires", "Heures par semaine", "Immersions à la fois", "Ouverte", "Immersions",
                "Créée le"]


@view_policy("employers.immersion_offers")
def immersion_offers(request):
    membership = request.membership
    _require_list(membership)
    form = ImmersionOfferFilterForm(request.GET or None)
    qs = _scope(ImmersionOffer.objects.all(), membership)
    include_closed = False
    if form.is_valid():
        data = form.cleaned_data
        qs = _rome_filter(qs, data["q"])
        if data["commune"]:
            qs = qs.filter(commune=data["commune"])
        include_closed = data["toutes"]
    if not include_closed:
        qs = qs.filter(is_open=True)
    from ..models import Immersion

    qs = qs.annotate(immersion_count=_count(Immersion, "offer")).order_by("-created_at", "-id")
    fmt = export_format(request)
    if fmt:
        def rows():
            for o in qs.select_related("company", "rome", "appellation", "commune"):
                yield [str(o.uid), o.company.name, o.company.siret, o.title, o.rome_id, o.rome.label,
                       o.appellation.label if o.appellation_id else "", o.commune.name, o.commune_id,
                       schedule_labels(o.schedule), o.weekly_hours, o.places, o.is_open, o.immersion_count,
                       o.created_at]
        return export_response(fmt, "offres-immersion", OFFER_HEADER, rows(), sheet_title="Offres d'immersion")
    page = Paginator(qs.select_related("company", "rome", "commune"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "employers/immersion_offers/list.html", {
        "css": CSS, "form": form, "page": page, "company": policies.company_of(membership),
        "filtered": _filtered(request),
    })


def _offer_form_page(request, form, *, company, offer=None, status=200):
    return render(request, "employers/immersion_offers/form.html", {
        "css": CSS, "form": form, "company": company, "offer": offer, "creating": offer is None}, status=status)


@view_policy("employers.immersion_offer_new")
def immersion_offer_new(request):
    membership = request.membership
    company = _company_from_query(request)
    if company is None:
        messages.info(request, "Choisissez d'abord l'entreprise qui accueille, puis « Nouvelle offre d'immersion ».")
        return redirect("employers:companies")
    form = ImmersionOfferForm(request.POST or None, initial={"commune": company.commune})
    if request.method == "POST":
        if form.is_valid():
            try:
                offer = services.create_immersion_offer(company, membership=membership, data=form.offer_data())
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, f"Offre d'immersion « {offer.title} » enregistrée.")
                return redirect("employers:immersion_offer_detail", uid=offer.uid)
        return _offer_form_page(request, form, company=company, status=400)
    return _offer_form_page(request, form, company=company)


@view_policy("employers.immersion_offer_detail")
def immersion_offer_detail(request, uid):
    offer = _load(request, ImmersionOffer, uid)
    offer = ImmersionOffer.objects.select_related("company__account", "company__followed_by", "commune", "rome",
                                                  "appellation").get(pk=offer.pk)
    by_status = dict(offer.immersions.order_by().values_list("status").annotate(n=Count("pk")))
    from ..models import ImmersionStatus

    labels = dict(ImmersionStatus.choices)
    return render(request, "employers/immersion_offers/detail.html", {
        "css": CSS, "offer": offer, "company": offer.company, "schedule": schedule_labels(offer.schedule),
        "immersions": [(labels.get(s, s), n) for s, n in sorted(by_status.items())],
        "can_manage": policies.can_manage_company(request.membership, offer.company),
        "is_professional": policies.is_professional(request.membership),
    })


@view_policy("employers.immersion_offer_edit")
def immersion_offer_edit(request, uid):
    offer = _load(request, ImmersionOffer, uid)
    membership = request.membership
    if not policies.can_manage_company(membership, offer.company):
        raise PermissionDenied(services.MANAGE_DENIED)
    if request.method == "POST":
        form = ImmersionOfferForm(request.POST, instance=_load(request, ImmersionOffer, uid))
        if form.is_valid():
            try:
                changed = services.update_immersion_offer(offer, membership=membership, data=form.offer_data())
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, "Offre d'immersion enregistrée." if changed else "Aucune modification.")
                return redirect("employers:immersion_offer_detail", uid=offer.uid)
        return _offer_form_page(request, form, company=offer.company, offer=offer, status=400)
    return _offer_form_page(request, ImmersionOfferForm(instance=offer), company=offer.company, offer=offer)


# --- Engagements ---------------------------------------------------------------------------------------


ENGAGEMENT_HEADER = ["Identifiant", "Date", "Type", "Intitulé", "Entreprise", "SIRET", "Partenaire", "Lieu",
                     "À distance", "Places", "Inscriptions", "Présents"]


def _engagement_scope(membership):
    if policies.is_company_user(membership):
        return Engagement.objects.filter(company=_own_company(membership))
    return Engagement.objects.filter(territory_id=_territory_id(membership))


@view_policy("employers.engagements")
def engagements(request):
    membership = request.membership
    _require_list(membership)
    form = EngagementFilterForm(request.GET or None)
    qs = _engagement_scope(membership)
    if form.is_valid():
        data = form.cleaned_data
        if data["type"]:
            qs = qs.filter(kind=data["type"])
        if data["du"]:
            qs = qs.filter(date__gte=data["du"])
        if data["au"]:
            qs = qs.filter(date__lte=data["au"])
    qs = qs.annotate(
        registered=_count(EngagementRegistration, "engagement"),
        attended_count=_count(EngagementRegistration, "engagement", attended=True),
    ).order_by("-date", "-id")

    fmt = export_format(request)
    if fmt:
        def rows():
            for e in qs.select_related("company", "partner", "commune"):
                yield [str(e.uid), e.date, e.get_kind_display(), e.title, e.company.name if e.company_id else "",
                       e.company.siret if e.company_id else "", e.partner.name if e.partner_id else "",
                       e.commune.name if e.commune_id else "", e.remote, e.capacity, e.registered, e.attended_count]
        return export_response(fmt, "engagements-entreprises", ENGAGEMENT_HEADER, rows(),
                               sheet_title="Engagements")

    # Counts by kind and month (one query).
    kinds = dict(EngagementKind.choices)
    summary = (
        EngagementRegistration.objects.filter(engagement__in=qs.values("pk"))
        .annotate(month=TruncMonth("engagement__date")).order_by()
        .values("month", "engagement__kind")
        .annotate(n=Count("pk"), present=Count("pk", filter=Q(attended=True)))
    )
    events = (qs.order_by().annotate(month=TruncMonth("date")).values("month", "kind").annotate(events=Count("pk")))
    table = {}
    for row in events:
        table[(row["month"], row["kind"])] = {"events": row["events"], "registered": 0, "attended": 0}
    for row in summary:
        entry = table.setdefault((row["month"], row["engagement__kind"]), {"events": 0, "registered": 0,
                                                                           "attended": 0})
        entry["registered"], entry["attended"] = row["n"], row["present"]
    by_month = [
        {"month": _month_label(month), "kind": kinds.get(kind, kind), **values}
        for (month, kind), values in sorted(table.items(), key=lambda item: (item[0][0], item[0][1]), reverse=True)
    ]
    totals = {key: sum(row[key] for row in by_month) for key in ("events", "registered", "attended")}
    page = Paginator(qs.select_related("company", "commune", "partner"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "employers/engagements/list.html", {
        "css": CSS, "form": form, "page": page, "by_month": by_month, "totals": totals,
        "can_create": policies.is_professional(membership) or policies.is_company_user(membership),
        "company": policies.company_of(membership),
    })


@view_policy("employers.engagement_new")
def engagement_new(request):
    membership = request.membership
    company = _company_from_query(request)
    if company is None and not policies.is_professional(membership):
        raise PermissionDenied(services.ENGAGEMENT_DENIED)
    territory_id = company.territory_id if company else _territory_id(membership)
    form = EngagementForm(request.POST or None, territory_id=territory_id,
                          initial={"commune": company.commune if company else None})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                engagement = services.create_engagement(membership=membership, data=form.engagement_data(),
                                                        company=company)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, f"Événement « {engagement.title} » enregistré.")
                return redirect("employers:engagement_detail", uid=engagement.uid)
        status = 400
    return render(request, "employers/engagements/form.html", {"css": CSS, "form": form, "company": company},
                  status=status)


@view_policy("employers.engagement_edit")
def engagement_edit(request, uid):
    engagement = load_engagement(request, uid)
    membership = request.membership
    if not policies.can_manage_engagement(membership, engagement):
        raise PermissionDenied(services.ENGAGEMENT_DENIED)
    form = EngagementForm(request.POST or None, instance=engagement, territory_id=engagement.territory_id)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.update_engagement(load_engagement(request, uid), membership=membership,
                                           data=form.engagement_data())
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, "Événement enregistré.")
                return redirect("employers:engagement_detail", uid=engagement.uid)
        status = 400
    return render(request, "employers/engagements/form.html",
                  {"css": CSS, "form": form, "company": engagement.company, "engagement": engagement}, status=status)


def _followed_persons(request):
    """Persons whose group the user is in (names only), for "whom to register"."""
    return (Person.objects.filter(**people_policies.visible_persons_filter(request.user, request.membership))
            .only("pk", "first_name", "last_name").distinct().order_by("last_name", "first_name"))


def _engagement_context(request, engagement, *, register_form=None, attendance_form=None):
    membership = request.membership
    is_coordinator = policies.is_coordinator(membership)
    organiser = policies.can_manage_engagement(membership, engagement)
    can_register = policies.is_professional(membership) and engagement.date >= timezone.localdate()
    counts = engagement.registrations.order_by().aggregate(
        registered=Count("pk"), present=Count("pk", filter=Q(attended=True)),
        absent=Count("pk", filter=Q(attended=False)))
    registrations, others = [], 0
    if not is_coordinator and (organiser or policies.is_professional(membership)):
        rows = list(engagement.registrations.select_related("person", "structure").order_by(
            "person__last_name", "person__first_name", "id"))
        visible = set()
        if policies.is_professional(membership) and rows:
            visible = set(Person.objects.filter(
                **people_policies.visible_persons_filter(request.user, membership),
                pk__in=[r.person_id for r in rows]).values_list("pk", flat=True))
        for r in rows:
            r.can_open = r.person_id in visible
            if r.can_open:
                r.display_name = f"{r.person.last_name.upper()} {r.person.first_name}"
            elif organiser:
                r.display_name = short_name(r.person)
            else:
                others += 1
                continue
            registrations.append(r)
    if registrations:
        log_reads(request, [r.person_id for r in registrations], AccessLog.Section.JOBS,
                  reason=f"inscrits à l'événement « {engagement.title} »")
    if organiser and attendance_form is None and registrations:
        attendance_form = AttendanceForm(registrations=registrations)
    if can_register and register_form is None:
        register_form = RegistrationForm(persons=_followed_persons(request))
    places_left = None
    if engagement.capacity is not None:
        places_left = max(engagement.capacity - counts["registered"], 0)
    return {
        "css": CSS, "engagement": engagement, "counts": counts, "registrations": registrations, "others": others,
        "organiser": organiser, "can_register": can_register, "register_form": register_form,
        "attendance_form": attendance_form, "places_left": places_left, "is_coordinator": is_coordinator,
        "attendance_open": engagement.date <= timezone.localdate(),
    }


@view_policy("employers.engagement_detail")
def engagement_detail(request, uid):
    engagement = load_engagement(request, uid)
    return render(request, "employers/engagements/detail.html", _engagement_context(request, engagement))


@require_POST
@view_policy("employers.engagement_register")
def engagement_register(request, uid):
    engagement = load_engagement(request, uid)
    membership = request.membership
    if not policies.is_professional(membership):
        raise PermissionDenied(services.REGISTER_DENIED)
    form = RegistrationForm(request.POST, persons=_followed_persons(request))
    if form.is_valid():
        person = people_selectors.person_for_record(form.cleaned_data["person"].pk)
        access = people_policies.access_for(request.user, membership, person, followups=person.active_followups,
                                            consents=person.all_consents)
        if not policies.can_register_person(membership, access):
            raise PermissionDenied(services.REGISTER_DENIED)
        try:
            services.register_person(engagement, person, membership=membership, access=access)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            log_access(request, person, AccessLog.Section.JOBS,
                       reason=f"inscription à un événement entreprise ({engagement.get_kind_display()})")
            messages.success(request, f"{short_name(person)} est inscrit(e) à « {engagement.title} ».")
            return redirect("employers:engagement_detail", uid=engagement.uid)
    return render(request, "employers/engagements/detail.html",
                  _engagement_context(request, engagement, register_form=form), status=400)


@require_POST
@view_policy("employers.engagement_unregister")
def engagement_unregister(request, uid):
    """Cancel a registration (before attendance is noted), by a professional who may open the
    person's record."""
    engagement = load_engagement(request, uid)
    membership = request.membership
    registration = get_object_or_404(
        EngagementRegistration.objects.select_related("person"), engagement=engagement,
        pk=request.POST.get("inscription") if str(request.POST.get("inscription", "")).isdigit() else None)
    person = people_selectors.person_for_record(registration.person_id)
    access = people_policies.access_for(request.user, membership, person, followups=person.active_followups,
                                        consents=person.all_consents)
    try:
        services.unregister_person(registration, membership=membership, access=access)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        messages.success(request, f"Inscription de {short_name(person)} à « {engagement.title} » annulée.")
    return redirect(reverse("employers:engagement_detail", args=[engagement.uid]) + "#presences-titre")


@view_policy("employers.engagement_attendance")
def engagement_attendance(request, uid):
    engagement = load_engagement(request, uid)
    membership = request.membership
    if not policies.can_manage_engagement(membership, engagement):
        raise PermissionDenied(services.ENGAGEMENT_DENIED)
    if request.method != "POST":
        return redirect(reverse("employers:engagement_detail", args=[engagement.uid]) + "#presences")
    context = _engagement_context(request, engagement)
    form = AttendanceForm(request.POST, registrations=context["registrations"])
    if form.is_valid():
        try:
            n = services.mark_attendance(engagement, membership=membership, attendance=form.attendance())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"Présences enregistrées ({n} modification{'s' if n > 1 else ''}).")
            return redirect("employers:engagement_detail", uid=engagement.uid)
    context["attendance_form"] = form
    return render(request, "employers/engagements/detail.html", context, status=400)


# --- Company space ---------------------------------------------------------------------------------


@view_policy("employers.company_space")
def company_space(request):
    membership = request.membership
    if not policies.is_company_user(membership):
        if policies.can_list_companies(membership):
            return redirect("employers:companies")
        raise PermissionDenied(SPACE_DENIED)
    company = _own_company(membership)
    openings_qs = (
        company.openings.select_related("rome", "commune")
        .annotate(awaiting=_count(Positioning, "opening", status__in=AWAITING),
                  requested=_count(Positioning, "opening", status=PositioningStatus.REQUESTED),
                  suggested=_count(Proposal, "opening", kind=ProposalKind.ELIGIBLE))
        .order_by("status", "-opened_on", "-id")
    )
    show_all = request.GET.get("toutes") == "1"
    if not show_all:
        openings_qs = openings_qs.filter(status=OpeningStatus.OPEN)
    page = Paginator(openings_qs, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    offers = list(company.immersion_offers.select_related("rome", "commune").filter(is_open=True)
                  .order_by("-created_at")[:50])
    engagements_list = list(
        company.engagements.filter(date__gte=today - datetime.timedelta(days=90)).select_related("commune")
        .annotate(registered=_count(EngagementRegistration, "engagement"),
                  attended_count=_count(EngagementRegistration, "engagement", attended=True))
        .order_by("date", "id")[:50])
    return render(request, "employers/company_space.html", {
        "css": CSS, "company": company, "page": page, "show_all": show_all, "offers": offers,
        "engagements": engagements_list, "today": today,
        "awaiting_total": Positioning.objects.filter(opening__company=company, status__in=AWAITING).count(),
    })


urlpatterns = [
    path("entreprises/", companies, name="companies"),
    path("entreprises/nouvelle/", company_new, name="company_new"),
    path("entreprises/<uuid:uid>/", company_detail, name="company_detail"),
    path("entreprises/<uuid:uid>/modifier/", company_edit, name="company_edit"),
    path("entreprises/<uuid:uid>/espace/", company_account, name="company_account"),
    path("offres/", openings, name="openings"),
    path("offres/nouvelle/", opening_new, name="opening_new"),
    path("offres/<uuid:uid>/", opening_detail, name="opening_detail"),
    path("offres/<uuid:uid>/modifier/", opening_edit, name="opening_edit"),
    path("offres/<uuid:uid>/statut/", opening_status, name="opening_status"),
    path("immersions/offres/", immersion_offers, name="immersion_offers"),
    path("immersions/offres/nouvelle/", immersion_offer_new, name="immersion_offer_new"),
    path("immersions/offres/<uuid:uid>/", immersion_offer_detail, name="immersion_offer_detail"),
    path("immersions/offres/<uuid:uid>/modifier/", immersion_offer_edit, name="immersion_offer_edit"),
    path("evenements/", engagements, name="engagements"),
    path("evenements/nouveau/", engagement_new, name="engagement_new"),
    path("evenements/<uuid:uid>/", engagement_detail, name="engagement_detail"),
    path("evenements/<uuid:uid>/modifier/", engagement_edit, name="engagement_edit"),
    path("evenements/<uuid:uid>/inscrire/", engagement_register, name="engagement_register"),
    path("evenements/<uuid:uid>/desinscrire/", engagement_unregister, name="engagement_unregister"),
    path("evenements/<uuid:uid>/presences/", engagement_attendance, name="engagement_attendance"),
    path("espace-entreprise/", company_space, name="company_space"),
]
