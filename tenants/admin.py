"""Platform staff's view of the tenant registry (public schema, /admin/ on the platform host)."""

from django.contrib import admin

from tenants.models import Domain, Tenant


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "kind", "status", "schema_name", "created")
    list_filter = ("kind", "status")
    search_fields = ("slug", "name", "domains__domain")
    readonly_fields = ("schema_name", "slug", "created")
    inlines = [DomainInline]

    def has_add_permission(self, request):
        # A tenant needs a schema, a site and an admin: use `manage.py provision_tenant`.
        return False

    def has_delete_permission(self, request, obj=None):
        return False
