"""Accounts and access per tenant: roles, object grants, sign-up policy, invitations, brute
force, MFA, sessions and network rules."""

from __future__ import annotations

import io
import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection
from django.test import Client

from tenants.access import services
from tenants.access.models import AccessPolicy, Invitation
from tenants.access.permissions import grant_object_permission, has_role, user_can
from tests.conftest import PASSWORD, attempt_sign_in, sign_in

pytestmark = pytest.mark.django_db
User = get_user_model()


def make_user(portal, email: str, *, role: str | None = None, verified: bool = True):
    from allauth.account.models import EmailAddress

    from tenants.access.permissions import assign_role

    with portal.activate():
        user = User.objects.create_user(email=email, password=PASSWORD)
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=verified)
        if role:
            assign_role(user=user, role=role)
        return user


def set_policy(portal, **values) -> None:
    with portal.activate():
        policy = AccessPolicy.load()
        for name, value in values.items():
            setattr(policy, name, value)
        policy.full_clean()
        policy.save()


def client_for(portal, **extra) -> Client:
    return Client(HTTP_HOST=portal.domain, **extra)


# --- roles and permissions ---------------------------------------------------------------------


def test_every_portal_starts_with_its_roles_and_the_first_admin_holds_the_admin_role(two_portals):
    a, _ = two_portals
    with a.activate():
        assert sorted(Group.objects.values_list("name", flat=True)) == sorted(
            [
                "Tenant admins",
                "Authors",
                "Graders",
                "Proctors",
                "Candidates",
                "Hiring managers",
                "Panel reviewers",
                "Editors",
                "Moderators",
            ]
        )
        admin = User.objects.get(email=a.admin_email)
        assert has_role(admin, "admin")
        authors = Group.objects.get(name="Authors")
        assert authors.permissions.filter(codename="access_admin").exists()
        assert not Group.objects.get(name="Candidates").permissions.exists()


def test_only_staff_roles_reach_the_wagtail_admin(two_portals):
    a, _ = two_portals
    make_user(a, "author@alpha.test", role="author")
    make_user(a, "candidate@alpha.test", role="candidate")
    author, candidate = client_for(a), client_for(a)
    sign_in(author, "author@alpha.test")
    sign_in(candidate, "candidate@alpha.test")
    assert author.get("/cms/").status_code == 200
    response = candidate.get("/cms/")
    assert response.status_code == 302 and "/cms/" not in response["Location"].split("?")[0]


def test_an_object_grant_in_a_means_nothing_in_b(two_portals):
    from wagtail.models import Page

    a, b = two_portals
    grader_a = make_user(a, "grader@shared.test", role="grader")
    grader_b = make_user(b, "grader@shared.test", role="grader")
    with a.activate():
        page_a = Page.objects.get(slug="exams")
        grant_object_permission(user=grader_a, perm="wagtailcore.change_page", obj=page_a)
        assert user_can(User.objects.get(pk=grader_a.pk), "wagtailcore.change_page", page_a)
    with b.activate():
        page_b = Page.objects.get(pk=page_a.pk)  # same id, cloned from the same template
        assert (
            user_can(User.objects.get(pk=grader_b.pk), "wagtailcore.change_page", page_b) is False
        )
    with a.activate():
        from tenants.audit.models import AuditEvent

        assert AuditEvent.objects.filter(action="permission.granted").count() == 1
    with b.activate():
        assert not AuditEvent.objects.filter(action="permission.granted").exists()


# --- sign-up policy -----------------------------------------------------------------------------


def signup(client, email):
    response = client.post(
        "/accounts/signup/",
        {"email": email, "password1": "a-Long-pass-77", "password2": "a-Long-pass-77"},
    )
    connection.set_schema_to_public()
    return response


def test_sign_up_is_closed_by_default_and_nothing_is_created(two_portals):
    a, _ = two_portals
    response = signup(client_for(a), "walkin@anywhere.test")
    assert b"Sign Up Closed" in response.content
    with a.activate():
        assert not User.objects.filter(email="walkin@anywhere.test").exists()


