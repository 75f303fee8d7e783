"""Billing: plans and entitlements, Checkout against the local Stripe double, webhooks
(forgery, duplicates, shuffled order, failures), subscription status, seats, metered usage and
two-tenant isolation."""

from __future__ import annotations

import json
import random
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from billing import entitlements, gateway, services
from billing.models import Plan, SeatAssignment, StripeEvent, Subscription, UsageRecord
from billing.stripe_double import delivery, store
from billing.stripe_double.models import DoubleObject
from tests.conftest import make_member

WEBHOOK = "/billing/stripe/webhook/"


def platform_client() -> Client:
    return Client(HTTP_HOST="localhost")


class WebhookRecorder:
    """A deliverer that posts each webhook to the app's view through the test client and
    keeps what was sent (to replay it later)."""

    def __init__(self):
        self.client = platform_client()
        self.sent: list[tuple[bytes, dict[str, str]]] = []
        self.statuses: list[int] = []

    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        self.sent.append((body, headers))
        status = post_webhook(self.client, body, headers["Stripe-Signature"]).status_code
        self.statuses.append(status)
        return status


def post_webhook(client: Client, body: bytes, signature: str | None):
    extra = {"HTTP_STRIPE_SIGNATURE": signature} if signature is not None else {}
    return client.post(WEBHOOK, body, content_type="application/json", **extra)


@pytest.fixture
def webhooks():
    """Webhooks of the double go through the app's view (run on-commit callbacks to send)."""
    recorder = WebhookRecorder()
    with delivery.use_deliverer(recorder):
        yield recorder


def run(django_capture_on_commit_callbacks, fn, *args, **kwargs):
    """Run ``fn`` and then what it left for after commit (webhooks, usage reports)."""
    with django_capture_on_commit_callbacks(execute=True):
        return fn(*args, **kwargs)


def subscribe(portal, plan_code: str, seats: int, capture) -> Subscription:
    """Subscribe ``portal`` through Checkout on the double, paying on its page."""
    change = run(
        capture,
        services.choose_plan,
        tenant=portal.tenant,
        plan=Plan.objects.get(code=plan_code),
        seats=seats,
        email=portal.admin_email,
        success_url=f"http://{portal.domain}/cms/billing/?session_id={{CHECKOUT_SESSION_ID}}",
        cancel_url=f"http://{portal.domain}/cms/billing/",
    )
    session_id = change.checkout_url.rstrip("/").rsplit("/", 1)[1]
    run(capture, store.complete_checkout_session, session_id)
    return Subscription.objects.get(tenant=portal.tenant)


def double_subscription(subscription: Subscription) -> dict:
    return DoubleObject.objects.get(id=subscription.stripe_subscription_id).data


# --- plans and entitlements --------------------------------------------------------------------


def test_the_four_plans_are_seeded_and_free_matches_the_default_features(db):
    assert list(Plan.objects.values_list("code", flat=True)) == [
        "free",
        "starter",
        "pro",
        "enterprise",
    ]
    free = Plan.objects.get(code="free")
    assert frozenset(free.features) == entitlements.DEFAULT_PLAN_FEATURES
    assert set(Plan.objects.get(code="enterprise").features) == set(entitlements.FEATURES)


def test_a_tenant_without_subscription_is_on_free(two_portals):
    a, _ = two_portals
    assert entitlements.plan_of(a.tenant).code == "free"
    assert entitlements.has_feature(a.tenant, entitlements.CUSTOM_DOMAIN)
    answer = entitlements.check(a.tenant, entitlements.SSO)
    assert answer == entitlements.Entitlement(
        name="sso",
        allowed=False,
        plan="free",
        message="Single sign-on is not included in the Free plan. Upgrade under Settings → "
        "Billing to use it.",
    )
    seats = entitlements.check(a.tenant, entitlements.SEATS)
    assert (seats.allowed, seats.limit, seats.used, seats.remaining) == (True, 10, 0, 10)
    exams = entitlements.check(a.tenant, entitlements.EXAMS)
    assert (exams.limit, exams.used, exams.remaining) == (3, 0, 3)
    assert not entitlements.is_read_only(a.tenant)
    with pytest.raises(ValueError):
        entitlements.check(a.tenant, "teleportation")


