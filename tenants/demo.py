"""The three demo portals that `make run` serves (development only).

Each gets its own theme, logo, pages and users, so the portals look and read differently.
Everything here is idempotent: a second run creates nothing that exists.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.images import ImageFile
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
    theme: dict[str, str]
    initials: str
    pages: list[tuple[str, dict[str, Any]]]
    users: list[DemoUser] = field(default_factory=list)


def _body(*paragraphs: str) -> list[tuple[str, str]]:
    return [("paragraph", f"<p>{text}</p>") for text in paragraphs]


DEMO_PORTALS = [
    DemoPortal(
        slug="uni",
        name="Northfield University",
        kind=Tenant.Kind.UNIVERSITY,
        intro="Exams, mock tests and study guides for Northfield students and staff.",
        theme={
            "primary_color": "#1f4e79",
            "accent_color": "#a4262c",
            "font": "serif",
            "mode": "light",
            "corner_radius": "small",
            "density": "comfortable",
        },
        initials="NU",
        pages=[
            (
                "content",
                {
                    "title": "Exam regulations",
                    "body": _body(
                        "Bring your student card. Online exams open fifteen minutes early.",
                        "Extra time agreed with Student Support is applied automatically.",
                    ),
                },
            ),
            (
                "guide",
                {
                    "title": "Calculus I revision",
                    "subject": "Mathematics",
                    "reading_minutes": 25,
                    "body": _body(
                        "Limits, derivatives and the fundamental theorem, with worked "
                        "examples from past papers."
                    ),
                },
            ),
            (
                "news",
                {
                    "title": "Winter exam timetable published",
                    "date": "2026-11-20",
                    "summary": "All January sittings are now in your exam catalogue.",
                },
            ),
            (
                "news",
                {
                    "title": "New mock tests for first-years",
                    "date": "2026-11-02",
                    "summary": "Practice papers for every core module, open all term.",
                },
            ),
        ],
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
        theme={
            "primary_color": "#0b5d4f",
            "accent_color": "#9a4d00",
            "font": "inter",
            "mode": "dark",
            "corner_radius": "large",
            "density": "compact",
        },
        initials="AC",
        pages=[
            (
                "content",
                {
                    "title": "Our hiring process",
                    "body": _body(
                        "An online assessment, then a panel interview with the team you would join."
                    ),
                },
            ),
            (
                "practice",
                {
                    "title": "Interview practice",
                    "topics": [
                        (
                            "topic",
                            {
                                "title": "Tell us about a hard problem",
                                "description": "Structure your answer with STAR.",
                                "sample_question": "Describe a time you fixed a failing project.",
                            },
                        ),
                        (
                            "topic",
                            {
                                "title": "Working with others",
                                "description": "Show how you handle disagreement.",
                                "sample_question": "When did you change a colleague's mind?",
                            },
                        ),
                    ],
                },
            ),
            (
                "news",
                {
                    "title": "Graduate programme opens",
                    "date": "2026-11-15",
                    "summary": "Assessments for the 2027 intake start on 1 December.",
                },
            ),
        ],
        users=[DemoUser("admin@acme.test", "admin")],
    ),
    DemoPortal(
        slug="press",
        name="Quill Press",
        kind=Tenant.Kind.PUBLISHER,
        intro="Exam and interview templates written by Quill Press authors.",
        theme={
            "primary_color": "#4b2a7b",
            "accent_color": "#b0005a",
            "font": "atkinson",
            "mode": "auto",
            "corner_radius": "none",
            "density": "comfortable",
        },
        initials="QP",
        pages=[
            (
                "content",
                {
                    "title": "Catalogue",
                    "body": _body("Certification practice exams across twelve subjects."),
                },
            ),
            (
                "content",
                {
                    "title": "For authors",
                    "body": _body(
                        "Publish your templates to the Viva marketplace and earn from every sale."
                    ),
                },
            ),
            (
                "guide",
                {
                    "title": "Writing good distractors",
                    "subject": "Item writing",
                    "reading_minutes": 8,
                    "body": _body(
                        "Wrong options should be plausible to someone who has not learnt "
                        "the material, and clearly wrong to someone who has."
                    ),
                },
            ),
        ],
        users=[DemoUser("admin@press.test", "admin")],
    ),
]


def seed_demo() -> list[str]:
    """Create the demo portals, their users, theme and pages if missing."""
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
            created += _seed_theme(portal)
            created += _seed_pages(portal)
            if portal.slug == "uni":
                from assessments.demo_bank import seed_question_bank

                author = get_user_model().objects.get(email=portal.users[0].email)
                created += seed_question_bank(author=author)
                from assessments.analytics.demo import seed_demo_results

                created += seed_demo_results(author=author)
            if portal.slug in ("uni", "acme"):
                from assessments.interviews.demo import seed_templates

                seed_templates()
    # Public-schema demo data, after the portals exist: subscriptions (acme on Starter, uni on
    # Pro with invoices) through the local Stripe double, then the marketplace story.
    from billing.demo import seed_billing_demo
    from marketplace.demo import seed_marketplace

    created += seed_billing_demo()
    created += seed_marketplace()
    return created


def _seed_users(portal: DemoPortal) -> list[str]:
    from allauth.account.models import EmailAddress

    from tenants.access.services import grant_role

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
        EmailAddress.objects.get_or_create(
            user=user, email=demo.email, defaults={"primary": True, "verified": True}
        )
        if made or not user.has_usable_password():
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        # Through the service, so a demo candidate holds a seat like any other.
        grant_role(
            user=user, role={"admin": "admin", "teacher": "author"}.get(demo.role, "candidate")
        )
        if demo.role == "teacher":
            user.groups.add(Group.objects.get(name="Editors"))  # may edit the portal's pages
        if made:
            created.append(f"user {demo.email}")
    return created


def _logo_file(portal: DemoPortal) -> ImageFile:
    from PIL import Image, ImageDraw, ImageFont

    size = 256
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle(
        (8, 8, size - 8, size - 8), radius=48, fill=portal.theme["primary_color"]
    )
    draw.ellipse((150, 24, 232, 106), fill=portal.theme["accent_color"])
    try:
        font = ImageFont.truetype("DejaVuSans-Bold.ttf", 110)
    except OSError:
        font = ImageFont.load_default(size=110)
    draw.text((size / 2, size / 2 + 20), portal.initials, fill="white", font=font, anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return ImageFile(buffer, name=f"{portal.slug}-logo.png")


def _seed_theme(portal: DemoPortal) -> list[str]:
    from wagtail.images import get_image_model
    from wagtail.models import Site

    from themes.models import Theme

    theme = Theme.for_site(Site.objects.get(is_default_site=True))
    if theme.logo_id is not None:
        return []
    for name, value in portal.theme.items():
        setattr(theme, name, value)
    theme.logo = get_image_model().objects.create(
        title=f"{portal.name} logo", file=_logo_file(portal)
    )
    theme.full_clean()
    theme.save()
    return [f"theme {portal.slug}"]


def _seed_pages(portal: DemoPortal) -> list[str]:
    from wagtail.models import Site

    from cms.models import ContentPage, InterviewPracticePage, NewsPage, StudyGuidePage

    kinds = {
        "content": ContentPage,
        "guide": StudyGuidePage,
        "news": NewsPage,
        "practice": InterviewPracticePage,
    }
    home = Site.objects.get(is_default_site=True).root_page.specific
    created = []
    if home.intro != f"<p>{portal.intro}</p>":
        home.intro = f"<p>{portal.intro}</p>"
        home.save_revision().publish()
    for kind, fields in portal.pages:
        model = kinds[kind]
        if model.objects.child_of(home).filter(title=fields["title"]).exists():
            continue
        values = dict(fields)
        if "date" in values:
            values["date"] = datetime.date.fromisoformat(values["date"])
        page = model(show_in_menus=kind != "news", **values)
        home.add_child(instance=page)
        home.refresh_from_db()
        created.append(f"page {portal.slug}:{fields['title']}")
    return created
