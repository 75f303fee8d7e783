"""The catalogue on the platform site (public urlconf, ``/marketplace/``): browse, search, a
listing's page with its preview and reviews, the same as JSON, and the offline checkout.

Everything here reads through ``selectors.public_listing``: a visitor sees what the catalogue
shows (metadata, sample questions without answer keys, published reviews) and never a
version's document. Installing and buying happen in a portal's admin, never here.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods

from marketplace import payments, selectors
from marketplace.models import Listing, Purchase
from marketplace.services import MarketplaceError

PAGE_SIZE = 24
FILTERS = ("query", "subject", "tag", "level", "language", "kind", "price", "min_rating", "sort")


def catalogue_filters(request: HttpRequest) -> dict[str, str]:
    values = {name: request.GET.get(name, "").strip()[:200] for name in FILTERS}
    values["query"] = values["query"] or request.GET.get("q", "").strip()[:200]
    return values


def catalogue_context(request: HttpRequest) -> dict:
    filters = catalogue_filters(request)
    page = Paginator(selectors.catalogue(**filters), PAGE_SIZE).get_page(request.GET.get("p"))
    return {
        "filters": filters,
        "page": page,
        "facets": selectors.facets(),
        "levels": Listing.Level.choices,
        "kinds": Listing.Kind.choices,
        "sorts": list(selectors.SORTS),
    }


@require_GET
def catalogue_page(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "marketplace/catalogue.html", catalogue_context(request))


@require_GET
def catalogue_json(request: HttpRequest) -> JsonResponse:
    filters = catalogue_filters(request)
    page = Paginator(selectors.catalogue(**filters), PAGE_SIZE).get_page(request.GET.get("p"))
    return JsonResponse(
        {
            "count": page.paginator.count,
            "page": page.number,
            "pages": page.paginator.num_pages,
            "results": [selectors.public_listing(listing) for listing in page],
        }
    )


def _published(slug: str) -> Listing:
    listing = selectors.listing_with_rating(slug)
    if listing is None:
        raise Http404("No such listing")
    return listing


@require_GET
def listing_page(request: HttpRequest, slug: str) -> HttpResponse:
    listing = _published(slug)
    return TemplateResponse(
        request,
        "marketplace/listing.html",
        {"listing": listing, "data": selectors.public_listing(listing, detail=True)},
    )


@require_GET
def listing_json(request: HttpRequest, slug: str) -> JsonResponse:
    return JsonResponse(selectors.public_listing(_published(slug), detail=True))


@require_http_methods(["GET", "POST"])
def local_checkout(request: HttpRequest, session_id: str) -> HttpResponse:
    """The offline confirmation page of a purchase (only while billing runs on the local
    Stripe double and its gateway has no one-off payments). Reached by an unguessable id."""
    if not payments.local_checkout_enabled():
        raise Http404("No such checkout")
    purchase = (
        Purchase.objects.select_related("listing", "buyer")
        .filter(checkout_session_id=session_id, provider=payments.LocalConfirmationProvider.name)
        .first()
    )
    if purchase is None:
        raise Http404("No such checkout")
    if request.method == "POST" and purchase.status == Purchase.Status.PENDING:
        try:
            payments.confirm_local_checkout(session_id=session_id)
        except MarketplaceError as error:
            raise Http404(str(error)) from None
        # Back to the buyer's portal, to the address the purchase was started with (never
        # one taken from this request: no open redirect).
        return HttpResponseRedirect(purchase.success_url or request.path)
    return TemplateResponse(
        request,
        "marketplace/checkout.html",
        {
            "purchase": purchase,
            "total": f"{purchase.amount / 100:,.2f} {purchase.currency.upper()}",
        },
    )
