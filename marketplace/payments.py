"""Buying paid listings: one small provider interface, dataclasses across it.

``PaymentProvider`` is the seam (as pretix's payment providers): ``start_checkout`` returns
where to send the buyer, ``checkout_result`` says whether Stripe (or the stand-in) took the
money. Fulfilment (``complete_purchase``) is idempotent and re-reads the result from the
provider, never from what a browser or a webhook claims, so the success page, a webhook and a
retry all converge on one paid purchase and one licence.

Two implementations:

- ``BillingGatewayProvider``: Stripe Checkout in ``mode=payment`` through ``billing.gateway``
  (the only module importing ``stripe``). Used as soon as the gateway offers
  ``create_payment_checkout_session``; see that class for the exact contract.
- ``LocalConfirmationProvider``: while the gateway has no one-off payments and billing runs on
  its local Stripe double (no ``STRIPE_SECRET_KEY``), the purchase is recorded as pending and
  completed on a confirmation page of the platform host (``/marketplace/checkout/<session>/``,
  served only in that mode), the way the double's own Checkout page completes a subscription.

Settings: ``MARKETPLACE_PLATFORM_FEE_PERCENT`` (default 15) is the platform's share of each
sale, the rest is owed to the publisher (``Purchase.payout_status``); ``MARKETPLACE_PLATFORM_URL``
(default: ``VIVA_PORTAL_URL`` for the first platform host) is where the local confirmation
page is linked.
"""

from __future__ import annotations