def test_free_ai_credits_are_refused_beyond_the_plan_and_nothing_is_recorded(two_portals):
    a, _ = two_portals
    services.record_usage(tenant=a.tenant, feature=entitlements.AI_CREDITS, units=60)
    with pytest.raises(services.BillingError, match="The Free plan allows 100 AI credits"):
        services.record_usage(tenant=a.tenant, feature=entitlements.AI_CREDITS, units=41)
    assert UsageRecord.objects.filter(tenant=a.tenant).count() == 1
    answer = entitlements.check(a.tenant, entitlements.AI_CREDITS)
    assert (answer.used, answer.remaining, answer.metered) == (60, 40, False)


# --- checkout end to end -----------------------------------------------------------------------


def test_checkout_end_to_end_against_the_double(
    two_portals, webhooks, django_capture_on_commit_callbacks
):
    a, _ = two_portals
    a.login_admin()
    response = a.client.post("/cms/billing/plan/", {"plan": "starter", "seats": 50})
    assert response.status_code == 302
    checkout_url = response["Location"]
    assert checkout_url.startswith("http://localhost:8000/_stripe/checkout/cs_test_")
    path = checkout_url.removeprefix("http://localhost:8000")
    platform = platform_client()
    page = platform.get(path)
    assert page.status_code == 200
    assert b"<td data-quantity>50</td>" in page.content
    assert b"<td data-total>200.00 USD</td>" in page.content
    assert not Subscription.objects.get(tenant=a.tenant).stripe_subscription_id

    with django_capture_on_commit_callbacks(execute=True):
        paid = platform.post(path)
    assert paid.status_code == 302
    assert paid["Location"].startswith(f"http://{a.domain}/cms/billing/?session_id=cs_test_")
    subscription = Subscription.objects.get(tenant=a.tenant)
    assert (subscription.plan.code, subscription.status, subscription.seats) == (
        "starter",
        "trialing",
        50,
    )
    assert set(webhooks.statuses) == {200}
    types = {json.loads(body)["type"] for body, _ in webhooks.sent}
    assert types >= {"checkout.session.completed", "customer.subscription.created", "invoice.paid"}

    back = a.client.get(paid["Location"].removeprefix(f"http://{a.domain}"), follow=True)
    assert back.status_code == 200
    assert b'data-plan="starter"' in back.content
    assert b'data-status="trialing"' in back.content
    assert entitlements.has_feature(a.tenant, entitlements.REMOVE_PLATFORM_BRANDING)
    assert b"Powered by Viva" not in a.client.get("/").content


def test_changing_plan_and_seats_is_prorated_in_place(
    two_portals, webhooks, django_capture_on_commit_callbacks
):
    a, _ = two_portals
    capture = django_capture_on_commit_callbacks
    subscribe(a, "starter", 10, capture)
    sub = Subscription.objects.get(tenant=a.tenant)
    run(capture, store.set_subscription_status, sub.stripe_subscription_id, "active")
    change = run(
        capture,
        services.choose_plan,
        tenant=a.tenant,
        plan=Plan.objects.get(code="pro"),
        seats=50,
        email=a.admin_email,
        success_url="http://x/",
        cancel_url="http://x/",
    )
    assert change == services.PlanChange(changed=True)
    sub.refresh_from_db()
    assert (sub.plan.code, sub.seats, sub.status) == ("pro", 50, "active")
    invoices = gateway.list_invoices(customer_id=sub.stripe_customer_id)
    proration = invoices[0]
    assert proration.description == "Proration for the change of plan or seats"
    # 50 × 9.00 − 10 × 4.00 for (almost exactly) the whole period left
    assert 40_900 <= proration.amount_due <= 41_000
    assert entitlements.has_feature(a.tenant, entitlements.SSO)
    assert entitlements.check(a.tenant, entitlements.SEATS).limit == 50