def test_domain_restricted_sign_up(two_portals):
    a, b = two_portals
    set_policy(a, signup_policy="domains", allowed_email_domains="alpha.edu students.alpha.edu")
    refused = signup(client_for(a), "someone@gmail.test")
    assert (
        "Sign-up on this portal is limited to addresses at alpha.edu, students.alpha.edu."
        in refused.content.decode()
    )
    accepted = signup(client_for(a), "ada@students.alpha.edu")
    assert accepted.status_code == 302
    with a.activate():
        user = User.objects.get(email="ada@students.alpha.edu")
        assert user.emailaddress_set.get().verified is False  # must confirm by email
    assert any("ada@students.alpha.edu" in m.to for m in mail.outbox)
    with b.activate():
        assert not User.objects.filter(email="ada@students.alpha.edu").exists()


# --- invitations ---------------------------------------------------------------------------------


def invitation_link(message) -> str:
    return re.search(r"http://[^/]+(/accounts/invitation/[^/\s]+/)", message.body).group(1)


def test_an_invitation_leads_to_an_account_in_its_role(
    two_portals, django_capture_on_commit_callbacks
):
    a, b = two_portals
    with a.activate(), django_capture_on_commit_callbacks(execute=True):
        admin = User.objects.get(email=a.admin_email)
        services.invite_user(
            email="Grace@Alpha.test",
            role="author",
            invited_by=admin,
            portal_url="http://alpha.localhost:8000",
        )
    (message,) = mail.outbox
    assert (
        message.to == ["grace@alpha.test"]
        and message.subject == "You are invited to Alpha University"
    )
    link = invitation_link(message)

    assert client_for(b).get(link).status_code == 404  # A's invitation means nothing on B
    visitor = client_for(a)
    assert visitor.get(link)["Location"] == "/accounts/signup/"
    wrong = signup(visitor, "mallory@alpha.test")
    assert "This invitation is for grace@alpha.test" in wrong.content.decode()
    done = signup(visitor, "grace@alpha.test")
    assert (
        done.status_code == 302 and done.wsgi_request.user.is_authenticated
    )  # verified by the link
    with a.activate():
        grace = User.objects.get(email="grace@alpha.test")
        assert has_role(grace, "author") and grace.is_staff
        assert grace.emailaddress_set.get().verified
        assert Invitation.objects.get().accepted_user == grace
    assert client_for(a).get(link).status_code == 404  # used once


def test_csv_invitations_report_each_rejected_row_and_why(two_portals):
    a, _ = two_portals
    make_user(a, "existing@alpha.test")
    csv_text = (
        "Email,Role\n"
        "ok1@alpha.test,candidate\n"
        "not-an-email,candidate\n"
        "OK1@alpha.test,author\n"
        "existing@alpha.test,\n"
        "ok2@alpha.test,wizard\n"
        "ok3@alpha.test,\n"
    )
    with a.activate():
        admin = User.objects.get(email=a.admin_email)
        report = services.invite_from_csv(
            data=("\ufeff" + csv_text).encode(),
            default_role="candidate",
            invited_by=admin,
            portal_url="http://alpha.localhost:8000",
        )
        assert report.sent == ["ok1@alpha.test", "ok3@alpha.test"]
        assert report.rejected == [
            (3, "not-an-email", "'not-an-email' is not a valid email address."),
            (4, "ok1@alpha.test", "duplicate of line 2"),
            (5, "existing@alpha.test", "existing@alpha.test already has an account."),
            (
                6,
                "ok2@alpha.test",
                "'wizard' is not a role here (admin, author, grader, proctor, candidate, "
                "hiring_manager, panel_reviewer).",
            ),
        ]
        assert sorted(Invitation.objects.values_list("email", "role")) == [
            ("ok1@alpha.test", "candidate"),
            ("ok3@alpha.test", "candidate"),
        ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfeemail\n", "The file is not UTF-8 text (byte 0 cannot be read)"),
        (b"name,phone\nx,1\n", "The first line must name the columns, with at least 'email'."),
        (b"email\n" + b"x@y.test\n" * 120000, "The file is larger than 1 MB"),
        (b"email\n" + b"x@y.test\n" * 2001, "The file has more than 2000 rows; split it."),
    ],
)
def test_a_bad_csv_is_refused_whole_with_a_clear_message(two_portals, data, message):
    a, _ = two_portals
    with a.activate():
        with pytest.raises(services.InvitationError, match=re.escape(message)):
            services.invite_from_csv(
                data=data,
                default_role="candidate",
                invited_by=None,
                portal_url="http://alpha.localhost",
            )
        assert Invitation.objects.count() == 0


