"""Admin for the network. Persons are deliberately NOT in the admin: every read of a record
must go through the need-to-know policies and the access log (spie/people/policies.py)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from .models import Membership, Structure, Territory, User


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "display_name")


@admin.register(Structure)
class StructureAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "territory", "commune", "is_active")
    list_filter = ("kind", "territory", "is_active")
    search_fields = ("name", "siret", "email")
    prepopulated_fields = {"slug": ("name",)}
    raw_id_fields = ("commune",)
    exclude = ("search_key",)


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    raw_id_fields = ("structure", "invited_by")


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    add_form = UserCreationForm
    form = UserEditForm
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_active", "is_staff")
    search_fields = ("email", "first_name", "last_name")
    list_filter = ("is_active", "is_staff", "is_superuser")
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Identité", {"fields": ("first_name", "last_name", "phone")}),
        ("Droits", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "usable_password", "password1", "password2")}),)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "structure", "role", "start_date", "end_date", "is_active")
    list_filter = ("role", "is_active", "structure__kind")
    search_fields = ("user__email", "user__last_name", "structure__name")
    raw_id_fields = ("user", "structure", "invited_by")
