"""The three demo portals that `make run` serves (development only)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django_tenants.utils import schema_context

from tenants import services
from tenants.models import Tenant

DEMO_PASSWORD = "viva-demo"  # noqa: S105 - documented demo login, refused outside development


@dataclass(frozen=True)
class DemoUser:
    email: str
    role: str  # "admin", "teacher" or "student"


@dataclass(frozen=True)
class DemoPortal:
    slug: str
    name: str
    kind: str
    intro: str
    sections: dict[str, str]
    users: list[DemoUser] = field(default_factory=list)


DEMO_PORTALS = [
    DemoPortal(
        slug="uni",
        name="Northfield University",
        kind=Tenant.Kind.UNIVERSITY,
        intro="Exams, mock tests and study guides for Northfield students and staff.",
        sections={
            "Exam regulations": "Bring your student card. Exams open fifteen minutes early.",
            "Study support": "Mock tests are open all term; your results stay private.",
        },
        users=[
            DemoUser("admin@uni.test", "admin"),
            DemoUser("teacher@uni.test", "teacher"),
            DemoUser("student@uni.test", "student"),
        ],
    ),
    DemoPortal(
        slug="acme",
        name="Acme Corp",
        kind=Tenant.Kind.COMPANY,
        intro="Candidate assessments, interview practice and hiring panels at Acme.",
        sections={
            "Our hiring process": "An online assessment, then a panel interview.",
            "Interview practice": "Rehearse with AI mock interviews and STAR feedback.",
        },
        users=[DemoUser("admin@acme.test", "admin")],
    ),
    DemoPortal(
        slug="press",
        name="Quill Press",
        kind=Tenant.Kind.PUBLISHER,
        intro="Exam and interview templates written by Quill Press authors.",
        sections={
            "Catalogue": "Certification practice exams across twelve subjects.",
            "For authors": "Publish your templates to the Viva marketplace.",
        },
        users=[DemoUser("admin@press.test", "admin")],
    ),
]


def seed_demo() -> list[str]:
    """Create the demo portals, their users and pages if missing. Returns what was created."""
    if not getattr(settings, "VIVA_DEMO_SEED_ALLOWED", False):
        raise RuntimeError("Demo data is only created in development settings.")
    created: list[str] = []
    for portal in DEMO_PORTALS:
        if not Tenant.objects.filter(slug=portal.slug).exists():
            services.provision_tenant(
                slug=portal.slug,
                name=portal.name,
                kind=portal.kind,
                admin_email=portal.users[0].email,
                refill_pool=False,
            )
            created.append(f"tenant {portal.slug}")
        with transaction.atomic(), schema_context(services.schema_name_for(portal.slug)):
            created += _seed_users(portal)
            created += _seed_pages(portal)
    return created


def _seed_users(portal: DemoPortal) -> list[str]:
    User = get_user_model()
    created = []
    for demo in portal.users:
        user, made = User.objects.get_or_create(
            email=demo.email,
            defaults={
                "is_staff": demo.role in {"admin", "teacher"},
                "is_superuser": demo.role == "admin",
            },
        )
        if made or not user.has_usable_password():
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        if demo.role == "teacher":
            user.groups.add(Group.objects.get(name="Editors"))
        if made:
            created.append(f"user {demo.email}")
    return created


def _seed_pages(portal: DemoPortal) -> list[str]:
    from wagtail.models import Site

    from cms.models import ContentPage

    home = Site.objects.get(is_default_site=True).root_page.specific
    created = []
    if home.intro != f"<p>{portal.intro}</p>":
        home.intro = f"<p>{portal.intro}</p>"
        home.save_revision().publish()
    for title, text in portal.sections.items():
        if not ContentPage.objects.child_of(home).filter(title=title).exists():
            page = ContentPage(
                title=title,
                body=[("paragraph", f"<p>{text}</p>")],
            )
            home.add_child(instance=page)
            created.append(f"page {portal.slug}:{title}")
    return created
