"""Marketplace payments through Stripe (issue 8) and the metered AI price (issue 7), offline
against the local Stripe double: Checkout in payment mode end to end through the hosted page
and signed webhooks (duplicated, shuffled, tampered), Connect onboarding and payouts with the
platform's fee and idempotent retries, per-seat licences enforced when candidates start
(also concurrently), three tenants kept apart, and the gateway's new calls as a contract."""

from __future__ import annotations

import json
import random
import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from assessments.delivery import services as delivery
from assessments.delivery.models import Attempt
from billing import gateway
from billing import services as billing
from billing.models import Plan, StripeEvent, Subscription
from billing.stripe_double import delivery as webhook_delivery
from billing.stripe_double import store
from billing.stripe_double.models import DoubleIdempotencyKey, DoubleObject
from billing.webhooks import receive_webhook
from marketplace import payments, selectors, services
from marketplace.models import (
    Installation,
    Licence,
    PublisherAccount,
    Purchase,
)
from marketplace.services import MarketplaceError

from .conftest import make_member, sign_in
from .test_billing import WebhookRecorder, post_webhook, subscribe
from .test_marketplace import buy, make_three, publish

# No module-wide django_db mark: the concurrency test needs real commits (``committed_db``);
# every other test gets its rolled-back transaction through ``db`` or the portal fixtures.
User = get_user_model()
DOUBLE = "http://localhost:8000"


@pytest.fixture
def three(make_portal):
    """press publishes, uni buys, acme is another buyer (or not)."""
    return make_three(make_portal)


@pytest.fixture
def webhooks():
    recorder = WebhookRecorder()
    with webhook_delivery.use_deliverer(recorder):
        yield recorder


def platform() -> Client:
    return Client(HTTP_HOST="localhost")


def start_buying(portal, listing, seats=None):
    """The portal's admin presses "Buy": the path of the double's Checkout page."""
    data = {"seats": seats} if seats is not None else {}
    response = portal.client.post(f"/cms/marketplace/listing/{listing.pk}/buy/", data)
    assert response.status_code == 302, response.content[:500]
    assert response["Location"].startswith(f"{DOUBLE}/_stripe/checkout/cs_test_")
    return response["Location"].removeprefix(DOUBLE)


def held_webhooks(capture, fn, *args):
    """Run ``fn`` and keep the webhooks it sends after commit instead of delivering them."""
    held: list[tuple[bytes, dict[str, str]]] = []

    def hold(url, body, headers):
        held.append((body, headers))
        return 200

    with webhook_delivery.use_deliverer(hold), capture(execute=True):
        fn(*args)
    return held


# --- Checkout end to end -----------------------------------------------------------------------


def test_buying_seats_through_the_doubles_checkout_and_its_webhook(
    three, webhooks, django_capture_on_commit_callbacks
):
    press, uni, _ = three
    listing = publish(press, price_model="per_seat", price_amount=300)
    uni.login_admin()
    checkout = start_buying(uni, listing, seats=4)
    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.seats, purchase.amount, purchase.platform_fee) == (
        "pending",
        4,
        1200,
        180,
    )
    assert purchase.provider == "stripe" and purchase.destination_account == ""
    page = platform().get(checkout)
    assert page.status_code == 200
    assert b"<td data-quantity>4</td>" in page.content
    assert b"<td data-total>12.00 USD</td>" in page.content
    assert not Licence.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        paid = platform().post(checkout)
    assert paid["Location"] == (
        f"http://{uni.domain}/cms/marketplace/purchases/return/"
        f"?session_id={purchase.checkout_session_id}"
    )
    assert set(webhooks.statuses) == {200}
    sent = {json.loads(body)["type"] for body, _ in webhooks.sent}
    assert "checkout.session.completed" in sent
    purchase.refresh_from_db()
    licence = Licence.objects.get()
    assert (purchase.status, purchase.payout_status) == ("paid", "owed")
    assert purchase.payment_intent_id.startswith("pi_")
    assert (licence.buyer_id, licence.seats, licence.source) == (uni.tenant.pk, 4, "purchase")
    # The success page after the webhook: the same purchase, nothing granted twice.
    back = uni.client.get(paid["Location"].removeprefix(f"http://{uni.domain}"), follow=True)
    assert b"Payment received" in back.content
    # Every webhook again (Stripe retries): still one licence of 4 seats.
    for body, headers in webhooks.sent:
        assert post_webhook(platform(), body, headers["Stripe-Signature"]).status_code == 200
    assert Licence.objects.get().seats == 4
    # The page of a paid session pays nothing again.
    assert platform().post(checkout).status_code == 200
    assert DoubleObject.objects.filter(object="payment_intent").count() == 1


