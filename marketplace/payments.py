"""Buying paid listings and paying publishers: one small provider interface, dataclasses
across it, Stripe behind ``billing.gateway`` (the only module importing ``stripe``).

``PaymentProvider`` is the seam (as pretix's payment providers): ``start_checkout`` returns
where to send the buyer, ``checkout_result`` says whether Stripe took the money. Its one
implementation, ``BillingGatewayProvider``, is Stripe Checkout in ``mode=payment``: against
Stripe with ``STRIPE_SECRET_KEY``, else against billing's local Stripe double, whose hosted
page and signed webhooks behave the same. Fulfilment (``complete_purchase``) is idempotent and
re-reads the result from Stripe, never from what a browser or a webhook claims, so the
success page, the webhook (``billing.webhooks``) and their retries all converge on one paid
purchase and one licence.

Publishers are paid through Stripe Connect: a publisher sets up an Express account
(``start_payout_onboarding``); once Stripe enables its payouts, new sales are destination
charges (Stripe pays the publisher's share at sale, the platform keeps its fee), and what was
sold before is sent by ``pay_out`` (one transfer per purchase, with an idempotency key).

Settings: ``MARKETPLACE_PLATFORM_FEE_PERCENT`` (default 15) is the platform's share of each
sale, the rest is the publisher's (``Purchase.payout_status``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing import gateway
from billing.webhooks import MARKETPLACE_PURCHASE_KEY
from marketplace.models import Licence, Listing, ListingVersion, PublisherAccount, Purchase
from marketplace.services import MarketplaceError, may_sell, visible_listing
from tenants.models import Tenant

MAX_SEATS = 100_000


@dataclass(frozen=True)
class CheckoutRequest:
    reference: str  # the purchase id, echoed back in the session's metadata
    description: str
    unit_amount: int  # minor units
    quantity: int
    currency: str
    application_fee: int  # the platform's share (Stripe Connect ``application_fee_amount``)
    destination_account: str  # the publisher's Connect account, or "" (paid out later)
    buyer_schema: str
    publisher_schema: str
    success_url: str
    cancel_url: str


@dataclass(frozen=True)
class CheckoutStarted:
    session_id: str
    url: str


@dataclass(frozen=True)
class CheckoutResult:
    session_id: str
    paid: bool
    payment_intent_id: str = ""
    reference: str = ""  # the purchase id the session was opened for


class PaymentProvider(ABC):
    """Takes one-off payments for marketplace purchases."""

    name: ClassVar[str]

    @abstractmethod
    def start_checkout(self, request: CheckoutRequest) -> CheckoutStarted:
        """Open a checkout for ``request``; the buyer is sent to ``url``."""

    @abstractmethod
    def checkout_result(self, session_id: str) -> CheckoutResult:
        """Whether the checkout ``session_id`` is paid, asked of the provider itself."""


class BillingGatewayProvider(PaymentProvider):
    """Stripe Checkout (``mode=payment``) through ``billing.gateway``; a destination charge
    with the platform's fee when the publisher can be paid through Connect."""

    name = "stripe"

    def start_checkout(self, request: CheckoutRequest) -> CheckoutStarted:
        try:
            session = gateway.create_payment_checkout_session(
                description=request.description,
                unit_amount=request.unit_amount,
                quantity=request.quantity,
                currency=request.currency,
                application_fee_amount=request.application_fee,
                destination_account=request.destination_account or None,
                metadata={
                    MARKETPLACE_PURCHASE_KEY: request.reference,
                    "buyer_schema": request.buyer_schema,
                    "publisher_schema": request.publisher_schema,
                },
                client_reference_id=request.buyer_schema,
                success_url=request.success_url,
                cancel_url=request.cancel_url,
                idempotency_key=f"viva-marketplace-purchase-{request.reference}",
            )
        except gateway.GatewayError as error:
            raise MarketplaceError(str(error), code="payment_failed") from error
        return CheckoutStarted(session_id=session.id, url=session.url)

    def checkout_result(self, session_id: str) -> CheckoutResult:
        try:
            session = gateway.retrieve_checkout_session(session_id)
        except gateway.GatewayError as error:
            raise MarketplaceError(str(error), code="payment_failed") from error
        return CheckoutResult(
            session_id=session_id,
            paid=session.mode == "payment" and session.payment_status == "paid",
            payment_intent_id=session.payment_intent_id,
            reference=session.metadata.get(MARKETPLACE_PURCHASE_KEY, ""),
        )


PROVIDERS: dict[str, type[PaymentProvider]] = {BillingGatewayProvider.name: BillingGatewayProvider}


def provider(name: str = BillingGatewayProvider.name) -> PaymentProvider:
    """The provider for new purchases (or the one a purchase was started with)."""
    try:
        return PROVIDERS[name]()
    except KeyError:
        raise MarketplaceError(
            f"Purchases through {name!r} cannot be completed any more.", code="payment_failed"
        ) from None


def platform_fee_percent() -> Decimal:
    return Decimal(str(getattr(settings, "MARKETPLACE_PLATFORM_FEE_PERCENT", 15)))


