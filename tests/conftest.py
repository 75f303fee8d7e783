"""Fixtures shared by every test: a migrated template and spare pool, tenants, host clients.

Tests run inside a transaction that is rolled back, and PostgreSQL DDL is transactional: a
tenant provisioned in a test (schema renamed from a spare, rows, files aside) disappears with
the rollback and its spare is back in the pool for the next test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants import services
from tenants.models import Tenant

PASSWORD = "correct horse battery staple"

# pytest-playwright keeps an asyncio loop running in the main thread for the rest of the session
# once a browser test has run; the ORM calls of later tests in the same worker are ordinary
# synchronous ones, so Django's async-safety guard is relaxed for the test process only (the
# `check --deploy` test removes it again for its subprocess).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """After pytest-django made the test database: the template schema and the spare pool."""
    with django_db_blocker.unblock():
        services.setup_tenancy(platform_domains=["localhost", "testserver"], verbosity=0)
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        # Threads of a live server or a stopped Celery worker may still hold a connection;
        # end them so the test database can be dropped.
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def _fresh_cache():
    """With Redis the cache outlives each test's rolled-back transaction: rate-limit counters
    and cached pages of the last test's "alpha" must not leak into the next one. Each xdist
    worker has its own Redis database, so this clears only its own."""
    from django.core.cache import cache

    if settings.REDIS_URL:
        cache.clear()
    yield


@pytest.fixture(autouse=True)
def _public_schema_between_tests():
    connection.set_schema_to_public()
    yield
    connection.set_schema_to_public()


@pytest.fixture(autouse=True, scope="session")
def _clean_media_root():
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)
    yield
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)


@dataclass
class Portal:
    """A provisioned tenant with a client bound to its host and a signed-in-ready admin."""

    tenant: Tenant
    domain: str
    admin_email: str
    client: Client
    audit_baseline: int = 0  # last audit entry written by provisioning (the admin's role)

    @property
    def schema(self) -> str:
        return self.tenant.schema_name

    def activate(self):
        return schema_context(self.schema)

    def login_admin(self, client: Client | None = None) -> Client:
        return sign_in(client or self.client, self.admin_email)


def sign_in(client: Client, email: str, password: str = PASSWORD) -> Client:
    """Sign in through allauth's form (the only sign-in form) and check it worked."""
    response = client.post("/accounts/login/", {"login": email, "password": password})
    assert response.status_code == 302, response.content[:2000]
    assert response.wsgi_request.user.is_authenticated, "sign-in did not authenticate"
    connection.set_schema_to_public()
    return client


def attempt_sign_in(client: Client, email: str, password: str):
    """A sign-in attempt that may fail; returns the response."""
    response = client.post("/accounts/login/", {"login": email, "password": password})
    connection.set_schema_to_public()
    return response


def provision_portal(
    slug: str, name: str | None = None, kind: str = "university", **kwargs
) -> Portal:
    """Provision a tenant whose admin has the password ``PASSWORD``."""
    from django.contrib.auth import get_user_model

    result = services.provision_tenant(
        slug=slug, name=name or slug.title(), kind=kind, admin_email=f"admin@{slug}.test", **kwargs
    )
    from tenants.audit.models import AuditEvent

    with schema_context(result.tenant.schema_name):
        admin = get_user_model().objects.get(email=result.admin_email)
        admin.set_password(PASSWORD)
        admin.save()
        baseline = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return Portal(
        tenant=result.tenant,
        domain=result.domain,
        admin_email=result.admin_email,
        client=Client(HTTP_HOST=result.domain),
        audit_baseline=baseline,
    )


@pytest.fixture
def make_portal(db) -> Callable[..., Portal]:
    return provision_portal


@pytest.fixture
def two_portals(make_portal) -> Iterator[tuple[Portal, Portal]]:
    """Tenant A (alpha) and tenant B (beta), each with its own host-bound client."""
    yield make_portal("alpha", "Alpha University"), make_portal("beta", "Beta Corp", "company")


@pytest.fixture
def committed_db(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Database access with real commits, for what cannot run inside a test transaction
    (migration replay, a live server, a Celery worker). Tenants made here are dropped after
    and the spare pool is refilled."""
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        before = set(Tenant.objects.values_list("schema_name", flat=True))
        started = timezone.now()
        try:
            yield
        finally:
            connection.set_schema_to_public()
            made = Tenant.objects.exclude(schema_name__in=before)
            _forget_marketplace_rows(tenants=made)
            for tenant in made:
                services.drop_tenant(tenant)
            services.refill_spare_pool()
            _forget_local_stripe_state(since=started)


def _forget_marketplace_rows(*, tenants) -> None:
    """Marketplace rows name their tenants and listings with PROTECT (a sold listing must not
    vanish under its buyers): remove those of ``tenants`` before the tenants are dropped.
    Listing versions refuse ``delete()`` by design, so they go by a queryset delete."""
    from django.db.models import Q, QuerySet

    from marketplace.models import (
        Installation,
        Licence,
        Listing,
        ListingVersion,
        PublisherAccount,
        Purchase,
    )

    listings = Listing.objects.filter(publisher__in=tenants)
    Purchase.objects.filter(Q(listing__in=listings) | Q(buyer__in=tenants)).delete()
    Installation.objects.filter(listing__in=listings).delete()
    Licence.objects.filter(listing__in=listings).delete()
    QuerySet.delete(ListingVersion.objects.filter(listing__in=listings))
    listings.delete()
    PublisherAccount.objects.filter(publisher__in=tenants).delete()


def _forget_local_stripe_state(*, since) -> None:
    """Drop what the local Stripe double stored for committed tests (customers, sessions,
    subscriptions, events, idempotency keys) and the webhook events the app received, so a
    portal provisioned again under the same slug is a new customer. Products, prices and
    meters stay: the plans point at them."""
    from billing.models import StripeEvent
    from billing.stripe_double.models import DoubleIdempotencyKey, DoubleObject

    DoubleObject.objects.filter(created__gte=since).exclude(
        object__in=("product", "price", "billing.meter")
    ).delete()
    DoubleIdempotencyKey.objects.filter(created__gte=since).delete()
    StripeEvent.objects.filter(received_at__gte=since).delete()


@pytest.fixture
def make_committed_portal(committed_db) -> Callable[..., Portal]:
    """Like make_portal, but committed, so other processes and threads can see the tenant."""
    return provision_portal


def put_on_plan(portal: Portal, plan: str = "pro", *, seats: int = 50, status: str = "active"):
    """Subscribe ``portal`` to ``plan`` (a billing row without Stripe), for tests that need
    more than the Free plan allows: more than 3 exams, single sign-on, API access..."""
    from billing.models import Plan, Subscription

    subscription, _ = Subscription.objects.update_or_create(
        tenant=portal.tenant,
        defaults={"plan": Plan.objects.get(code=plan), "status": status, "seats": seats},
    )
    return subscription


def make_member(portal: Portal, email: str, *, role: str | None = None, password: str = PASSWORD):
    """A user of ``portal`` with a verified email (so they can sign in) and an optional role."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    from tenants.access.permissions import assign_role

    with portal.activate():
        user = get_user_model().objects.create_user(email=email, password=password)
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        if role:
            assign_role(user=user, role=role)
    return user
