"""Privacy: a person's own data export, erasure by a tenant admin (nothing of them left in the
tenant's tables or media), its refusals, and the per-tenant retention purge."""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from allauth.socialaccount.models import SocialAccount
from allauth.usersessions.models import UserSession
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context
from PIL import Image
from psycopg import sql
from wagtail.models import ModelLogEntry
from wagtail.users.models import UserProfile

from assessments.delivery import services as services_delivery
from tenants.audit.models import AuditEvent
from tenants.privacy import services
from tenants.privacy.models import RetentionPolicy
from tenants.privacy.services import PrivacyError
from tenants.privacy.signals import erasing_user
from tenants.privacy.tasks import purge_expired_data, purge_expired_data_for_all_tenants
from tenants.storage import tenant_media_root

from .conftest import PASSWORD, attempt_sign_in, sign_in

pytestmark = pytest.mark.django_db

FIRST, LAST = "Zebediah", "Quillfeather"
# Holds the first name: a secret left behind after an erasure would show up in the scan.
TOTP_SECRET = "JBSWY3DPEHPK3PXPZEBEDIAHSECRET"  # noqa: S105
SCANNED_TYPES = ("text", "character varying", "json", "jsonb", "tsvector", "ARRAY")
AUDIT_FIELDS = ("action", "actor_label", "ip", "object_type", "object_id", "object_label", "detail")


# --- Helpers ---------------------------------------------------------------------------------


