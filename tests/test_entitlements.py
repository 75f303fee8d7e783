"""Entitlements at every feature boundary: what each plan includes, single sign-on (admin and
sign-in), API keys and API requests, the exam limit (service, builder page, marketplace install,
concurrency), the subscription banners on every admin page and the read-only notice on the
candidates' pages. Tenant A and tenant B on different plans at the same time in each.

Already proved elsewhere, not repeated here: AI credits (tests/test_ai_metering.py for the
refusal, tests/test_billing.py for metered use on paid plans), selling in the marketplace
(tests/test_marketplace.py, test_marketplace_payments.py), seats (tests/test_billing.py).
"""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import wagtail
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from assessments import services as bank
from assessments.exams import services as exams
from assessments.exams.models import Exam
from assessments.models import Question
from billing import entitlements, selectors
from billing.models import Subscription
from marketplace import services as marketplace
from marketplace.models import Installation
from tenants.access.api_keys import ApiKeyError, create_api_key
from tenants.access.models import ApiKey
from tenants.audit.models import AuditEvent
from tenants.sso import services as sso
from tenants.sso.models import IdentityProvider

from .conftest import put_on_plan

User = get_user_model()

UPGRADE = "Upgrade under Settings → Billing to use it."
SSO_ON_FREE = f"Single sign-on is not included in the Free plan. {UPGRADE}"
SSO_ON_STARTER = f"Single sign-on is not included in the Starter plan. {UPGRADE}"
API_ON_FREE = f"API access is not included in the Free plan. {UPGRADE}"
API_ON_STARTER = f"API access is not included in the Starter plan. {UPGRADE}"
EXAMS_ON_FREE = (
    "The Free plan allows 3 exams, and all are used. Upgrade under Settings → Billing for more."
)

GOOGLE = {
    "kind": "google",
    "slug": "northfield-google",
    "name": "Northfield Google",
    "client_id": "northfield.apps.googleusercontent.com",
    "secret": "google-secret-2b8d4f",
}


def admin_of(portal):
    with portal.activate():
        return User.objects.get(email=portal.admin_email)


def exam_count(portal) -> int:
    with portal.activate():
        count = Exam.objects.count()
    connection.set_schema_to_public()
    return count


def make_exams(portal, count: int) -> list[Exam]:
    author = admin_of(portal)
    with portal.activate():
        made = [exams.create_exam(by=author, title=f"Exam {n}") for n in range(count)]
    connection.set_schema_to_public()
    return made


def add_provider(portal, **fields) -> IdentityProvider:
    with portal.activate():
        provider = sso.add_identity_provider(**{**GOOGLE, **fields})
    connection.set_schema_to_public()
    return provider


def sign_in_buttons(portal) -> list[str]:
    """The provider names on the portal's sign-in page (seen by a visitor not signed in)."""
    page = Client(HTTP_HOST=portal.domain).get("/accounts/login/").content.decode()
    return re.findall(r'<a title="Sign in with ([^"]+)"', page)


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


# --- what each plan includes -------------------------------------------------------------------

PLAN_FEATURES = {
    "free": {entitlements.CUSTOM_DOMAIN},
    "starter": {entitlements.CUSTOM_DOMAIN, entitlements.REMOVE_PLATFORM_BRANDING},
    "pro": {
        entitlements.CUSTOM_DOMAIN,
        entitlements.REMOVE_PLATFORM_BRANDING,
        entitlements.SSO,
        entitlements.API_ACCESS,
        entitlements.WEBCAM_PROCTORING,
    },
    "enterprise": set(entitlements.FEATURES),
}


@pytest.mark.parametrize("plan", ["free", "starter", "pro", "enterprise"])
def test_each_plan_allows_exactly_its_features_and_names_itself_when_refusing(make_portal, plan):
    portal = make_portal("gamma")
    put_on_plan(portal, plan)
    name = plan.title()
    for feature in entitlements.FEATURES:
        answer = entitlements.check(portal.tenant, feature)
        included = feature in PLAN_FEATURES[plan]
        assert (feature, answer.allowed, answer.plan) == (feature, included, plan)
        expected = (
            ""
            if included
            else f"{entitlements.FEATURE_LABELS[feature]} is not included in the {name} plan. "
            f"{UPGRADE}"
        )
        assert answer.message == expected


