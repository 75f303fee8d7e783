"""The marketplace inside a portal's Wagtail admin (``/cms/marketplace/``).

Staff of any portal browse the catalogue; the portal's admins install, buy, update, review,
and — for their own listings — publish versions, reply to reviews and read the sales report.
The acting tenant is always ``request.tenant`` (the host's), so ids of another portal's
listings or installations find nothing. Views parse input and call ``marketplace.services``,
``marketplace.payments`` and ``marketplace.selectors``.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from marketplace import payments, selectors, services
from marketplace.models import Listing, Purchase, Review
from marketplace.services import MarketplaceError
from marketplace.views import catalogue_context
from tenants.access.permissions import has_role, is_staff_member

ICON = "pick"


def _require_staff(request: HttpRequest) -> None:
    if not is_staff_member(request.user):
        raise PermissionDenied


def _require_admin(request: HttpRequest) -> None:
    """Installing, buying, publishing and reviewing act for the whole portal: admins only."""
    if not has_role(request.user, "admin"):
        raise PermissionDenied


def _render(request: HttpRequest, template: str, title: str, **context) -> HttpResponse:
    return TemplateResponse(
        request,
        f"marketplace/admin/{template}",
        {
            "page_title": title,
            "header_title": title,
            "header_icon": ICON,
            "is_portal_admin": has_role(request.user, "admin"),
            **context,
        },
    )


def _refused(request: HttpRequest, error: MarketplaceError) -> None:
    for message in error.errors:
        messages.error(request, message)


def _listing(request: HttpRequest, listing_id: int) -> Listing:
    try:
        return services.visible_listing(tenant=request.tenant, listing_id=listing_id)
    except MarketplaceError:
        raise Http404("No such listing") from None


# -- catalogue ----------------------------------------------------------------------------


def catalogue(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    return _render(request, "catalogue.html", "Marketplace", **catalogue_context(request))


def listing_detail(request: HttpRequest, listing_id: int) -> HttpResponse:
    _require_staff(request)
    listing = _listing(request, listing_id)
    rated = selectors.catalogue().filter(pk=listing.pk).first() or listing
    installation = next(
        (
            row
            for row in selectors.installations_of(request.tenant)
            if row.installation.listing_id == listing.pk
        ),
        None,
    )
    return _render(
        request,
        "listing.html",
        listing.title,
        listing=listing,
        data=selectors.public_listing(rated, detail=True),
        licence=selectors.licence_of(request.tenant, listing),
        installed=installation,
        own=listing.publisher_id == request.tenant.pk,
        review=Review.objects.filter(buyer=request.tenant, listing=listing).first(),
    )


@require_POST
def install(request: HttpRequest, listing_id: int) -> HttpResponse:
    _require_admin(request)
    listing = _listing(request, listing_id)
    try:
        result = services.install_listing(buyer=request.tenant, listing=listing)
    except MarketplaceError as error:
        _refused(request, error)
    else:
        if result.created:
            place = (
                "interview templates" if listing.kind == Listing.Kind.INTERVIEW else "question bank"
            )
            messages.success(request, f"“{listing.title}” is installed in your {place}.")
        else:
            messages.info(request, "Already installed: nothing changed.")
    return redirect("marketplace_admin:listing", listing.pk)


@require_POST
def buy(request: HttpRequest, listing_id: int) -> HttpResponse:
    _require_admin(request)
    listing = _listing(request, listing_id)
    back = request.build_absolute_uri(reverse("marketplace_admin:listing", args=[listing.pk]))
    done = request.build_absolute_uri(reverse("marketplace_admin:purchase_return"))
    try:
        started = payments.start_purchase(
            buyer=request.tenant,
            listing=listing,
            seats=request.POST.get("seats", 1),
            success_url=f"{done}?session_id={{CHECKOUT_SESSION_ID}}",
            cancel_url=back,
        )
    except MarketplaceError as error:
        _refused(request, error)
        return redirect("marketplace_admin:listing", listing.pk)
    return HttpResponseRedirect(started.checkout_url)


def purchase_return(request: HttpRequest) -> HttpResponse:
    """Where Checkout sends the buyer back: fulfil (idempotent) and show the listing."""
    _require_admin(request)
    session_id = request.GET.get("session_id", "")
    own = Purchase.objects.filter(checkout_session_id=session_id, buyer=request.tenant)
    if not session_id or not own.exists():
        raise Http404("No such purchase")
    purchase = payments.complete_purchase(session_id=session_id)
    if purchase.status == purchase.Status.PAID:
        messages.success(request, "Payment received: your portal holds a licence. Install it now.")
    else:
        messages.info(request, "The payment is not confirmed yet.")
    return redirect("marketplace_admin:listing", purchase.listing_id)


def update(request: HttpRequest, listing_id: int) -> HttpResponse:
    _require_admin(request)
    listing = _listing(request, listing_id)
    try:
        installation, latest, diff = services.update_preview(buyer=request.tenant, listing=listing)
    except MarketplaceError:
        raise Http404("Not installed") from None
    if request.method == "POST":
        try:
            services.update_installation(
                buyer=request.tenant, listing=listing, version_number=latest.number
            )
        except MarketplaceError as error:
            _refused(request, error)
        else:
            change = (
                "your interview template, in place"
                if listing.kind == Listing.Kind.INTERVIEW
                else "a new exam version"
            )
            messages.success(request, f"Updated to version {latest.number}: {change}.")
        return redirect("marketplace_admin:listing", listing.pk)
    return _render(
        request,
        "update.html",
        f"Update {listing.title}",
        listing=listing,
        installation=installation,
        latest=latest,
        diff=diff,
    )


@require_POST
def review(request: HttpRequest, listing_id: int) -> HttpResponse:
    _require_admin(request)
    listing = _listing(request, listing_id)
    try:
        services.submit_review(
            buyer=request.tenant,
            listing=listing,
            rating=request.POST.get("rating"),
            text=request.POST.get("text", ""),
        )
    except MarketplaceError as error:
        _refused(request, error)
    else:
        messages.success(request, "Thank you: your review is published.")
    return redirect("marketplace_admin:listing", listing.pk)


def installed(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    return _render(
        request,
        "installed.html",
        "Installed templates",
        rows=selectors.installations_of(request.tenant),
    )


# -- publishing (own listings) --------------------------------------------------------------


def mine(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    listings = Listing.objects.filter(publisher=request.tenant).prefetch_related("versions")
    reviews = Review.objects.filter(listing__publisher=request.tenant).select_related(
        "listing", "buyer"
    )
    return _render(
        request,
        "mine.html",
        "My listings",
        listings=listings,
        reviews=Paginator(reviews, 50).get_page(request.GET.get("p")),
        report=selectors.sales_report(publisher=request.tenant),
        may_sell=services.may_sell(request.tenant),
        payout_account=selectors.payout_account_of(request.tenant),
    )


# -- payouts (Stripe Connect) ---------------------------------------------------------------


def payouts_setup(request: HttpRequest) -> HttpResponse:
    """ "Set up payouts": to Stripe's onboarding for this portal's Connect account. Stripe
    also sends the publisher here (GET) when an onboarding link expired: a fresh link then."""
    _require_admin(request)
    if request.method != "POST" and selectors.payout_account_of(request.tenant) is None:
        return redirect("marketplace_admin:mine")
    try:
        url = payments.start_payout_onboarding(
            publisher=request.tenant,
            email=request.user.email,
            refresh_url=request.build_absolute_uri(reverse("marketplace_admin:payouts_setup")),
            return_url=request.build_absolute_uri(reverse("marketplace_admin:payouts_return")),
        )
    except MarketplaceError as error:
        _refused(request, error)
        return redirect("marketplace_admin:mine")
    return HttpResponseRedirect(url)


def payouts_return(request: HttpRequest) -> HttpResponse:
    """Back from Stripe's onboarding: read the account again (finished or not) and say so."""
    _require_admin(request)
    try:
        account = payments.refresh_payout_account(publisher=request.tenant)
    except MarketplaceError as error:
        _refused(request, error)
        return redirect("marketplace_admin:mine")
    if account is not None and account.payouts_enabled:
        messages.success(request, "Payouts are set up: new sales are paid to you at sale.")
    else:
        messages.warning(request, "Payouts are not enabled yet: finish the setup with Stripe.")
    return redirect("marketplace_admin:mine")


