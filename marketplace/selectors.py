"""Reads of the marketplace: the catalogue, a listing's public face, installations, sales.

What the catalogue returns is the listing's metadata, its sample questions (candidate views,
no answer keys) and its published reviews: never a version's ``document``. ``public_listing``
is the one place that shapes what a visitor or a non-buyer may see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Avg, CharField, Count, F, Func, Max, Q, QuerySet, Sum, Value
from django_tenants.utils import schema_context

from marketplace.models import (
    Installation,
    Licence,
    Listing,
    ListingVersion,
    PublisherAccount,
    Purchase,
    Review,
    SampleQuestion,
)
from tenants.models import Tenant

SORTS = {
    "relevance": None,
    "newest": ["-created", "-id"],
    "rating": [F("rating_avg").desc(nulls_last=True), "-rating_count", "title"],
    "price_low": ["price_amount", "title"],
    "price_high": ["-price_amount", "title"],
    "title": ["title", "id"],
}


def catalogue(
    *,
    query: str = "",
    subject: str = "",
    tag: str = "",
    level: str = "",
    language: str = "",
    kind: str = "",
    price: str = "",
    min_rating: Any = None,
    sort: str = "",
) -> QuerySet[Listing]:
    """Published listings matching the search (PostgreSQL full text over title, subject,
    tags and description, English stemming) and filters, annotated with ``rating_avg``,
    ``rating_count`` and ``latest_version``. ``price`` is ``free`` or ``paid``."""
    listings = (
        Listing.objects.filter(status=Listing.Status.PUBLISHED)
        .select_related("publisher")
        .annotate(
            rating_avg=Avg("reviews__rating", filter=Q(reviews__status=Review.Status.PUBLISHED)),
            rating_count=Count(
                "reviews", filter=Q(reviews__status=Review.Status.PUBLISHED), distinct=True
            ),
            latest_version=Max("versions__number"),
        )
    )
    if subject:
        listings = listings.filter(subject__iexact=subject)
    if tag:
        listings = listings.filter(tags__contains=[tag.strip().lower()])
    if level:
        listings = listings.filter(level=level)
    if language:
        listings = listings.filter(language__iexact=language)
    if kind:
        listings = listings.filter(kind=kind)
    if price == "free":
        listings = listings.filter(price_model=Listing.PriceModel.FREE)
    elif price == "paid":
        listings = listings.exclude(price_model=Listing.PriceModel.FREE)
    try:
        rating = float(min_rating) if min_rating not in (None, "") else None
    except (TypeError, ValueError):
        rating = None
    if rating is not None:
        listings = listings.filter(rating_avg__gte=rating)
    query = (query or "").strip()[:200]
    if query:
        vector = (
            SearchVector("title", weight="A", config="english")
            + SearchVector("subject", weight="B", config="english")
            + SearchVector(
                Func(
                    F("tags"),
                    Value(" "),
                    function="array_to_string",
                    output_field=CharField(),
                ),
                weight="B",
                config="english",
            )
            + SearchVector("description", weight="C", config="english")
        )
        search = SearchQuery(query, search_type="websearch", config="english")
        # Filter on the match (``@@``): ts_rank gives 1e-20, not 0, to a listing matching
        # only some words, so ``rank > 0`` turned "data science" into "data OR science".
        listings = listings.annotate(searched=vector, rank=SearchRank(vector, search)).filter(
            searched=search
        )
    order = SORTS.get(sort or "")
    if order is None:
        order = ["-rank", "title"] if query else ["title", "id"]
    return listings.order_by(*order)


def facets() -> dict[str, list[str]]:
    """The values the catalogue's filters offer (from published listings)."""
    published = Listing.objects.filter(status=Listing.Status.PUBLISHED)
    tags = sorted({t for row in published.values_list("tags", flat=True) for t in row})
    return {
        "subjects": sorted(set(published.exclude(subject="").values_list("subject", flat=True))),
        "languages": sorted(set(published.values_list("language", flat=True))),
        "tags": tags,
        "levels": list(Listing.Level.values),
        "kinds": list(Listing.Kind.values),
    }