def test_a_plan_choice_beyond_the_plan_or_below_the_seats_in_use_is_refused(two_portals):
    a, _ = two_portals
    starter = Plan.objects.get(code="starter")
    kwargs = {"email": a.admin_email, "success_url": "http://x/", "cancel_url": "http://x/"}
    sessions_before = DoubleObject.objects.filter(object="checkout.session").count()
    with pytest.raises(services.BillingError, match="allows up to 200 seats"):
        services.choose_plan(tenant=a.tenant, plan=starter, seats=201, **kwargs)
    for user_id in range(3):
        services.assign_seat(tenant=a.tenant, user_id=user_id, email=f"c{user_id}@a.test")
    with pytest.raises(services.BillingError, match="3 seats are assigned"):
        services.choose_plan(tenant=a.tenant, plan=starter, seats=2, **kwargs)
    assert DoubleObject.objects.filter(object="checkout.session").count() == sessions_before


# --- webhooks ----------------------------------------------------------------------------------


def _signed_event_body(subscription: Subscription) -> bytes:
    event = {
        "id": "evt_forged_0001",
        "object": "event",
        "type": "customer.subscription.deleted",
        "created": int(time.time()),
        "livemode": False,
        "api_version": "2025-09-30.clover",
        "data": {
            "object": {
                "id": subscription.stripe_subscription_id,
                "object": "subscription",
                "customer": subscription.stripe_customer_id,
                "status": "canceled",
            }
        },
    }
    return json.dumps(event).encode()


def test_forged_webhooks_are_refused_and_change_nothing(
    two_portals, webhooks, django_capture_on_commit_callbacks
):
    a, _ = two_portals
    subscription = subscribe(a, "starter", 5, django_capture_on_commit_callbacks)
    # Make Stripe's state differ from ours, so that any processing would show.
    DoubleObject.objects.filter(id=subscription.stripe_subscription_id).update(
        data={**double_subscription(subscription), "status": "canceled"}
    )
    events_before = StripeEvent.objects.count()
    body = _signed_event_body(subscription)
    secret = gateway.webhook_secret()
    now = int(time.time())
    client = platform_client()
    forgeries = {
        "unsigned": (body, None),
        "empty signature": (body, ""),
        "wrong secret": (body, delivery.sign(body, "whsec_not_the_secret")),
        "tampered body": (body.replace(b"canceled", b"cancelled"), delivery.sign(body, secret)),
        "stale timestamp": (body, delivery.sign(body, secret, timestamp=now - 301)),
        "garbage header": (body, "t=abc,v1=zzz"),
    }
    for name, (payload, signature) in forgeries.items():
        response = post_webhook(client, payload, signature)
        assert response.status_code == 400, name
    assert StripeEvent.objects.count() == events_before
    assert Subscription.objects.get(tenant=a.tenant).status == "trialing"

    # The same body, signed with the right secret now, is accepted (the control).
    assert post_webhook(client, body, delivery.sign(body, secret)).status_code == 200
    assert StripeEvent.objects.filter(event_id="evt_forged_0001").exists()
    assert Subscription.objects.get(tenant=a.tenant).status == "canceled"
    assert client.get(WEBHOOK).status_code == 405


