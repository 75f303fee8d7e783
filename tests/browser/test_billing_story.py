"""Issue #7's story in Chromium, offline: a company admin subscribes through the local Stripe
double's Checkout, upgrades to Pro with 50 seats (prorated, in place), reads the invoices, and
cancels in the customer portal — after which the portal is read-only (with a banner) until
billing is restored."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from billing.models import Subscription
from tests.conftest import PASSWORD


def test_a_company_admin_subscribes_upgrades_to_pro_with_50_seats_and_a_cancellation_locks_writes(
    page, live_port, make_committed_portal, settings, screenshot
):
    settings.VIVA_STRIPE_DOUBLE_URL = f"http://localhost:{live_port}/_stripe"
    portal = make_committed_portal("bacme", "Acme Browser Corp", "company")
    base = f"http://bacme.localhost:{live_port}"

    page.goto(f"{base}/accounts/login/?next=/cms/billing/")
    page.get_by_label("Email").fill(portal.admin_email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()
    expect(page.locator("[data-plan]")).to_contain_text("Free")

    # Subscribe: Starter with 10 seats through Checkout on the double's hosted page.
    page.get_by_label("Plan").select_option("starter")
    page.get_by_label("Seats").fill("10")
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Starter")
    expect(page.locator("[data-quantity]")).to_have_text("10")
    screenshot(page, "checkout")
    page.get_by_role("button", name="Pay").click()
    expect(page).to_have_url(re.compile(r"/cms/billing/"))
    expect(page.locator("[data-plan]")).to_contain_text("Starter")
    expect(page.locator("[data-plan]")).to_contain_text("10 seats")

    # Upgrade in place: Pro with 50 seats, prorated; no second checkout.
    page.get_by_label("Plan").select_option("pro")
    page.get_by_label("Seats").fill("50")
    page.get_by_role("button", name="Change plan").click()
    expect(page.locator("[data-plan]")).to_contain_text("Pro")
    expect(page.locator("[data-plan]")).to_contain_text("50 seats")
    expect(page.locator("[data-usage=seats]")).to_contain_text("50")
    assert page.locator("[data-invoice]").count() >= 1
    screenshot(page, "pro-50-seats")
    subscription = Subscription.objects.get(tenant=portal.tenant)
    assert (subscription.plan.code, subscription.seats) == ("pro", 50)

    # Cancel in the customer portal: the portal becomes read-only.
    page.get_by_role("button", name="Manage cards and invoices").click()
    page.get_by_role("button", name="Cancel subscription").click()
    expect(page.get_by_text("No active subscription.")).to_be_visible()
    page.get_by_role("link", name="Return to Viva").click()
    expect(page.locator("[data-plan] [data-status]")).to_have_attribute("data-status", "canceled")
    page.goto(f"{base}/cms/")
    expect(page.locator("[data-billing-banner]").first).to_be_visible()

    page.goto(f"{base}/cms/exams/add/")
    page.get_by_label("Title").first.fill("Written after cancelling")
    page.get_by_role("button", name="Create").first.click()
    expect(page.get_by_role("heading", name="This portal is read-only")).to_be_visible()
    with portal.activate():
        from assessments.exams.models import Exam

        assert not Exam.objects.filter(title="Written after cancelling").exists()