# --- single sign-on ----------------------------------------------------------------------------


def test_without_sso_the_admin_pages_explain_and_adding_changes_nothing(two_portals):
    a, b = two_portals
    put_on_plan(a, "pro")  # B has no subscription: Free
    a.login_admin()
    b.login_admin()
    with b.activate():
        audit_before = AuditEvent.objects.count()

    listing = b.client.get("/cms/sso/")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert SSO_ON_FREE in page and 'href="/cms/billing/"' in page
    assert "/cms/sso/add/" not in page  # no "Add provider" button to be refused
    add_page = b.client.get("/cms/sso/add/")
    assert add_page.status_code == 200
    assert SSO_ON_FREE in add_page.content.decode()
    assert 'name="client_id"' not in add_page.content.decode()
    posted = b.client.post("/cms/sso/add/", {**GOOGLE, "enabled": "on"})
    assert posted.status_code == 200 and SSO_ON_FREE in posted.content.decode()
    with b.activate():
        with pytest.raises(ValidationError) as refused:
            sso.add_identity_provider(**GOOGLE)
        assert refused.value.messages == [SSO_ON_FREE]
        assert IdentityProvider.objects.count() == 0
        assert AuditEvent.objects.count() == audit_before

    # A, on Pro, adds the same provider at the same time.
    assert SSO_ON_FREE not in a.client.get("/cms/sso/").content.decode()
    added = a.client.post("/cms/sso/add/", {**GOOGLE, "enabled": "on"})
    assert (added.status_code, added["Location"]) == (302, "/cms/sso/")
    with a.activate():
        assert list(IdentityProvider.objects.values_list("slug", flat=True)) == [
            "northfield-google"
        ]


def test_a_portal_that_leaves_pro_keeps_its_providers_but_no_longer_offers_them(two_portals):
    a, b = two_portals
    put_on_plan(a, "pro")
    put_on_plan(b, "pro")
    google = add_provider(a)
    oidc = add_provider(
        a,
        kind="oidc",
        slug="northfield-sso",
        name="Northfield SSO",
        client_id="viva-exams",
        server_url="https://idp.northfield.test/realms/exams",
        enabled=False,
    )
    add_provider(b, name="Beta Google", client_id="beta.apps.googleusercontent.com")
    assert sign_in_buttons(a) == ["Northfield Google"]

    put_on_plan(a, "starter")
    assert sign_in_buttons(a) == []
    assert Client(HTTP_HOST=a.domain).post("/accounts/google/login/").status_code == 404
    # B, still on Pro, offers its own provider meanwhile.
    assert sign_in_buttons(b) == ["Beta Google"]
    assert Client(HTTP_HOST=b.domain).post("/accounts/google/login/").status_code == 302

    a.login_admin()
    page = a.client.get("/cms/sso/").content.decode()
    assert SSO_ON_STARTER in page and "data-not-offered" in page
    assert "Northfield Google" in page and "Northfield SSO" in page
    # Enabling is refused with the message and changes nothing.
    refused = a.client.post(f"/cms/sso/{oidc.pk}/enable/", follow=True)
    assert refused.status_code == 200 and SSO_ON_STARTER in refused.content.decode()
    # Disabling and deleting what it has stay possible.
    assert a.client.post(f"/cms/sso/{google.pk}/disable/").status_code == 302
    with a.activate():
        assert dict(IdentityProvider.objects.values_list("slug", "enabled")) == {
            "northfield-google": False,
            "northfield-sso": False,
        }

    # Back on Pro, the provider it enables is offered again.
    put_on_plan(a, "pro")
    assert a.client.post(f"/cms/sso/{google.pk}/enable/").status_code == 302
    assert sign_in_buttons(a) == ["Northfield Google"]


