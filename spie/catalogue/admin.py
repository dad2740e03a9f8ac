"""Admin of the catalogue: read-mostly.

Actions and sessions are written through ``services.actions`` (pages, API, imports), which keep
the lifecycle, the freshness date, the places and the sites of a model right; the admin shows
them for support and never edits them. Referrals are shown read-only without what identifies or
describes the person (only the person's id): their content belongs to the person's follow-up
group and the provider, and reading it here would bypass the policies and the access log.
"""

from django.contrib import admin

from .models import Action, ActionSession, Referral, ReferralTransition


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SessionInline(ReadOnlyMixin, admin.TabularInline):
    model = ActionSession
    extra = 0
    fields = ("label", "starts_on", "ends_on", "start_time", "capacity", "places_taken", "registration_deadline",
              "is_cancelled")
    readonly_fields = fields
    show_change_link = True


@admin.register(Action)
class ActionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "structure", "status", "spie_kind", "is_model", "commune", "content_updated_on",
                    "next_session_on", "places_left_total")
    list_filter = ("status", "spie_kind", "spie_axis", "is_model", "territory")
    search_fields = ("name", "structure__name", "uid", "source_id")
    list_select_related = ("structure", "commune")
    readonly_fields = [f.name for f in Action._meta.fields]
    inlines = [SessionInline]
    list_per_page = 50
    show_full_result_count = False


@admin.register(ActionSession)
class ActionSessionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("__str__", "action", "starts_on", "capacity", "places_taken", "is_cancelled")
    list_filter = ("is_cancelled",)
    search_fields = ("action__name", "label")
    list_select_related = ("action",)
    readonly_fields = [f.name for f in ActionSession._meta.fields]
    list_per_page = 50


class TransitionInline(ReadOnlyMixin, admin.TabularInline):
    model = ReferralTransition
    extra = 0
    fields = ("at", "from_status", "to_status", "by", "via_link")
    readonly_fields = fields


# What the admin may show of a referral: its route and its dates, never the person's identity
# nor what was written about them (motivation, availability, information for the provider, health).
REFERRAL_FIELDS = (
    "uid", "person_id", "action", "session", "from_structure", "to_structure", "sent_by", "status", "sent_at",
    "answered_at", "answered_via_link", "start_date", "started_on", "ended_on", "refusal_reason", "drop_reason",
    "reminder_sent_at", "link_expires_at", "link_version", "updated_at",
)


@admin.register(Referral)
class ReferralAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("uid", "person_id", "action", "from_structure", "to_structure", "status", "sent_at",
                    "answered_at")
    list_filter = ("status", "answered_via_link")
    search_fields = ("uid", "action__name", "from_structure__name", "to_structure__name")
    list_select_related = ("action", "from_structure", "to_structure")
    fields = REFERRAL_FIELDS
    readonly_fields = REFERRAL_FIELDS
    inlines = [TransitionInline]
    list_per_page = 50
    show_full_result_count = False