def test_the_people_page_sends_csv_invitations_and_shows_the_report(two_portals):
    a, _ = two_portals
    a.login_admin()
    upload = io.BytesIO(b"email\nnew@alpha.test\nbad\n")
    upload.name = "people.csv"
    response = a.client.post("/cms/people/", {"role": "candidate", "csv_file": upload})
    page = response.content.decode()
    assert "1 invitation(s) sent, 1 rejected." in page
    assert "<td>3</td><td>bad</td><td>&#x27;bad&#x27; is not a valid email address.</td>" in page


# --- brute force ---------------------------------------------------------------------------------


def test_brute_force_is_throttled_even_with_forged_forwarded_for(two_portals):
    a, _ = two_portals
    client = client_for(a)
    for attempt in range(5):
        response = client.post(
            "/accounts/login/",
            {"login": a.admin_email, "password": f"guess-{attempt}"},
            HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}",
        )
        assert response.status_code == 200
    connection.set_schema_to_public()
    blocked = client.post(
        "/accounts/login/",
        {"login": a.admin_email, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.77",
    )
    assert not blocked.wsgi_request.user.is_authenticated
    assert "Too many failed login attempts" in blocked.content.decode()


def test_throttling_on_one_portal_does_not_lock_the_same_address_out_of_another(two_portals):
    a, b = two_portals
    make_user(b, "shared@person.test")
    make_user(a, "shared@person.test")
    for attempt in range(6):
        attempt_sign_in(client_for(a), "shared@person.test", f"wrong-{attempt}")
    sign_in(client_for(b), "shared@person.test")


# --- MFA -----------------------------------------------------------------------------------------


def totp_code(secret: str) -> str:
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def enable_totp(portal, user) -> str:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    with portal.activate():
        TOTP.activate(user, secret)
    return secret


def test_a_totp_code_works_once(two_portals):
    a, _ = two_portals
    user = make_user(a, "mfa@alpha.test", role="author")
    secret = enable_totp(a, user)
    first = client_for(a)
    step = attempt_sign_in(first, "mfa@alpha.test", PASSWORD)
    assert step["Location"] == "/accounts/2fa/authenticate/"
    code = totp_code(secret)
    done = first.post("/accounts/2fa/authenticate/", {"code": code})
    assert done.status_code == 302 and done.wsgi_request.user.is_authenticated
    connection.set_schema_to_public()

    replay = client_for(a)
    attempt_sign_in(replay, "mfa@alpha.test", PASSWORD)
    refused = replay.post("/accounts/2fa/authenticate/", {"code": code})
    assert refused.status_code == 200 and not refused.wsgi_request.user.is_authenticated
    assert "Incorrect code" in refused.content.decode()


def test_a_recovery_code_works_once(two_portals):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    a, _ = two_portals
    user = make_user(a, "codes@alpha.test", role="author")
    enable_totp(a, user)
    with a.activate():
        code = RecoveryCodes.activate(user).get_unused_codes()[0]
    for expected in (True, False):
        client = client_for(a)
        attempt_sign_in(client, "codes@alpha.test", PASSWORD)
        response = client.post("/accounts/2fa/authenticate/", {"code": code})
        connection.set_schema_to_public()
        assert response.wsgi_request.user.is_authenticated is expected


def test_a_password_reset_never_skips_the_second_factor(two_portals):
    a, _ = two_portals
    user = make_user(a, "reset@alpha.test", role="author")
    enable_totp(a, user)
    client = client_for(a)
    client.post("/accounts/password/reset/", {"email": "reset@alpha.test"})
    connection.set_schema_to_public()
    link = re.search(
        r"http://[^/]+(/accounts/password/reset/key/\S+/)", mail.outbox[-1].body
    ).group(1)
    form = client.get(link, follow=True)
    done = client.post(
        form.redirect_chain[-1][0], {"password1": "new-Pass-word-9", "password2": "new-Pass-word-9"}
    )
    assert done.status_code == 302 and not done.wsgi_request.user.is_authenticated
    connection.set_schema_to_public()
    step = attempt_sign_in(client, "reset@alpha.test", "new-Pass-word-9")
    assert step["Location"] == "/accounts/2fa/authenticate/"
    assert not step.wsgi_request.user.is_authenticated


def test_the_tenant_can_require_mfa_for_staff(two_portals):
    a, b = two_portals
    set_policy(a, mfa_required_for_staff=True)
    user = make_user(a, "staff@alpha.test", role="author")
    make_user(b, "staff@alpha.test", role="author")
    make_user(a, "learner@alpha.test", role="candidate")
    client = client_for(a)
    sign_in(client, "staff@alpha.test")
    assert client.get("/cms/")["Location"] == "/accounts/2fa/"
    assert client.get("/accounts/2fa/").status_code == 200  # the way to set it up stays open
    connection.set_schema_to_public()
    enable_totp(a, user)
    assert client.get("/cms/").status_code == 200
    connection.set_schema_to_public()
    learner = client_for(a)
    sign_in(learner, "learner@alpha.test")
    assert learner.get("/").status_code == 200  # candidates are not asked
    connection.set_schema_to_public()
    other = client_for(b)
    sign_in(other, "staff@alpha.test")
    assert other.get("/cms/").status_code == 200  # B has no such policy


def test_adding_a_second_factor_ends_the_other_sessions(
    two_portals, django_capture_on_commit_callbacks
):
    from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY

    a, _ = two_portals
    make_user(a, "careful@alpha.test", role="author")
    this_device, other_device = client_for(a), client_for(a)
    sign_in(other_device, "careful@alpha.test")
    sign_in(this_device, "careful@alpha.test")
    # Setting up a factor asks for the password again first (allauth's reauthentication).
    page = this_device.get("/accounts/2fa/totp/activate/", follow=True)
    if page.redirect_chain and "/accounts/reauthenticate/" in page.redirect_chain[-1][0]:
        page = this_device.post(page.redirect_chain[-1][0], {"password": PASSWORD}, follow=True)
    assert page.status_code == 200 and "Authenticator code" in page.content.decode()
    connection.set_schema_to_public()
    with a.activate():  # the session lives in the tenant's schema
        secret = this_device.session[SECRET_SESSION_KEY]
    with django_capture_on_commit_callbacks(execute=True):  # allauth signals after commit
        done = this_device.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    assert done.status_code == 302
    connection.set_schema_to_public()
    assert this_device.get("/accounts/sessions/").wsgi_request.user.is_authenticated
    connection.set_schema_to_public()
    assert not other_device.get("/accounts/sessions/").wsgi_request.user.is_authenticated


# --- sessions ------------------------------------------------------------------------------------


def test_people_see_their_devices_and_admins_end_all_sessions(two_portals):
    a, _ = two_portals
    user = make_user(a, "devices@alpha.test")
    laptop = Client(HTTP_HOST=a.domain, HTTP_USER_AGENT="Laptop Firefox")
    phone = Client(HTTP_HOST=a.domain, HTTP_USER_AGENT="Phone Safari")
    sign_in(laptop, "devices@alpha.test")
    sign_in(phone, "devices@alpha.test")
    listing = laptop.get("/accounts/sessions/").content.decode()
    assert "Laptop Firefox" in listing and "Phone Safari" in listing
    connection.set_schema_to_public()

    a.login_admin()
    a.client.post(f"/cms/people/{user.pk}/end-sessions/")
    connection.set_schema_to_public()
    for device in (laptop, phone):
        assert not device.get("/accounts/sessions/").wsgi_request.user.is_authenticated
        connection.set_schema_to_public()


def test_disabling_an_account_ends_its_sessions_and_is_audited(two_portals):
    from tenants.audit.models import AuditEvent

    a, _ = two_portals
    user = make_user(a, "leaver@alpha.test")
    device = client_for(a)
    sign_in(device, "leaver@alpha.test")
    with a.activate():
        services.disable_user(user=User.objects.get(pk=user.pk))
        assert (
            AuditEvent.objects.filter(action="user.disabled", object_id=str(user.pk)).count() == 1
        )
    assert not device.get("/accounts/sessions/").wsgi_request.user.is_authenticated


def test_b_admin_cannot_act_on_a_users(two_portals):
    a, b = two_portals
    for n in range(3):
        make_user(a, f"member{n}@alpha.test")
    target = make_user(a, "target@alpha.test")
    device = client_for(a)
    sign_in(device, "target@alpha.test")
    b.login_admin()
    for action in ("end-sessions", "disable"):
        assert b.client.post(f"/cms/people/{target.pk}/{action}/").status_code == 404
    connection.set_schema_to_public()
    with a.activate():
        assert User.objects.get(pk=target.pk).is_active
    assert device.get("/accounts/sessions/").wsgi_request.user.is_authenticated


# --- network rules -------------------------------------------------------------------------------


def test_the_admin_allowlist_is_per_tenant_and_ignores_forged_headers(two_portals):
    a, b = two_portals
    set_policy(a, admin_ip_allowlist="10.1.0.0/16\n# office VPN\n2001:db8::/32")
    a.login_admin()
    b.login_admin()
    assert a.client.get("/cms/").status_code == 403  # test client comes from 127.0.0.1
    assert a.client.get("/cms/", HTTP_X_FORWARDED_FOR="10.1.2.3").status_code == 403
    assert a.client.get("/cms/", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert a.client.get("/").status_code == 200  # the portal itself stays open
    assert b.client.get("/cms/").status_code == 200


def test_a_bad_allowlist_entry_is_refused_with_its_line(two_portals):
    from django.core.exceptions import ValidationError

    a, _ = two_portals
    with pytest.raises(
        ValidationError, match="Line 2: '10.1.0.0/99' is not an IP address or network."
    ):
        set_policy(a, admin_ip_allowlist="10.0.0.1\n10.1.0.0/99")


# --- deployment checks ---------------------------------------------------------------------------


def test_check_deploy_with_production_settings_reports_nothing():
    import os
    import subprocess
    import sys

    from django.conf import settings

    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "x" * 20 + "-production-check-" + "y" * 30,
    }
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


# --- the platform admin --------------------------------------------------------------------------


def test_platform_staff_sign_in_through_allauth_and_portal_users_cannot(two_portals):
    from allauth.account.models import EmailAddress

    a, _ = two_portals
    staff = User.objects.create_superuser(email="ops@viva.test", password=PASSWORD)
    EmailAddress.objects.create(user=staff, email="ops@viva.test", primary=True, verified=True)
    platform = Client(HTTP_HOST="localhost")
    assert platform.get("/admin/login/")["Location"].startswith("/accounts/login/")
    refused = attempt_sign_in(platform, a.admin_email, PASSWORD)  # a portal admin, not staff
    assert not refused.wsgi_request.user.is_authenticated
    sign_in(platform, "ops@viva.test")
    assert platform.get("/admin/tenants/tenant/").status_code == 200
    assert a.client.get("/cms/").status_code == 302  # the platform session means nothing on A


def test_erasing_a_person_removes_their_invitations(two_portals):
    from tenants.privacy.services import erase_user

    a, _ = two_portals
    with a.activate():
        admin = User.objects.get(email=a.admin_email)
        services.invite_user(
            email="zed@alpha.test",
            role="candidate",
            invited_by=admin,
            portal_url="http://alpha.localhost",
        )
        services.invite_user(
            email="other@alpha.test",
            role="candidate",
            invited_by=admin,
            portal_url="http://alpha.localhost",
        )
    person = make_user(a, "zed@alpha.test")
    with a.activate():
        erase_user(user=User.objects.get(pk=person.pk), by=admin)
        assert list(Invitation.objects.values_list("email", flat=True)) == ["other@alpha.test"]


def test_settings_changes_are_audited_with_who_changed_them(two_portals):
    from wagtail.models import Site

    from tenants.audit.models import AuditEvent

    a, b = two_portals
    a.login_admin()
    with a.activate():
        site_id = Site.objects.get(is_default_site=True).pk
        policy_id = AccessPolicy.load().pk
    form = {"signup_policy": "open", "allowed_email_domains": "", "admin_ip_allowlist": ""}
    saved = a.client.post(f"/cms/settings/access/accesspolicy/{policy_id}/", form)
    assert saved.status_code == 302 and "/login" not in saved["Location"]
    theme = {
        "primary_color": "#2e7d32",
        "accent_color": "#a4262c",
        "font": "inter",
        "mode": "light",
        "corner_radius": "small",
        "density": "comfortable",
    }
    assert a.client.post(f"/cms/settings/themes/theme/{site_id}/", theme).status_code == 302
    connection.set_schema_to_public()
    with a.activate():
        changes = AuditEvent.objects.filter(action="settings.changed").order_by("id")
        assert [(e.actor_label, e.detail["setting"]) for e in changes] == [
            (a.admin_email, "Access Policy"),
            (a.admin_email, "Theme"),
        ]
    with b.activate():
        assert not AuditEvent.objects.filter(action="settings.changed").exists()
