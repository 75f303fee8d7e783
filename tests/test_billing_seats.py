"""Bulk licences (issue #7): billing seats wired into people management.

A seat is held by every active account with the candidate role, and by every candidate
invitation from the moment it is sent until it is accepted (then it is the person's seat),
revoked or expired. Over the limit, invitations, role grants, re-enabling and open sign-up are
refused with a message and nothing is created.
"""

from __future__ import annotations

import io
import re
import threading
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from billing import entitlements
from billing.models import Plan, SeatAssignment, Subscription
from tenants.access import services
from tenants.access.models import AccessPolicy, Invitation
from tenants.access.permissions import has_role
from tests.conftest import make_member

User = get_user_model()

PORTAL_URL = "http://alpha.localhost:8000"
BOUGHT_ALL_USED = (
    "All {n} seats you bought are in use. Buy more seats or release a seat under "
    "Settings → Billing."
)
FREE_ALL_USED = (
    "The Free plan allows 10 active candidates, and all are used. Upgrade under "
    "Settings → Billing for more."
)


def buy_seats(portal, seats: int) -> Subscription:
    """A paid, active subscription of ``seats`` seats (as Stripe's sync would leave it)."""
    return Subscription.objects.create(
        tenant=portal.tenant, plan=Plan.objects.get(code="starter"), status="active", seats=seats
    )


def in_use(portal) -> int:
    return entitlements.seats_in_use(portal.tenant)


def live_seats(portal):
    return SeatAssignment.objects.counted(portal.tenant.pk)


def invite(portal, email: str, role: str = "candidate") -> Invitation:
    with portal.activate():
        admin = User.objects.get(email=portal.admin_email)
        return services.invite_user(email=email, role=role, invited_by=admin, portal_url=PORTAL_URL)


def candidate(portal, email: str):
    """An account that became a candidate through a role grant (so it holds a seat)."""
    user = make_member(portal, email)
    with portal.activate():
        services.grant_role(user=user, role="candidate")
    return user


def signup(client: Client, email: str):
    response = client.post(
        "/accounts/signup/",
        {"email": email, "password1": "a-Long-pass-77", "password2": "a-Long-pass-77"},
    )
    connection.set_schema_to_public()
    return response


def open_signup(portal) -> None:
    with portal.activate():
        policy = AccessPolicy.load()
        policy.signup_policy = "open"
        policy.save()


# --- invitations -------------------------------------------------------------------------------


def test_a_candidate_invitation_holds_a_seat_that_becomes_the_persons_on_accepting(
    two_portals, django_capture_on_commit_callbacks
):
    a, b = two_portals
    with a.activate(), django_capture_on_commit_callbacks(execute=True):
        invite(a, "Grace@Alpha.test")
        invite(a, "author@alpha.test", role="author")  # staff roles hold no seat
    (hold,) = live_seats(a)
    assert (hold.email, hold.user_id, hold.source) == ("grace@alpha.test", None, "invitation")
    with a.activate():
        assert hold.expires_at == Invitation.objects.get(email="grace@alpha.test").expires_at
    assert (in_use(a), in_use(b)) == (1, 0)

    link = re.search(r"http://[^/]+(/accounts/invitation/[^/\s]+/)", mail.outbox[0].body)[1]
    visitor = Client(HTTP_HOST=a.domain)
    assert visitor.get(link)["Location"] == "/accounts/signup/"
    assert signup(visitor, "grace@alpha.test").status_code == 302
    with a.activate():
        grace = User.objects.get(email="grace@alpha.test")
        assert has_role(grace, "candidate")
    (seat,) = live_seats(a)
    assert (seat.pk, seat.user_id, seat.expires_at, seat.source) == (
        hold.pk,
        grace.pk,
        None,
        "invitation",
    )
    assert in_use(a) == 1


