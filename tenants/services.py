"""Writes that create and look after tenants: provisioning, the template schema, the spare pool.

A new portal is made by renaming a pre-cloned spare schema (milliseconds), falling back to
cloning the migrated template schema, and only for comparison by replaying every migration.
All of it runs in one transaction: if any step fails, no tenant row, domain, schema or user is
left behind and the spare goes back to the pool.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.validators import validate_email
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tenants.utils import get_public_schema_name, schema_context

from config.database import ensure_database_exists
from tenants import schemas
from tenants.models import Domain, Tenant

logger = logging.getLogger(__name__)

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$")
HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
RESERVED_SLUGS = frozenset(
    {
        "public",
        "www",
        "admin",
        "api",
        "static",
        "media",
        "cms",
        "template",
        "spare",
        "viva",
        "platform",
        "information-schema",
        "postgres",
        "localhost",
    }
)
PORTAL_KINDS = (Tenant.Kind.UNIVERSITY, Tenant.Kind.COMPANY, Tenant.Kind.PUBLISHER)


class ProvisioningError(Exception):
    """Provisioning was refused or failed; nothing was created. The message says why."""


class SchemaSource(StrEnum):
    POOL = "pool"  # rename a pre-cloned spare; clone when the pool is empty
    CLONE = "clone"  # clone the template schema now
    MIGRATE = "migrate"  # replay every migration (the slow baseline, kept for benchmarks)


@dataclass(frozen=True)
class ProvisionedTenant:
    tenant: Tenant
    domain: str
    admin_email: str
    set_password_url: str
    source: SchemaSource


def schema_name_for(slug: str) -> str:
    return slug.replace("-", "_")


def portal_url(host: str, path: str = "/") -> str:
    """The absolute URL of ``path`` on a portal host, per ``VIVA_PORTAL_URL``."""
    return settings.VIVA_PORTAL_URL.format(host=host).rstrip("/") + path


def provision_tenant(
    *,
    slug: str,
    name: str,
    kind: str,
    admin_email: str,
    domain: str | None = None,
    source: SchemaSource = SchemaSource.POOL,
    refill_pool: bool = True,
) -> ProvisionedTenant:
    """Create a tenant with its schema, Wagtail site and home page, domain and first admin.

    The admin gets an unusable password and a one-time link to set one (sent by email after
    commit), so no password ever travels through the command line.
    """
    slug = (slug or "").strip().lower()
    domain = (domain or f"{slug}.{settings.VIVA_PORTAL_DOMAIN_SUFFIX}").strip().lower()
    admin_email = (admin_email or "").strip().lower()
    name = (name or "").strip()
    _validate_request(slug=slug, name=name, kind=kind, admin_email=admin_email, domain=domain)
    schema_name = schema_name_for(slug)

    if source is SchemaSource.MIGRATE:
        # Migrations cannot replay inside the surrounding transaction (some alter tables they
        # have just written to), so this baseline builds the schema first and drops it on error.
        schemas.create_schema_by_migration(schema_name)
    try:
        with transaction.atomic():
            tenant, used = _take_schema(
                schema_name=schema_name, slug=slug, name=name, kind=kind, source=source
            )
            Domain.objects.create(domain=domain, tenant=tenant, is_primary=True)
            with schema_context(schema_name):
                if used is SchemaSource.MIGRATE:
                    prepare_schema_baseline()
                _personalise_site(name=name, domain=domain)
                admin = _create_first_admin(admin_email)
                set_password_url = portal_url(domain, _set_password_path(admin))
            transaction.on_commit(
                lambda: _send_welcome(
                    schema_name=schema_name,
                    tenant_name=name,
                    email=admin_email,
                    url=set_password_url,
                )
            )
            if refill_pool and used is SchemaSource.POOL:
                transaction.on_commit(_enqueue_pool_refill)
    except BaseException as exc:
        connection.set_schema_to_public()
        if source is SchemaSource.MIGRATE:
            schemas.drop_schema(schema_name)
        if isinstance(exc, IntegrityError):
            # Two runs raced for the same slug or domain: the loser changes nothing.
            raise ProvisioningError(
                f"Tenant '{slug}' or domain '{domain}' already exists."
            ) from exc
        raise
    connection.set_schema_to_public()

    logger.info("provisioned tenant %s (%s) from %s", slug, domain, used)
    return ProvisionedTenant(
        tenant=tenant,
        domain=domain,
        admin_email=admin_email,
        set_password_url=set_password_url,
        source=used,
    )


def _validate_request(*, slug: str, name: str, kind: str, admin_email: str, domain: str) -> None:
    problems = []
    if not SLUG_RE.match(slug) or "--" in slug:
        problems.append(
            f"slug '{slug}' must be 2-40 characters of a-z, 0-9 and single hyphens, "
            "starting with a letter"
        )
    elif slug in RESERVED_SLUGS or slug.startswith(("pg-", "spare", "viva-")):
        problems.append(f"slug '{slug}' is reserved")
    if not name:
        problems.append("name is required")
    elif len(name) > 200:
        problems.append("name must be at most 200 characters")
    if kind not in PORTAL_KINDS:
        problems.append(f"kind '{kind}' must be one of {', '.join(PORTAL_KINDS)}")
    try:
        validate_email(admin_email)
    except ValidationError:
        problems.append(f"admin email '{admin_email}' is not a valid address")
    if not HOSTNAME_RE.match(domain):
        problems.append(f"domain '{domain}' is not a valid host name")
    if problems:
        raise ProvisioningError("; ".join(problems) + ".")

    schema_name = schema_name_for(slug)
    if (
        Tenant.objects.filter(slug=slug).exists()
        or Tenant.objects.filter(schema_name__iexact=schema_name).exists()
    ):
        raise ProvisioningError(f"Tenant '{slug}' already exists.")
    if Domain.objects.filter(domain=domain).exists():
        raise ProvisioningError(f"Domain '{domain}' is already in use.")
    if schemas.schema_exists(schema_name):
        raise ProvisioningError(
            f"A schema named '{schema_name}' exists without a tenant; "
            "remove it or choose another slug."
        )


def _take_schema(
    *, schema_name: str, slug: str, name: str, kind: str, source: SchemaSource
) -> tuple[Tenant, SchemaSource]:
    """Give the new tenant a migrated schema named ``schema_name``; return how it was made."""
    if source is SchemaSource.POOL:
        spare = (
            Tenant.objects.select_for_update(skip_locked=True)
            .filter(status=Tenant.Status.SPARE)
            .order_by("id")
            .first()
        )
        if spare is not None:
            schemas.rename_schema(spare.schema_name, schema_name)
            spare.schema_name = schema_name
            spare.slug, spare.name, spare.kind = slug, name, kind
            spare.status = Tenant.Status.ACTIVE
            spare.save()
            return spare, SchemaSource.POOL
        logger.warning("spare pool is empty; cloning the template for %s", slug)
        source = SchemaSource.CLONE

    tenant = Tenant(
        schema_name=schema_name, slug=slug, name=name, kind=kind, status=Tenant.Status.ACTIVE
    )
    tenant.save()
    if source is SchemaSource.CLONE:
        schemas.clone_schema(template_tenant().schema_name, schema_name)
    return tenant, source


def _personalise_site(*, name: str, domain: str) -> None:
    from wagtail.models import Site

    site = Site.objects.select_related("root_page").get(is_default_site=True)
    Site.objects.filter(pk=site.pk).update(hostname=domain, port=80, site_name=name)
    home = site.root_page.specific
    home.title = home.draft_title = name
    home.save(update_fields=["title", "draft_title"], clean=False)


def _create_first_admin(email: str):
    from allauth.account.models import EmailAddress

    from tenants.access.permissions import assign_role

    admin = get_user_model().objects.create_superuser(email=email, password=None)
    assign_role(user=admin, role="admin")
    # The platform operator vouches for this address; the set-password link goes to it.
    EmailAddress.objects.create(user=admin, email=email, primary=True, verified=True)
    return admin


def _set_password_path(user) -> str:
    return reverse(
        "wagtailadmin_password_reset_confirm",
        urlconf=settings.ROOT_URLCONF,
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )


def _send_welcome(*, schema_name: str, tenant_name: str, email: str, url: str) -> None:
    from themes.email import send_branded_mail

    with schema_context(schema_name):
        send_branded_mail(
            subject=f"Your {tenant_name} portal on Viva is ready",
            portal_name=tenant_name,
            paragraphs=[
                f"Your portal {tenant_name} has been created and you are its administrator.",
                "Choose your password with the link below. It works once.",
            ],
            action_url=url,
            action_label="Choose your password",
            to=[email],
        )


def _enqueue_pool_refill() -> None:
    from tenants.tasks import refill_spare_pool

    with schema_context(get_public_schema_name()):
        refill_spare_pool.delay()


# --- Template schema and spare pool ----------------------------------------------------------


def template_tenant() -> Tenant:
    return Tenant.objects.get(status=Tenant.Status.TEMPLATE)


def ensure_public_tenant(*, domains: list[str]) -> Tenant:
    """The platform's own row for the public schema, with the hosts that serve the platform."""
    public, _ = Tenant.objects.get_or_create(
        schema_name=get_public_schema_name(),
        defaults={
            "slug": "public",
            "name": "Viva platform",
            "kind": Tenant.Kind.PLATFORM,
            "status": Tenant.Status.ACTIVE,
        },
    )
    for index, host in enumerate(domains):
        Domain.objects.get_or_create(
            domain=host, defaults={"tenant": public, "is_primary": index == 0}
        )
    return public


