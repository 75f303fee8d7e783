"""Reads for the seat usage page: how many seats the portal bought, who holds them, since when
and why. Every query is filtered by the tenant it is given."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator

from billing import entitlements
from billing.models import SeatAssignment
from tenants.models import Tenant

PER_PAGE = 50


@dataclass(frozen=True)
class SeatUsage:
    seats: entitlements.Entitlement  # bought (limit), used, left (remaining)
    people: int  # seats held by accounts
    pending: int  # seats held for invitations not yet accepted or expired
    rows: Page  # the counted seats matching the search, by email


def seat_usage(*, tenant: Tenant, search: str = "", page: str | int | None = 1) -> SeatUsage:
    counted = SeatAssignment.objects.counted(tenant.pk)
    pending = counted.filter(user_id__isnull=True).count()
    rows = counted.order_by("email", "pk")
    if search.strip():
        rows = rows.filter(email__icontains=search.strip())
    seats = entitlements.check(tenant, entitlements.SEATS)
    return SeatUsage(
        seats=seats,
        people=(seats.used or 0) - pending,
        pending=pending,
        rows=Paginator(rows, PER_PAGE).get_page(page),
    )
