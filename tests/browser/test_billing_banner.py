"""The subscription banner of a past-due portal, as staff see it on an admin page other than
the dashboard: readable, beside the sidebar rather than under it, above the page."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from billing.models import Subscription
from tests.conftest import put_on_plan


def test_a_past_due_portal_shows_its_banner_beside_the_sidebar(
    page, live_port, make_committed_portal, screenshot
):
    portal = make_committed_portal("bpastdue", "Past Due University")
    put_on_plan(portal, "starter", status="past_due")
    grace_until = timezone.now() + timedelta(days=6)
    Subscription.objects.filter(tenant=portal.tenant).update(grace_until=grace_until)

    page.goto(f"http://bpastdue.localhost:{live_port}/cms/exams/")
    page.get_by_label("Email").fill(portal.admin_email)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign In", exact=True).click()
    expect(page.get_by_role("heading", name="Exams", exact=True)).to_be_visible()
    page.goto(f"http://bpastdue.localhost:{live_port}/cms/exams/")  # without the sign-in message

    banner = page.get_by_role("alert").filter(has_text="The last payment failed")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(f"before {grace_until:%d %b %Y}")
    expect(banner.get_by_role("link", name="Go to billing")).to_have_attribute(
        "href", "/cms/billing/"
    )
    sidebar = page.locator("#wagtail-sidebar .sidebar").bounding_box()
    box = banner.bounding_box()
    heading = page.get_by_role("heading", name="Exams", exact=True).bounding_box()
    assert sidebar is not None and box is not None and heading is not None
    assert box["x"] >= sidebar["x"] + sidebar["width"] - 1  # not hidden under the sidebar
    assert box["y"] + box["height"] <= heading["y"]  # above the page's own header
    screenshot(page, "past-due-banner")