def ensure_template_schema() -> tuple[Tenant, bool]:
    """Create the template schema by migration if missing. Returns (template, created)."""
    name = settings.VIVA_TEMPLATE_SCHEMA
    existing = Tenant.objects.filter(status=Tenant.Status.TEMPLATE).first()
    if existing is not None and schemas.schema_exists(existing.schema_name):
        return existing, False
    if existing is None:
        existing = Tenant.objects.create(
            schema_name=name, slug=name, name="Template", status=Tenant.Status.TEMPLATE
        )
    try:
        schemas.create_schema_by_migration(existing.schema_name)
    except BaseException:
        # Migrations commit one by one: never leave a half-migrated template behind.
        connection.set_schema_to_public()
        schemas.drop_schema(existing.schema_name)
        raise
    return existing, True


STARTER_FAQ = [
    (
        "How do I sign in?",
        "<p>Use the email address your institution registered for you.</p>",
    ),
    (
        "What happens if my connection drops during an exam?",
        "<p>Keep answering: answers are saved on your device and sent as soon as the "
        "connection returns.</p>",
    ),
    (
        "Who can see my results?",
        "<p>You, and the staff of this portal who mark or proctor your exams.</p>",
    ),
]


def prepare_schema_baseline() -> bool:
    """Give the current tenant schema the site every new portal starts with: a home page with
    an exam catalogue and a help page under it, served by the default Wagtail site.

    Idempotent. Returns True if anything changed (spares cloned earlier are then outdated).
    """
    from wagtail.models import Page, Site

    from cms.models import ExamCataloguePage, FAQPage, HomePage

    changed = False
    root = Page.get_first_root_node()
    home = HomePage.objects.filter(depth=2).first()
    if home is None:
        for page in root.get_children():
            if not isinstance(page.specific, HomePage):
                page.delete()
        root.refresh_from_db()
        home = root.add_child(
            instance=HomePage(
                title="Home",
                slug="home",
                intro="<p>Exams, mock tests and practice in one place.</p>",
            )
        )
        changed = True
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(hostname="localhost", port=80, root_page=home, is_default_site=True)
        changed = True
    elif site.root_page_id != home.pk:
        site.root_page = home
        site.save()
        changed = True
    if not ExamCataloguePage.objects.child_of(home).exists():
        catalogue = home.add_child(
            instance=ExamCataloguePage(
                title="Exams",
                slug="exams",
                show_in_menus=True,
                intro="<p>The exams and mock tests open to you.</p>",
            )
        )
        home.refresh_from_db()
        home.hero_cta_label, home.hero_cta_page = "See your exams", catalogue
        home.save()
        changed = True
    from tenants.access.roles import ensure_roles

    changed = ensure_roles() or changed
    if not FAQPage.objects.child_of(home).exists():
        home.add_child(
            instance=FAQPage(
                title="Help",
                slug="help",
                show_in_menus=True,
                questions=[
                    ("item", {"question": question, "answer": answer})
                    for question, answer in STARTER_FAQ
                ],
            )
        )
        changed = True
    return changed