# --- API access --------------------------------------------------------------------------------


def test_without_api_access_no_key_is_made(two_portals):
    a, b = two_portals
    put_on_plan(a, "pro")
    with b.activate():
        with pytest.raises(ApiKeyError) as refused:
            create_api_key(name="LMS sync", scopes=["questions:read"])
        assert str(refused.value) == API_ON_FREE
        assert ApiKey.objects.count() == 0
    with pytest.raises(CommandError, match="API access is not included in the Free plan"):
        call_command("create_api_key", f"--schema={b.schema}", "--name=Reports")
    with b.activate():
        assert ApiKey.objects.count() == 0
    with a.activate():
        create_api_key(name="LMS sync", scopes=["questions:read"])
        assert ApiKey.objects.count() == 1


def test_a_key_of_a_portal_without_api_access_gets_403_naming_the_plan(two_portals):
    a, b = two_portals
    put_on_plan(a, "pro")
    put_on_plan(b, "pro")
    with a.activate():
        _, raw_a = create_api_key(name="LMS sync", scopes=["questions:read"])
    with b.activate():
        _, raw_b = create_api_key(name="LMS sync", scopes=["questions:read"])
    put_on_plan(b, "starter")

    refused = b.client.get("/api/v1/questions", **bearer(raw_b))
    assert refused.status_code == 403
    assert refused.json() == {"detail": API_ON_STARTER}
    # A wrong key learns nothing about the plan; B's key on A's host is unknown there.
    assert b.client.get("/api/v1/me", **bearer("viva_deadbeef_guess")).status_code == 401
    assert a.client.get("/api/v1/me", **bearer(raw_b)).status_code == 401
    # A, on Pro, is served between B's refusals.
    assert a.client.get("/api/v1/me", **bearer(raw_a)).status_code == 200
    assert b.client.get("/api/v1/me", **bearer(raw_b)).status_code == 403
    assert a.client.get("/api/v1/questions", **bearer(raw_a)).status_code == 200

    put_on_plan(b, "enterprise")  # kept across the downgrade: works again after an upgrade
    assert b.client.get("/api/v1/me", **bearer(raw_b)).status_code == 200


# --- the exam limit ----------------------------------------------------------------------------


@pytest.mark.parametrize(("plan", "limit"), [("free", 3), ("starter", 25)])
def test_exams_are_made_up_to_the_plans_limit_and_archived_ones_free_a_place(
    make_portal, plan, limit
):
    portal = make_portal("gamma")
    put_on_plan(portal, plan)
    made = make_exams(portal, limit)
    author = admin_of(portal)
    with portal.activate():
        with pytest.raises(exams.ExamError) as refused:
            exams.create_exam(by=author, title="One too many")
        assert refused.value.errors == [
            f"The {plan.title()} plan allows {limit} exams, and all are used. "
            "Upgrade under Settings → Billing for more."
        ]
        assert Exam.objects.count() == limit
        exams.archive_exam(exam=made[0], by=author)
        exams.create_exam(by=author, title="In the freed place")
        assert Exam.objects.count() == limit + 1
    answer = entitlements.check(portal.tenant, entitlements.EXAMS)
    assert (answer.used, answer.remaining, answer.allowed) == (limit, 0, False)


def test_pro_has_no_exam_limit(make_portal):
    portal = make_portal("gamma")
    put_on_plan(portal, "pro")
    make_exams(portal, 30)
    assert exam_count(portal) == 30
    assert entitlements.check(portal.tenant, entitlements.EXAMS).limit is None


