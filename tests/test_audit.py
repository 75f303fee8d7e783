"""The tenant audit log: what is recorded, that the database keeps it append-only, that one
tenant never sees another's entries, the one sanctioned redaction, and the CSV export."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.contrib.auth import signals as auth_signals
from django.contrib.auth.models import Group, Permission
from django.db import DatabaseError, connection, transaction
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from tenants import schemas
from tenants.audit import selectors, services
from tenants.audit.models import AuditAction, AuditEvent
from tenants.services import SchemaSource

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

FIELDS = ("action", "actor_label", "ip", "object_type", "object_id", "object_label", "detail")


def entries(portal) -> list[tuple]:
    """The portal's log since provisioning, oldest first, without the timestamps."""
    with portal.activate():
        since = AuditEvent.objects.filter(id__gt=portal.audit_baseline)
        return list(since.order_by("id").values_list(*FIELDS))


def snapshot(portal) -> list[dict]:
    with portal.activate():
        return list(AuditEvent.objects.filter(id__gt=portal.audit_baseline).order_by("id").values())


def refused(operation) -> DatabaseError:
    """Run ``operation`` in a savepoint and return the database's refusal."""
    with pytest.raises(DatabaseError) as caught, transaction.atomic():
        operation()
    assert "the audit log is append-only" in str(caught.value)
    assert caught.value.__cause__.sqlstate == "P0001"
    return caught.value


def make_user(email: str, **extra):
    return get_user_model().objects.create_user(email=email, password=PASSWORD, **extra)


def csv_rows(content: bytes | str) -> list[list[str]]:
    text = content.decode() if isinstance(content, bytes) else content
    return list(csv.reader(io.StringIO(text)))


# --- What is recorded ------------------------------------------------------------------------


def test_a_sign_in_is_recorded_in_that_tenant_only(two_portals):
    a, b = two_portals
    a.login_admin()

    with a.activate():
        admin = get_user_model().objects.get(email=a.admin_email)
        (event,) = AuditEvent.objects.filter(id__gt=a.audit_baseline)
        assert event.actor_id == admin.pk
        assert event.at <= timezone.now()
    assert entries(a) == [("auth.login", "admin@alpha.test", "127.0.0.1", "", "", "", {})]
    assert entries(b) == []


def test_a_failed_sign_in_keeps_the_name_tried_and_never_the_password(two_portals):
    a, b = two_portals
    response = a.client.post(
        "/accounts/login/", {"login": a.admin_email, "password": "wrong horse battery"}
    )
    assert response.status_code == 200
    connection.set_schema_to_public()

    assert entries(a) == [
        ("auth.login_failed", "", "127.0.0.1", "", "", "", {"username": "admin@alpha.test"})
    ]
    with a.activate():
        assert AuditEvent.objects.get(id__gt=a.audit_baseline).actor is None
    assert "horse" not in repr(snapshot(a))
    assert entries(b) == []


def test_the_ip_is_the_peer_address_and_x_forwarded_for_is_ignored(two_portals):
    a, _ = two_portals
    client = Client(HTTP_HOST=a.domain, HTTP_X_FORWARDED_FOR="203.0.113.9", REMOTE_ADDR="10.1.2.3")
    a.login_admin(client)
    assert [row[2] for row in entries(a)] == ["10.1.2.3"]


def test_sign_out_is_recorded(two_portals):
    a, b = two_portals
    a.login_admin()
    assert a.client.post("/cms/logout/").status_code == 302
    connection.set_schema_to_public()
    assert [(row[0], row[1]) for row in entries(a)] == [
        ("auth.login", "admin@alpha.test"),
        ("auth.logout", "admin@alpha.test"),
    ]
    assert entries(b) == []