import secrets
from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from marketplace.models import Licence, Listing, ListingVersion, Purchase
from marketplace.services import MarketplaceError, visible_listing
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
    """Stripe Checkout (``mode=payment``) through ``billing.gateway``.

    Needs from the gateway::

        create_payment_checkout_session(*, description: str, unit_amount: int, quantity: int,
            currency: str, application_fee_amount: int, destination_account: str | None,
            metadata: dict[str, str], client_reference_id: str, success_url: str,
            cancel_url: str, idempotency_key: str) -> CheckoutSession   # .id, .url
        retrieve_checkout_session(session_id) -> CheckoutSession
            # plus .payment_status ("paid") and .payment_intent_id

    and the local double to accept ``mode=payment`` (complete → ``payment_status=paid`` and a
    ``checkout.session.completed`` event). Its webhook should call
    ``marketplace.payments.complete_purchase(session_id=...)`` for sessions whose metadata
    carries ``viva_marketplace_purchase``.
    """

    name = "stripe"

    @staticmethod
    def available() -> bool:
        from billing import gateway

        return hasattr(gateway, "create_payment_checkout_session")

    def start_checkout(self, request: CheckoutRequest) -> CheckoutStarted:
        from billing import gateway

        try:
            session = gateway.create_payment_checkout_session(
                description=request.description,
                unit_amount=request.unit_amount,
                quantity=request.quantity,
                currency=request.currency,
                application_fee_amount=request.application_fee,
                destination_account=None,
                metadata={
                    "viva_marketplace_purchase": request.reference,
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
        from billing import gateway

        try:
            session = gateway.retrieve_checkout_session(session_id)
        except gateway.GatewayError as error:
            raise MarketplaceError(str(error), code="payment_failed") from error
        status = getattr(session, "payment_status", "paid" if session.status == "complete" else "")
        return CheckoutResult(
            session_id=session_id,
            paid=status == "paid",
            payment_intent_id=getattr(session, "payment_intent_id", ""),
        )


class LocalConfirmationProvider(PaymentProvider):
    """Offline stand-in while the gateway has no one-off payments: the checkout is a page of
    the platform host whose "Pay" button is what Stripe's hosted page and webhook would do
    (``confirm_local_checkout``). Only when billing uses its local Stripe double."""

    name = "local"

    def start_checkout(self, request: CheckoutRequest) -> CheckoutStarted:
        session_id = "mpcs_" + secrets.token_urlsafe(24)
        return CheckoutStarted(
            session_id=session_id, url=f"{platform_url()}/marketplace/checkout/{session_id}/"
        )

    def checkout_result(self, session_id: str) -> CheckoutResult:
        purchase = Purchase.objects.filter(checkout_session_id=session_id).first()
        paid = purchase is not None and purchase.status == Purchase.Status.PAID
        return CheckoutResult(
            session_id=session_id,
            paid=paid,
            payment_intent_id=purchase.payment_intent_id if purchase else "",
        )


def local_checkout_enabled() -> bool:
    from billing import gateway

    return not BillingGatewayProvider.available() and gateway.uses_local_double()


def provider(name: str | None = None) -> PaymentProvider:
    """The provider for new purchases (or the one a purchase was started with)."""
    if name == LocalConfirmationProvider.name or (name is None and local_checkout_enabled()):
        return LocalConfirmationProvider()
    if BillingGatewayProvider.available():
        return BillingGatewayProvider()
    raise MarketplaceError(
        "Paid listings cannot be bought here yet: the payment gateway takes no one-off payments.",
        code="payments_unavailable",
    )


def platform_url() -> str:
    configured = getattr(settings, "MARKETPLACE_PLATFORM_URL", "")
    if configured:
        return configured.rstrip("/")
    host = (getattr(settings, "VIVA_PLATFORM_DOMAINS", None) or ["localhost"])[0]
    return settings.VIVA_PORTAL_URL.format(host=host).rstrip("/")


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
    )
    # The provider is called outside any transaction: a slow or failing Stripe never holds
    # locks, and a purchase without a session is simply never paid.
    started = chosen.start_checkout(
        CheckoutRequest(
            reference=str(purchase.pk),
            description=f"{listing.title} ({listing.price_display})",
            unit_amount=listing.price_amount,
            quantity=seats,
            currency=listing.currency,
            application_fee=purchase.platform_fee,
            buyer_schema=buyer.schema_name,
            publisher_schema=listing.publisher.schema_name,
            success_url=success_url,
            cancel_url=cancel_url,
        )
    )
    purchase.checkout_session_id = started.session_id
    purchase.success_url = success_url.replace("{CHECKOUT_SESSION_ID}", started.session_id)
    Purchase.objects.filter(pk=purchase.pk).update(
        checkout_session_id=purchase.checkout_session_id, success_url=purchase.success_url
    )
    return PurchaseStarted(purchase=purchase, checkout_url=started.url)


def complete_purchase(*, session_id: str) -> Purchase | None:
    """Fulfil the purchase of checkout ``session_id`` if the provider says it is paid: mark
    it paid and grant (or extend) the licence. Idempotent; ``None`` for an unknown session."""
    purchase = Purchase.objects.filter(checkout_session_id=session_id).first()
    if purchase is None:
        return None
    if purchase.status == Purchase.Status.PAID:
        return purchase
    result = provider(purchase.provider).checkout_result(session_id)
    if not result.paid:
        return purchase
    return _mark_paid(purchase_id=purchase.pk, payment_intent_id=result.payment_intent_id)


def confirm_local_checkout(*, session_id: str) -> Purchase:
    """ "Pay" on the local confirmation page (offline mode only)."""
    purchase = Purchase.objects.filter(
        checkout_session_id=session_id, provider=LocalConfirmationProvider.name
    ).first()
    if purchase is None or not local_checkout_enabled():
        raise MarketplaceError("This checkout does not exist.", code="not_found")
    if purchase.status == Purchase.Status.CANCELED:
        raise MarketplaceError("This checkout was canceled.", code="canceled")
    return _mark_paid(purchase_id=purchase.pk, payment_intent_id=f"local_pi_{purchase.pk}")


def cancel_purchase(*, session_id: str, buyer: Tenant) -> None:
    Purchase.objects.filter(
        checkout_session_id=session_id, buyer=buyer, status=Purchase.Status.PENDING
    ).update(status=Purchase.Status.CANCELED)


def _mark_paid(*, purchase_id: int, payment_intent_id: str) -> Purchase:
    with transaction.atomic():
        purchase = (
            Purchase.objects.select_for_update().select_related("listing").get(pk=purchase_id)
        )
        if purchase.status == Purchase.Status.PAID:
            return purchase
        purchase.status = Purchase.Status.PAID
        purchase.paid_at = timezone.now()
        purchase.payment_intent_id = payment_intent_id
        purchase.save(update_fields=["status", "paid_at", "payment_intent_id"])
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


def transfer_payouts(*, publisher: Tenant, destination_account: str) -> list[Purchase]:
    """Send what is owed to ``publisher`` through Stripe Connect, one transfer per paid
    purchase. Needs ``billing.gateway.create_transfer(*, amount, currency, destination,
    transfer_group, idempotency_key) -> id``; refused (``payouts_unavailable``) until then."""
    from billing import gateway

    create_transfer = getattr(gateway, "create_transfer", None)
    if create_transfer is None:
        raise MarketplaceError(
            "Payouts through Stripe Connect are not available yet.", code="payouts_unavailable"
        )
    sent = []
    owed = Purchase.objects.filter(
        listing__publisher=publisher,
        status=Purchase.Status.PAID,
        payout_status=Purchase.Payout.OWED,
    )
    for purchase in owed:
        transfer_id = create_transfer(
            amount=purchase.publisher_share,
            currency=purchase.currency,
            destination=destination_account,
            transfer_group=f"marketplace-purchase-{purchase.pk}",
            idempotency_key=f"viva-marketplace-transfer-{purchase.pk}",
        )
        Purchase.objects.filter(pk=purchase.pk).update(
            payout_status=Purchase.Payout.TRANSFERRED, transfer_id=str(transfer_id)
        )
        sent.append(purchase)
    return sent