def latest_version(listing: Listing) -> ListingVersion | None:
    return ListingVersion.objects.filter(listing=listing).order_by("-number").first()


def samples_of(listing: Listing) -> list[SampleQuestion]:
    version = latest_version(listing)
    return list(SampleQuestion.objects.filter(version=version)) if version else []


def published_reviews(listing: Listing) -> QuerySet[Review]:
    return Review.objects.filter(listing=listing, status=Review.Status.PUBLISHED).select_related(
        "buyer"
    )


def public_listing(listing: Listing, *, detail: bool = False) -> dict[str, Any]:
    """What anyone may see of a published listing (JSON-ready). Never the document: a
    sample's stem holds only that sample's own images, inline as ``data:`` URIs (made at
    publish time by ``documents.sample_questions``), so no other image of it leaves here."""
    data: dict[str, Any] = {
        "slug": listing.slug,
        "title": listing.title,
        "publisher": listing.publisher.name or listing.publisher.slug,
        "description": listing.description,
        "subject": listing.subject,
        "tags": list(listing.tags),
        "level": listing.level,
        "language": listing.language,
        "kind": listing.kind,
        "price_model": listing.price_model,
        "price_amount": listing.price_amount,
        "currency": listing.currency,
        "price": listing.price_display,
        "community": listing.community,
        "rating": round(float(listing.rating_avg), 2)
        if getattr(listing, "rating_avg", None) is not None
        else None,
        "rating_count": getattr(listing, "rating_count", 0),
    }
    if detail:
        version = latest_version(listing)
        data["licence_terms"] = listing.licence_terms
        data["versions"] = [
            {
                "number": v.number,
                "release_notes": v.release_notes,
                "questions": v.question_count,
                "size_bytes": v.size_bytes,
                "created": v.created.isoformat(),
            }
            for v in ListingVersion.objects.filter(listing=listing)
            .order_by("-number")
            .defer("document")
        ]
        data["samples"] = [
            {
                "position": s.position,
                "type": s.type,
                "title": s.title,
                "stem": s.stem,
                "candidate_view": s.candidate_view,
            }
            for s in (SampleQuestion.objects.filter(version=version) if version else [])
        ]
        data["reviews"] = [
            {
                "rating": r.rating,
                "text": r.text,
                "by": r.buyer.name or r.buyer.slug,
                "publisher_reply": r.publisher_reply,
                "created": r.created.isoformat(),
            }
            for r in published_reviews(listing)
        ]
    return data


def listing_with_rating(slug: str) -> Listing | None:
    return catalogue().filter(slug=slug).first()


# -- a tenant's view --------------------------------------------------------------------------


@dataclass
class InstalledRow:
    installation: Installation
    latest: int
    update_available: bool


def installations_of(buyer: Tenant) -> list[InstalledRow]:
    rows = []
    installed = Installation.objects.filter(buyer=buyer).select_related("listing", "version")
    latest = dict(
        ListingVersion.objects.filter(listing__installations__buyer=buyer)
        .values("listing")
        .annotate(n=Max("number"))
        .values_list("listing", "n")
    )
    for installation in installed:
        newest = latest.get(installation.listing_id, installation.version.number)
        rows.append(
            InstalledRow(
                installation=installation,
                latest=newest,
                update_available=newest > installation.version.number,
            )
        )
    return rows


def licence_of(buyer: Tenant, listing: Listing) -> Licence | None:
    return Licence.objects.filter(buyer=buyer, listing=listing).first()


def seats_in_use(installation: Installation) -> int:
    """Candidates (distinct people) who started the installed exam, counted in the buyer's
    schema; a per-seat licence compares this with ``Licence.seats``."""
    if not installation.exam_id:
        return 0
    with schema_context(installation.buyer.schema_name):
        return _candidates_of(installation.exam_id).count()


def _candidates_of(exam_id: int) -> QuerySet:
    """Distinct people with an attempt at ``exam_id`` of the current schema."""
    from assessments.delivery.models import Attempt

    return Attempt.objects.filter(exam_id=exam_id).values("user_id").distinct()