@require_POST
def payouts_pay(request: HttpRequest) -> HttpResponse:
    """ "Pay out now": transfer what is owed to this portal's Connect account."""
    _require_admin(request)
    try:
        sent = payments.pay_out(publisher=request.tenant)
    except MarketplaceError as error:
        _refused(request, error)
    else:
        total = sum(purchase.publisher_share for purchase in sent)
        if sent:
            currency = sent[0].currency.upper()
            messages.success(request, f"Paid out {len(sent)} sales: {total / 100:,.2f} {currency}.")
        else:
            messages.info(request, "Nothing is owed to you: no payout was made.")
    return redirect("marketplace_admin:mine")


def _sources(request: HttpRequest) -> dict:
    from assessments.exams.models import Exam
    from assessments.interviews.models import InterviewTemplate
    from assessments.models import Category

    return {
        "exams": Exam.objects.filter(versions__isnull=False).distinct().order_by("title"),
        "categories": Category.objects.order_by("name"),
        # Installed templates are someone else's content: never republished.
        "templates": InterviewTemplate.objects.filter(source_listing_id__isnull=True).order_by(
            "title"
        ),
    }


def _source_ids(request: HttpRequest) -> dict[str, int | None]:
    def number(name: str) -> int | None:
        value = request.POST.get(name, "")
        return int(value) if value.isdigit() else None

    return {
        "exam_id": number("exam"),
        "category_id": number("category"),
        "template_id": number("template"),
    }