def test_an_expired_invitation_stops_counting_and_can_be_sent_again(two_portals):
    a, _ = two_portals
    invite(a, "late@alpha.test")
    past = timezone.now() - timedelta(minutes=1)
    SeatAssignment.objects.filter(tenant=a.tenant).update(expires_at=past)
    with a.activate():
        Invitation.objects.update(expires_at=past)
    assert in_use(a) == 0

    again = invite(a, "late@alpha.test")
    assert in_use(a) == 1
    holds = SeatAssignment.objects.filter(tenant=a.tenant, email="late@alpha.test")
    assert holds.filter(released_at__isnull=False).count() == 1
    assert holds.get(released_at__isnull=True).expires_at == again.expires_at


def test_revoking_an_invitation_gives_its_seat_back(two_portals):
    a, _ = two_portals
    invitation = invite(a, "gone@alpha.test")
    assert in_use(a) == 1
    with a.activate():
        services.revoke_invitation(invitation=invitation)
        assert not Invitation.objects.exists()
    assert in_use(a) == 0
    assert SeatAssignment.objects.get(tenant=a.tenant).released_at is not None


def test_the_people_page_withdraws_an_invitation_of_its_own_portal_only(two_portals):
    a, b = two_portals
    invitation = invite(a, "gone@alpha.test")
    a.login_admin()
    b.login_admin()
    page = a.client.get("/cms/people/").content.decode()
    assert f'action="/cms/people/invitations/{invitation.pk}/revoke/"' in page
    # B's admin, on B's host, cannot reach A's invitation by its id.
    assert b.client.post(f"/cms/people/invitations/{invitation.pk}/revoke/").status_code == 404
    connection.set_schema_to_public()
    assert in_use(a) == 1
    done = a.client.post(f"/cms/people/invitations/{invitation.pk}/revoke/", follow=True)
    connection.set_schema_to_public()
    assert "The invitation of gone@alpha.test is withdrawn." in done.content.decode()
    assert in_use(a) == 0
    with a.activate():
        assert not Invitation.objects.exists()


def test_over_the_limit_an_invitation_is_refused_and_nothing_is_created(two_portals):
    a, _ = two_portals
    buy_seats(a, 2)
    invite(a, "one@alpha.test")
    candidate(a, "two@alpha.test")
    mail.outbox.clear()
    with pytest.raises(services.InvitationError, match=re.escape(BOUGHT_ALL_USED.format(n=2))):
        invite(a, "three@alpha.test")
    with a.activate():
        assert not Invitation.objects.filter(email="three@alpha.test").exists()
    assert not SeatAssignment.objects.filter(email="three@alpha.test").exists()
    assert in_use(a) == 2 and mail.outbox == []
    invite(a, "staff@alpha.test", role="grader")  # staff invitations need no seat


def test_a_csv_beyond_the_free_seats_sends_exactly_the_free_ones_and_says_why_for_the_rest(
    two_portals,
):
    a, b = two_portals
    candidate(a, "already@alpha.test")
    emails = [f"c{n:02}@alpha.test" for n in range(12)]
    data = ("email\n" + "\n".join(emails) + "\n").encode()
    with a.activate():
        report = services.invite_from_csv(
            data=data, default_role="candidate", invited_by=None, portal_url=PORTAL_URL
        )
        assert Invitation.objects.count() == 9
    assert report.sent == emails[:9]
    assert report.rejected == [
        (11, emails[9], FREE_ALL_USED),
        (12, emails[10], FREE_ALL_USED),
        (13, emails[11], FREE_ALL_USED),
    ]
    assert (in_use(a), in_use(b)) == (10, 0)


def test_the_people_page_shows_the_rows_refused_for_want_of_seats(two_portals):
    a, _ = two_portals
    buy_seats(a, 1)
    a.login_admin()
    upload = io.BytesIO(b"email\nfirst@alpha.test\nsecond@alpha.test\n")
    upload.name = "people.csv"
    page = a.client.post("/cms/people/", {"role": "candidate", "csv_file": upload}).content
    page = page.decode()
    assert "1 invitation(s) sent, 1 rejected." in page
    assert "<td>3</td><td>second@alpha.test</td><td>All 1 seats you bought are in use." in page
    single = a.client.post("/cms/people/", {"role": "candidate", "email": "third@alpha.test"})
    assert BOUGHT_ALL_USED.format(n=1) in single.content.decode()
    with a.activate():
        assert sorted(Invitation.objects.values_list("email", flat=True)) == ["first@alpha.test"]


