"""The network directory ("annuaire des référents SPIE"), structure pages and member management."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from spie.core.exports import export_format, export_response
from spie.core.policies import view_policy
from spie.referentials.models import DataInclusionTerm, PathwayTheme

from . import policies, selectors, services
from .forms import InviteForm
from .models import Membership, Structure


def _vocabularies():
    publics = list(DataInclusionTerm.objects.filter(vocabulary="publics").values_list("value", "label"))
    themes = list(PathwayTheme.objects.values_list("code", "label"))
    return publics, themes


@view_policy("network.directory")
def directory(request):
    if not policies.can_see_directory(request.membership):
        raise PermissionDenied
    territory = request.membership.structure.territory
    filters = {key: request.GET.get(key, "").strip() for key in ("q", "kind", "role", "theme", "public", "epci")}
    qs = selectors.directory(
        territory, query=filters["q"], kind=filters["kind"], role=filters["role"], theme=filters["theme"],
        public=filters["public"], epci=filters["epci"],
    )
    publics, themes = _vocabularies()
    labels = {**dict(publics), **dict(themes)}
    fmt = export_format(request)
    if fmt:
        header = ["Nom", "Prénom", "Fonction", "Rôle", "Structure", "Type de structure", "Commune", "Courriel",
                  "Téléphone", "Publics", "Thématiques"]
        rows = (
            [m.user.last_name, m.user.first_name, m.job_title, m.get_role_display(), m.structure.name,
             m.structure.get_kind_display(), m.structure.commune.name if m.structure.commune else "",
             m.user.email, m.user.phone, [labels.get(p, p) for p in m.publics], [labels.get(t, t) for t in m.themes]]
            for m in qs.iterator(chunk_size=1000)
        )
        return export_response(fmt, "annuaire-spie", header, rows, sheet_title="Annuaire")
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    epcis = (
        Structure.objects.filter(territory=territory, is_active=True, commune__isnull=False)
        .values_list("commune__epci_siren", "commune__epci_name").distinct().order_by("commune__epci_name")
    )
    return render(request, "network/directory.html", {
        "page": page, "filters": filters, "kinds": Structure.Kind.choices, "roles": Membership.Role.choices,
        "publics": publics, "themes": themes, "labels": labels, "epcis": epcis,
        "structures": selectors.structures(territory)[:200],
    })


@view_policy("network.structure")
def structure_detail(request, slug):
    if not policies.can_see_directory(request.membership):
        raise PermissionDenied
    structure = get_object_or_404(
        Structure.objects.select_related("commune", "territory"),
        slug=slug, territory=request.membership.structure.territory,
    )
    members = (
        Membership.objects.filter(structure=structure, is_active=True, user__is_active=True)
        .select_related("user").order_by("role", "user__last_name")
    )
    page = Paginator(members, 50).get_page(request.GET.get("page"))
    publics, themes = _vocabularies()
    return render(request, "network/structure.html", {
        "structure": structure, "page": page, "labels": {**dict(publics), **dict(themes)},
        "can_manage": policies.can_manage_members(request.membership, structure),
    })


@view_policy("network.manage_members")
def members(request, slug):
    structure = get_object_or_404(Structure, slug=slug)
    if not policies.can_manage_members(request.membership, structure):
        raise PermissionDenied("Seul l'administrateur de la structure gère ses membres.")
    form = InviteForm(request.POST or None, structure=structure)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.invite_member(
                by_membership=request.membership, structure=structure, base_url=request.build_absolute_uri("/")[:-1],
                **form.cleaned_data,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Invitation envoyée à {membership.user.email}.")
            return redirect("network:members", slug=slug)
    qs = (
        Membership.objects.filter(structure=structure).select_related("user", "invited_by")
        .order_by("-is_active", "user__last_name")
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "network/members.html", {"structure": structure, "form": form, "page": page})


@require_POST
@view_policy("network.manage_members")
def deactivate(request, slug, membership_id):
    structure = get_object_or_404(Structure, slug=slug)
    membership = get_object_or_404(Membership, pk=membership_id, structure=structure)
    try:
        services.deactivate_member(by_membership=request.membership, membership=membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{membership.user} n'est plus membre actif de {structure}.")
    return redirect("network:members", slug=slug)
