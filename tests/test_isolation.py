"""Tenant B can neither see nor change tenant A's data: by host, session, id, file or cache."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import ProgrammingError, connection, transaction
from django.test import Client
from django_tenants.utils import get_public_schema_name, schema_context

from tenants import schemas
from tenants.models import Domain, Tenant

pytestmark = pytest.mark.django_db


def add_page(portal, title: str):
    from wagtail.models import Site

    from cms.models import ContentPage

    with portal.activate():
        home = Site.objects.get(is_default_site=True).root_page.specific
        page = home.add_child(
            instance=ContentPage(title=title, show_in_menus=True, body=[("heading", title)])
        )
        page.save_revision().publish()
        return page.pk, page.url_path


def test_each_host_serves_its_own_page_tree(two_portals):
    a, b = two_portals
    add_page(a, "Alpha secret syllabus")

    a_home, b_home = a.client.get("/"), b.client.get("/")
    assert b">Alpha University</h1>" in a_home.content
    assert b"Alpha secret syllabus" in a_home.content
    assert b">Beta Corp</h1>" in b_home.content
    assert b"Alpha" not in b_home.content

    assert a.client.get("/alpha-secret-syllabus/").status_code == 200
    response = b.client.get("/alpha-secret-syllabus/")
    assert response.status_code == 404
    assert b"Alpha" not in response.content


def test_a_page_id_of_tenant_a_means_nothing_in_tenant_bs_admin(two_portals):
    a, b = two_portals
    page_id, _ = add_page(a, "Alpha only")
    with b.activate():
        from wagtail.models import Page

        assert not Page.objects.filter(pk=page_id).exists()
    b.login_admin()

    edit = b.client.get(f"/cms/pages/{page_id}/edit/")
    assert edit.status_code == 404
    delete = b.client.post(f"/cms/pages/{page_id}/delete/")
    assert delete.status_code == 404
    with a.activate():
        from wagtail.models import Page

        assert Page.objects.get(pk=page_id).title == "Alpha only"

    a.login_admin()
    assert a.client.get(f"/cms/pages/{page_id}/edit/").status_code == 200


def test_users_of_a_cannot_sign_in_on_b(two_portals):
    a, b = two_portals
    with b.activate():
        assert not get_user_model().objects.filter(email=a.admin_email).exists()
    response = b.client.post(
        "/accounts/login/", {"login": a.admin_email, "password": "correct horse battery staple"}
    )
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated
    connection.set_schema_to_public()
    assert b.client.get("/cms/").status_code == 302


def test_a_session_cookie_from_a_is_anonymous_on_b(two_portals):
    a, b = two_portals
    a.login_admin()
    session_key = a.client.cookies[settings.SESSION_COOKIE_NAME].value
    assert a.client.get("/cms/").status_code == 200

    thief = Client(HTTP_HOST=b.domain)
    thief.cookies[settings.SESSION_COOKIE_NAME] = session_key
    response = thief.get("/cms/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    connection.set_schema_to_public()
    with a.activate():
        assert Session.objects.filter(session_key=session_key).exists()
    with b.activate():
        assert not Session.objects.filter(session_key=session_key).exists()


def test_users_and_sessions_live_in_the_tenant_schema_not_public(two_portals):
    a, _ = two_portals
    a.login_admin()
    with schema_context(get_public_schema_name()):
        assert not get_user_model().objects.filter(email=a.admin_email).exists()
        assert Session.objects.count() == 0


def test_the_same_file_name_lands_in_different_places_and_serves_only_on_its_host(two_portals):
    a, b = two_portals
    with a.activate():
        name_a = default_storage.save("reports/result.png", ContentFile(b"alpha-bytes"))
        path_a = default_storage.path(name_a)
        url_a = default_storage.url(name_a)
    with b.activate():
        name_b = default_storage.save("reports/result.png", ContentFile(b"beta-bytes"))
        path_b = default_storage.path(name_b)
        only_b = default_storage.save("reports/beta-only.pdf", ContentFile(b"%PDF beta"))

    assert name_a == name_b == "reports/result.png"
    assert path_a != path_b
    assert f"/{a.schema}/" in path_a and f"/{b.schema}/" in path_b
    assert url_a == "/media/reports/result.png"

    assert b"".join(a.client.get(url_a).streaming_content) == b"alpha-bytes"
    assert b"".join(b.client.get(url_a).streaming_content) == b"beta-bytes"
    assert a.client.get(f"/media/{only_b}").status_code == 404
    for probe in (
        f"/media/../{b.schema}/{only_b}",
        f"/media/%2e%2e/{b.schema}/{only_b}",
        f"/media/{path_b}",
    ):
        assert a.client.get(probe).status_code == 404, probe


def test_uploaded_non_images_are_downloads_with_a_strict_policy(two_portals):
    a, _ = two_portals
    with a.activate():
        name = default_storage.save("x.svg", ContentFile(b"<svg onload='alert(1)'/>"))
    response = a.client.get(f"/media/{name}")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_cache_entries_are_per_tenant(two_portals):
    a, b = two_portals
    with a.activate():
        cache.set("exam:1:draft", "alpha answer")
    with b.activate():
        assert cache.get("exam:1:draft") is None
        cache.set("exam:1:draft", "beta answer")
    with a.activate():
        assert cache.get("exam:1:draft") == "alpha answer"
        cache.delete("exam:1:draft")
    with b.activate():
        assert cache.get("exam:1:draft") == "beta answer"


def test_wagtail_site_caches_do_not_cross_tenants(two_portals):
    a, b = two_portals
    # Fill Wagtail's cached site root paths on A, then ask B: B must answer from its own tree.
    assert a.client.get("/").status_code == 200
    add_page(b, "Beta careers")
    assert b.client.get("/beta-careers/").status_code == 200
    assert a.client.get("/beta-careers/").status_code == 404


def test_unknown_hosts_get_404_and_nothing_of_the_platform(two_portals):
    response = Client(HTTP_HOST="gamma.localhost").get("/")
    assert response.status_code == 404
    assert b"Viva" not in response.content and b"Alpha" not in response.content
    assert Client(HTTP_HOST="evil.example").get("/").status_code == 404


def test_template_and_spare_schemas_are_never_served(two_portals):
    a, _ = two_portals
    template = Tenant.objects.get(status=Tenant.Status.TEMPLATE)
    spare = Tenant.objects.filter(status=Tenant.Status.SPARE).first() or template
    Domain.objects.create(domain="template.localhost", tenant=template, is_primary=False)
    Domain.objects.create(domain="spare.localhost", tenant=spare, is_primary=False)
    assert Client(HTTP_HOST="template.localhost").get("/").status_code == 404
    assert Client(HTTP_HOST="spare.localhost").get("/healthz").status_code == 404


def test_a_suspended_portal_serves_nothing(two_portals):
    a, _ = two_portals
    Tenant.objects.filter(pk=a.tenant.pk).update(status=Tenant.Status.SUSPENDED)
    response = a.client.get("/")
    assert response.status_code == 503
    assert b"suspended" in response.content and b"Alpha" not in response.content


def test_every_tenant_table_exists_in_the_tenant_schema_so_nothing_falls_back_to_public(
    two_portals,
):
    """With search_path "tenant, public", a table missing from the tenant schema would be read
    from public. Every model of a tenant app must therefore have its own table in the schema."""
    a, _ = two_portals
    tenant_labels = {
        config.label for config in apps.get_app_configs() if config.name in settings.TENANT_APPS
    }
    expected = {
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in tenant_labels and model._meta.managed
    }
    missing = expected - schemas.tables_in_schema(a.schema)
    assert expected and not missing, missing
    # And a tenant-only table is absent from public: a query there raises, never reads.
    from wagtail.models import Page

    with (
        schema_context(get_public_schema_name()),
        pytest.raises(ProgrammingError),
        transaction.atomic(),
    ):
        Page.objects.count()