def test_shuffled_and_duplicated_webhooks_grant_each_purchase_once(
    three, django_capture_on_commit_callbacks
):
    press, uni, _ = three
    listing = publish(press, price_model="per_seat", price_amount=300)
    sessions = []
    for seats in (3, 2):
        started = payments.start_purchase(
            buyer=uni.tenant,
            listing=listing,
            seats=seats,
            success_url="http://x/",
            cancel_url="http://x/",
        )
        sessions.append(started.purchase.checkout_session_id)
    held = []
    for session_id in sessions:
        held += held_webhooks(
            django_capture_on_commit_callbacks, store.complete_checkout_session, session_id
        )
    assert not Licence.objects.exists()  # nothing delivered yet
    deliveries = held * 3
    random.Random(5).shuffle(deliveries)  # noqa: S311 - a reproducible shuffle
    for body, headers in deliveries:
        receive_webhook(payload=body, signature=headers["Stripe-Signature"])
    assert Licence.objects.get(buyer=uni.tenant).seats == 5
    assert list(Purchase.objects.values_list("status", flat=True)) == ["paid", "paid"]
    unique = {json.loads(body)["id"] for body, _ in held}
    assert StripeEvent.objects.filter(event_id__in=unique).count() == len(unique)
    assert set(
        StripeEvent.objects.filter(event_id__in=unique).values_list("attempts", flat=True)
    ) == {1}


def test_tampered_or_forged_webhooks_are_refused_and_grant_nothing(
    three, django_capture_on_commit_callbacks
):
    press, uni, acme = three
    listing = publish(press, price_model="one_off", price_amount=4900)
    mine = payments.start_purchase(
        buyer=uni.tenant, listing=listing, success_url="http://x/", cancel_url="http://x/"
    ).purchase
    theirs = payments.start_purchase(
        buyer=acme.tenant, listing=listing, success_url="http://x/", cancel_url="http://x/"
    ).purchase
    held = held_webhooks(
        django_capture_on_commit_callbacks,
        store.complete_checkout_session,
        mine.checkout_session_id,
    )
    body, headers = next(
        (b, h) for b, h in held if json.loads(b)["type"] == "checkout.session.completed"
    )
    signature = headers["Stripe-Signature"]
    # acme rewrites uni's paid event to name acme's own unpaid session, keeping the signature
    tampered = body.replace(mine.checkout_session_id.encode(), theirs.checkout_session_id.encode())
    forged = webhook_delivery.sign(tampered, "whsec_guessed")
    for payload, sig in ((tampered, signature), (tampered, forged), (body, None)):
        assert post_webhook(platform(), payload, sig).status_code == 400
    assert not Licence.objects.exists() and not StripeEvent.objects.exists()
    assert set(Purchase.objects.values_list("status", flat=True)) == {"pending"}
    # Correctly signed but claiming a session that is not paid: re-read from Stripe, ignored.
    event_id = json.loads(body)["id"]
    lie = tampered.replace(event_id.encode(), b"evt_signed_but_unpaid")
    assert (
        post_webhook(
            platform(), lie, webhook_delivery.sign(lie, gateway.webhook_secret())
        ).status_code
        == 200
    )
    assert not Licence.objects.exists()
    # The genuine event grants uni's licence only.
    assert post_webhook(platform(), body, signature).status_code == 200
    assert list(Licence.objects.values_list("buyer__slug", flat=True)) == ["uni"]


