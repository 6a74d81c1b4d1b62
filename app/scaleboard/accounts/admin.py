from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from scaleboard.accounts.models import ApiToken, User


@admin.register(User)
class ScaleboardUserAdmin(UserAdmin):
    list_display = ("username", "email", "karma", "is_staff", "date_joined")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created", "last_used")
    readonly_fields = ("prefix", "key_hash", "created", "last_used")