def platform_fee(amount: int) -> int:
    """The platform's share of ``amount`` minor units, rounded half up to a whole unit."""
    fee = (Decimal(amount) * platform_fee_percent() / 100).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    )
    return int(min(max(fee, Decimal(0)), Decimal(amount)))


@dataclass
class PurchaseStarted:
    purchase: Purchase
    checkout_url: str


def start_purchase(
    *, buyer: Tenant, listing: Listing, seats: Any = 1, success_url: str, cancel_url: str
) -> PurchaseStarted:
    """A pending purchase of a paid listing and the checkout to pay it. One-off listings are
    bought once; per-seat listings may be bought again for more seats."""
    try:
        seats = int(seats)
    except (TypeError, ValueError):
        seats = 0
    listing = visible_listing(tenant=None, listing_id=listing.pk)
    if listing.is_free:
        raise MarketplaceError("This listing is free: install it directly.", code="free")
    if listing.publisher_id == buyer.pk:
        raise MarketplaceError("Publishers do not buy their own listing.", code="forbidden")
    if listing.price_model == Listing.PriceModel.ONE_OFF:
        seats = 1
        if Licence.objects.filter(buyer=buyer, listing=listing).exists():
            raise MarketplaceError("Your portal already holds a licence.", code="licensed")
    if not 1 <= seats <= MAX_SEATS:
        raise MarketplaceError(f"seats must be 1 to {MAX_SEATS:,}")
    version = ListingVersion.objects.filter(listing=listing).order_by("-number").first()
    if version is None:
        raise MarketplaceError("This listing does not exist.", code="not_found")
    chosen = provider()
    amount = listing.price_amount * seats
    account = payable_account(listing.publisher)
    purchase = Purchase.objects.create(
        buyer=buyer,
        listing=listing,
        version=version,
        seats=seats,
        amount=amount,
        currency=listing.currency,
        platform_fee=platform_fee(amount),
        provider=chosen.name,
        success_url=success_url,
        destination_account=account.stripe_account_id if account else "",
    )
    # The provider is called outside any transaction: a slow or failing Stripe never holds
    # locks. If it refuses, the purchase it was asked for is removed again.
    try:
        started = chosen.start_checkout(_checkout_request(purchase, listing, buyer, cancel_url))
    except MarketplaceError:
        Purchase.objects.filter(pk=purchase.pk).delete()
        raise
    purchase.checkout_session_id = started.session_id
    purchase.success_url = success_url.replace("{CHECKOUT_SESSION_ID}", started.session_id)
    Purchase.objects.filter(pk=purchase.pk).update(
        checkout_session_id=purchase.checkout_session_id, success_url=purchase.success_url
    )
    return PurchaseStarted(purchase=purchase, checkout_url=started.url)


def _checkout_request(
    purchase: Purchase, listing: Listing, buyer: Tenant, cancel_url: str
) -> CheckoutRequest:
    return CheckoutRequest(
        reference=str(purchase.pk),
        description=f"{listing.title} ({listing.price_display})",
        unit_amount=listing.price_amount,
        quantity=purchase.seats,
        currency=listing.currency,
        application_fee=purchase.platform_fee,
        destination_account=purchase.destination_account,
        buyer_schema=buyer.schema_name,
        publisher_schema=listing.publisher.schema_name,
        success_url=purchase.success_url,
        cancel_url=cancel_url,
    )


def complete_purchase(*, session_id: str) -> Purchase | None:
    """Fulfil the purchase of checkout ``session_id`` if Stripe says it is paid: mark it paid
    and grant (or extend) the licence. Idempotent; ``None`` for an unknown session."""
    purchase = Purchase.objects.filter(checkout_session_id=session_id).first()
    if purchase is None:
        return None
    if purchase.status == Purchase.Status.PAID:
        return purchase
    result = provider(purchase.provider).checkout_result(session_id)
    if not result.paid or result.reference != str(purchase.pk):
        return purchase
    return _mark_paid(purchase_id=purchase.pk, payment_intent_id=result.payment_intent_id)


def cancel_purchase(*, session_id: str, buyer: Tenant) -> None:
    Purchase.objects.filter(
        checkout_session_id=session_id, buyer=buyer, status=Purchase.Status.PENDING
    ).update(status=Purchase.Status.CANCELED)


def _mark_paid(*, purchase_id: int, payment_intent_id: str) -> Purchase:
    """One transaction: the purchase paid (its share already with the publisher after a
    destination charge) and the licence granted, or extended by the seats bought."""
    with transaction.atomic():
        purchase = (
            Purchase.objects.select_for_update().select_related("listing").get(pk=purchase_id)
        )
        if purchase.status == Purchase.Status.PAID:
            return purchase
        purchase.status = Purchase.Status.PAID
        purchase.paid_at = timezone.now()
        purchase.payment_intent_id = payment_intent_id
        if purchase.destination_account:
            purchase.payout_status = Purchase.Payout.AT_SALE
        purchase.save(update_fields=["status", "paid_at", "payment_intent_id", "payout_status"])
        per_seat = purchase.listing.price_model == Listing.PriceModel.PER_SEAT
        licence, created = Licence.objects.select_for_update().get_or_create(
            buyer_id=purchase.buyer_id,
            listing_id=purchase.listing_id,
            defaults={
                "source": Licence.Source.PURCHASE,
                "seats": purchase.seats if per_seat else None,
            },
        )
        if not created:
            licence.source = Licence.Source.PURCHASE
            if per_seat:
                licence.seats = (licence.seats or 0) + purchase.seats
            licence.save(update_fields=["source", "seats"])
    return purchase


