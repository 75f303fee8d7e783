"""Provisioning a tenant: what it creates, what it refuses, and that failure leaves nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from tenants import schemas, services
from tenants.models import Domain, Tenant
from tenants.services import ProvisioningError, SchemaSource, provision_tenant


def spare_names() -> set[str]:
    return set(
        Tenant.objects.filter(status=Tenant.Status.SPARE).values_list("schema_name", flat=True)
    )


def registry_snapshot() -> tuple:
    return (
        sorted(Tenant.objects.values_list("schema_name", "status")),
        sorted(Domain.objects.values_list("domain", flat=True)),
    )


def provision(**overrides):
    params = {
        "slug": "northfield",
        "name": "Northfield University",
        "kind": "university",
        "admin_email": "Dean@Northfield.test",
    }
    params.update(overrides)
    return provision_tenant(**params)


@pytest.mark.django_db
def test_provisioning_from_the_pool_renames_a_spare_into_a_working_portal():
    spares_before = spare_names()
    assert len(spares_before) == 2

    result = provision()

    assert result.source is SchemaSource.POOL
    tenant = Tenant.objects.get(slug="northfield")
    assert (tenant.schema_name, tenant.name, tenant.kind, tenant.status) == (
        "northfield",
        "Northfield University",
        "university",
        "active",
    )
    remaining = spare_names()
    assert len(remaining) == 1 and remaining < spares_before
    (consumed,) = spares_before - remaining
    assert not schemas.schema_exists(consumed)
    assert schemas.schema_exists("northfield")
    assert list(tenant.domains.values_list("domain", "is_primary")) == [
        ("northfield.localhost", True)
    ]
    with schema_context("northfield"):
        from wagtail.models import Site

        site = Site.objects.get()
        assert (site.hostname, site.site_name, site.is_default_site) == (
            "northfield.localhost",
            "Northfield University",
            True,
        )
        assert site.root_page.specific.title == "Northfield University"
        admin = get_user_model().objects.get()
        assert admin.email == "dean@northfield.test"
        assert admin.is_superuser and admin.is_staff
        assert not admin.has_usable_password()


@pytest.mark.django_db
def test_the_portal_serves_its_home_page_and_the_admin_can_set_a_password(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        result = provision(refill_pool=False)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["dean@northfield.test"]
    assert result.set_password_url in mail.outbox[0].body

    client = Client(HTTP_HOST="northfield.localhost")
    home = client.get("/")
    assert home.status_code == 200
    assert b">Northfield University</h1>" in home.content

    path = result.set_password_url.split(":8000", 1)[1]
    form = client.get(path, follow=True)
    assert form.status_code == 200
    response = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-long-Password-42", "new_password2": "a-long-Password-42"},
    )
    assert response.status_code == 302
    connection.set_schema_to_public()
    refused = client.post("/accounts/login/", {"login": "dean@northfield.test", "password": "x"})
    assert refused.status_code == 200 and not refused.wsgi_request.user.is_authenticated
    logged_in = client.post(
        "/accounts/login/", {"login": "dean@northfield.test", "password": "a-long-Password-42"}
    )
    assert logged_in.status_code == 302
    assert client.get("/cms/").status_code == 200


@pytest.mark.django_db
def test_consuming_a_spare_refills_the_pool_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        provision()
    assert len(callbacks) == 2  # welcome email, pool refill
    assert len(spare_names()) == 2


@pytest.mark.django_db
def test_an_empty_pool_falls_back_to_cloning_the_template():
    services.discard_spares()
    result = provision()
    assert result.source is SchemaSource.CLONE
    with schema_context("northfield"):
        from cms.models import HomePage

        assert HomePage.objects.get().title == "Northfield University"


def test_migration_replay_builds_the_same_portal(committed_db):
    result = provision(source=SchemaSource.MIGRATE)
    assert result.source is SchemaSource.MIGRATE
    assert schemas.tables_in_schema("northfield") == schemas.tables_in_schema(
        services.template_tenant().schema_name
    )
    with schema_context("northfield"):
        from wagtail.models import Site

        from cms.models import HomePage

        assert Site.objects.get().root_page.specific == HomePage.objects.get()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"slug": "North Field"}, "slug 'north field' must be 2-40 characters"),
        ({"slug": "9lives"}, "must be 2-40 characters"),
        ({"slug": "a--b"}, "must be 2-40 characters"),
        ({"slug": "public"}, "slug 'public' is reserved"),
        ({"slug": "spare-x"}, "slug 'spare-x' is reserved"),
        ({"name": "  "}, "name is required"),
        ({"kind": "school"}, "kind 'school' must be one of university, company, publisher"),
        ({"kind": "platform"}, "kind 'platform' must be one of"),
        ({"admin_email": "not-an-email"}, "admin email 'not-an-email' is not a valid address"),
        ({"domain": "bad_domain!.test"}, "domain 'bad_domain!.test' is not a valid host name"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_changes_nothing(overrides, message):
    before = registry_snapshot()
    with pytest.raises(ProvisioningError, match=message.replace("(", r"\(")):
        provision(**overrides)
    assert registry_snapshot() == before


@pytest.mark.django_db
def test_provisioning_twice_is_refused_and_changes_nothing():
    provision()
    before = registry_snapshot()
    with pytest.raises(ProvisioningError, match="Tenant 'northfield' already exists."):
        provision()
    with pytest.raises(ProvisioningError, match="Domain 'northfield.localhost' is already in use."):
        provision(slug="other", domain="northfield.localhost")
    assert registry_snapshot() == before


@pytest.mark.django_db
def test_an_orphan_schema_with_the_same_name_is_reported():
    schemas.clone_schema(services.template_tenant().schema_name, "northfield")
    with pytest.raises(
        ProvisioningError, match="A schema named 'northfield' exists without a tenant"
    ):
        provision()


@pytest.mark.parametrize("source", [SchemaSource.POOL, SchemaSource.CLONE, SchemaSource.MIGRATE])
def test_a_failure_midway_leaves_no_tenant_no_schema_and_the_pool_intact(
    committed_db, monkeypatch, source
):
    before = registry_snapshot()
    spares = spare_names()

    def explode(email):
        raise RuntimeError("mail server on fire")

    monkeypatch.setattr(services, "_create_first_admin", explode)
    with pytest.raises(RuntimeError, match="mail server on fire"):
        provision(source=source)

    connection.set_schema_to_public()
    assert registry_snapshot() == before
    assert not schemas.schema_exists("northfield")
    assert spare_names() == spares
    assert all(schemas.schema_exists(name) for name in spares)


QUILL = ["--slug=quill", "--name=Quill Press", "--kind=publisher", "--admin-email=admin@quill.test"]


@pytest.mark.django_db
def test_the_command_provisions_and_refuses_a_second_run_clearly(capsys):
    call_command("provision_tenant", *QUILL)
    out = capsys.readouterr().out
    assert "Created Quill Press at quill.localhost (pool)." in out
    assert "http://quill.localhost:8000/cms/password_reset/confirm/" in out

    with pytest.raises(CommandError, match="Tenant 'quill' already exists."):
        call_command("provision_tenant", *QUILL)
    assert Tenant.objects.filter(slug="quill").count() == 1


@pytest.mark.django_db
def test_setup_tenancy_is_idempotent():
    before = registry_snapshot()
    report = services.setup_tenancy(platform_domains=["localhost", "testserver"], verbosity=0)
    assert (report.template_created, report.template_changed, report.spares_made) == (
        False,
        False,
        0,
    )
    assert registry_snapshot() == before
