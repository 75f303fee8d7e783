"""Two portals in a real browser look like themselves; an admin rebrands one and sees it live."""

from __future__ import annotations

from django.db import connection
from playwright.sync_api import expect

from tests.test_branding import set_theme, upload_image

PASSWORD = "correct horse battery staple"


def header_colour(page) -> str:
    return page.eval_on_selector(".site-header", "el => getComputedStyle(el).backgroundColor")


def test_two_portals_look_different_and_an_admin_rebrands_live(
    page, live_port, make_committed_portal, screenshot
):
    a = make_committed_portal("brand-a", "Alpha Brand University")
    b = make_committed_portal("brand-b", "Beta Brand Corp", "company")
    set_theme(a, primary_color="#2e7d32", font="serif", mode="light", logo=upload_image(a, "logo"))
    set_theme(b, primary_color="#4b2a7b", accent_color="#b0005a", font="inter", mode="dark")
    connection.set_schema_to_public()
    url_a, url_b = f"http://brand-a.localhost:{live_port}", f"http://brand-b.localhost:{live_port}"

    page.set_viewport_size({"width": 1100, "height": 800})
    page.goto(url_a + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Alpha Brand University")
    expect(page.get_by_role("img", name="Alpha Brand University")).to_be_visible()
    assert header_colour(page) == "rgb(46, 125, 50)"
    assert "Source Serif 4" in page.eval_on_selector(
        "body", "el => getComputedStyle(el).fontFamily"
    )
    screenshot(page, "portal-a")

    page.goto(url_b + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Beta Brand Corp")
    expect(page.locator(".brand__logo")).to_have_count(0)
    assert header_colour(page) == "rgb(75, 42, 123)"
    assert (
        page.eval_on_selector("body", "el => getComputedStyle(el).backgroundColor")
        == "rgb(18, 20, 23)"
    )
    screenshot(page, "portal-b-dark")

    # The visitor's mode toggle overrides the theme default and survives a reload.
    page.get_by_role("button", name="Theme: dark. Switch to device setting.").click()
    page.get_by_role("button", name="Theme: device setting. Switch to light.").click()
    page.reload()
    assert page.eval_on_selector("html", "el => el.dataset.mode") == "light"
    assert (
        page.eval_on_selector("body", "el => getComputedStyle(el).backgroundColor")
        == "rgb(255, 255, 255)"
    )

    # A phone-sized screen keeps everything reachable.
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(url_a + "/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "portal-a-phone")

    # The admin of A rebrands A in Wagtail; B is untouched.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(url_a + "/accounts/login/")
    page.get_by_label("Email").fill(a.admin_email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()
    page.goto(url_a + "/cms/settings/themes/theme/")
    page.locator("#id_primary_color").fill("#ffcc00")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("contrast of 1.51:1")).to_be_visible()
    screenshot(page, "contrast-refused")
    page.locator("#id_primary_color").fill("#8b1e3f")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Theme updated")).to_be_visible()

    page.goto(url_a + "/")
    assert header_colour(page) == "rgb(139, 30, 63)"
    page.goto(url_b + "/")
    assert header_colour(page) == "rgb(75, 42, 123)"
