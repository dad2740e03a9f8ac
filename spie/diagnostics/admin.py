"""Admin: framework versions only, read-only.

Diagnostics hold personal data: like persons, they are not in the admin, whose pages would
bypass the follow-up group policy and the access log. Frameworks are loaded from files with
``load_frameworks`` and never edited by hand (a stored version never changes).
"""

from django.contrib import admin

from .models import Framework


@admin.register(Framework)
class FrameworkAdmin(admin.ModelAdmin):
    list_display = ("code", "version", "kind", "title", "is_current", "loaded_at", "source_file")
    list_filter = ("kind", "is_current", "code")
    readonly_fields = [f.name for f in Framework._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