def test_role_changes_are_recorded_one_event_per_group_from_either_side(make_portal):
    portal = make_portal("gamma")
    with portal.activate():
        bob = make_user("bob@gamma.test")
        editors = Group.objects.create(name="Examiners")
        graders = Group.objects.create(name="Markers")

        bob.groups.add(editors, graders)
        bob.groups.add(editors)  # already a member: nothing changes, nothing is recorded
        bob.groups.remove(editors)
        graders.user_set.clear()
        editors.user_set.add(bob)
        bob.groups.clear()

    ids = {"bob": str(bob.pk), "examiners": editors.pk, "graders": graders.pk}
    role = ("accounts.User", ids["bob"], "bob@gamma.test")
    assert [(row[0], *row[3:]) for row in entries(portal)] == [
        ("role.granted", *role, {"role": "Examiners", "role_id": ids["examiners"]}),
        ("role.granted", *role, {"role": "Markers", "role_id": ids["graders"]}),
        ("role.revoked", *role, {"role": "Examiners", "role_id": ids["examiners"]}),
        ("role.revoked", *role, {"role": "Markers", "role_id": ids["graders"]}),
        ("role.granted", *role, {"role": "Examiners", "role_id": ids["examiners"]}),
        ("role.revoked", *role, {"role": "Examiners", "role_id": ids["examiners"]}),
    ]
    # Without a request there is nobody to name as the actor.
    assert {(row[1], row[2]) for row in entries(portal)} == {("", None)}