def make_person(email: str, *, first_name: str = "", last_name: str = "", **extra):
    """A user who can sign in (allauth needs a verified address), in the current schema."""
    user = get_user_model().objects.create_user(
        email=email, password=PASSWORD, first_name=first_name, last_name=last_name, **extra
    )
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    return user


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def json_value(value):
    """How the export writes a value (datetimes as DjangoJSONEncoder's ISO text)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def audit_rows(portal) -> list[tuple]:
    with portal.activate():
        return list(AuditEvent.objects.order_by("id").values_list(*AUDIT_FIELDS))


def tenant_state(portal) -> dict:
    """Everything an erasure touches in the portal, to show that a refusal changed nothing."""
    with portal.activate():
        return {
            "users": list(get_user_model().objects.order_by("pk").values()),
            "memberships": list(
                get_user_model().groups.through.objects.order_by("pk").values_list()
            ),
            "emails": list(EmailAddress.objects.order_by("pk").values()),
            "authenticators": list(Authenticator.objects.order_by("pk").values()),
            "social": list(SocialAccount.objects.order_by("pk").values()),
            # Without last_seen_at, which every request of a signed-in admin moves on.
            "user_sessions": list(
                UserSession.objects.order_by("pk").values(
                    "pk", "user_id", "session_key", "ip", "user_agent", "created_at", "data"
                )
            ),
            "sessions": list(Session.objects.order_by("pk").values_list("pk", flat=True)),
            "profiles": list(UserProfile.objects.order_by("pk").values()),
            "audit": list(AuditEvent.objects.order_by("pk").values()),
        }


def text_columns(schema: str) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.table_name, c.column_name FROM information_schema.columns c "
            "JOIN information_schema.tables t "
            "  ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
            "WHERE c.table_schema = %s AND t.table_type = 'BASE TABLE' "
            "  AND c.data_type = ANY(%s) "
            "ORDER BY c.table_name, c.column_name",
            [schema, list(SCANNED_TYPES)],
        )
        return cursor.fetchall()


def find_in_schema(schema: str, needles: list[str]) -> set[tuple[str, str, str]]:
    """(table, column, needle) for every text-like column of ``schema`` holding a needle."""
    hits = set()
    with connection.cursor() as cursor:
        for table, column in text_columns(schema):
            query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE {}::text ILIKE %s)").format(
                sql.Identifier(schema, table), sql.Identifier(column)
            )
            for needle in needles:
                cursor.execute(query, [f"%{needle}%"])
                if cursor.fetchone()[0]:
                    hits.add((table, column, needle))
    return hits


def media_files(schema: str) -> list[Path]:
    root = tenant_media_root(schema)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def is_signed_in(portal, client: Client) -> bool:
    response = client.get("/accounts/privacy/")
    connection.set_schema_to_public()
    return response.status_code == 200


# --- Export ----------------------------------------------------------------------------------


def test_a_signed_in_user_downloads_exactly_their_own_data(two_portals):
    a, b = two_portals
    with a.activate():
        person = make_person("zoe@shared.test", first_name="Zoe", last_name="Marsh")
        EmailAddress.objects.create(user=person, email="zoe.old@shared.test", verified=False)
        person.groups.add(Group.objects.create(name="Candidates 2026"))
        SocialAccount.objects.create(
            user=person, provider="github", uid="4242", extra_data={"token": "gho_SECRET"}
        )
    with b.activate():
        make_person("zoe@shared.test", first_name="Zoe", last_name="Beta")
    b_log = audit_rows(b)
    client = Client(HTTP_HOST=a.domain, HTTP_USER_AGENT="Exam Browser/2.0")
    sign_in(client, "zoe@shared.test")
    with a.activate():
        totp = TOTP.activate(person, TOTP_SECRET).instance
        codes = RecoveryCodes.activate(person).instance
        recovery_secret = codes.data["seed"]

    page = client.get("/accounts/privacy/")
    assert page.status_code == 200
    assert b"Download my data" in page.content
    assert b'method="post"' in page.content
    response = client.post("/accounts/privacy/")
    connection.set_schema_to_public()

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="alpha-my-data-{today}.zip"'
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == [
        "audit.json",
        "email_addresses.json",
        "exam_attempts.json",
        "interview_practice.json",
        "job_applications.json",
        "mfa.json",
        "profile.json",
        "sessions.json",
        "social_accounts.json",
    ]
    files = {name: json.loads(archive.read(name)) for name in archive.namelist()}
    everything = b"".join(archive.read(name) for name in archive.namelist()).decode()

    with a.activate():
        person.refresh_from_db()
        social = SocialAccount.objects.get(user=person)
        (session,) = UserSession.objects.filter(user=person)
        login_event = AuditEvent.objects.get(action="auth.login")
        totp.refresh_from_db()
        codes.refresh_from_db()
    assert files["profile.json"] == {
        "email": "zoe@shared.test",
        "first_name": "Zoe",
        "last_name": "Marsh",
        "date_joined": json_value(person.date_joined),
        "last_login": json_value(person.last_login),
        "is_active": True,
        "groups": ["Candidates 2026"],
    }
    assert person.last_login is not None
    assert files["email_addresses.json"] == [
        {"email": "zoe.old@shared.test", "primary": False, "verified": False},
        {"email": "zoe@shared.test", "primary": True, "verified": True},
    ]
    assert files["sessions.json"] == [
        {
            "ip": "127.0.0.1",
            "user_agent": "Exam Browser/2.0",
            "created_at": json_value(session.created_at),
            "last_seen_at": json_value(session.last_seen_at),
        }
    ]
    assert files["mfa.json"] == [
        {"type": "totp", "created_at": json_value(totp.created_at), "last_used_at": None},
        {
            "type": "recovery_codes",
            "created_at": json_value(codes.created_at),
            "last_used_at": None,
        },
    ]
    assert files["social_accounts.json"] == [
        {"provider": "github", "uid": "4242", "date_joined": json_value(social.date_joined)}
    ]
    assert files["audit.json"] == [
        {
            "at": json_value(login_event.at),
            "action": "auth.login",
            "ip": "127.0.0.1",
            "object_type": "",
            "object_id": "",
            "object_label": "",
            "detail": {},
        },
    ]
    # No secrets: not the TOTP secret, the recovery seed, a token, a session key or a hash.
    for secret in (TOTP_SECRET, recovery_secret, "gho_SECRET", session.session_key, "md5$"):
        assert secret not in everything
    # Nothing of tenant B's namesake.
    assert "Beta" not in everything

    assert audit_rows(a)[-1] == (
        "data.exported",
        "zoe@shared.test",
        "127.0.0.1",
        "",
        "",
        "",
        {"what": "personal data"},
    )
    assert audit_rows(b) == b_log


def test_the_data_page_needs_a_sign_in_and_a_get_exports_nothing(two_portals):
    a, _ = two_portals
    log = audit_rows(a)
    anonymous = Client(HTTP_HOST=a.domain)
    for response in (anonymous.get("/accounts/privacy/"), anonymous.post("/accounts/privacy/")):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=/accounts/privacy/")
    connection.set_schema_to_public()
    assert audit_rows(a) == log

    a.login_admin()
    assert a.client.get("/accounts/privacy/").status_code == 200
    connection.set_schema_to_public()
    assert [row[0] for row in audit_rows(a)[len(log) :]] == ["auth.login"]


# --- Erasure ---------------------------------------------------------------------------------


def sit_an_exam(person, author, *, user_agent: str):
    from assessments import services as bank
    from assessments.exams import services as exams

    exam = exams.create_exam(by=author, title="Privacy exam")
    section = exams.add_section(exam=exam, title="One")
    question = bank.create_question(
        author=author,
        type="true_false",
        title="True?",
        stem="<p>True?</p>",
        data={"answer": True},
        status="active",
    )
    exams.add_fixed_item(section=section, question=question)
    exams.publish_exam(exam=exam, by=author)
    exams.assign_exam(exam=exam, user=person)
    return services_delivery.start_attempt(
        exam=exam,
        user=person,
        client=services_delivery.Client(session_key="s", ip="203.0.113.9", user_agent=user_agent),
    )


def test_after_erasure_no_table_or_file_of_the_tenant_holds_the_person(
    make_portal, django_capture_on_commit_callbacks
):
    portal = make_portal("alpha")
    email = "zebediah.quillfeather@alpha.test"
    needles = [email, FIRST, LAST]
    with portal.activate():
        person = make_person(email, first_name=FIRST, last_name=LAST)
        examiners = Group.objects.create(name="Examiners")
        SocialAccount.objects.create(
            user=person,
            provider="github",
            uid="zquill",
            extra_data={"name": f"{FIRST} {LAST}", "email": email},
        )
        # A session nobody tracked (started before allauth's session list, say).
        untracked = SessionStore()
        untracked["_auth_user_id"] = str(person.pk)
        untracked["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        untracked.create()

    log_at_start = audit_rows(portal)  # what provisioning recorded
    # The admin puts them in a group through the Wagtail admin (Wagtail logs the edit under
    # their name, the audit log records the role with their name).
    portal.login_admin()
    response = portal.client.post(
        reverse("wagtailusers_users:edit", args=[person.pk]),
        {
            "email": email,
            "first_name": FIRST,
            "last_name": LAST,
            "is_active": "on",
            "groups": [examiners.pk],
            "password1": "",
            "password2": "",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    connection.set_schema_to_public()

    # A failed sign-in naming them, two sessions, an export, then MFA and an avatar.
    assert attempt_sign_in(Client(HTTP_HOST=portal.domain), email, "wrong").status_code == 200
    phone = sign_in(Client(HTTP_HOST=portal.domain, HTTP_USER_AGENT=f"{LAST}Phone/1.0"), email)
    laptop = sign_in(Client(HTTP_HOST=portal.domain, REMOTE_ADDR="198.51.100.7"), email)
    assert laptop.post("/accounts/privacy/").status_code == 200
    connection.set_schema_to_public()
    with portal.activate():
        person.refresh_from_db()
        TOTP.activate(person, TOTP_SECRET)
        RecoveryCodes.activate(person)
        profile = UserProfile.get_for_user(person)
        profile.preferred_language = "fr"
        profile.current_time_zone = "Europe/Paris"
        profile.avatar.save(f"{FIRST}-{LAST}.png", ContentFile(png_bytes()))
        avatar = tenant_media_root(portal.schema) / profile.avatar.name
        admin = get_user_model().objects.get(email=portal.admin_email)
    assert avatar.is_file()
    with portal.activate():  # they sat an exam from their phone, which changed browser
        attempt = sit_an_exam(person, admin, user_agent=f"{LAST}Phone/1.0")
        services_delivery.record_client_events(
            attempt=attempt,
            events=[{"kind": "paste"}],
            client=services_delivery.Client(
                session_key="k", ip="198.51.100.7", user_agent=f"{LAST}Tablet/2.0"
            ),
        )

    # The scan finds them everywhere they are before the erasure (so it can find them at all).
    before = find_in_schema(portal.schema, needles)
    for where in [
        ("accounts_user", "email", email),
        ("accounts_user", "first_name", FIRST),
        ("account_emailaddress", "email", email),
        ("audit_auditevent", "actor_label", email),
        ("audit_auditevent", "detail", email),
        ("audit_auditevent", "object_label", LAST),
        ("socialaccount_socialaccount", "extra_data", LAST),
        ("usersessions_usersession", "user_agent", LAST),
        ("wagtailcore_modellogentry", "label", FIRST),
        ("wagtailusers_userprofile", "avatar", LAST),
        ("delivery_attempt", "user_agent", LAST),
        ("delivery_integrityevent", "detail", LAST),
    ]:
        assert where in before, where
    admin_entries_before = [
        row for row in audit_rows(portal)[len(log_at_start) :] if row[1] == portal.admin_email
    ]
    with portal.activate():
        sessions_before = {
            "user": UserSession.objects.filter(user=person).count(),
            "django": Session.objects.count(),
        }
    assert sessions_before == {"user": 2, "django": 4}  # + the untracked one and the admin's

    # The admin erases them.
    confirm = portal.client.get(f"/cms/privacy/erase/{person.pk}/")
    assert confirm.status_code == 200
    assert b"Erase this user" in confirm.content
    with django_capture_on_commit_callbacks(execute=True):
        response = portal.client.post(f"/cms/privacy/erase/{person.pk}/")
    connection.set_schema_to_public()
    assert response.status_code == 302
    assert response["Location"] == "/cms/privacy/"
    page = portal.client.get("/cms/privacy/")
    connection.set_schema_to_public()
    assert f"User #{person.pk} has been erased.".encode() in page.content

    # Nothing of them in any text column of the schema, nor in its media.
    assert find_in_schema(portal.schema, needles) == set()
    assert not avatar.exists()
    assert [
        path
        for path in media_files(portal.schema)
        if any(needle.lower() in str(path).lower() for needle in needles)
    ] == []

    with portal.activate():
        erased = get_user_model().objects.get(pk=person.pk)
        assert (
            erased.email,
            erased.first_name,
            erased.last_name,
            erased.is_active,
            erased.is_staff,
            erased.is_superuser,
            erased.last_login,
            erased.has_usable_password(),
            list(erased.groups.all()),
        ) == (f"erased-{person.pk}@invalid.example", "", "", False, False, False, None, False, [])
        assert not EmailAddress.objects.filter(user=erased).exists()
        assert not Authenticator.objects.filter(user=erased).exists()
        assert not SocialAccount.objects.filter(user=erased).exists()
        assert not UserSession.objects.filter(user=erased).exists()
        assert list(Session.objects.values_list("session_key", flat=True)) == [
            portal.client.session.session_key
        ]
        assert UserProfile.objects.filter(user=erased).values(
            "avatar", "preferred_language", "current_time_zone", "dismissibles"
        ).get() == {
            "avatar": "",
            "preferred_language": "",
            "current_time_zone": "",
            "dismissibles": {},
        }
        assert list(
            ModelLogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(erased), object_id=str(person.pk)
            ).values_list("label", flat=True)
        ) == [f"erased user #{person.pk}"]
    # Their sessions are over; the admin's is not.
    assert not is_signed_in(portal, phone)
    assert not is_signed_in(portal, laptop)
    assert is_signed_in(portal, portal.client)

    # The log keeps what happened, redacted; the admin's own entries are untouched.
    label, pk = f"erased user #{person.pk}", str(person.pk)
    placeholder = f"erased-{person.pk}@invalid.example"
    rows = audit_rows(portal)[len(log_at_start) :]
    # Disabling the account is recorded by the access app, already under the placeholder.
    disabled = ("user.disabled", "", None, "accounts.User", pk, placeholder, {})
    assert rows.count(disabled) == 1
    rows.remove(disabled)
    # Entries the admin made about the person (their role, granted in the admin) keep the
    # admin as actor but name the person only by the redacted label.
    about_person = [
        (*row[:5], label if (row[3], row[4]) == ("accounts.User", pk) else row[5], row[6])
        for row in admin_entries_before
    ]
    revoked = (
        "role.revoked",
        portal.admin_email,
        "127.0.0.1",
        "accounts.User",
        pk,
        placeholder,
        {"role": "Examiners", "role_id": examiners.pk},
    )
    assert [row for row in rows if row[1] == portal.admin_email] == [
        *about_person,
        revoked,
        (
            "user.erased",
            portal.admin_email,
            "127.0.0.1",
            "accounts.User",
            pk,
            placeholder,
            {
                "reason": "admin request",
                "removed": {
                    "sessions": 3,
                    "email_addresses": 1,
                    "authenticators": 2,
                    "social_accounts": 1,
                    "avatar": 1,
                    "groups": 1,
                },
                "audit_entries_redacted": 5,
            },
        ),
    ]
    assert [row for row in rows if row[1] != portal.admin_email] == [
        ("auth.login_failed", "", None, "", "", "", {"username": label}),
        ("auth.login", label, None, "", "", "", {}),
        ("auth.login", label, None, "", "", "", {}),
        ("data.exported", label, None, "", "", "", {"what": label}),
    ]
    assert admin.pk != person.pk


def test_erasing_in_one_tenant_leaves_the_namesake_in_another_intact(two_portals):
    a, b = two_portals
    email = "zebediah@shared.test"
    with a.activate():
        make_person("someone.else@alpha.test")  # A's target gets an id B does not have
        target = make_person(email, first_name=FIRST, last_name=LAST)
    with b.activate():
        namesake = make_person(email, first_name=FIRST, last_name=LAST)
        assert not get_user_model().objects.filter(pk=target.pk).exists()
    for portal in (a, b):
        sign_in(Client(HTTP_HOST=portal.domain), email)
    b.login_admin()
    a_before, b_before = tenant_state(a), tenant_state(b)

    # B's admin cannot reach A's user by id: not on the confirmation, not by POST.
    assert b.client.get(f"/cms/privacy/erase/{target.pk}/").status_code == 404
    assert b.client.post(f"/cms/privacy/erase/{target.pk}/").status_code == 404
    # Nor by email: B's search finds B's namesake, never A's user.
    found = b.client.post("/cms/privacy/", {"email": "someone.else@alpha.test"})
    assert found.status_code == 200
    assert b"No user of this portal has this email address." in found.content
    found = b.client.post("/cms/privacy/", {"email": email.upper()})
    assert found.status_code == 302
    assert found["Location"] == f"/cms/privacy/erase/{namesake.pk}/"
    connection.set_schema_to_public()
    assert tenant_state(a) == a_before

    with a.activate():
        admin = get_user_model().objects.get(email=a.admin_email)
        services.erase_user(user=target, by=admin)
        assert get_user_model().objects.get(pk=target.pk).email == (
            f"erased-{target.pk}@invalid.example"
        )
    assert tenant_state(b) == b_before
    assert find_in_schema(a.schema, [email, FIRST, LAST]) == set()
    assert {(table, column) for table, column, _ in find_in_schema(b.schema, [email])} == {
        ("accounts_user", "email"),
        ("account_emailaddress", "email"),
        ("audit_auditevent", "actor_label"),
    }


def test_an_admin_cannot_erase_themselves_and_nothing_changes(make_portal):
    portal = make_portal("gamma")
    portal.login_admin()
    with portal.activate():
        admin = get_user_model().objects.get(email=portal.admin_email)
        make_person("second@gamma.test", is_staff=True, is_superuser=True)
    before = tenant_state(portal)

    response = portal.client.post(f"/cms/privacy/erase/{admin.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/cms/privacy/erase/{admin.pk}/"
    page = portal.client.get(response["Location"])
    connection.set_schema_to_public()
    assert b"You cannot erase your own account." in page.content
    assert tenant_state(portal) == before

    with portal.activate(), pytest.raises(PrivacyError, match="your own account"):
        services.erase_user(user=admin, by=admin)
    assert tenant_state(portal) == before


def test_the_last_superuser_cannot_be_erased_and_nothing_changes(make_portal):
    portal = make_portal("gamma")
    with portal.activate():
        admin = get_user_model().objects.get(email=portal.admin_email)
        # An inactive superuser does not count: they could not administer the portal.
        make_person("retired@gamma.test", is_staff=True, is_superuser=True, is_active=False)
    portal.login_admin()
    before = tenant_state(portal)

    with portal.activate(), pytest.raises(PrivacyError) as refusal:
        services.erase_user(user=admin, by=None)
    assert str(refusal.value) == (
        "This is the portal's last superuser: make someone else a superuser first."
    )
    assert tenant_state(portal) == before

    with portal.activate():
        second = make_person("second@gamma.test", is_staff=True, is_superuser=True)
        services.erase_user(user=admin, by=second)
        assert get_user_model().objects.get(pk=admin.pk).is_superuser is False
        with pytest.raises(PrivacyError, match="erased already"):
            services.erase_user(user=admin, by=second)


def test_only_superusers_see_and_use_the_privacy_admin(make_portal):
    portal = make_portal("gamma")
    with portal.activate():
        target = make_person("target@gamma.test", first_name="Tess")
        editor = make_person("editor@gamma.test", is_staff=True)
        editor.user_permissions.add(
            Permission.objects.get(codename="access_admin", content_type__app_label="wagtailadmin")
        )
    editor_client = sign_in(Client(HTTP_HOST=portal.domain), "editor@gamma.test")
    before = tenant_state(portal)

    for response in (
        editor_client.get("/cms/privacy/"),
        editor_client.post("/cms/privacy/", {"email": "target@gamma.test"}),
        editor_client.get(f"/cms/privacy/erase/{target.pk}/"),
        editor_client.post(f"/cms/privacy/erase/{target.pk}/"),
    ):
        assert response.status_code in (302, 403)
        assert b"target@gamma.test" not in response.content
    assert b"/cms/privacy/" not in editor_client.get("/cms/").content
    connection.set_schema_to_public()
    assert tenant_state(portal) == before

    portal.login_admin()
    assert b"/cms/privacy/" in portal.client.get("/cms/").content
    assert portal.client.get("/cms/privacy/").status_code == 200
    found = portal.client.post("/cms/privacy/", {"email": "TARGET@gamma.test"})
    assert found.status_code == 302
    confirm = portal.client.get(found["Location"])
    assert confirm.status_code == 200
    assert b"target@gamma.test" in confirm.content
    assert b"end and delete their sessions (0)" in confirm.content
    settings_page = portal.client.get("/cms/settings/privacy/retentionpolicy/", follow=True)
    assert settings_page.status_code == 200
    assert b"erase_inactive_candidates_after_days" in settings_page.content
    connection.set_schema_to_public()


def test_a_failure_midway_rolls_the_whole_erasure_back(
    make_portal, django_capture_on_commit_callbacks
):
    portal = make_portal("gamma")
    with portal.activate():
        person = make_person("zebediah@gamma.test", first_name=FIRST, last_name=LAST)
        profile = UserProfile.get_for_user(person)
        profile.avatar.save(f"{FIRST}.png", ContentFile(png_bytes()))
        avatar = tenant_media_root(portal.schema) / profile.avatar.name
        admin = get_user_model().objects.get(email=portal.admin_email)
    sign_in(Client(HTTP_HOST=portal.domain), "zebediah@gamma.test")
    with portal.activate():
        TOTP.activate(person, TOTP_SECRET)
    before = tenant_state(portal)

    def fail(sender, user, **kwargs):
        raise RuntimeError("an app could not erase its rows")

    erasing_user.connect(fail, dispatch_uid="test.fail")
    try:
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            portal.activate(),
            pytest.raises(RuntimeError),
        ):
            services.erase_user(user=person, by=admin)
    finally:
        erasing_user.disconnect(dispatch_uid="test.fail")
    assert callbacks == []
    assert tenant_state(portal) == before
    assert avatar.is_file()


# --- Retention -------------------------------------------------------------------------------


def test_editing_the_retention_policy_is_recorded(make_portal):
    portal = make_portal("gamma")
    portal.login_admin()
    form = portal.client.get("/cms/settings/privacy/retentionpolicy/", follow=True)
    assert form.status_code == 200
    edit_url = form.redirect_chain[-1][0]
    log = audit_rows(portal)
    response = portal.client.post(
        edit_url,
        {"erase_inactive_candidates_after_days": "365", "delete_ended_sessions_after_days": "7"},
    )
    connection.set_schema_to_public()
    assert response.status_code == 302, response.content[:2000]
    with portal.activate():
        policy = RetentionPolicy.objects.get()
        assert (
            policy.erase_inactive_candidates_after_days,
            policy.delete_ended_sessions_after_days,
        ) == (365, 7)
    assert audit_rows(portal)[len(log) :] == [
        (
            "settings.changed",
            portal.admin_email,
            "127.0.0.1",
            "privacy.RetentionPolicy",
            str(policy.pk),
            "Retention policy",
            {
                "setting": "retention policy",
                "erase_inactive_candidates_after_days": 365,
                "delete_ended_sessions_after_days": 7,
            },
        )
    ]


def set_policy(portal, *, erase_after: int, sessions_after: int = 30) -> None:
    with portal.activate():
        policy = RetentionPolicy.load()
        policy.erase_inactive_candidates_after_days = erase_after
        policy.delete_ended_sessions_after_days = sessions_after
        policy.save()


def seed_users(portal) -> dict[str, int]:
    """The same four people in any portal; returns their ids by name."""
    now = timezone.now()
    days = datetime.timedelta(days=1)
    people = {
        # name: (extra fields, last_login, date_joined)
        "dormant": ({}, now - 40 * days, now - 400 * days),
        "never": ({}, None, now - 40 * days),
        "recent": ({}, now - 10 * days, now - 400 * days),
        "newcomer": ({}, None, now - 5 * days),
        "staff": ({"is_staff": True}, now - 400 * days, now - 900 * days),
    }
    ids = {}
    with portal.activate():
        for name, (extra, last_login, joined) in people.items():
            user = make_person(f"{name}@shared.test", first_name=name.title(), **extra)
            get_user_model().objects.filter(pk=user.pk).update(
                last_login=last_login, date_joined=joined
            )
            ids[name] = user.pk
        # The admin last signed in long ago too: superusers are never erased by the policy.
        get_user_model().objects.filter(email=portal.admin_email).update(
            last_login=now - 400 * days
        )
    return ids


def emails(portal) -> dict[int, str]:
    with portal.activate():
        return dict(get_user_model().objects.values_list("pk", "email"))


def test_the_daily_purge_applies_each_tenants_own_policy(two_portals):
    a, b = two_portals
    set_policy(a, erase_after=30)
    set_policy(b, erase_after=0)
    a_ids, b_ids = seed_users(a), seed_users(b)
    b_before = tenant_state(b)

    assert purge_expired_data_for_all_tenants.delay().get() == 2
    assert connection.schema_name == "public"

    with a.activate():
        admin_id = get_user_model().objects.get(email=a.admin_email).pk
    assert emails(a) == {
        admin_id: a.admin_email,
        a_ids["dormant"]: f"erased-{a_ids['dormant']}@invalid.example",
        a_ids["never"]: f"erased-{a_ids['never']}@invalid.example",
        a_ids["recent"]: "recent@shared.test",
        a_ids["newcomer"]: "newcomer@shared.test",
        a_ids["staff"]: "staff@shared.test",
    }
    assert [row for row in audit_rows(a) if row[0] == "user.erased"] == [
        (
            "user.erased",
            "",
            None,
            "accounts.User",
            str(a_ids[name]),
            f"erased-{a_ids[name]}@invalid.example",
            {
                "reason": "retention policy",
                "removed": {
                    "sessions": 0,
                    "email_addresses": 1,
                    "authenticators": 0,
                    "social_accounts": 0,
                    "avatar": 0,
                    "groups": 0,
                },
                "audit_entries_redacted": 0,
            },
        )
        for name in ("dormant", "never")
    ]
    assert tenant_state(b) == b_before
    assert set(b_ids) == set(a_ids)

    # A second run finds nobody new: the erased are not erased again.
    assert purge_expired_data_for_all_tenants.delay().get() == 2
    assert len([row for row in audit_rows(a) if row[0] == "user.erased"]) == 2


def test_a_purge_task_sent_from_a_tenant_runs_there_only(two_portals):
    a, b = two_portals
    set_policy(a, erase_after=30)
    set_policy(b, erase_after=30)
    a_ids, b_ids = seed_users(a), seed_users(b)
    b_before = tenant_state(b)

    with schema_context(a.schema):
        result = purge_expired_data.delay().get()
    assert connection.schema_name == "public"
    assert result == {"users_erased": 2, "sessions_deleted": 0, "user_sessions_deleted": 0}
    assert emails(a)[a_ids["dormant"]] == f"erased-{a_ids['dormant']}@invalid.example"
    assert tenant_state(b) == b_before
    assert emails(b)[b_ids["dormant"]] == "dormant@shared.test"


def test_the_purge_deletes_expired_sessions_and_old_records_of_ended_ones(make_portal):
    portal = make_portal("gamma")
    now = timezone.now()
    days = datetime.timedelta(days=1)
    with portal.activate():
        person = make_person("kim@gamma.test")

        def session(*, expires: datetime.datetime | None, last_seen: datetime.datetime) -> str:
            store = SessionStore()
            store["_auth_user_id"] = str(person.pk)
            store.create()
            if expires is not None:
                Session.objects.filter(pk=store.session_key).update(expire_date=expires)
            else:
                Session.objects.filter(pk=store.session_key).delete()  # signed out
            UserSession.objects.create(
                user=person,
                session_key=store.session_key,
                ip="192.0.2.1",
                user_agent="x",
                created_at=last_seen,
                last_seen_at=last_seen,
            )
            return store.session_key

        live_old = session(expires=now + 5 * days, last_seen=now - 40 * days)
        expired_old = session(expires=now - 20 * days, last_seen=now - 40 * days)
        expired_recent = session(expires=now - 1 * days, last_seen=now - 3 * days)
        ended_old = session(expires=None, last_seen=now - 31 * days)
        ended_recent = session(expires=None, last_seen=now - 29 * days)

        assert services.purge_expired_data(now=now) == {
            "users_erased": 0,
            "sessions_deleted": 2,
            "user_sessions_deleted": 2,
        }
        assert set(Session.objects.values_list("session_key", flat=True)) == {live_old}
        assert set(UserSession.objects.values_list("session_key", flat=True)) == {
            live_old,
            expired_recent,
            ended_recent,
        }
        assert expired_old not in set(UserSession.objects.values_list("session_key", flat=True))
        assert ended_old not in set(UserSession.objects.values_list("session_key", flat=True))
        assert RetentionPolicy.objects.count() == 1
        assert get_user_model().objects.get(pk=person.pk).email == "kim@gamma.test"

        # 0 keeps the records of ended sessions; expired sessions still go.
        policy = RetentionPolicy.load()
        policy.delete_ended_sessions_after_days = 0
        policy.save()
        assert services.purge_expired_data(now=now + 60 * days) == {
            "users_erased": 0,
            "sessions_deleted": 1,
            "user_sessions_deleted": 0,
        }
        assert UserSession.objects.count() == 3