def test_the_new_exam_page_counts_exams_and_shows_the_upgrade_message_when_none_is_left(
    two_portals,
):
    a, b = two_portals
    put_on_plan(a, "pro")
    make_exams(a, 4)
    make_exams(b, 1)
    a.login_admin()
    b.login_admin()

    page = b.client.get("/cms/exams/add/").content.decode()
    assert "1 of 3 exams used" in page and "Create exam" in page
    make_exams(b, 2)
    full = b.client.get("/cms/exams/add/")
    assert full.status_code == 200
    text = full.content.decode()
    assert "3 of 3 exams used" in text and EXAMS_ON_FREE in text
    assert 'href="/cms/billing/"' in text and "Create exam" not in text
    posted = b.client.post("/cms/exams/add/", {"title": "Sneaked in"})
    assert posted.status_code == 200 and EXAMS_ON_FREE in posted.content.decode()
    assert exam_count(b) == 3

    # A, on Pro with 4 exams, gets the form and no count.
    page_a = a.client.get("/cms/exams/add/").content.decode()
    assert "Create exam" in page_a and "exams used" not in page_a
    assert EXAMS_ON_FREE not in page_a


def test_installing_a_marketplace_exam_beyond_the_limit_is_refused_and_installs_nothing(
    make_portal,
):
    press = make_portal("press", "Quill Press", "publisher")
    uni = make_portal("uni", "Northfield University")
    [exam] = make_exams(press, 1)
    with press.activate():
        author = admin_of(press)
        section = exams.add_section(exam=exam, title="Only")
        question = bank.create_question(
            author=author,
            type="true_false",
            title="Mean",
            stem="<p>The mean is a measure of centre.</p>",
            data={"answer": True},
            status="active",
        )
        exams.add_fixed_item(section=section, question=question)
        exams.publish_exam(exam=exam, by=author)
    connection.set_schema_to_public()
    listing = marketplace.create_listing(publisher=press.tenant, title="Mock exam")
    marketplace.publish_version(publisher=press.tenant, listing=listing, exam_id=exam.pk)
    make_exams(uni, 3)
    with uni.activate():
        questions_before = Question.objects.count()

    with pytest.raises(marketplace.MarketplaceError) as refused:
        marketplace.install_listing(buyer=uni.tenant, listing=listing)
    assert refused.value.errors == [EXAMS_ON_FREE]
    assert not Installation.objects.filter(buyer=uni.tenant).exists()
    assert exam_count(uni) == 3
    with uni.activate():
        assert Question.objects.count() == questions_before

    put_on_plan(uni, "starter")
    assert marketplace.install_listing(buyer=uni.tenant, listing=listing).created
    assert exam_count(uni) == 4