def test_a_failure_mid_processing_is_recorded_and_the_redelivery_applies_once(
    two_portals, webhooks, django_capture_on_commit_callbacks, monkeypatch
):
    a, _ = two_portals
    subscription = subscribe(a, "starter", 5, django_capture_on_commit_callbacks)
    held = []
    with delivery.use_deliverer(lambda url, body, headers: held.append((body, headers)) or 200):
        run(
            django_capture_on_commit_callbacks,
            store.set_subscription_status,
            subscription.stripe_subscription_id,
            "past_due",
        )
    body, headers = next(
        (b, h) for b, h in held if json.loads(b)["type"] == "customer.subscription.updated"
    )
    event_id = json.loads(body)["id"]
    real_sync = services.sync_subscription
    calls = []

    def crash_after_writing(**kwargs):
        calls.append(kwargs)
        real_sync(**kwargs)  # the write happens... then the process "dies"
        raise RuntimeError("worker lost")

    monkeypatch.setattr(services, "sync_subscription", crash_after_writing)
    client = platform_client()
    assert post_webhook(client, body, headers["Stripe-Signature"]).status_code == 500
    event = StripeEvent.objects.get(event_id=event_id)
    assert (event.attempts, event.processed_at, event.error) == (
        1,
        None,
        "RuntimeError: worker lost",
    )
    subscription.refresh_from_db()
    assert subscription.status == "trialing"  # the failed attempt was rolled back

    monkeypatch.setattr(services, "sync_subscription", real_sync)
    assert post_webhook(client, body, headers["Stripe-Signature"]).status_code == 200
    assert post_webhook(client, body, headers["Stripe-Signature"]).status_code == 200
    event.refresh_from_db()
    assert (event.attempts, event.error) == (2, "")
    assert event.processed_at is not None
    subscription.refresh_from_db()
    assert subscription.status == "past_due"
    grace_until = subscription.grace_until
    assert grace_until is not None
    # A later duplicate of any past_due event never moves the grace period.
    other = next(b for b, h in held if json.loads(b)["type"] == "invoice.payment_failed")
    assert (
        post_webhook(client, other, delivery.sign(other, gateway.webhook_secret())).status_code
        == 200
    )
    subscription.refresh_from_db()
    assert subscription.grace_until == grace_until
    assert StripeEvent.objects.filter(event_id=event_id).count() == 1


def test_a_thousand_shuffled_and_duplicated_events_converge_to_stripes_state(
    two_portals, django_capture_on_commit_callbacks
):
    a, _ = two_portals
    capture = django_capture_on_commit_callbacks
    held: list[tuple[bytes, dict[str, str]]] = []

    def hold(url, body, headers):
        held.append((body, headers))
        return 200

    prices = {}
    with delivery.use_deliverer(hold):
        subscription = subscribe(a, "starter", 5, capture)
        assert not subscription.stripe_subscription_id  # nothing delivered yet
        sub_id = DoubleObject.objects.get(
            object="subscription", customer=subscription.stripe_customer_id
        ).id
        for code in ("starter", "pro", "enterprise"):
            prices[code] = services.ensure_plan_price(Plan.objects.get(code=code))
        rng = random.Random(7)  # noqa: S311 - a reproducible shuffle
        while len(held) < 1000:
            step = rng.random()
            if step < 0.6:
                run(
                    capture,
                    store.update_subscription,
                    sub_id,
                    price_id=prices[rng.choice(list(prices))],
                    quantity=rng.randint(1, 150),
                )
            elif step < 0.8:
                run(capture, store.set_subscription_status, sub_id, "past_due")
            else:
                run(capture, store.set_subscription_status, sub_id, "active")
        run(capture, store.update_subscription, sub_id, price_id=prices["pro"], quantity=77)
        run(capture, store.set_subscription_status, sub_id, "past_due")
    assert len(held) >= 1000
    deliveries = held + random.Random(11).sample(held, 300)  # noqa: S311 - 300 duplicates
    random.Random(13).shuffle(deliveries)  # noqa: S311
    for body, headers in deliveries:
        from billing.webhooks import receive_webhook

        receive_webhook(payload=body, signature=headers["Stripe-Signature"])

    final = Subscription.objects.get(tenant=a.tenant)
    assert (final.plan.code, final.seats, final.status) == ("pro", 77, "past_due")
    assert final.grace_until is not None
    unique = {json.loads(body)["id"] for body, _ in held}
    stored = StripeEvent.objects.filter(event_id__in=unique)
    assert stored.count() == len(unique)
    assert set(stored.values_list("attempts", flat=True)) == {1}
    assert not stored.filter(processed_at__isnull=True).exists()


# --- subscription status drives the tenant -----------------------------------------------------


