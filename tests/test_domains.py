"""Custom domains: claim, DNS verification states, primary redirect, and tenant isolation."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from tenants.models import Domain
from themes import dns, domains
from themes.models import CustomDomain

pytestmark = pytest.mark.django_db


@pytest.fixture
def txt_records(monkeypatch) -> dict[str, list[str]]:
    """A fake DNS: the TXT records the test publishes."""
    records: dict[str, list[str]] = {}

    def lookup(name: str) -> list[str]:
        if name == "_viva-challenge.broken.example.org":
            raise dns.DnsLookupError(
                "DNS lookup for _viva-challenge.broken.example.org failed: Timeout"
            )
        return records.get(name, [])

    monkeypatch.setattr(dns, "lookup_txt", lookup)
    return records


def claim(portal, hostname: str) -> CustomDomain:
    with portal.activate():
        return domains.add_custom_domain(tenant=portal.tenant, hostname=hostname)


def verify(portal, claim_: CustomDomain) -> CustomDomain:
    with portal.activate():
        return domains.verify_custom_domain(tenant=portal.tenant, claim=claim_)


def test_a_domain_goes_from_pending_to_failed_to_verified(two_portals, txt_records):
    a, _ = two_portals
    pending = claim(a, "Exams.Alpha.EDU.")
    assert (pending.hostname, pending.status) == ("exams.alpha.edu", "pending")
    assert pending.record_name == "_viva-challenge.exams.alpha.edu"
    assert Client(HTTP_HOST="exams.alpha.edu").get("/").status_code == 404  # not routed yet

    txt_records["_viva-challenge.exams.alpha.edu"] = ["viva-verification=wrong"]
    failed = verify(a, pending)
    assert failed.status == "failed"
    assert failed.last_error == (
        f"No TXT record _viva-challenge.exams.alpha.edu with value {pending.record_value} "
        "was found (found: viva-verification=wrong)."
    )
    assert not Domain.objects.filter(domain="exams.alpha.edu").exists()

    txt_records["_viva-challenge.exams.alpha.edu"] = ["v=spf1 -all", pending.record_value]
    verified = verify(a, failed)
    assert (verified.status, verified.last_error) == ("verified", "")
    assert verified.verified_at is not None
    assert Domain.objects.get(domain="exams.alpha.edu").tenant == a.tenant


def test_a_dns_failure_is_reported_not_raised(two_portals, txt_records):
    a, _ = two_portals
    result = verify(a, claim(a, "broken.example.org"))
    assert result.status == "failed"
    assert "Timeout" in result.last_error


def test_the_primary_domain_serves_and_the_others_redirect_to_it(two_portals, txt_records):
    a, _ = two_portals
    custom = claim(a, "exams.alpha.edu")
    txt_records[custom.record_name] = [custom.record_value]
    verify(a, custom)
    connection.set_schema_to_public()

    custom_client = Client(HTTP_HOST="exams.alpha.edu")
    response = custom_client.get("/help/?q=1")
    assert response.status_code == 301
    assert response["Location"] == "http://alpha.localhost/help/?q=1"

    with a.activate():
        domains.make_primary(tenant=a.tenant, hostname="exams.alpha.edu")
    connection.set_schema_to_public()
    assert custom_client.get("/help/").status_code == 200
    old = a.client.get("/help/")
    assert (old.status_code, old["Location"]) == (301, "http://exams.alpha.edu/help/")
    assert a.client.get("/healthz").status_code == 200  # health checks are never redirected
    assert a.client.post("/i18n/setlang/", {"language": "fr"}).status_code == 302

    with a.activate(), pytest.raises(domains.DomainError, match="is the primary domain"):
        domains.remove_custom_domain(tenant=a.tenant, claim=CustomDomain.objects.get())


@pytest.mark.parametrize(
    ("hostname", "message"),
    [
        ("not a host", "'not a host' is not a valid host name"),
        ("localhost", "'localhost' is not a valid host name"),
        ("beta.localhost", "beta.localhost is already in use by a portal."),
    ],
)
def test_bad_or_taken_hosts_are_refused(two_portals, hostname, message):
    a, _ = two_portals
    with a.activate(), pytest.raises(domains.DomainError, match=message):
        domains.add_custom_domain(tenant=a.tenant, hostname=hostname)
    with a.activate():
        assert CustomDomain.objects.count() == 0


def test_a_host_verified_by_a_cannot_be_taken_by_b(two_portals, txt_records):
    a, b = two_portals
    first, second = claim(a, "shared.example.com"), claim(b, "shared.example.com")
    txt_records[first.record_name] = [first.record_value, second.record_value]
    assert verify(a, first).status == "verified"
    refused = verify(b, second)
    assert (refused.status, refused.last_error) == (
        "failed",
        "shared.example.com is already in use by another portal.",
    )
    assert Domain.objects.get(domain="shared.example.com").tenant == a.tenant


def test_domain_claims_are_invisible_and_untouchable_from_another_portal(two_portals, txt_records):
    a, b = two_portals
    mine = claim(a, "exams.alpha.edu")
    a.login_admin()
    b.login_admin()
    listing = a.client.get("/cms/domains/").content.decode()
    assert "exams.alpha.edu" in listing and mine.record_value in listing
    assert "exams.alpha.edu" not in b.client.get("/cms/domains/").content.decode()
    for action in ("verify", "primary", "remove"):
        assert b.client.post(f"/cms/domains/{mine.pk}/{action}/").status_code == 404
    with a.activate():
        assert CustomDomain.objects.get().status == "pending"


def test_the_admin_page_adds_a_domain_and_explains_a_refusal(two_portals, txt_records):
    a, _ = two_portals
    a.login_admin()
    refused = a.client.post("/cms/domains/", {"hostname": "beta.localhost"})
    assert "beta.localhost is already in use by a portal." in refused.content.decode()
    added = a.client.post("/cms/domains/", {"hostname": "exams.alpha.edu"}, follow=True)
    page = added.content.decode()
    assert "Waiting for DNS verification" in page and "_viva-challenge.exams.alpha.edu" in page
    with a.activate():
        pk = CustomDomain.objects.get().pk
    checked = a.client.post(f"/cms/domains/{pk}/verify/", follow=True).content.decode()
    assert "Verification failed" in checked and "No TXT record" in checked


def test_non_admin_staff_cannot_manage_domains(two_portals):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    a, _ = two_portals
    with a.activate():
        get_user_model().objects.create_user(
            email="editor@alpha.test", password="correct horse battery staple", is_staff=True
        ).groups.add(*Group.objects.filter(name="Editors"))
    connection.set_schema_to_public()
    a.client.post(
        "/accounts/login/",
        {"login": "editor@alpha.test", "password": "correct horse battery staple"},
    )
    connection.set_schema_to_public()
    assert a.client.get("/cms/domains/").status_code in (302, 403)
    assert a.client.post("/cms/domains/", {"hostname": "x.example.com"}).status_code in (302, 403)
    with a.activate():
        assert CustomDomain.objects.count() == 0