def test_concurrent_invitations_never_hold_more_seats_than_were_bought(make_committed_portal):
    portal = make_committed_portal("seatrush")
    buy_seats(portal, 5)
    with portal.activate():
        admin_id = User.objects.get(email=portal.admin_email).pk
    barrier = threading.Barrier(12)
    outcomes: list[str] = []

    def send(n: int) -> None:
        try:
            with portal.activate():
                admin = User.objects.get(pk=admin_id)
                barrier.wait()
                services.invite_user(
                    email=f"rush{n}@s.test",
                    role="candidate",
                    invited_by=admin,
                    portal_url=PORTAL_URL,
                )
            outcomes.append("sent")
        except services.InvitationError as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [BOUGHT_ALL_USED.format(n=5)] * 7 + ["sent"] * 5
    holds = live_seats(portal)
    assert holds.count() == 5 and not holds.filter(user_id__isnull=False).exists()
    with portal.activate():
        assert sorted(Invitation.objects.values_list("email", flat=True)) == sorted(
            holds.values_list("email", flat=True)
        )


# --- roles, disabling, erasure -----------------------------------------------------------------


def test_granting_the_candidate_role_at_the_limit_is_refused_on_the_people_page(two_portals):
    a, _ = two_portals
    buy_seats(a, 1)
    first, second = make_member(a, "first@alpha.test"), make_member(a, "second@alpha.test")
    a.login_admin()
    granted = a.client.post(
        f"/cms/people/{first.pk}/grant-role/", {"role": "candidate"}, follow=True
    )
    assert "first@alpha.test is now in Candidates." in granted.content.decode()
    refused = a.client.post(
        f"/cms/people/{second.pk}/grant-role/", {"role": "candidate"}, follow=True
    )
    assert BOUGHT_ALL_USED.format(n=1) in refused.content.decode()
    with a.activate():
        assert has_role(User.objects.get(pk=first.pk), "candidate")
        assert not has_role(User.objects.get(pk=second.pk), "candidate")
    assert list(live_seats(a).values_list("user_id", "source")) == [(first.pk, "role")]

    a.client.post(f"/cms/people/{second.pk}/grant-role/", {"role": "author"})  # no seat needed
    a.client.post(f"/cms/people/{first.pk}/remove-role/", {"role": "candidate"})
    assert in_use(a) == 0
    with a.activate():
        assert has_role(User.objects.get(pk=second.pk), "author")
        assert not has_role(User.objects.get(pk=first.pk), "candidate")


def test_disabling_gives_the_seat_back_and_enabling_needs_a_free_one(two_portals):
    a, _ = two_portals
    buy_seats(a, 1)
    person = candidate(a, "learner@alpha.test")
    a.login_admin()
    a.client.post(f"/cms/people/{person.pk}/disable/")
    assert in_use(a) == 0
    other = candidate(a, "newcomer@alpha.test")
    refused = a.client.post(f"/cms/people/{person.pk}/enable/", follow=True)
    assert BOUGHT_ALL_USED.format(n=1) in refused.content.decode()
    with a.activate():
        assert User.objects.get(pk=person.pk).is_active is False
        services.disable_user(user=User.objects.get(pk=other.pk))
    a.client.post(f"/cms/people/{person.pk}/enable/")
    with a.activate():
        assert User.objects.get(pk=person.pk).is_active is True
    assert list(live_seats(a).values_list("user_id", flat=True)) == [person.pk]


