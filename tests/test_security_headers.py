"""Where forms may send the browser (CSP ``form-action``, which also governs the redirect a
form is answered with): the site itself and Stripe's hosted pages everywhere, the local Stripe
double only while it stands in for Stripe, any https identity provider only on the SSO
hand-off pages. A wrong list breaks Checkout and SSO in real browsers (see
tests/browser/test_billing_story.py) while tests with Django's client still pass."""

from __future__ import annotations


def form_action(response) -> list[str]:
    policy = response["Content-Security-Policy"]
    directive = next(d for d in policy.split(";") if d.strip().startswith("form-action"))
    return directive.split()[1:]


def test_portal_and_admin_pages_allow_stripe_and_the_double_but_not_any_origin(two_portals):
    a, _ = two_portals
    a.login_admin()
    for path in ("/", "/cms/billing/", "/accounts/login/"):
        sources = form_action(a.client.get(path))
        assert "'self'" in sources and "https://checkout.stripe.com" in sources, path
        assert "https://billing.stripe.com" in sources, path
        assert "http://localhost:8000" in sources, path  # the double, with no Stripe key
        assert "https:" not in sources and "http:" not in sources, path


def test_with_a_stripe_key_the_double_is_no_form_target(two_portals, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_configured"
    a, _ = two_portals
    assert "http://localhost:8000" not in form_action(a.client.get("/"))


def test_only_sso_hand_off_pages_may_send_people_to_their_identity_provider(two_portals):
    a, _ = two_portals
    for path in (
        "/accounts/google/login/",
        "/accounts/github/login/",
        "/accounts/oidc/northfield/login/",
        "/accounts/saml/northfield/login/",
    ):
        sources = form_action(a.client.get(path))
        assert "https:" in sources and "http:" not in sources, path
    assert "https:" not in form_action(a.client.get("/accounts/signup/"))


def test_in_development_a_local_identity_provider_may_be_plain_http(settings):
    from tenants.middleware import form_action_sources

    settings.DEBUG = True
    assert "http:" in form_action_sources("/accounts/oidc/keycloak/login/")
    assert "http:" not in form_action_sources("/accounts/login/")