def test_concurrent_creations_never_overshoot_the_exam_limit(make_committed_portal):
    portal = make_committed_portal("examy")
    author = admin_of(portal)
    connection.set_schema_to_public()
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def create(number: int) -> None:
        try:
            with schema_context(portal.schema):
                barrier.wait()
                exams.create_exam(by=author, title=f"Race {number}")
            outcomes.append("created")
        except exams.ExamError as error:
            outcomes.append(error.errors[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == sorted(["created"] * 3 + [EXAMS_ON_FREE] * 3)
    assert exam_count(portal) == 3


# --- banners and notices -----------------------------------------------------------------------


def test_past_due_and_canceled_banners_show_on_every_admin_page_of_that_portal_only(
    two_portals,
):
    a, b = two_portals
    grace_until = timezone.now() + timedelta(days=5)
    put_on_plan(a, "starter", status="past_due")
    Subscription.objects.filter(tenant=a.tenant).update(grace_until=grace_until)
    put_on_plan(b, "pro")
    a.login_admin()
    b.login_admin()

    for path in ("/cms/", "/cms/exams/", "/cms/pages/", "/cms/sso/"):
        page = a.client.get(path)
        assert page.status_code == 200, path
        text = page.content.decode()
        assert text.count("data-billing-banner") == 1, path
        assert 'data-billing-banner="warning"' in text
        assert f"before {grace_until:%d %b %Y} or the portal becomes read-only" in text
        assert "data-billing-banner" not in b.client.get(path).content.decode(), path
    # The billing page shows it once too (not twice).
    assert a.client.get("/cms/billing/").content.decode().count("data-billing-banner") == 1

    Subscription.objects.filter(tenant=a.tenant).update(grace_until=timezone.now())
    text = a.client.get("/cms/exams/").content.decode()
    assert 'data-billing-banner="critical"' in text
    assert "the grace period has ended: the portal is read-only" in text

    put_on_plan(a, "starter", status="canceled")
    text = a.client.get("/cms/images/").content.decode()
    assert 'data-billing-banner="critical"' in text and "The subscription has ended" in text
    assert "data-billing-banner" not in b.client.get("/cms/images/").content.decode()

    # Cheap: the row is read once for the request however often a page asks.
    request = a.client.get("/cms/").wsgi_request
    del request._viva_subscription
    connection.set_schema_to_public()
    with CaptureQueriesContext(connection) as queries:
        assert selectors.banner_for_request(request).level == "critical"
        assert selectors.read_only_for_request(request)
        assert not selectors.feature_for(request, entitlements.SSO).allowed
    reads = [q["sql"] for q in queries if not q["sql"].startswith("SET search_path")]
    assert len(reads) == 1 and 'FROM "billing_subscription"' in reads[0]


def test_the_admin_base_override_is_wagtails_furniture_plus_the_banner():
    """templates/wagtailadmin/base.html copies Wagtail's furniture block to put the banner in
    the page: a Wagtail upgrade that changes the block must be merged by hand, not drift."""
    ours = (Path(__file__).parents[1] / "templates/wagtailadmin/base.html").read_text()
    theirs = (Path(wagtail.__file__).parent / "admin/templates/wagtailadmin/base.html").read_text()

    def furniture(template: str) -> str:
        return template[template.index("{% block furniture %}") : template.rindex("{% endblock %}")]

    banner = "            {% subscription_banner %}\n"
    assert furniture(ours).count(banner) == 1
    assert furniture(ours).replace(banner, "") == furniture(theirs)


def test_candidates_of_a_read_only_portal_are_told_before_they_try(two_portals):
    a, b = two_portals
    put_on_plan(a, "starter", status="canceled")
    put_on_plan(b, "starter")
    candidate = Client(HTTP_HOST=a.domain)
    with a.activate():
        user = User.objects.create_user(email="cand@alpha.test", password="pw-alpha-123456")
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
        candidate.force_login(user)
    connection.set_schema_to_public()

    home = candidate.get("/")
    assert home.status_code == 200
    assert b"data-read-only-notice" in home.content
    assert b"new exam attempts cannot be started" in home.content
    assert b"data-read-only-notice" not in b.client.get("/").content
    refused = candidate.post("/exam/1/start/", {})
    assert refused.status_code == 403 and b"data-read-only" in refused.content


# --- two tenants, two plans, at once -----------------------------------------------------------


def test_pro_and_free_tenants_get_their_own_answers_in_interleaved_requests(two_portals):
    a, b = two_portals
    put_on_plan(a, "pro")
    with a.activate():
        _, raw_a = create_api_key(name="LMS sync", scopes=["questions:read"])
    add_provider(a)
    a.login_admin()
    b.login_admin()
    make_exams(b, 3)
    make_exams(a, 3)

    for _ in range(2):  # twice: nothing one tenant's answer left behind changes the other's
        assert b"Powered by Viva" not in a.client.get("/").content
        assert b"Powered by Viva" in b.client.get("/").content
        assert sign_in_buttons(a) == ["Northfield Google"]
        assert sign_in_buttons(b) == []
        assert a.client.get("/api/v1/me", **bearer(raw_a)).status_code == 200
        assert EXAMS_ON_FREE in b.client.get("/cms/exams/add/").content.decode()
        assert "Create exam" in a.client.get("/cms/exams/add/").content.decode()
        assert SSO_ON_FREE in b.client.get("/cms/sso/").content.decode()
        assert SSO_ON_FREE not in a.client.get("/cms/sso/").content.decode()
    assert (exam_count(a), exam_count(b)) == (3, 3)
    assert not entitlements.check(b.tenant, entitlements.API_ACCESS).allowed
    assert entitlements.check(a.tenant, entitlements.API_ACCESS).allowed
