"""Branded portals: page types, themes and contrast, PWA, white-label, emails, languages."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from themes.models import Theme

pytestmark = pytest.mark.django_db

PNG_1PX = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def theme_of(portal) -> Theme:
    from wagtail.models import Site

    with portal.activate():
        return Theme.for_site(Site.objects.get(is_default_site=True))


def set_theme(portal, **values) -> None:
    with portal.activate():
        theme = theme_of(portal)
        for name, value in values.items():
            setattr(theme, name, value)
        theme.full_clean()
        theme.save()


def upload_image(portal, title: str):
    from wagtail.images import get_image_model

    from tenants.demo import DEMO_PORTALS, _logo_file

    with portal.activate():
        return get_image_model().objects.create(title=title, file=_logo_file(DEMO_PORTALS[0]))


def settings_url(portal) -> str:
    from wagtail.models import Site

    with portal.activate():
        return f"/cms/settings/themes/theme/{Site.objects.get(is_default_site=True).pk}/"


# --- contrast ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "color", "ratio"),
    [("primary_color", "#ffcc00", "1.51"), ("accent_color", "#8ab4f8", "2.11")],
)
def test_colours_that_fail_wcag_aa_are_refused_with_the_measured_ratio(
    two_portals, field, color, ratio
):
    a, _ = two_portals
    theme = theme_of(a)
    setattr(theme, field, color)
    with a.activate(), pytest.raises(ValidationError) as refused:
        theme.full_clean()
    (message,) = refused.value.message_dict[field]
    assert f"{color} gives white" in message
    assert f"contrast of {ratio}:1; WCAG AA needs at least 4.5:1" in message


def test_the_admin_form_refuses_a_low_contrast_colour_and_saves_nothing(two_portals):
    a, _ = two_portals
    a.login_admin()
    form = {
        "primary_color": "#ffcc00",
        "accent_color": "#a4262c",
        "font": "inter",
        "mode": "light",
        "corner_radius": "small",
        "density": "comfortable",
    }
    response = a.client.post(settings_url(a), form)
    assert response.status_code == 200
    assert b"contrast of 1.51:1" in response.content
    connection.set_schema_to_public()
    assert theme_of(a).primary_color == "#1f4e79"

    form["primary_color"] = "#2e7d32"
    assert a.client.post(settings_url(a), form).status_code == 302
    connection.set_schema_to_public()
    assert theme_of(a).primary_color == "#2e7d32"
    assert b"--viva-primary:#2e7d32" in a.client.get("/theme.css").content


def test_the_admin_live_preview_renders_unsaved_colours(two_portals):
    a, _ = two_portals
    a.login_admin()
    edit = a.client.get(settings_url(a))
    preview_url = re.search(rb"(/cms/settings/themes/theme/\d+/preview/)", edit.content)
    assert preview_url, "the settings page offers a live preview"
    url = preview_url.group(1).decode()
    form = {
        "primary_color": "#5b2c83",
        "accent_color": "#a4262c",
        "font": "serif",
        "mode": "dark",
        "corner_radius": "large",
        "density": "compact",
    }
    assert a.client.post(url, form).json()["is_valid"] is True
    preview = a.client.get(url)
    assert b"--viva-primary:#5b2c83" in preview.content
    assert b'data-mode="dark"' in preview.content
    connection.set_schema_to_public()
    assert theme_of(a).primary_color == "#1f4e79"  # previewing saved nothing


# --- per-tenant theme, manifest, service worker -------------------------------------------------


def test_each_portal_serves_its_own_theme_logo_and_manifest(two_portals):
    a, b = two_portals
    logo = upload_image(a, "Alpha logo")
    set_theme(a, primary_color="#2e7d32", font="atkinson", mode="dark", logo=logo)

    css_a, css_b = a.client.get("/theme.css").content, b.client.get("/theme.css").content
    assert b"--viva-primary:#2e7d32" in css_a and b"Atkinson Hyperlegible" in css_a
    assert b"--viva-primary:#1f4e79" in css_b and b"Atkinson" not in css_b

    home_a, home_b = a.client.get("/").content.decode(), b.client.get("/").content.decode()
    assert 'data-mode="dark"' in home_a and 'data-mode="auto"' in home_b
    assert re.search(
        r'<img class="brand__logo" src="/media/images/[^"]+" alt="Alpha University"', home_a
    )
    assert "brand__logo" not in home_b and '<span class="brand__name">Beta Corp</span>' in home_b
    assert f"/theme.css?v={theme_of(a).version}" in home_a

    manifest_a, manifest_b = (
        a.client.get("/manifest.webmanifest"),
        b.client.get("/manifest.webmanifest"),
    )
    assert manifest_a["Content-Type"] == "application/manifest+json"
    assert (manifest_a.json()["name"], manifest_a.json()["theme_color"]) == (
        "Alpha University",
        "#2e7d32",
    )
    assert all(icon["src"].startswith("/media/images/") for icon in manifest_a.json()["icons"])
    assert manifest_b.json()["name"] == "Beta Corp"
    assert [icon["src"] for icon in manifest_b.json()["icons"]] == [
        "/static/themes/icons/icon-192.png",
        "/static/themes/icons/icon-512.png",
    ]
    # A's logo rendition is served on A's host only.
    icon = manifest_a.json()["icons"][0]["src"]
    assert a.client.get(icon).status_code == 200
    assert b.client.get(icon).status_code == 404


def test_the_service_worker_caches_the_shell_of_its_portal_only(two_portals):
    a, b = two_portals
    sw = a.client.get("/sw.js")
    assert sw["Content-Type"].startswith("text/javascript")
    assert sw["Service-Worker-Allowed"] == "/"
    body = sw.content.decode()
    assert f'const CACHE = "viva-shell-{theme_of(a).version}";' in body
    assert '"/offline/"' in body and "/(cms|accounts|api|media|documents)\\//" in body
    assert a.client.get("/offline/").status_code == 200


def test_changing_the_theme_changes_its_version(two_portals):
    a, _ = two_portals
    before = theme_of(a).version
    set_theme(a, accent_color="#2e7d32")
    assert theme_of(a).version != before


# --- white label -------------------------------------------------------------------------------


def test_platform_branding_follows_the_entitlement(two_portals, monkeypatch):
    from billing import entitlements

    a, _ = two_portals
    assert b"Powered by Viva" in a.client.get("/").content
    monkeypatch.setattr(
        entitlements,
        "DEFAULT_PLAN_FEATURES",
        entitlements.DEFAULT_PLAN_FEATURES | {entitlements.REMOVE_PLATFORM_BRANDING},
    )
    assert b"Powered by Viva" not in a.client.get("/").content


# --- isolation of media choosers -------------------------------------------------------------


def test_tenant_b_admin_can_never_pick_tenant_a_images_or_documents(two_portals):
    from wagtail.documents import get_document_model

    a, b = two_portals
    image = upload_image(a, "Alpha secret diagram")
    with a.activate():
        document = get_document_model().objects.create(
            title="Alpha answer key",
            file=SimpleUploadedFile("answers.pdf", b"%PDF-1.4 alpha"),
        )
    urls = [
        f"/cms/images/chooser/chosen/{image.pk}/",
        f"/cms/images/chooser/{image.pk}/select_format/",
        f"/cms/images/{image.pk}/",
        f"/cms/documents/chooser/chosen/{document.pk}/",
        f"/cms/documents/edit/{document.pk}/",
        f"/documents/{document.pk}/answers.pdf",
    ]
    a.login_admin()
    b.login_admin()
    assert b"Alpha secret diagram" in a.client.get("/cms/images/chooser/").content
    assert b"Alpha secret diagram" not in b.client.get("/cms/images/chooser/").content
    assert b"Alpha answer key" in a.client.get("/cms/documents/chooser/").content
    assert b"Alpha answer key" not in b.client.get("/cms/documents/chooser/").content
    for url in urls:
        assert a.client.get(url).status_code == 200, url  # the URL is right...
        assert b.client.get(url).status_code == 404, url  # ...and B cannot reach A's object


def test_theme_settings_of_a_cannot_be_changed_from_b(two_portals):
    a, b = two_portals
    b.login_admin()
    form = {
        "primary_color": "#2e7d32",
        "accent_color": "#a4262c",
        "font": "inter",
        "mode": "light",
        "corner_radius": "small",
        "density": "comfortable",
    }
    b.client.post(settings_url(a), form)
    connection.set_schema_to_public()
    assert theme_of(a).primary_color == "#1f4e79"


# --- page types and the starting site ---------------------------------------------------------


def test_a_new_portal_starts_with_a_home_an_exam_catalogue_and_help(two_portals):
    a, _ = two_portals
    home = a.client.get("/").content.decode()
    assert '<a href="/exams/">Exams</a>' in home and '<a href="/help/">Help</a>' in home
    assert '<a class="button" href="/exams/">See your exams</a>' in home
    assert "Sign in to see the exams open to you." in a.client.get("/exams/").content.decode()
    help_page = a.client.get("/help/").content.decode()
    assert '<details class="faq"><summary>How do I sign in?</summary>' in help_page


def test_every_page_type_renders_for_visitors(two_portals):
    import datetime

    from wagtail.models import Site

    from cms.models import FAQPage, InterviewPracticePage, NewsPage, StudyGuidePage

    a, _ = two_portals
    with a.activate():
        home = Site.objects.get(is_default_site=True).root_page.specific
        guide = home.add_child(
            instance=StudyGuidePage(
                title="Statistics basics",
                subject="Statistics",
                reading_minutes=12,
                body=[
                    ("heading", "Averages"),
                    ("callout", {"title": "Tip", "text": "Mean ≠ median"}),
                ],
            )
        )
        guide.add_child(instance=StudyGuidePage(title="Chapter one", subject="Statistics"))
        home.add_child(
            instance=InterviewPracticePage(
                title="Practice",
                topics=[
                    (
                        "topic",
                        {
                            "title": "Teamwork",
                            "description": "Show collaboration.",
                            "sample_question": "Tell me about a team conflict.",
                        },
                    )
                ],
            )
        )
        home.add_child(
            instance=NewsPage(
                title="Results day", date=datetime.date(2026, 11, 1), summary="Results are out."
            )
        )
        home.add_child(
            instance=FAQPage(
                title="More help",
                questions=[("item", {"question": "Is it free?", "answer": "<p>Yes.</p>"})],
            )
        )
    pages = {
        "/statistics-basics/": ["12 minute read", "<h2>Averages</h2>", "Chapter one"],
        "/practice/": ["Teamwork", "Tell me about a team conflict."],
        "/results-day/": ["Results are out."],
        "/more-help/": ["<summary>Is it free?</summary>"],
        "/": ["Results day", "Results are out."],
    }
    for url, fragments in pages.items():
        response = a.client.get(url)
        assert response.status_code == 200, url
        for fragment in fragments:
            assert fragment in response.content.decode(), (url, fragment)


def test_a_visitor_can_switch_the_interface_to_french(two_portals):
    a, _ = two_portals
    assert a.client.post("/i18n/setlang/", {"language": "fr", "next": "/"}).status_code == 302
    home = a.client.get("/").content.decode()
    assert '<html lang="fr"' in home
    assert "Propulsé par Viva" in home and ">Accueil</a>" in home
    assert "Aller au contenu" in home


def test_the_welcome_email_carries_the_portal_branding(
    make_portal, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        portal = make_portal("gamma", "Gamma College", refill_pool=False)
    (message,) = mail.outbox
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "Gamma College" in html and "background:#1f4e79" in html
    assert "Choose your password" in html and portal.domain in html
    assert "Choose your password:" in message.body


def test_the_platform_site_has_no_tenant_branding():
    response = Client(HTTP_HOST="localhost").get("/")
    assert response.status_code == 200
    assert b"/theme.css" not in response.content and b"Powered by Viva" in response.content


# --- PDF ---------------------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def pdf_fonts(data: bytes) -> set[str]:
    import io

    from pypdf import PdfReader

    fonts = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    return fonts


def test_pdfs_carry_the_portal_branding(two_portals):
    from themes.pdf import render_branded_pdf

    a, b = two_portals
    set_theme(a, primary_color="#2e7d32", font="atkinson")
    with a.activate():
        pdf_a = render_branded_pdf(
            title="Results", portal_name="Alpha University", body_html="<p>Score 42</p>"
        )
    with b.activate():
        pdf_b = render_branded_pdf(
            title="Results", portal_name="Beta Corp", body_html="<p>Score 7</p>"
        )
    assert pdf_a.startswith(b"%PDF") and pdf_b.startswith(b"%PDF")
    assert "Alpha University" in pdf_text(pdf_a) and "Score 42" in pdf_text(pdf_a)
    assert "Beta Corp" in pdf_text(pdf_b) and "Alpha" not in pdf_text(pdf_b)
    assert any("Atkinson-Hyperlegible" in font for font in pdf_fonts(pdf_a))  # theme font
    assert not any("Atkinson" in font for font in pdf_fonts(pdf_b))


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:5432/",
        "https://example.com/x.png",
        "viva-static:../../config/settings/base.py",
    ],
)
def test_pdf_rendering_fetches_nothing_outside_the_app(two_portals, url):
    from themes.pdf import RefusedURL, render_branded_pdf, safe_url_fetcher

    a, _ = two_portals
    with pytest.raises(RefusedURL):
        safe_url_fetcher().fetch(url)
    with a.activate():
        pdf = render_branded_pdf(
            title="x", portal_name="Alpha", body_html=f'<img src="{url}"><p>still rendered</p>'
        )
    assert "still rendered" in pdf_text(pdf)
    assert b"root:" not in pdf
