"""A person adds a passkey in Chromium (a CDP virtual authenticator) and signs in with it,
under the portal's strict Content Security Policy."""

from __future__ import annotations

from django.db import connection
from playwright.sync_api import expect

from tests.test_access import make_user

PASSWORD = "correct horse battery staple"


def test_add_a_passkey_then_sign_in_with_it(page, live_port, make_committed_portal, screenshot):
    portal = make_committed_portal("keys", "Passkey College")
    make_user(portal, "ada@keys.test", role="candidate")
    connection.set_schema_to_public()
    base = f"http://keys.localhost:{live_port}"
    violations: list[str] = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )

    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )

    page.goto(base + "/accounts/login/")
    page.get_by_label("Email").fill("ada@keys.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()
    page.goto(base + "/accounts/2fa/webauthn/add/?passwordless")
    if "/reauthenticate/" in page.url:
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    page.get_by_label("Name").fill("Laptop")
    passwordless = page.get_by_label("Passwordless")
    if passwordless.count():
        passwordless.check()
    page.get_by_role("button", name="Add").click()
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    screenshot(page, "passkey-added")
    from allauth.mfa.models import Authenticator

    with portal.activate():
        kinds = list(
            Authenticator.objects.filter(user__email="ada@keys.test").values_list("type", flat=True)
        )
    connection.set_schema_to_public()
    assert "webauthn" in kinds

    page.context.clear_cookies()
    page.goto(base + "/accounts/login/")
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto(base + "/accounts/sessions/")
    expect(page.get_by_role("heading", name="Sessions")).to_be_visible()
    assert violations == []