def test_past_due_grace_then_read_only_and_recovery(
    two_portals, webhooks, django_capture_on_commit_callbacks
):
    a, _ = two_portals
    capture = django_capture_on_commit_callbacks
    subscription = subscribe(a, "starter", 5, capture)
    sub_id = subscription.stripe_subscription_id
    run(capture, store.set_subscription_status, sub_id, "past_due")
    subscription.refresh_from_db()
    assert subscription.status == "past_due"
    grace_until = subscription.grace_until
    assert grace_until - timezone.now() == pytest.approx(
        timedelta(days=7), abs=timedelta(minutes=1)
    )
    assert not entitlements.is_read_only(a.tenant)
    assert entitlements.is_read_only(a.tenant, now=grace_until + timedelta(seconds=1))
    a.login_admin()
    page = a.client.get("/cms/billing/")
    assert b"The last payment failed" in page.content
    home = a.client.get("/cms/")
    assert b"data-billing-banner" in home.content

    Subscription.objects.filter(pk=subscription.pk).update(grace_until=timezone.now())
    assert entitlements.is_read_only(a.tenant)
    with pytest.raises(services.BillingError, match="read-only"):
        services.assign_seat(tenant=a.tenant, user_id=1, email="c@a.test")
    assert (
        b"grace period has ended: the portal is read-only" in a.client.get("/cms/billing/").content
    )

    run(capture, store.set_subscription_status, sub_id, "active")
    subscription.refresh_from_db()
    assert (subscription.status, subscription.grace_until) == ("active", None)
    assert not entitlements.is_read_only(a.tenant)
    assert b"data-billing-banner" not in a.client.get("/cms/billing/").content


def test_canceled_is_read_only_and_a_new_checkout_reactivates(
    two_portals, webhooks, django_capture_on_commit_callbacks
):
    a, _ = two_portals
    capture = django_capture_on_commit_callbacks
    subscription = subscribe(a, "pro", 20, capture)
    a.login_admin()
    # The customer portal of the double cancels the subscription.
    response = a.client.post("/cms/billing/portal/")
    assert response.status_code == 302
    portal_path = response["Location"].removeprefix("http://localhost:8000")
    platform = platform_client()
    with capture(execute=True):
        assert platform.post(portal_path, {"action": "cancel"}).status_code == 302
    subscription.refresh_from_db()
    assert subscription.status == "canceled"
    assert entitlements.is_read_only(a.tenant)
    assert b"The subscription has ended" in a.client.get("/cms/billing/").content
    # Data export stays open to everyone.
    assert a.client.get("/accounts/privacy/").status_code == 200

    again = subscribe(a, "starter", 5, capture)
    assert again.stripe_subscription_id != subscription.stripe_subscription_id
    assert (again.status, again.plan.code) == ("active", "starter")  # no second trial
    assert not entitlements.is_read_only(a.tenant)
    # A late event of the old, canceled subscription does not end the new one.
    services.sync_subscription(stripe_subscription_id=subscription.stripe_subscription_id)
    again.refresh_from_db()
    assert again.status == "active"


# --- seats -------------------------------------------------------------------------------------


def test_seats_are_assigned_up_to_the_limit_and_released(two_portals):
    a, b = two_portals
    Subscription.objects.create(
        tenant=a.tenant, plan=Plan.objects.get(code="starter"), status="active", seats=2
    )
    first = services.assign_seat(tenant=a.tenant, user_id=1, email="one@a.test")
    assert services.assign_seat(tenant=a.tenant, user_id=1, email="one@a.test") == first
    services.assign_seat(tenant=a.tenant, user_id=2, email="two@a.test")
    with pytest.raises(services.SeatLimitReached) as refused:
        services.assign_seat(tenant=a.tenant, user_id=3, email="three@a.test")
    assert str(refused.value) == (
        "All 2 seats you bought are in use. Buy more seats or release a seat under "
        "Settings → Billing."
    )
    assert SeatAssignment.objects.filter(tenant=a.tenant, released_at__isnull=True).count() == 2
    assert services.release_seat(tenant=a.tenant, user_id=1) is True
    assert services.release_seat(tenant=a.tenant, user_id=1) is False
    services.assign_seat(tenant=a.tenant, user_id=3, email="three@a.test")
    # B's seats are B's: on Free, 10, none used.
    seats_b = entitlements.check(b.tenant, entitlements.SEATS)
    assert (seats_b.limit, seats_b.used) == (10, 0)