@dataclass(frozen=True)
class SeatCheck:
    allowed: bool
    message: str = ""


def licence_allows_candidate(*, exam: Any, user: Any) -> SeatCheck:
    """May ``user`` start ``exam`` (of the current tenant schema) under the per-seat licence
    the exam was installed with? A person who already started it holds a seat and keeps
    going; a new person needs a free seat. Exams not installed from a per-seat licence are
    always allowed.

    Call it inside the transaction that creates the attempt: the licence row is locked
    (``FOR UPDATE``) so concurrent starts are counted one after another and never take
    more seats than were bought.
    """
    installed = (
        Installation.objects.filter(buyer__schema_name=connection.schema_name, exam_id=exam.pk)
        .values_list("buyer_id", "listing_id")
        .first()
    )
    if installed is None:
        return SeatCheck(allowed=True)
    buyer_id, listing_id = installed
    licence = (
        Licence.objects.select_for_update().filter(buyer_id=buyer_id, listing_id=listing_id).first()
    )
    if licence is None or licence.seats is None:
        return SeatCheck(allowed=True)
    candidates = _candidates_of(exam.pk)
    if candidates.filter(user_id=user.pk).exists() or candidates.count() < licence.seats:
        return SeatCheck(allowed=True)
    return SeatCheck(
        allowed=False,
        message=(
            f"All {licence.seats} seats of this licence are used; buy more in the marketplace."
        ),
    )


# -- a publisher's view -----------------------------------------------------------------------


@dataclass
class SalesRow:
    listing: Listing
    sales: int = 0
    seats: int = 0
    gross: int = 0
    platform_fees: int = 0
    net: int = 0
    owed: int = 0
    transferred: int = 0  # by a payout, or by Stripe at sale (destination charges)
    installs: int = 0


@dataclass
class SalesReport:
    rows: list[SalesRow] = field(default_factory=list)
    totals: SalesRow | None = None
    fee_percent: str = ""


def payout_account_of(publisher: Tenant) -> PublisherAccount | None:
    return PublisherAccount.objects.filter(publisher=publisher).first()


def sales_report(*, publisher: Tenant) -> SalesReport:
    """Per listing of ``publisher``: paid purchases, seats, gross, the platform's fees, net,
    what is still owed and what was transferred (from ``Purchase`` rows), and installs. It
    names buyer portals only through counts: a publisher sees no buyer's data."""
    from marketplace.payments import platform_fee_percent

    listings = list(Listing.objects.filter(publisher=publisher).order_by("title"))
    paid = (
        Purchase.objects.filter(listing__publisher=publisher, status=Purchase.Status.PAID)
        .values("listing", "payout_status")
        .annotate(n=Count("id"), seats=Sum("seats"), gross=Sum("amount"), fees=Sum("platform_fee"))
    )
    installs = dict(
        Installation.objects.filter(listing__publisher=publisher)
        .values("listing")
        .annotate(n=Count("id"))
        .values_list("listing", "n")
    )
    by_listing = {listing.pk: SalesRow(listing=listing) for listing in listings}
    for row in paid:
        sales = by_listing[row["listing"]]
        sales.sales += row["n"]
        sales.seats += row["seats"] or 0
        sales.gross += row["gross"] or 0
        sales.platform_fees += row["fees"] or 0
        net = (row["gross"] or 0) - (row["fees"] or 0)
        sales.net += net
        if row["payout_status"] == Purchase.Payout.OWED:
            sales.owed += net
        else:
            sales.transferred += net
    totals = SalesRow(listing=None)  # type: ignore[arg-type]
    for pk, sales in by_listing.items():
        sales.installs = installs.get(pk, 0)
        for name in ("sales", "seats", "gross", "platform_fees", "net", "owed", "transferred"):
            setattr(totals, name, getattr(totals, name) + getattr(sales, name))
        totals.installs += sales.installs
    return SalesReport(
        rows=list(by_listing.values()), totals=totals, fee_percent=str(platform_fee_percent())
    )