# --- three tenants -----------------------------------------------------------------------------


def test_publisher_and_other_buyer_never_reach_a_buyers_purchase(
    three, django_capture_on_commit_callbacks
):
    press, uni, acme = three
    listing = publish(press, price_model="per_seat", price_amount=300)
    uni.login_admin()
    checkout = start_buying(uni, listing, seats=2)
    purchase = Purchase.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        platform().post(checkout)
    acme.login_admin()
    # acme brings uni's session id to its own return page: 404, nothing granted to acme.
    stolen = acme.client.get(
        f"/cms/marketplace/purchases/return/?session_id={purchase.checkout_session_id}"
    )
    assert stolen.status_code == 404
    page = acme.client.get(f"/cms/marketplace/listing/{listing.pk}/").content.decode()
    assert "Seats bought" not in page
    assert not Licence.objects.filter(buyer=acme.tenant).exists()
    refused = acme.client.post(f"/cms/marketplace/listing/{listing.pk}/install/", follow=True)
    assert refused.status_code == 200
    assert not Installation.objects.filter(buyer=acme.tenant).exists()
    # uni's session from acme's host with uni's cookie is anonymous there.
    uni_cookie = uni.client.cookies
    intruder = Client(HTTP_HOST=acme.domain)
    intruder.cookies = uni_cookie
    assert (
        intruder.get(
            f"/cms/marketplace/purchases/return/?session_id={purchase.checkout_session_id}"
        ).status_code
        == 302
    )
    # acme cannot pay out press's sales, nor start onboarding for press.
    with pytest.raises(MarketplaceError, match="Set up payouts first"):
        payments.pay_out(publisher=acme.tenant)
    # The publisher sees counts and money, never the buyer.
    press.login_admin()
    mine = press.client.get("/cms/marketplace/mine/").content.decode()
    assert "<td>1</td><td>2</td><td>600</td><td>90</td><td>510</td><td>510</td>" in mine
    for secret in ("Northfield", uni.domain, uni.admin_email, purchase.checkout_session_id):
        assert secret not in mine
    with uni.activate():
        assert User.objects.filter(email=uni.admin_email).exists()
    connection.set_schema_to_public()


# --- Stripe Connect ----------------------------------------------------------------------------