def test_erasing_a_person_frees_their_seat_and_unnames_the_billing_rows(two_portals):
    from tenants.privacy.services import erase_user

    a, b = two_portals
    person = candidate(a, "erase.me@alpha.test")
    namesake = candidate(b, "erase.me@alpha.test")
    with a.activate():
        services.revoke_role(user=User.objects.get(pk=person.pk), role="candidate")
        services.grant_role(user=User.objects.get(pk=person.pk), role="candidate")
        erase_user(user=User.objects.get(pk=person.pk), by=User.objects.get(email=a.admin_email))
    assert in_use(a) == 0
    rows = SeatAssignment.objects.filter(tenant=a.tenant, user_id=person.pk)
    assert rows.count() == 2 and not rows.filter(released_at__isnull=True).exists()
    assert not SeatAssignment.objects.filter(tenant=a.tenant, email="erase.me@alpha.test").exists()
    # B's namesake keeps their seat and their address.
    assert list(live_seats(b).values_list("user_id", "email")) == [
        (namesake.pk, "erase.me@alpha.test")
    ]


# --- open sign-up ------------------------------------------------------------------------------


def test_open_sign_up_makes_a_candidate_with_a_seat_and_is_refused_when_none_is_left(two_portals):
    a, _ = two_portals
    open_signup(a)
    buy_seats(a, 1)
    assert signup(Client(HTTP_HOST=a.domain), "walkin@anywhere.test").status_code == 302
    with a.activate():
        walkin = User.objects.get(email="walkin@anywhere.test")
        assert has_role(walkin, "candidate")
    assert list(live_seats(a).values_list("user_id", "source")) == [(walkin.pk, "signup")]

    refused = signup(Client(HTTP_HOST=a.domain), "latecomer@anywhere.test")
    assert refused.status_code == 200
    assert "This portal has no free places left; ask its administrators." in (
        refused.content.decode()
    )
    with a.activate():
        assert not User.objects.filter(email="latecomer@anywhere.test").exists()
    assert in_use(a) == 1


def test_when_the_last_seat_goes_during_sign_up_no_account_is_kept(two_portals, monkeypatch):
    """The form's check passed, but another sign-up took the last seat before this one saved."""
    from tenants.accounts import adapter

    a, _ = two_portals
    open_signup(a)
    buy_seats(a, 1)
    candidate(a, "first@alpha.test")
    monkeypatch.setattr(adapter, "_seat_left", lambda: True)
    racer = Client(HTTP_HOST=a.domain)
    response = signup(racer, "racer@anywhere.test")
    assert response.status_code == 302 and response["Location"] == "/accounts/signup/"
    again = racer.get("/accounts/signup/").content.decode()
    connection.set_schema_to_public()
    assert "This portal has no free places left; ask its administrators." in again
    with a.activate():
        assert not User.objects.filter(email="racer@anywhere.test").exists()
    assert in_use(a) == 1


# --- the seat usage page -----------------------------------------------------------------------


def test_the_seat_page_shows_bought_used_left_holds_and_people(
    two_portals, django_assert_max_num_queries
):
    a, _ = two_portals
    buy_seats(a, 6)
    for n in range(3):
        candidate(a, f"person{n}@alpha.test")
    invite(a, "pending@alpha.test")
    a.login_admin()
    with django_assert_max_num_queries(30):
        page = a.client.get("/cms/billing/seats/").content.decode()
    assert re.search(
        r"<td data-bought>6</td>\s*<td data-used>4</td>\s*<td data-pending>1</td>"
        r"\s*<td data-left>2</td>",
        page,
    )
    assert page.count("data-seat=") == 4
    assert "Invitation pending until" in page and "Candidate role granted" in page
    found = a.client.get("/cms/billing/seats/", {"q": "PERSON1"}).content.decode()
    assert found.count("data-seat=") == 1 and "person1@alpha.test" in found
    assert 'href="/cms/billing/seats/"' in a.client.get("/cms/billing/").content.decode()