# -- paying publishers (Stripe Connect) ---------------------------------------------------------


def payable_account(publisher: Tenant) -> PublisherAccount | None:
    """The publisher's Connect account if Stripe lets it be paid (as last read), else None."""
    return PublisherAccount.objects.filter(publisher=publisher, payouts_enabled=True).first()


def start_payout_onboarding(
    *, publisher: Tenant, email: str, refresh_url: str, return_url: str
) -> str:
    """The URL of Stripe's onboarding for the publisher's Connect account (created the first
    time, under a lock on the tenant row so two clicks never make two accounts)."""
    if not may_sell(publisher):
        raise MarketplaceError(
            "Selling in the marketplace is not included in your plan: upgrade to set up payouts.",
            code="forbidden",
        )
    try:
        with transaction.atomic():
            Tenant.objects.select_for_update().get(pk=publisher.pk)
            account = PublisherAccount.objects.filter(publisher=publisher).first()
            if account is None:
                created = gateway.create_connected_account(
                    name=publisher.name or publisher.slug,
                    email=email,
                    tenant_schema=publisher.schema_name,
                )
                account = PublisherAccount.objects.create(
                    publisher=publisher, stripe_account_id=created.id
                )
        return gateway.create_onboarding_link(
            account_id=account.stripe_account_id, refresh_url=refresh_url, return_url=return_url
        )
    except gateway.GatewayError as error:
        raise MarketplaceError(str(error), code="payouts_unavailable") from error


def refresh_payout_account(*, publisher: Tenant) -> PublisherAccount | None:
    """Read the publisher's Connect account from Stripe again (after onboarding, before a
    payout) and mirror what it may do; None if the publisher has no account."""
    account = PublisherAccount.objects.filter(publisher=publisher).first()
    if account is None:
        return None
    try:
        state = gateway.retrieve_connected_account(account.stripe_account_id)
    except gateway.GatewayError as error:
        raise MarketplaceError(str(error), code="payouts_unavailable") from error
    account.charges_enabled = state.charges_enabled
    account.payouts_enabled = state.payouts_enabled
    account.details_submitted = state.details_submitted
    account.save(
        update_fields=["charges_enabled", "payouts_enabled", "details_submitted", "updated"]
    )
    return account


def pay_out(*, publisher: Tenant) -> list[Purchase]:
    """Transfer everything owed to ``publisher`` to its Connect account ("Pay out now")."""
    account = refresh_payout_account(publisher=publisher)
    if account is None:
        raise MarketplaceError("Set up payouts first.", code="payouts_unavailable")
    if not account.payouts_enabled:
        raise MarketplaceError(
            "Stripe has not enabled payouts to your account yet: finish setting up payouts.",
            code="payouts_unavailable",
        )
    return transfer_payouts(publisher=publisher, destination_account=account.stripe_account_id)


def transfer_payouts(*, publisher: Tenant, destination_account: str) -> list[Purchase]:
    """Send what is owed to ``publisher`` to ``destination_account``, one transfer per paid
    purchase. Each purchase row is locked while its transfer is made, so concurrent payouts
    wait and then find it transferred. A retry after a crash (the transfer made, the row not
    yet updated) finds the transfer by its group, or within Stripe's 24 hours by the
    idempotency key, and never sends a second."""
    sent = []
    owed = Purchase.objects.filter(
        listing__publisher=publisher,
        status=Purchase.Status.PAID,
        payout_status=Purchase.Payout.OWED,
    )
    for purchase_id in owed.values_list("pk", flat=True):
        with transaction.atomic():
            purchase = owed.select_for_update(of=("self",)).filter(pk=purchase_id).first()
            if purchase is None:
                continue  # a concurrent payout sent it
            transfer_id = ""
            if purchase.publisher_share > 0:
                group = f"marketplace-purchase-{purchase.pk}"
                try:
                    transfer_id = gateway.find_transfer(
                        transfer_group=group
                    ) or gateway.create_transfer(
                        amount=purchase.publisher_share,
                        currency=purchase.currency,
                        destination=destination_account,
                        transfer_group=group,
                        idempotency_key=f"viva-marketplace-transfer-{purchase.pk}",
                    )
                except gateway.GatewayError as error:
                    raise MarketplaceError(
                        f"Stripe refused the payout: {error}", code="payouts_unavailable"
                    ) from error
            purchase.payout_status = Purchase.Payout.TRANSFERRED
            purchase.transfer_id = transfer_id
            purchase.save(update_fields=["payout_status", "transfer_id"])
        sent.append(purchase)
    return sent
