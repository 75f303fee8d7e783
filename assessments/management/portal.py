"""Choosing the tenant a question command works in: a portal's schema, never public."""

from __future__ import annotations

from django.core.management.base import CommandError
from django_tenants.utils import get_public_schema_name


def portal_schema(schema: str) -> str:
    """``schema`` if it belongs to a portal (active or suspended); a clear CommandError for
    public, the template, a spare schema or a name that is no tenant at all."""
    from tenants.models import Tenant

    if schema == get_public_schema_name():
        raise CommandError(
            "The public schema holds no question bank; give a portal's schema with --schema."
        )
    tenant = Tenant.objects.filter(schema_name=schema).first()
    if tenant is None or not tenant.is_portal:
        raise CommandError(f"There is no portal with schema {schema!r}.")
    return schema