def test_onboarding_then_payouts_with_the_fee_split_and_idempotent_retries(
    three, settings, django_capture_on_commit_callbacks
):
    settings.MARKETPLACE_PLATFORM_FEE_PERCENT = 20
    press, uni, acme = three
    listing = publish(press, price_model="per_seat", price_amount=300)
    before = buy(uni, listing, seats=4)  # sold before payouts exist: the platform collects
    assert (before.amount, before.platform_fee, before.publisher_share) == (1200, 240, 960)
    assert before.payout_status == "owed"

    press.login_admin()
    mine = press.client.get("/cms/marketplace/mine/")
    assert b'data-payouts="none"' in mine.content and b"Set up payouts" in mine.content
    assert press.client.post("/cms/marketplace/mine/payouts/pay/", follow=True).status_code == 200
    assert Purchase.objects.get().payout_status == "owed"
    # The refresh URL (GET) before any account exists changes nothing.
    assert press.client.get("/cms/marketplace/mine/payouts/setup/").status_code == 302
    assert not PublisherAccount.objects.exists()

    setup = press.client.post("/cms/marketplace/mine/payouts/setup/")
    assert setup["Location"].startswith(f"{DOUBLE}/_stripe/connect/onboarding/acctlink_")
    account = PublisherAccount.objects.get(publisher=press.tenant)
    assert account.stripe_account_id.startswith("acct_") and not account.payouts_enabled
    # a second click reuses the account
    again = press.client.post("/cms/marketplace/mine/payouts/setup/")
    assert PublisherAccount.objects.count() == 1
    assert again["Location"] != setup["Location"]
    onboarding = setup["Location"].removeprefix(DOUBLE)
    assert platform().get(onboarding).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        done = platform().post(onboarding)
    assert done["Location"] == f"http://{press.domain}/cms/marketplace/mine/payouts/return/"
    # a spent link goes to the refresh URL, which opens a fresh one
    spent = platform().get(onboarding)
    assert spent["Location"] == f"http://{press.domain}/cms/marketplace/mine/payouts/setup/"
    back = press.client.get("/cms/marketplace/mine/payouts/return/", follow=True)
    assert b"Payouts are set up" in back.content
    account.refresh_from_db()
    assert account.payouts_enabled and account.charges_enabled

    # "Pay out now": the publisher's share of the earlier sale, one transfer.
    with django_capture_on_commit_callbacks(execute=True):
        paid_out = press.client.post("/cms/marketplace/mine/payouts/pay/", follow=True)
    assert b"Paid out 1 sales: 9.60 USD." in paid_out.content
    before.refresh_from_db()
    assert before.payout_status == "transferred" and before.transfer_id.startswith("tr_")
    transfer = DoubleObject.objects.get(id=before.transfer_id).data
    assert (transfer["amount"], transfer["destination"], transfer["transfer_group"]) == (
        960,
        account.stripe_account_id,
        f"marketplace-purchase-{before.pk}",
    )
    # A retry after a crash between Stripe's answer and our update: the same transfer.
    Purchase.objects.filter(pk=before.pk).update(payout_status="owed", transfer_id="")
    assert payments.pay_out(publisher=press.tenant)[0].transfer_id == before.transfer_id
    assert store.balance_of(account.stripe_account_id) == 960
    # ... and after Stripe has forgotten the idempotency key (24 hours): found by its group.
    forgotten = DoubleIdempotencyKey.objects.filter(key__contains="viva-marketplace-transfer-")
    assert forgotten.delete()[0] == 1
    Purchase.objects.filter(pk=before.pk).update(payout_status="owed", transfer_id="")
    assert payments.pay_out(publisher=press.tenant)[0].transfer_id == before.transfer_id
    assert DoubleObject.objects.filter(object="transfer").count() == 1
    # Nothing owed any more: another click sends nothing.
    assert payments.pay_out(publisher=press.tenant) == []

    # Sold after onboarding: a destination charge, the fee kept by the platform at sale.
    after = buy(acme, listing, seats=5)
    assert after.destination_account == account.stripe_account_id
    assert (after.amount, after.platform_fee, after.payout_status) == (1500, 300, "at_sale")
    intent = DoubleObject.objects.get(id=after.payment_intent_id).data
    assert intent["application_fee_amount"] == 300
    assert intent["transfer_data"] == {"destination": account.stripe_account_id}
    assert store.balance_of(account.stripe_account_id) == 960 + 1200
    assert payments.pay_out(publisher=press.tenant) == []
    report = selectors.sales_report(publisher=press.tenant)
    totals = report.totals
    assert (totals.gross, totals.platform_fees, totals.owed, totals.transferred) == (
        2700,
        540,
        0,
        2160,
    )


def test_payout_setup_needs_the_selling_plan_and_an_enabled_account(three):
    press, uni, _ = three
    uni.login_admin()
    refused = uni.client.post("/cms/marketplace/mine/payouts/setup/", follow=True)
    assert b"Selling in the marketplace is not included in your plan" in refused.content
    assert not PublisherAccount.objects.exists()
    listing = publish(press, price_model="one_off", price_amount=1000)  # press may sell now
    url = payments.start_payout_onboarding(
        publisher=press.tenant,
        email="p@press.test",
        refresh_url="http://x/r",
        return_url="http://x/b",
    )
    assert "/_stripe/connect/onboarding/" in url
    buy(uni, listing)
    with pytest.raises(MarketplaceError, match="has not enabled payouts"):
        payments.pay_out(publisher=press.tenant)
    assert Purchase.objects.get().payout_status == "owed"
    assert not DoubleObject.objects.filter(object="transfer").exists()


# --- per-seat licences -------------------------------------------------------------------------


