"""A person opens two portals in one browser and signs in to one portal's Wagtail admin."""

from __future__ import annotations

from playwright.sync_api import expect


def test_admin_signs_in_to_their_portal_only(page, live_port, make_committed_portal, screenshot):
    alpha = make_committed_portal("balpha", "Alpha Browser University")
    make_committed_portal("bbeta", "Beta Browser Corp", "company")
    csp_violations: list[str] = []
    page.on(
        "console",
        lambda msg: (
            csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None
        ),
    )

    page.goto(f"http://balpha.localhost:{live_port}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Alpha Browser University")
    page.goto(f"http://bbeta.localhost:{live_port}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Beta Browser Corp")

    page.goto(f"http://balpha.localhost:{live_port}/cms/")
    page.get_by_label("Email").fill(alpha.admin_email)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign In", exact=True).click()
    expect(page.get_by_role("heading", name="Site summary")).to_be_visible()
    expect(page.get_by_role("heading", name=alpha.admin_email)).to_be_visible()
    screenshot(page, "dashboard")

    page.goto(f"http://balpha.localhost:{live_port}/cms/pages/")
    expect(page.get_by_role("link", name="Alpha Browser University").first).to_be_visible()

    # The session belongs to balpha.localhost: the other portal's admin asks for a sign-in.
    page.goto(f"http://bbeta.localhost:{live_port}/cms/")
    expect(page).to_have_url(f"http://bbeta.localhost:{live_port}/accounts/login/?next=/cms/")
    screenshot(page, "other-portal-login")
    assert csp_violations == []