def test_a_role_granted_in_the_admin_names_the_admin_who_did_it(make_portal, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tenants.audit.context.AuditRequestMiddleware"]
    portal = make_portal("gamma")
    with portal.activate():
        bob = make_user("bob@gamma.test", first_name="Bob", last_name="Jones")
        editors = Group.objects.create(name="Examiners")
    portal.login_admin()

    response = portal.client.post(
        reverse("wagtailusers_users:edit", args=[bob.pk]),
        {
            "email": "bob@gamma.test",
            "first_name": "Bob",
            "last_name": "Jones",
            "is_active": "on",
            "groups": [editors.pk],
            "password1": "",
            "password2": "",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    connection.set_schema_to_public()

    assert entries(portal)[1:] == [
        (
            "role.granted",
            "admin@gamma.test",
            "127.0.0.1",
            "accounts.User",
            str(bob.pk),
            "Bob Jones",
            {"role": "Examiners", "role_id": editors.pk},
        )
    ]


def test_mfa_activation_and_removal_are_recorded(make_portal):
    portal = make_portal("gamma")
    with portal.activate():
        bob = make_user("bob@gamma.test")
        totp = Authenticator.objects.create(
            user=bob, type=Authenticator.Type.TOTP, data={"secret": "not-used-here"}
        )
        request = RequestFactory().post("/accounts/2fa/totp/activate/", REMOTE_ADDR="10.0.0.7")
        request.user = bob
        mfa_signals.authenticator_added.send(
            sender=Authenticator, request=request, user=bob, authenticator=totp
        )
        mfa_signals.authenticator_removed.send(
            sender=Authenticator, request=request, user=bob, authenticator=totp
        )

    subject = ("accounts.User", str(bob.pk), "bob@gamma.test", {"authenticator": "totp"})
    assert entries(portal) == [
        ("mfa.activated", "bob@gamma.test", "10.0.0.7", *subject),
        ("mfa.deactivated", "bob@gamma.test", "10.0.0.7", *subject),
    ]


def test_nothing_is_recorded_or_broken_on_the_public_schema(two_portals):
    a, b = two_portals
    platform = Client(HTTP_HOST="localhost")
    response = platform.post("/accounts/login/", {"login": "nobody@x.test", "password": "nope"})
    assert response.status_code == 200
    connection.set_schema_to_public()
    auth_signals.user_login_failed.send(
        sender=__name__, credentials={"username": "staff@viva.test"}, request=None
    )
    assert "audit_auditevent" not in schemas.tables_in_schema("public")
    assert entries(a) == entries(b) == []


def test_an_unknown_action_is_refused_before_anything_is_written(make_portal):
    portal = make_portal("gamma")
    with portal.activate(), pytest.raises(ValueError):
        services.record_event(action="auth.teleported")
    assert entries(portal) == []


# --- Append-only in the database -------------------------------------------------------------


@pytest.mark.parametrize("source", [SchemaSource.POOL, SchemaSource.CLONE])
def test_the_database_refuses_update_delete_and_truncate(make_portal, source):
    """Whether the schema was a renamed spare or a fresh clone of the template, its triggers
    call its own function: nothing points back at the template or a spare."""
    portal = make_portal("gamma", source=source)
    with portal.activate():
        admin = get_user_model().objects.get(email=portal.admin_email)
        event = services.record_event(
            action=AuditAction.SETTINGS_CHANGED, actor=admin, detail={"field": "name"}
        )
    before = snapshot(portal)

    with portal.activate():
        events = AuditEvent.objects.filter(pk=event.pk)
        refused(lambda: events.update(action=AuditAction.LOGIN))
        refused(lambda: events.update(actor_label="someone@else.test"))
        refused(lambda: events.update(at=timezone.now()))
        refused(events.delete)
        refused(AuditEvent.objects.all().delete)
        event.detail = {"field": "forged"}
        refused(event.save)
        with connection.cursor() as cursor:
            # Run the deferred FK checks now: PostgreSQL refuses TRUNCATE while they are pending,
            # before any trigger would be asked.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            refused(lambda: cursor.execute("TRUNCATE audit_auditevent"))
            refused(lambda: cursor.execute("TRUNCATE accounts_user CASCADE"))
            cursor.execute(
                "SELECT t.tgname, pn.nspname FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid "
                "JOIN pg_namespace pn ON pn.oid = p.pronamespace "
                "WHERE c.oid = 'audit_auditevent'::regclass AND NOT t.tgisinternal "
                "ORDER BY t.tgname"
            )
            triggers = cursor.fetchall()

    assert triggers == [
        ("audit_auditevent_no_delete", "gamma"),
        ("audit_auditevent_no_truncate", "gamma"),
        ("audit_auditevent_no_update", "gamma"),
    ]
    assert snapshot(portal) == before


def test_deleting_a_user_detaches_their_entries_and_keeps_who_it_was(make_portal):
    portal = make_portal("gamma")
    with portal.activate():
        bob = make_user("bob@gamma.test")
        services.record_event(action=AuditAction.LOGIN, actor=bob)
        bob.delete()
        (event,) = AuditEvent.objects.filter(id__gt=portal.audit_baseline)
        assert (event.actor_id, event.actor_label, event.action) == (
            None,
            "bob@gamma.test",
            "auth.login",
        )
        # Only actor_id -> NULL passes: re-pointing an entry at another user does not.
        admin = get_user_model().objects.get(email=portal.admin_email)
        services.record_event(action=AuditAction.LOGIN, actor=admin)
        refused(lambda: AuditEvent.objects.filter(actor=admin).update(actor_id=None, ip="1.1.1.1"))
        refused(lambda: AuditEvent.objects.filter(actor=None).update(actor_id=admin.pk))


# --- Redaction, the one sanctioned change ----------------------------------------------------


def test_redaction_rewrites_a_users_personal_data_and_nothing_else(make_portal):
    portal = make_portal("gamma")
    with portal.activate():
        admin = get_user_model().objects.get(email=portal.admin_email)
        bob = make_user("bob@gamma.test")
        editors = Group.objects.create(name="Examiners")
        request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.4")
        services.record_event(
            action=AuditAction.LOGIN, actor=bob, request=request, detail={"via": "password"}
        )
        services.record_event(
            action=AuditAction.ROLE_GRANTED,
            actor=admin,
            obj=bob,
            detail={"role": "Examiners", "role_id": editors.pk},
        )
        services.record_event(
            action=AuditAction.LOGIN_FAILED, request=request, detail={"username": "BOB@gamma.test"}
        )
        services.record_event(action=AuditAction.LOGIN, actor=admin, request=request)

        assert services.redact_actor(user_id=bob.pk, replacement="[erased]") == 3

        # The setting was transaction-local and is off again: tampering is refused as before.
        refused(lambda: AuditEvent.objects.update(actor_label="x"))
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('viva.audit_redaction', true)")
            assert cursor.fetchone() == ("off",)

    bob_id = str(bob.pk)
    assert entries(portal) == [
        ("auth.login", "[erased]", None, "", "", "", {"via": "[erased]"}),
        (
            "role.granted",
            "admin@gamma.test",
            None,
            "accounts.User",
            bob_id,
            "[erased]",
            {"role": "Examiners", "role_id": editors.pk},
        ),
        ("auth.login_failed", "", None, "", "", "", {"username": "[erased]"}),
        ("auth.login", "admin@gamma.test", "198.51.100.4", "", "", "", {}),
    ]


def test_the_redaction_setting_allows_no_delete_and_no_change_to_what_happened(make_portal):
    portal = make_portal("gamma")
    with portal.activate():
        admin = get_user_model().objects.get(email=portal.admin_email)
        services.record_event(action=AuditAction.LOGIN, actor=admin)
    before = snapshot(portal)

    with portal.activate(), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL viva.audit_redaction = 'on'")
        refused(AuditEvent.objects.all().delete)
        refused(lambda: AuditEvent.objects.update(action=AuditAction.LOGOUT))
        refused(lambda: AuditEvent.objects.update(at=timezone.now()))
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            refused(lambda: cursor.execute("TRUNCATE audit_auditevent"))
        AuditEvent.objects.update(actor_label="[erased]")  # the columns it exists for
    assert snapshot(portal) == [{**before[0], "actor_label": "[erased]"}]


# --- Selectors -------------------------------------------------------------------------------


def test_filter_events_combines_its_criteria(make_portal):
    portal = make_portal("gamma")
    with portal.activate():
        day = timezone.make_aware(datetime.datetime(2026, 3, 2, 12, 0))
        rows = [
            ("auth.login", "ann@gamma.test", day, {}),
            ("auth.login_failed", "", day, {"username": "ghost@else.test"}),
            ("auth.login", "bob@gamma.test", day + datetime.timedelta(days=1), {}),
            ("data.exported", "ann@gamma.test", day + datetime.timedelta(days=2), {"rows": 4}),
        ]
        made = [
            AuditEvent.objects.create(action=action, actor_label=label, at=at, detail=detail)
            for action, label, at, detail in rows
        ]

        def ids(**criteria):
            found = selectors.filter_events(**criteria).filter(id__gt=portal.audit_baseline)
            return [made.index(event) for event in found]

        assert ids() == [3, 2, 1, 0]
        assert ids(action="auth.login") == [2, 0]
        assert ids(actor_email="ANN@") == [3, 0]
        assert ids(since=day.date() + datetime.timedelta(days=1)) == [3, 2]
        assert ids(until=day.date()) == [1, 0]
        assert ids(since=day.date(), until=day.date()) == [1, 0]
        assert ids(text="ghost") == [1]
        assert ids(action="auth.login", actor_email="bob") == [2]
        assert ids(text="nothing-like-this") == []


# --- CSV export ------------------------------------------------------------------------------


FORMULAS = ["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(1)", "\tTAB", "\rCR"]


def test_the_csv_export_neutralises_formulas_and_records_itself(make_portal):
    portal = make_portal("gamma")
    with portal.activate():
        admin = get_user_model().objects.get(email=portal.admin_email)
        at = timezone.make_aware(datetime.datetime(2026, 3, 2, 12, 0))
        for minutes, formula in enumerate(FORMULAS):
            AuditEvent.objects.create(
                action=AuditAction.SETTINGS_CHANGED,
                actor_label=formula,
                object_label=formula,
                object_type="cms.HomePage",
                object_id="7",
                at=at - datetime.timedelta(minutes=minutes),
            )
        body = services.export_events_csv(
            events=selectors.filter_events(action=AuditAction.SETTINGS_CHANGED),
            actor=admin,
            criteria={"action": "settings.changed", "text": ""},
        )

    rows = csv_rows(body)
    assert rows[0] == [
        "at",
        "action",
        "actor",
        "ip",
        "object_type",
        "object_id",
        "object",
        "detail",
    ]
    assert [(row[2], row[6]) for row in rows[1:]] == [
        ("'=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("'+1", "'+1"),
        ("'-1", "'-1"),
        ("'@SUM(1)", "'@SUM(1)"),
        ("'\tTAB", "'\tTAB"),
        ("'\rCR", "'\rCR"),
    ]
    assert rows[1] == [
        "2026-03-02T12:00:00+00:00",
        "settings.changed",
        "'=cmd|' /C calc'!A0",
        "",
        "cms.HomePage",
        "7",
        "'=cmd|' /C calc'!A0",
        "{}",
    ]
    with portal.activate():
        export = AuditEvent.objects.get(action=AuditAction.DATA_EXPORTED)
    assert (export.actor_label, export.detail) == (
        "admin@gamma.test",
        {
            "what": "audit_log",
            "format": "csv",
            "rows": 6,
            "criteria": {"action": "settings.changed"},
        },
    )


def test_csv_safe_leaves_ordinary_text_alone():
    assert [services.csv_safe(value) for value in ("a=b", "1-1", " =x", None, 5, "")] == [
        "a=b",
        "1-1",
        " =x",
        "",
        "5",
        "",
    ]


# --- The admin views, and isolation between tenants ------------------------------------------


def test_the_admin_lists_filters_shows_and_downloads_its_own_tenants_log(
    two_portals, django_assert_max_num_queries
):
    a, b = two_portals
    response = a.client.post("/accounts/login/", {"login": "=HYPERLINK@evil.test", "password": "x"})
    assert response.status_code == 200
    a.login_admin()
    with a.activate():
        failed = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)

    # allauth's session tracking and Wagtail's menus cost ~28 queries; rows add none.
    with django_assert_max_num_queries(32):
        listing = a.client.get("/cms/audit/")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "Audit log" in html and "admin@alpha.test" in html and "=HYPERLINK@evil.test" not in html
    assert 'href="/cms/audit/export.csv"' in html

    filtered = a.client.get("/cms/audit/results/", {"action": "auth.login_failed"})
    assert filtered.status_code == 200
    assert f'href="/cms/audit/{failed.pk}/"' in filtered.content.decode()
    assert "admin@alpha.test" not in filtered.content.decode()

    detail = a.client.get(f"/cms/audit/{failed.pk}/")
    assert detail.status_code == 200
    assert "=hyperlink@evil.test" in detail.content.decode()

    download = a.client.get("/cms/audit/export.csv", {"action": "auth.login_failed"})
    connection.set_schema_to_public()
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert download["Content-Disposition"].startswith('attachment; filename="audit-log-alpha-')
    rows = csv_rows(download.content)
    assert [(row[1], row[7]) for row in rows[1:]] == [
        ("auth.login_failed", '{"username": "=hyperlink@evil.test"}')
    ]
    assert [row[:2] for row in entries(a)] == [
        ("auth.login_failed", ""),
        ("auth.login", "admin@alpha.test"),
        ("data.exported", "admin@alpha.test"),
    ]
    assert entries(b) == []


def test_tenant_b_never_sees_tenant_as_entries_by_list_csv_id_or_filter(two_portals):
    a, b = two_portals
    for attempt in range(3):
        a.client.post("/accounts/login/", {"login": f"alpha-secret-{attempt}", "password": "x"})
    a.login_admin()
    connection.set_schema_to_public()
    with a.activate():
        a_last = AuditEvent.objects.latest("id").pk
    b.login_admin()
    with b.activate():
        assert not AuditEvent.objects.filter(pk=a_last).exists()
    a_entries = entries(a)

    listing = b.client.get("/cms/audit/")
    assert listing.status_code == 200
    assert b"admin@beta.test" in listing.content
    for probe in (
        listing,
        b.client.get("/cms/audit/", {"text": "alpha"}),
        b.client.get("/cms/audit/results/", {"actor_email": "alpha"}),
        b.client.get("/cms/audit/export.csv"),
        b.client.get("/cms/audit/export.csv", {"text": "alpha-secret"}),
    ):
        assert probe.status_code == 200
        assert b"admin@alpha.test" not in probe.content
        assert b"alpha-secret" not in probe.content
    assert b.client.get(f"/cms/audit/{a_last}/").status_code == 404
    connection.set_schema_to_public()

    assert entries(a) == a_entries
    assert [row[:2] for row in entries(b)] == [
        ("auth.login", "admin@beta.test"),
        ("data.exported", "admin@beta.test"),
        ("data.exported", "admin@beta.test"),
    ]


def test_users_without_the_permission_cannot_open_the_audit_views(make_portal):
    portal = make_portal("gamma")
    portal.login_admin()  # one entry to protect
    connection.set_schema_to_public()
    with portal.activate():
        make_user("plain@gamma.test")
        editor = make_user("editor@gamma.test")
        editor.user_permissions.add(
            Permission.objects.get(codename="access_admin", content_type__app_label="wagtailadmin")
        )
        event_id = AuditEvent.objects.get(id__gt=portal.audit_baseline).pk
    urls = [
        "/cms/audit/",
        "/cms/audit/results/",
        f"/cms/audit/{event_id}/",
        "/cms/audit/export.csv",
    ]
    clients = []
    for email in ("plain@gamma.test", "editor@gamma.test"):
        client = Client(HTTP_HOST=portal.domain)
        with portal.activate():
            client.force_login(get_user_model().objects.get(email=email))  # logged, as a sign-in
        clients.append((email, client))
    before = snapshot(portal)

    for email, client in clients:
        for url in urls:
            response = client.get(url)
            assert response.status_code in (302, 403), (email, url)
            assert b"admin@gamma.test" not in response.content
        dashboard = client.get("/cms/")
        assert b"/cms/audit/" not in dashboard.content
        connection.set_schema_to_public()
    assert snapshot(portal) == before

    with portal.activate():
        editor.user_permissions.add(
            Permission.objects.get(codename="view_auditevent", content_type__app_label="audit")
        )
    granted = Client(HTTP_HOST=portal.domain)
    with portal.activate():
        granted.force_login(get_user_model().objects.get(email="editor@gamma.test"))
    response = granted.get("/cms/audit/")
    assert response.status_code == 200
    assert b"admin@gamma.test" in response.content
    assert b"/cms/audit/" in granted.get("/cms/").content


def test_the_permission_can_be_granted_to_a_group_in_the_admin(make_portal):
    portal = make_portal("gamma")
    with portal.activate():
        view_audit = Permission.objects.get(codename="view_auditevent")
        assert list(
            Permission.objects.filter(content_type__app_label="audit").values_list(
                "codename", flat=True
            )
        ) == ["view_auditevent"]
    portal.login_admin()
    form = portal.client.get(reverse("wagtailusers_groups:add"))
    assert form.status_code == 200
    assert f'name="permissions" value="{view_audit.pk}"'.encode() in form.content

    with portal.activate():
        auditors = Group.objects.create(name="Auditors")
        auditors.permissions.add(
            view_audit,
            Permission.objects.get(codename="access_admin", content_type__app_label="wagtailadmin"),
        )
        auditor = make_user("auditor@gamma.test")
        auditor.groups.add(auditors)
    client = Client(HTTP_HOST=portal.domain)
    with portal.activate():
        client.force_login(auditor)
    assert client.get("/cms/audit/").status_code == 200