def test_concurrent_seat_assignments_never_exceed_the_seats_bought(make_committed_portal):
    import threading

    from django.db import connection

    portal = make_committed_portal("seaty")
    Subscription.objects.create(
        tenant=portal.tenant, plan=Plan.objects.get(code="starter"), status="active", seats=5
    )
    barrier = threading.Barrier(20)
    outcomes: list[str] = []

    def invite(user_id: int) -> None:
        try:
            barrier.wait()
            services.assign_seat(tenant=portal.tenant, user_id=user_id, email=f"{user_id}@s.test")
            outcomes.append("assigned")
        except services.SeatLimitReached:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=invite, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["assigned"] * 5 + ["refused"] * 15
    assert (
        SeatAssignment.objects.filter(tenant=portal.tenant, released_at__isnull=True).count() == 5
    )


# --- metered AI usage --------------------------------------------------------------------------


def test_ai_usage_beyond_the_credits_is_reported_once_as_meter_events(
    two_portals, webhooks, django_capture_on_commit_callbacks
):
    a, _ = two_portals
    capture = django_capture_on_commit_callbacks
    subscription = subscribe(a, "starter", 5, capture)
    within = run(capture, services.record_usage, tenant=a.tenant, feature="ai_credits", units=900)
    beyond = run(capture, services.record_usage, tenant=a.tenant, feature="ai_credits", units=300)
    assert (within.overage_units, beyond.overage_units) == (0, 200)
    within.refresh_from_db()
    beyond.refresh_from_db()
    assert within.reported_to_stripe_at is None
    assert beyond.reported_to_stripe_at is not None
    customer = subscription.stripe_customer_id
    assert store.metered_units(customer, services.AI_METER_EVENT) == 200
    # A retry of the task, and a retry of the HTTP call with the same key, count once.
    assert services.report_usage_record(tenant_id=a.tenant.pk, usage_record_id=beyond.pk) is False
    gateway.report_meter_event(
        event_name=services.AI_METER_EVENT,
        customer_id=customer,
        value=200,
        identifier=str(beyond.idempotency_key),
        timestamp=beyond.occurred_at,
    )
    assert store.metered_units(customer, services.AI_METER_EVENT) == 200
    answer = entitlements.check(a.tenant, entitlements.AI_CREDITS)
    assert (answer.allowed, answer.used, answer.remaining, answer.metered) == (True, 1200, 0, True)
    a.login_admin()
    page = a.client.get("/cms/billing/")
    assert b"<span data-overage>200</span>" in page.content


def test_the_double_honours_idempotency_keys(db):
    first = gateway.create_customer(name="Same", email="same@x.test", tenant_schema="same")
    second = gateway.create_customer(name="Same", email="same@x.test", tenant_schema="same")
    assert first == second
    assert DoubleObject.objects.filter(object="customer", data__name="Same").count() == 1


# --- two tenants -------------------------------------------------------------------------------