def _installed_per_seat_exam(press, uni, seats: int):
    listing = publish(press, price_model="per_seat", price_amount=300)
    buy(uni, listing, seats=seats)
    installation = services.install_listing(buyer=uni.tenant, listing=listing).installation
    return listing, installation


def test_a_new_candidate_beyond_the_seats_is_refused_and_more_seats_let_them_in(three):
    press, uni, acme = three
    listing, installation = _installed_per_seat_exam(press, uni, seats=2)
    first, second, third = (
        make_member(uni, f"c{n}@uni.test", role="candidate") for n in range(1, 4)
    )
    client = delivery.Client(session_key="s", ip="127.0.0.1", user_agent="Browser")
    with uni.activate():
        from assessments.exams.models import Exam

        exam = Exam.objects.get(pk=installation.exam_id)
        one = delivery.start_attempt(exam=exam, user=first, client=client)
        delivery.start_attempt(exam=exam, user=second, client=client)
    connection.set_schema_to_public()
    # The third candidate, in the browser: refused with the reason, no attempt stored.
    browser = sign_in(Client(HTTP_HOST=uni.domain), "c3@uni.test")
    refused = browser.post(f"/exam/{installation.exam_id}/start/", follow=True)
    assert b"All 2 seats of this licence are used; buy more in the marketplace." in refused.content
    with uni.activate():
        assert not Attempt.objects.filter(user=third).exists()
        # someone who started keeps going
        assert delivery.start_attempt(exam=exam, user=first, client=client).pk == one.pk
    connection.set_schema_to_public()
    assert selectors.seats_in_use(installation) == 2
    # acme's exams (none from a licence) are not limited by uni's seats
    assert not Installation.objects.filter(buyer=acme.tenant).exists()

    buy(uni, listing, seats=1)  # buying more seats adds to the same licence
    assert Licence.objects.get(buyer=uni.tenant).seats == 3
    started = browser.post(f"/exam/{installation.exam_id}/start/")
    assert started.status_code == 302 and "/exam/attempt/" in started["Location"]
    assert selectors.seats_in_use(installation) == 3


def test_concurrent_starts_never_take_more_seats_than_bought(make_committed_portal):
    press = make_committed_portal("presscc", "Press CC", "publisher")
    uni = make_committed_portal("unicc", "Uni CC")
    try:
        _, installation = _installed_per_seat_exam(press, uni, seats=3)
        candidates = [make_member(uni, f"cc{n}@unicc.test", role="candidate") for n in range(10)]
        barrier = threading.Barrier(len(candidates))
        outcomes: list[str] = []

        def start(user) -> None:
            from django_tenants.utils import schema_context

            from assessments.exams.models import Exam

            try:
                with schema_context(uni.schema):
                    exam = Exam.objects.get(pk=installation.exam_id)
                    barrier.wait()
                    delivery.start_attempt(
                        exam=exam,
                        user=user,
                        client=delivery.Client(session_key="k", ip=None, user_agent="UA"),
                    )
                outcomes.append("started")
            except delivery.DeliveryError as error:
                outcomes.append(error.code)
            finally:
                connection.close()

        threads = [threading.Thread(target=start, args=(user,)) for user in candidates]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["no_seats"] * 7 + ["started"] * 3
        assert selectors.seats_in_use(installation) == 3
    finally:
        connection.set_schema_to_public()  # committed_db removes what the test stored


# --- the metered AI price ----------------------------------------------------------------------