def test_releasing_a_seat_takes_the_candidate_role_and_is_audited(two_portals):
    from tenants.audit.models import AuditEvent

    a, _ = two_portals
    person = candidate(a, "leaver@alpha.test")
    invite(a, "invited@alpha.test")
    seat = live_seats(a).get(user_id=person.pk)
    hold = live_seats(a).get(user_id__isnull=True)
    a.login_admin()
    done = a.client.post(f"/cms/billing/seats/{seat.pk}/release/", follow=True)
    assert "leaver@alpha.test is no longer a candidate here" in done.content.decode()
    a.client.post(f"/cms/billing/seats/{hold.pk}/release/")
    assert in_use(a) == 0
    with a.activate():
        assert not has_role(User.objects.get(pk=person.pk), "candidate")
        assert not Invitation.objects.exists()
        event = AuditEvent.objects.get(action="role.revoked", object_id=str(person.pk))
        assert event.actor_label == a.admin_email and event.detail["role"] == "Candidates"
    assert a.client.post(f"/cms/billing/seats/{seat.pk}/release/").status_code == 404


def test_only_tenant_admins_see_the_seat_page(two_portals):
    a, _ = two_portals
    make_member(a, "author@alpha.test", role="author")
    candidate(a, "learner@alpha.test")
    seat = live_seats(a).get()
    author = Client(HTTP_HOST=a.domain)
    from tests.conftest import sign_in

    sign_in(author, "author@alpha.test")
    assert author.get("/cms/billing/seats/").status_code == 404
    assert author.post(f"/cms/billing/seats/{seat.pk}/release/").status_code == 404
    learner = sign_in(Client(HTTP_HOST=a.domain), "learner@alpha.test")
    assert learner.get("/cms/billing/seats/").status_code == 302
    anonymous = Client(HTTP_HOST=a.domain).get("/cms/billing/seats/")
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    assert in_use(a) == 1


# --- two tenants -------------------------------------------------------------------------------


def test_a_seat_page_never_shows_or_releases_another_portals_seats(two_portals):
    a, b = two_portals
    candidate(a, "alpha.person@shared.test")
    b_person = candidate(b, "beta.person@shared.test")
    invite(b, "beta.invited@shared.test")
    b_seat = live_seats(b).get(user_id=b_person.pk)
    b_hold = live_seats(b).get(user_id__isnull=True)
    a.login_admin()
    page = a.client.get("/cms/billing/seats/", {"q": "shared.test"}).content.decode()
    assert "alpha.person@shared.test" in page
    assert "beta." not in page
    for seat in (b_seat, b_hold):
        assert a.client.post(f"/cms/billing/seats/{seat.pk}/release/").status_code == 404
    assert (in_use(a), in_use(b)) == (1, 2)
    with b.activate():
        assert has_role(User.objects.get(pk=b_person.pk), "candidate")
        assert Invitation.objects.filter(email="beta.invited@shared.test").exists()
    # B's session means nothing on A's host.
    b.login_admin()
    b.client.defaults["HTTP_HOST"] = a.domain
    assert b.client.get("/cms/billing/seats/").status_code == 302


def test_candidates_from_before_seats_were_counted_get_one_by_migration(make_portal):
    import importlib
    from types import SimpleNamespace

    from django.apps import apps

    migration = importlib.import_module(
        "tenants.access.migrations.0003_seats_for_existing_candidates"
    )
    portal = make_portal("alpha")
    make_member(portal, "old@alpha.test", role="candidate")  # a role given without a seat
    make_member(portal, "staff@alpha.test", role="author")
    gone = make_member(portal, "gone@alpha.test", role="candidate")
    with portal.activate():
        gone.is_active = False
        gone.save(update_fields=["is_active"])
        for _ in range(2):  # running it again gives no second seat
            migration.give_existing_candidates_a_seat(apps, SimpleNamespace(connection=connection))
    connection.set_schema_to_public()
    seated = SeatAssignment.objects.counted(portal.tenant.pk).values_list("email", "source")
    assert list(seated) == [("old@alpha.test", "role")]