def refill_spare_pool(*, size: int | None = None) -> int:
    """Clone the template until ``size`` spares wait in the pool. Returns how many were made.

    Several workers may call this at once; an advisory lock makes the others return at once.
    """
    size = settings.VIVA_SPARE_POOL_SIZE if size is None else size
    made = 0
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext('viva.spare_pool'))")
            if not cursor.fetchone()[0]:
                return 0
        template = template_tenant()
        missing = size - Tenant.objects.filter(status=Tenant.Status.SPARE).count()
        for _ in range(max(missing, 0)):
            spare_name = f"spare_{secrets.token_hex(6)}"
            Tenant.objects.create(
                schema_name=spare_name, slug=spare_name, status=Tenant.Status.SPARE
            )
            schemas.clone_schema(template.schema_name, spare_name)
            made += 1
    connection.set_schema_to_public()
    return made


def discard_spares() -> int:
    """Drop every spare schema (after the template changed, they are out of date)."""
    dropped = 0
    with transaction.atomic():
        for spare in Tenant.objects.select_for_update().filter(status=Tenant.Status.SPARE):
            schemas.drop_schema(spare.schema_name)
            spare.delete()
            dropped += 1
    return dropped


@dataclass(frozen=True)
class TenancyReport:
    template_created: bool
    template_changed: bool
    spares_discarded: int
    spares_made: int