def test_subscriptions_carry_the_metered_ai_price_and_seats_come_from_the_seat_item(
    two_portals, webhooks, django_capture_on_commit_callbacks
):
    a, _ = two_portals
    capture = django_capture_on_commit_callbacks
    subscription = subscribe(a, "starter", 7, capture)
    data = DoubleObject.objects.get(id=subscription.stripe_subscription_id).data
    items = data["items"]["data"]
    metered = [i for i in items if i["price"]["recurring"]["usage_type"] == "metered"]
    assert len(items) == 2 and len(metered) == 1 and "quantity" not in metered[0]
    meter = DoubleObject.objects.get(id=metered[0]["price"]["recurring"]["meter"]).data
    assert (meter["event_name"], meter["default_aggregation"]) == (
        billing.AI_METER_EVENT,
        {"formula": "sum"},
    )
    assert metered[0]["price"]["unit_amount_decimal"] == "2"
    # Stripe may list the metered item first: seats still come from the per-seat item.
    data["items"]["data"] = list(reversed(items))
    DoubleObject.objects.filter(id=data["id"]).update(data=data)
    state = gateway.retrieve_subscription(subscription.stripe_subscription_id)
    assert (state.seats, state.price_id) == (7, Plan.objects.get(code="starter").stripe_price_id)
    # Changing plan and seats keeps exactly one metered item and moves the seat item only.
    run_change = billing.choose_plan(
        tenant=a.tenant,
        plan=Plan.objects.get(code="pro"),
        seats=12,
        email=a.admin_email,
        success_url="http://x/",
        cancel_url="http://x/",
    )
    assert run_change.changed
    after = DoubleObject.objects.get(id=subscription.stripe_subscription_id).data["items"]["data"]
    assert sorted(i.get("quantity", 0) for i in after) == [0, 12]
    assert Subscription.objects.get(tenant=a.tenant).seats == 12


def test_an_older_subscription_without_the_metered_item_gets_it_on_change(
    two_portals, webhooks, django_capture_on_commit_callbacks
):
    a, _ = two_portals
    subscription = subscribe(a, "starter", 3, django_capture_on_commit_callbacks)
    data = DoubleObject.objects.get(id=subscription.stripe_subscription_id).data
    data["items"]["data"] = [store.seat_item(data)]  # as subscribed before this change
    DoubleObject.objects.filter(id=data["id"]).update(data=data)
    metered_price = billing.ensure_ai_metered_price("usd")
    gateway.change_subscription(
        subscription_id=subscription.stripe_subscription_id,
        price_id=billing.ensure_plan_price(Plan.objects.get(code="starter")),
        seats=4,
        metered_price_id=metered_price,
    )
    items = DoubleObject.objects.get(id=subscription.stripe_subscription_id).data["items"]["data"]
    assert sorted(i["price"]["id"] == metered_price for i in items) == [False, True]
    assert gateway.retrieve_subscription(subscription.stripe_subscription_id).seats == 4


# --- the gateway's new calls against the double (a contract a real key must also meet) ---------


def test_gateway_contract_payment_checkout(db):
    kwargs = {
        "description": "Pack (49.00 USD)",
        "unit_amount": 4900,
        "quantity": 2,
        "currency": "usd",
        "application_fee_amount": 1470,
        "destination_account": None,
        "metadata": {"viva_marketplace_purchase": "42"},
        "client_reference_id": "uni",
        "success_url": "http://uni.test/done?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://uni.test/back",
        "idempotency_key": "contract-purchase-42",
    }
    session = gateway.create_payment_checkout_session(**kwargs)
    assert gateway.create_payment_checkout_session(**kwargs) == session  # the key replays
    assert (session.mode, session.status, session.payment_status) == ("payment", "open", "unpaid")
    assert session.url == f"{DOUBLE}/_stripe/checkout/{session.id}/"
    stored = DoubleObject.objects.get(id=session.id).data
    assert stored["success_url"] == f"http://uni.test/done?session_id={session.id}"
    assert stored["amount_total"] == 9800 and stored["_payment_intent_data"]["destination"] is None
    store.complete_checkout_session(session.id)
    paid = gateway.retrieve_checkout_session(session.id)
    assert (paid.status, paid.payment_status, paid.metadata) == (
        "complete",
        "paid",
        {"viva_marketplace_purchase": "42"},
    )
    intent = DoubleObject.objects.get(id=paid.payment_intent_id).data
    assert (intent["amount"], intent["application_fee_amount"], intent["status"]) == (
        9800,
        None,
        "succeeded",
    )
    # A destination that cannot receive transfers is refused with Stripe's message.
    account = gateway.create_connected_account(name="P", email="p@p.test", tenant_schema="p")
    with pytest.raises(gateway.GatewayError, match="transfers capability"):
        gateway.create_payment_checkout_session(
            **{**kwargs, "destination_account": account.id, "idempotency_key": "other"}
        )
    with pytest.raises(gateway.GatewayError, match="unit_amount must be positive"):
        gateway.create_payment_checkout_session(
            **{**kwargs, "unit_amount": 0, "idempotency_key": "zero"}
        )