def new_listing(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    if request.method == "POST":
        post = request.POST
        sources = _source_ids(request)
        try:
            listing = services.create_listing(
                publisher=request.tenant,
                title=post.get("title", ""),
                kind=post.get("kind", Listing.Kind.EXAM),
                description=post.get("description", ""),
                subject=post.get("subject", ""),
                tags=post.get("tags", ""),
                level=post.get("level", Listing.Level.INTRODUCTORY),
                language=post.get("language", "en"),
                price_model=post.get("price_model", Listing.PriceModel.FREE),
                price_amount=_cents(post.get("price", "0")),
                currency=post.get("currency", "usd"),
                licence_terms=post.get("licence_terms", ""),
                community=post.get("community") == "on",
            )
        except MarketplaceError as error:
            _refused(request, error)
        else:
            return _publish(request, listing, sources, post.get("release_notes", ""))
    return _render(
        request,
        "new_listing.html",
        "New listing",
        kinds=Listing.Kind.choices,
        levels=Listing.Level.choices,
        prices=Listing.PriceModel.choices,
        is_publisher=request.tenant.kind == "publisher",
        **_sources(request),
    )


def _cents(value: str) -> int:
    try:
        return int(round(float(value) * 100))
    except (TypeError, ValueError):
        return 0


def _publish(request, listing, sources: dict[str, int | None], notes: str) -> HttpResponse:
    try:
        published = services.publish_version(
            publisher=request.tenant, listing=listing, release_notes=notes, **sources
        )
    except MarketplaceError as error:
        _refused(request, error)
        return redirect("marketplace_admin:new_version", listing.pk)
    for warning in published.warnings:
        messages.warning(request, warning)
    listing.refresh_from_db()
    state = (
        "is in the catalogue"
        if listing.status == Listing.Status.PUBLISHED
        else ("waits for moderation by the platform")
    )
    messages.success(
        request, f"Version {published.version.number} published; “{listing.title}” {state}."
    )
    return redirect("marketplace_admin:mine")


def new_version(request: HttpRequest, listing_id: int) -> HttpResponse:
    _require_admin(request)
    try:
        listing = services.owned_listing(publisher=request.tenant, listing_id=listing_id)
    except MarketplaceError:
        raise Http404("No such listing") from None
    if request.method == "POST":
        return _publish(
            request, listing, _source_ids(request), request.POST.get("release_notes", "")
        )
    return _render(
        request,
        "new_version.html",
        f"New version of {listing.title}",
        listing=listing,
        versions=listing.versions.order_by("-number").defer("document"),
        **_sources(request),
    )


@require_POST
def reply(request: HttpRequest, review_id: int) -> HttpResponse:
    _require_admin(request)
    try:
        services.reply_to_review(
            publisher=request.tenant, review_id=review_id, text=request.POST.get("text", "")
        )
    except MarketplaceError:
        raise Http404("No such review") from None
    messages.success(request, "Reply saved.")
    return redirect("marketplace_admin:mine")
