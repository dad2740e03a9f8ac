from django.contrib import admin

from .models import AccessLog


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """Read-only: the access log cannot be edited or deleted through the admin."""

    list_display = ("at", "user", "structure", "person", "section", "channel", "ip_address")
    list_filter = ("section", "channel")
    list_select_related = ("user", "structure", "person")
    raw_id_fields = ("user", "structure", "person")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