def test_gateway_contract_connect_accounts_links_and_transfers(db):
    account = gateway.create_connected_account(name="Quill", email="q@q.test", tenant_schema="q")
    assert account == gateway.ConnectedAccount(
        id=account.id, charges_enabled=False, payouts_enabled=False, details_submitted=False
    )
    with pytest.raises(gateway.GatewayError, match="transfers capability"):
        gateway.create_transfer(
            amount=100,
            currency="usd",
            destination=account.id,
            transfer_group="g",
            idempotency_key="t0",
        )
    url = gateway.create_onboarding_link(
        account_id=account.id, refresh_url="http://q.test/again", return_url="http://q.test/back"
    )
    path = url.removeprefix(DOUBLE)
    assert platform().post(path)["Location"] == "http://q.test/back"
    assert gateway.retrieve_connected_account(account.id).payouts_enabled
    first = gateway.create_transfer(
        amount=960,
        currency="usd",
        destination=account.id,
        transfer_group="g1",
        idempotency_key="t1",
    )
    again = gateway.create_transfer(
        amount=960,
        currency="usd",
        destination=account.id,
        transfer_group="g1",
        idempotency_key="t1",
    )
    assert first == again and store.balance_of(account.id) == 960
    with pytest.raises(gateway.GatewayError, match="greater than or equal to 1"):
        gateway.create_transfer(
            amount=0,
            currency="usd",
            destination=account.id,
            transfer_group="g",
            idempotency_key="t2",
        )
    with pytest.raises(gateway.GatewayError, match="No such account"):
        gateway.retrieve_connected_account("acct_missing")


def test_gateway_contract_meters_and_metered_prices(db):
    meter = gateway.ensure_meter(event_name="contract_units", display_name="Units")
    assert gateway.ensure_meter(event_name="contract_units", display_name="Units") == meter
    price = gateway.ensure_metered_price(
        lookup_key="contract_units_usd",
        meter_id=meter,
        unit_amount_decimal="0.5",
        currency="usd",
        product_name="Units",
    )
    again = gateway.ensure_metered_price(
        lookup_key="contract_units_usd",
        meter_id=meter,
        unit_amount_decimal="0.5",
        currency="usd",
        product_name="Units",
    )
    assert price == again and price.unit_amount == 0  # half a cent: no whole unit_amount
    stored = DoubleObject.objects.get(id=price.id).data
    assert stored["recurring"] == {"interval": "month", "usage_type": "metered", "meter": meter}
    assert stored["unit_amount_decimal"] == "0.5"
    with pytest.raises(gateway.GatewayError, match="No such meter: 'mtr_missing'"):
        gateway.ensure_metered_price(
            lookup_key="contract_other_usd",
            meter_id="mtr_missing",
            unit_amount_decimal="1",
            currency="usd",
            product_name="Units",
        )
    assert not DoubleObject.objects.filter(object="price", data__lookup_key="contract_other_usd")


def test_a_checkout_stripe_refuses_leaves_no_purchase_and_says_why(three, monkeypatch):
    press, uni, _ = three
    listing = publish(press, price_model="one_off", price_amount=4900)

    def stripe_is_down(**kwargs):
        raise gateway.GatewayError("Stripe is unreachable")

    monkeypatch.setattr(gateway, "create_payment_checkout_session", stripe_is_down)
    uni.login_admin()
    response = uni.client.post(f"/cms/marketplace/listing/{listing.pk}/buy/", follow=True)
    assert b"Stripe is unreachable" in response.content
    assert not Purchase.objects.exists() and not Licence.objects.exists()