def test_tenant_b_never_sees_or_uses_tenant_a_billing(
    two_portals, webhooks, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    a, b = two_portals
    capture = django_capture_on_commit_callbacks
    sub_a = subscribe(a, "pro", 30, capture)
    run(capture, store.set_subscription_status, sub_a.stripe_subscription_id, "active")
    run(capture, services.record_usage, tenant=a.tenant, feature="ai_credits", units=77)
    numbers = [i.number for i in gateway.list_invoices(customer_id=sub_a.stripe_customer_id)]
    assert numbers
    a.login_admin()
    b.login_admin()
    with django_assert_max_num_queries(60):  # Wagtail's admin frame included
        page_a = a.client.get("/cms/billing/").content
    page_b = b.client.get("/cms/billing/").content
    for number in numbers:
        assert f'data-invoice="{number}"'.encode() in page_a
        assert number.encode() not in page_b
    assert b'data-plan="pro"' in page_a and b'data-plan="free"' in page_b
    assert b'<tr data-usage="ai_credits"><td>AI credits this month</td><td>0</td>' in page_b

    # B brings A's checkout session id back to its own billing page: nothing happens.
    session_a = DoubleObject.objects.get(
        object="checkout.session", customer=sub_a.stripe_customer_id
    )
    response = b.client.get(f"/cms/billing/?session_id={session_a.id}")
    assert response.status_code == 302
    assert (
        not Subscription.objects.filter(tenant=b.tenant).exclude(stripe_subscription_id="").exists()
    )
    # B's portal button opens B's own billing account only (B has none yet).
    portals_before = DoubleObject.objects.filter(object="billing_portal.session").count()
    response = b.client.post("/cms/billing/portal/", follow=True)
    assert b"There is no billing account yet" in response.content
    assert DoubleObject.objects.filter(object="billing_portal.session").count() == portals_before
    # A's subscription cannot be mirrored onto B.
    state = gateway.retrieve_subscription(sub_a.stripe_subscription_id)
    services.ensure_customer(tenant=b.tenant, email=b.admin_email)
    assert services.apply_subscription_state(tenant=b.tenant, state=state) is None
    assert Subscription.objects.get(tenant=b.tenant).plan.code == "free"
    # A's session on B's host is anonymous; a member of B without the admin role gets 404.
    assert a.client.get(f"http://{b.domain}/cms/billing/", HTTP_HOST=b.domain).status_code in (
        302,
        404,
    )
    make_member(b, "teacher@beta.test", role="author")
    teacher = Client(HTTP_HOST=b.domain)
    from tests.conftest import sign_in

    sign_in(teacher, "teacher@beta.test")
    assert teacher.get("/cms/billing/").status_code == 404
    assert teacher.post("/cms/billing/plan/", {"plan": "pro", "seats": 5}).status_code == 404


# --- demo --------------------------------------------------------------------------------------


def test_the_billing_demo_puts_acme_on_starter_and_uni_on_pro_with_invoices(
    make_portal, django_capture_on_commit_callbacks
):
    from billing.demo import seed_billing_demo

    acme = make_portal("acme", "Acme Corp", "company")
    uni = make_portal("uni", "Northfield University")
    with django_capture_on_commit_callbacks(execute=True):
        assert seed_billing_demo() == ["acme: starter with 10 seats", "uni: pro with 120 seats"]
    assert seed_billing_demo() == []
    acme_sub = Subscription.objects.get(tenant=acme.tenant)
    uni_sub = Subscription.objects.get(tenant=uni.tenant)
    assert (acme_sub.plan.code, acme_sub.status, acme_sub.seats) == ("starter", "active", 10)
    assert (uni_sub.plan.code, uni_sub.status, uni_sub.seats) == ("pro", "active", 120)
    paid = [
        i for i in gateway.list_invoices(customer_id=uni_sub.stripe_customer_id) if i.amount_paid
    ]
    assert len(paid) == 2 and {i.amount_paid for i in paid} == {120 * 900}
    uni.login_admin()
    page = uni.client.get("/cms/billing/").content
    assert all(f'data-invoice="{i.number}"'.encode() in page for i in paid)
    # The demo's "Done when": acme buys 50 seats and upgrades to Pro.
    acme.login_admin()
    with django_capture_on_commit_callbacks(execute=True):
        response = acme.client.post("/cms/billing/plan/", {"plan": "pro", "seats": 50})
    assert response.status_code == 302 and response["Location"] == "/cms/billing/"
    acme_sub.refresh_from_db()
    assert (acme_sub.plan.code, acme_sub.seats) == ("pro", 50)


def test_checkout_with_real_commits_delivers_the_webhook_after_commit(make_committed_portal):
    """No test transaction: the double's page commits, its webhook goes out after commit
    (through the Celery task, in-process) and the default deliverer reaches the app.
    ``committed_db`` removes what the double and the app stored."""
    objects_before = set(DoubleObject.objects.values_list("id", flat=True))
    portal = make_committed_portal("commity")
    change = services.choose_plan(
        tenant=portal.tenant,
        plan=Plan.objects.get(code="enterprise"),
        seats=3,
        email=portal.admin_email,
        success_url=f"http://{portal.domain}/cms/billing/?session_id={{CHECKOUT_SESSION_ID}}",
        cancel_url=f"http://{portal.domain}/cms/billing/",
    )
    path = change.checkout_url.removeprefix("http://localhost:8000")
    assert platform_client().post(path).status_code == 302
    subscription = Subscription.objects.get(tenant=portal.tenant)
    assert (subscription.plan.code, subscription.status, subscription.seats) == (
        "enterprise",
        "active",
        3,
    )
    new_events = DoubleObject.objects.filter(object="event").exclude(id__in=objects_before)
    assert new_events.count() >= 4
    assert not new_events.filter(delivered_at__isnull=True).exists()


def test_a_read_only_portal_refuses_writes_but_not_reads_export_or_billing(two_portals, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "billing.middleware.ReadOnlyPortalMiddleware"]
    a, b = two_portals
    Subscription.objects.create(
        tenant=a.tenant, plan=Plan.objects.get(code="starter"), status="canceled", seats=5
    )
    a.login_admin()
    b.login_admin()
    refused = a.client.post("/cms/pages/add/", {"title": "x"})
    assert refused.status_code == 403
    assert b"data-read-only" in refused.content
    assert a.client.get("/cms/").status_code == 200
    assert a.client.get("/accounts/privacy/").status_code == 200
    assert a.client.post("/cms/billing/plan/", {"plan": "x"}).status_code == 302
    # B, on Free with no subscription, writes as before.
    assert b.client.post("/cms/pages/add/", {"title": "x"}).status_code != 403


def test_platform_staff_see_stripe_events_in_the_admin(
    db, two_portals, webhooks, django_capture_on_commit_callbacks
):
    from django.contrib.auth import get_user_model

    a, _ = two_portals
    subscribe(a, "starter", 5, django_capture_on_commit_callbacks)
    event = StripeEvent.objects.filter(type="checkout.session.completed").get()
    staff = get_user_model().objects.create_superuser(email="ops@viva.test", password="x" * 20)
    client = platform_client()
    client.force_login(staff)
    listing = client.get("/admin/billing/stripeevent/")
    assert listing.status_code == 200
    assert event.event_id.encode() in listing.content
    assert client.get(f"/admin/billing/stripeevent/{event.pk}/change/").status_code == 200


def test_usage_that_could_not_be_reported_is_reported_later(
    two_portals, webhooks, django_capture_on_commit_callbacks, monkeypatch
):
    from billing.tasks import report_pending_usage

    a, _ = two_portals
    capture = django_capture_on_commit_callbacks
    subscription = subscribe(a, "starter", 5, capture)
    real_report = gateway.report_meter_event

    def stripe_is_down(**kwargs):
        raise gateway.GatewayError("Stripe is unreachable")

    monkeypatch.setattr(gateway, "report_meter_event", stripe_is_down)
    record = run(capture, services.record_usage, tenant=a.tenant, feature="ai_credits", units=1500)
    record.refresh_from_db()
    assert (record.overage_units, record.reported_to_stripe_at) == (500, None)
    assert record.report_error == "Stripe is unreachable"

    monkeypatch.setattr(gateway, "report_meter_event", real_report)
    assert report_pending_usage() == 1
    assert report_pending_usage() == 0
    record.refresh_from_db()
    assert record.reported_to_stripe_at is not None and record.report_error == ""
    assert store.metered_units(subscription.stripe_customer_id, services.AI_METER_EVENT) == 500


def test_without_a_key_outside_development_the_double_never_stands_in(two_portals, settings):
    settings.VIVA_STRIPE_DOUBLE_SERVED = False
    a, _ = two_portals
    with pytest.raises(gateway.GatewayError, match="STRIPE_SECRET_KEY is not set"):
        gateway.create_customer(name="x", email="x@x.test", tenant_schema="x")
    a.login_admin()
    response = a.client.post("/cms/billing/plan/", {"plan": "pro", "seats": 5}, follow=True)
    assert b"Payments are not configured" in response.content
    assert entitlements.plan_of(a.tenant).code == "free"
    body = b'{"id": "evt_1"}'
    signature = delivery.sign(body, gateway.DOUBLE_WEBHOOK_SECRET)
    assert post_webhook(platform_client(), body, signature).status_code == 503
    assert not StripeEvent.objects.filter(event_id="evt_1").exists()
