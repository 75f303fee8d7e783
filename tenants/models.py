from __future__ import annotations

from django.db import models
from django_tenants.models import DomainMixin, TenantMixin


class Tenant(TenantMixin):
    """An institution with its own schema: a university, a company or a publisher.

    Besides real tenants the table holds the platform itself (the public schema), the migrated
    template schema that new tenants are cloned from, and pre-cloned spare schemas waiting to
    be renamed into a new tenant. Keeping those as rows means ``migrate_schemas`` migrates them
    together with every tenant, so a clone can never come from a stale template.
    """

    class Kind(models.TextChoices):
        UNIVERSITY = "university", "University"
        COMPANY = "company", "Company"
        PUBLISHER = "publisher", "Publisher"
        PLATFORM = "platform", "Platform"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        TEMPLATE = "template", "Template schema"
        SPARE = "spare", "Spare schema"

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    created = models.DateTimeField(auto_now_add=True)

    # Schemas are created by tenants.schemas (clone or pool), never implicitly on save.
    auto_create_schema = False
    auto_drop_schema = False

    class Meta:
        ordering = ["slug"]
        indexes = [models.Index(fields=["status"], name="tenant_status_idx")]

    def __str__(self) -> str:
        return self.name or self.slug

    @property
    def is_portal(self) -> bool:
        """True for tenants whose portal is served (not the platform, template or spares)."""
        return self.status in {self.Status.ACTIVE, self.Status.SUSPENDED}


class Domain(DomainMixin):
    """A host name that selects a tenant (``uni.localhost``, ``exams.northfield.edu``)."""

    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.domain
