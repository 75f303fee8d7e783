"""The catalogue on the platform site (public urlconf, ``/marketplace/``): browse, search, a
listing's page with its preview and reviews, and the same as JSON.

Everything here reads through ``selectors.public_listing``: a visitor sees what the catalogue
shows (metadata, sample questions without answer keys, published reviews) and never a
version's document. Installing and buying happen in a portal's admin, never here.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from marketplace import selectors
from marketplace.models import Listing

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
