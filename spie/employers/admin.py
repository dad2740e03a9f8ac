"""Admin of the employer side: read-mostly.

Companies, openings, immersion offers and engagements are written through
``services.companies`` (pages, API, imports), which keep the policies, the status dates and
the places right; the admin shows them for support and never edits them. What concerns a
person (registrations, immersions, positionings, proposals, job-search profiles) is shown
without what identifies or describes the person (only the person's id): reading it here would
bypass the policies and the access log. Free texts about persons (immersion assessments,
positioning messages, profile skills) are not shown at all.
"""

from django.contrib import admin

from .models import (
    Company,
    Engagement,
    EngagementRegistration,
    Immersion,
    ImmersionOffer,
    JobOpening,
    MatchRun,
    Positioning,
    PositioningTransition,
)


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Company)
class CompanyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "siret", "naf", "commune", "territory", "is_inclusive", "account", "followed_by")
    list_filter = ("is_inclusive", "size", "territory")
    search_fields = ("name", "siret", "uid")
    list_select_related = ("naf", "commune", "territory", "account", "followed_by")
    readonly_fields = [f.name for f in Company._meta.fields]
    list_per_page = 50
    show_full_result_count = False


@admin.register(JobOpening)
class JobOpeningAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("title", "company", "rome", "contract_type", "status", "opened_on", "filled_on", "closed_on",
                    "source")
    list_filter = ("status", "contract_type", "source", "territory")
    search_fields = ("title", "company__name", "company__siret", "uid", "source_id")
    list_select_related = ("company", "rome")
    readonly_fields = [f.name for f in JobOpening._meta.fields]
    list_per_page = 50
    show_full_result_count = False


@admin.register(ImmersionOffer)
class ImmersionOfferAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("title", "company", "rome", "commune", "places", "is_open")
    list_filter = ("is_open", "territory")
    search_fields = ("title", "company__name", "uid")
    list_select_related = ("company", "rome", "commune")
    readonly_fields = [f.name for f in ImmersionOffer._meta.fields]
    list_per_page = 50


class RegistrationInline(ReadOnlyMixin, admin.TabularInline):
    model = EngagementRegistration
    extra = 0
    fields = ("person_id", "structure", "attended", "created_at")
    readonly_fields = fields


@admin.register(Engagement)
class EngagementAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("title", "kind", "date", "company", "partner", "capacity")
    list_filter = ("kind", "territory")
    search_fields = ("title", "company__name", "uid")
    list_select_related = ("company", "partner")
    readonly_fields = [f.name for f in Engagement._meta.fields]
    inlines = [RegistrationInline]
    list_per_page = 50


@admin.register(Immersion)
class ImmersionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("uid", "person_id", "company", "rome", "status", "start_date", "end_date")
    list_filter = ("status",)
    search_fields = ("uid",)
    list_select_related = ("company", "rome")
    fields = ("uid", "person_id", "company", "offer", "rome", "objective", "status", "start_date", "end_date",
              "structure", "assessed_on", "created_at", "updated_at")
    readonly_fields = fields
    list_per_page = 50


class TransitionInline(ReadOnlyMixin, admin.TabularInline):
    model = PositioningTransition
    extra = 0
    fields = ("from_status", "to_status", "by", "via_link", "at")
    readonly_fields = fields


@admin.register(Positioning)
class PositioningAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("uid", "person_id", "opening", "status", "structure", "created_at")
    list_filter = ("status",)
    search_fields = ("uid",)
    list_select_related = ("opening", "structure")
    fields = ("uid", "person_id", "opening", "status", "structure", "consent", "proposed_at", "answered_at",
              "hired_on", "refusal_reason", "link_expires_at", "link_version", "created_at", "updated_at")
    readonly_fields = fields
    inlines = [TransitionInline]
    list_per_page = 50
    show_full_result_count = False


@admin.register(MatchRun)
class MatchRunAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("__str__", "territory", "scope", "persons", "openings", "proposals", "blocked", "duration_s")
    list_filter = ("scope", "territory")
    fields = ("territory", "scope", "started_at", "finished_at", "persons", "openings", "proposals", "blocked",
              "duration_s", "congestion", "info")
    readonly_fields = fields
    list_per_page = 50
