"""Custom domains: claim, verify by DNS TXT record, make primary, remove.

A claim is verified when ``_viva-challenge.<host>`` has the TXT value
``viva-verification=<token>``. In development (``VIVA_LOCAL_DOMAIN_VERIFICATION``), hosts under
``.localhost`` verify without DNS, since they cannot be published there.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from tenants.models import Domain, Tenant
from tenants.services import HOSTNAME_RE
from themes import dns
from themes.models import CustomDomain


class DomainError(Exception):
    """A domain action was refused; the message says why. Nothing changed."""


def add_custom_domain(*, tenant: Tenant, hostname: str) -> CustomDomain:
    from billing.entitlements import CUSTOM_DOMAIN, has_feature

    hostname = (hostname or "").strip().lower().rstrip(".")
    if not has_feature(tenant, CUSTOM_DOMAIN):
        raise DomainError("Custom domains are not included in your plan.")
    if not HOSTNAME_RE.match(hostname) or "." not in hostname:
        raise DomainError(f"'{hostname}' is not a valid host name, e.g. exams.example.edu.")
    if CustomDomain.objects.filter(hostname=hostname).exists():
        raise DomainError(f"{hostname} is already on your list.")
    if Domain.objects.filter(domain=hostname).exists():
        raise DomainError(f"{hostname} is already in use by a portal.")
    return CustomDomain.objects.create(hostname=hostname, token=secrets.token_urlsafe(24))


def _local_verification_allowed(hostname: str) -> bool:
    return settings.VIVA_LOCAL_DOMAIN_VERIFICATION and hostname.endswith(".localhost")


def verify_custom_domain(*, tenant: Tenant, claim: CustomDomain) -> CustomDomain:
    """Check the TXT record; on success route the host to this tenant (not yet primary)."""
    if claim.status == CustomDomain.Status.VERIFIED:
        return claim
    claim.last_checked_at = timezone.now()
    problem = ""
    if not _local_verification_allowed(claim.hostname):
        try:
            values = dns.lookup_txt(claim.record_name)
        except dns.DnsLookupError as exc:
            values, problem = [], str(exc)
        if not problem and claim.record_value not in values:
            problem = (
                f"No TXT record {claim.record_name} with value {claim.record_value} was found"
                + (f" (found: {', '.join(values)[:120]})" if values else "")
                + "."
            )
    if not problem:
        try:
            with transaction.atomic():
                Domain.objects.create(domain=claim.hostname, tenant=tenant, is_primary=False)
        except IntegrityError:
            problem = f"{claim.hostname} is already in use by another portal."
    if problem:
        claim.status, claim.last_error = CustomDomain.Status.FAILED, problem
    else:
        claim.status, claim.last_error = CustomDomain.Status.VERIFIED, ""
        claim.verified_at = claim.last_checked_at
    claim.save()
    return claim


@transaction.atomic
def make_primary(*, tenant: Tenant, hostname: str) -> None:
    """Serve the portal on ``hostname``; its other hosts redirect there."""
    target = Domain.objects.select_for_update().filter(tenant=tenant, domain=hostname).first()
    if target is None:
        raise DomainError(f"{hostname} is not a verified domain of this portal.")
    Domain.objects.filter(tenant=tenant).exclude(pk=target.pk).update(is_primary=False)
    Domain.objects.filter(pk=target.pk).update(is_primary=True)
    CustomDomain.objects.update(is_primary=False)
    CustomDomain.objects.filter(hostname=hostname).update(is_primary=True)


@transaction.atomic
def remove_custom_domain(*, tenant: Tenant, claim: CustomDomain) -> None:
    if claim.is_primary:
        raise DomainError(
            f"{claim.hostname} is the primary domain; make another one primary first."
        )
    Domain.objects.filter(tenant=tenant, domain=claim.hostname).delete()
    claim.delete()