def setup_tenancy(
    *, platform_domains: list[str], pool_size: int | None = None, verbosity: int = 1
) -> TenancyReport:
    """Bring a database to a serving state; safe to run any number of times.

    Migrates public, creates the template if missing, migrates every tenant schema (so the
    template is never staler than the tenants), refreshes the template's baseline content and
    refills the spare pool.
    """
    ensure_database_exists(settings.DATABASES["default"])
    if not _all_schemas_current(tenants=False):
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
    ensure_public_tenant(domains=platform_domains)
    template, created = ensure_template_schema()
    if not _all_schemas_current(tenants=True):
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=verbosity)
    connection.set_schema_to_public()
    with transaction.atomic(), schema_context(template.schema_name):
        changed = prepare_schema_baseline()
    discarded = discard_spares() if changed and not created else 0
    made = refill_spare_pool(size=pool_size)
    return TenancyReport(
        template_created=created,
        template_changed=changed,
        spares_discarded=discarded,
        spares_made=made,
    )


def _all_schemas_current(*, tenants: bool) -> bool:
    """True when no schema of the kind asked for has a migration pending (a cheap pre-check
    that lets a second `make run` skip the migration commands)."""
    from tenants.selectors import migration_state

    public = get_public_schema_name()
    try:
        if not tenants:
            with schema_context(public):
                return migration_state().current
        names = Tenant.objects.exclude(schema_name=public).values_list("schema_name", flat=True)
        for name in names:
            with schema_context(name):
                if not migration_state().current:
                    return False
        return True
    except DatabaseError:  # e.g. a fresh database without django_migrations yet
        return False
    finally:
        connection.set_schema_to_public()


def drop_tenant(tenant: Tenant) -> None:
    """Delete a tenant's row, domains and schema (used for teardown and by operators)."""
    if tenant.schema_name == get_public_schema_name():
        raise ProvisioningError("The public schema cannot be dropped.")
    with transaction.atomic():
        schemas.drop_schema(tenant.schema_name)
        tenant.delete()
