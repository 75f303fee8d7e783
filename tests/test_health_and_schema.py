"""/healthz on every host, and the template schema that follows every new migration."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client

from tenants import schemas, services
from tenants.models import Tenant

pytestmark = pytest.mark.django_db


def test_healthz_reports_the_host_schema_and_current_migrations(two_portals):
    a, b = two_portals
    for portal in (a, b):
        response = portal.client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {
            "status": "ok",
            "database": "ok",
            "schema": portal.schema,
            "migrations": "current",
            "pending": [],
        }
    platform = Client(HTTP_HOST="localhost").get("/healthz")
    assert platform.status_code == 200
    assert platform.json()["schema"] == "public"


def test_healthz_is_503_for_a_tenant_with_a_pending_migration(two_portals):
    a, b = two_portals
    with a.activate():
        MigrationRecorder.Migration.objects.filter(app="cms", name="0001_initial").delete()
    connection.set_schema_to_public()

    response = a.client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["migrations"] == "pending"
    assert response.json()["pending"] == ["cms.0001_initial"]
    assert b.client.get("/healthz").status_code == 200


def test_the_template_and_spares_follow_a_newly_added_migration(make_portal):
    """django-tenants never migrates a TENANT_BASE_SCHEMA; Viva's template is a tenant row and
    is migrated with every tenant, so a clone can never miss a column."""
    template = services.template_tenant().schema_name
    spares = list(
        Tenant.objects.filter(status=Tenant.Status.SPARE).values_list("schema_name", flat=True)
    )
    # Play "a migration added after the template was built": unapply it everywhere...
    call_command("migrate_schemas", "probe", "0001", tenant=True, interactive=False, verbosity=0)
    connection.set_schema_to_public()
    assert "flag" not in schemas.columns_of(template, "probe_probenote")

    # ...then deploy it the ordinary way.
    call_command("migrate_schemas", tenant=True, interactive=False, verbosity=0)
    connection.set_schema_to_public()

    for schema in [template, *spares]:
        assert "flag" in schemas.columns_of(schema, "probe_probenote"), schema
    from_pool = make_portal("pooled")
    services.discard_spares()
    from_clone = make_portal("cloned")
    for portal in (from_pool, from_clone):
        assert "flag" in schemas.columns_of(portal.schema, "probe_probenote")
        assert portal.client.get("/healthz").status_code == 200


def test_no_model_change_is_missing_a_migration():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_system_checks_pass():
    call_command("check", fail_level="WARNING")
