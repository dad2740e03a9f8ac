"""Referentials in the admin: searchable and read-only (they are reloaded from files).

Changes belong in ``spie/referentials/data/`` followed by ``manage.py load_referentials``;
an edit made here would be overwritten by the next load.
"""

from django.contrib import admin
from django.db.models import BooleanField, ExpressionWrapper, Q

from .models import (
    Commune,
    DataInclusionTerm,
    Departement,
    NafCode,
    PathwayItem,
    PathwayTheme,
    ReferentialVersion,
    RomeAppellation,
    RomeCode,
    RomeDomain,
    RomeMobility,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    list_per_page = 50
    show_full_result_count = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReferentialVersion)
class ReferentialVersionAdmin(ReadOnlyAdmin):
    list_display = ("name", "rows", "loaded_at", "checksum")


@admin.register(Departement)
class DepartementAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "region_code", "region_name")
    list_filter = ("region_name",)
    search_fields = ("code", "name", "region_name")


@admin.register(Commune)
class CommuneAdmin(ReadOnlyAdmin):
    list_display = ("code_insee", "name", "departement", "postal_codes", "population", "epci_name", "has_shape")
    list_filter = ("departement",)
    search_fields = ("code_insee", "name", "search_key", "postal_codes", "epci_name")
    exclude = ("shape",)
    readonly_fields = ("has_shape",)

    def get_queryset(self, request):
        # The polygons are large: flag their presence without loading them.
        flag = ExpressionWrapper(Q(shape__isnull=False), output_field=BooleanField())
        return super().get_queryset(request).defer("shape").annotate(shape_loaded=flag)

    @admin.display(boolean=True, description="contour", ordering="shape_loaded")
    def has_shape(self, obj):
        return obj.shape_loaded


class RomeAppellationInline(ReadOnlyInline):
    model = RomeAppellation
    fields = ("code_ogr", "label", "principal", "rarely_used")


@admin.register(RomeDomain)
class RomeDomainAdmin(ReadOnlyAdmin):
    list_display = ("code", "label", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "label")


@admin.register(RomeCode)
class RomeCodeAdmin(ReadOnlyAdmin):
    list_display = ("code", "label", "domain", "regulated", "managerial")
    list_filter = ("regulated", "managerial", "domain__parent")
    list_select_related = ("domain",)
    search_fields = ("code", "label", "appellations__label")
    inlines = [RomeAppellationInline]


@admin.register(RomeAppellation)
class RomeAppellationAdmin(ReadOnlyAdmin):
    list_display = ("label", "rome", "principal", "rarely_used")
    list_filter = ("principal", "rarely_used")
    list_select_related = ("rome",)
    search_fields = ("label", "search_key", "code_ogr", "rome__code")


@admin.register(RomeMobility)
class RomeMobilityAdmin(ReadOnlyAdmin):
    list_display = ("source", "target", "rank")
    list_select_related = ("source", "target")
    search_fields = ("source__code", "target__code", "source__label", "target__label")


@admin.register(NafCode)
class NafCodeAdmin(ReadOnlyAdmin):
    list_display = ("code", "label", "division_code", "section_code")
    list_filter = ("section_label",)
    search_fields = ("code", "label", "division_label")


class PathwayItemInline(ReadOnlyInline):
    model = PathwayItem
    fields = ("kind", "order", "label")
    show_change_link = False


@admin.register(PathwayTheme)
class PathwayThemeAdmin(ReadOnlyAdmin):
    list_display = ("order", "code", "label")
    search_fields = ("code", "label")
    inlines = [PathwayItemInline]


@admin.register(PathwayItem)
class PathwayItemAdmin(ReadOnlyAdmin):
    list_display = ("label", "theme", "kind", "order")
    list_filter = ("kind", "theme")
    list_select_related = ("theme",)
    search_fields = ("label",)


@admin.register(DataInclusionTerm)
class DataInclusionTermAdmin(ReadOnlyAdmin):
    list_display = ("vocabulary", "value", "label", "parent_value")
    list_filter = ("vocabulary",)
    search_fields = ("value", "label", "description")
