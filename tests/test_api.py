"""The portal API: tenant keys, scopes, throttled guessing, and isolation between portals."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from assessments.services import create_question
from tenants.access.api_keys import ApiKeyError, create_api_key, revoke
from tests.conftest import put_on_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_portals(two_portals):
    """API access is a plan feature (Pro and up): both portals are on Pro here; Free portals
    are refused in tests/test_entitlements.py."""
    for portal in two_portals:
        put_on_plan(portal, "pro")
    return two_portals


SINGLE = {
    "options": [
        {"id": "a", "text": "Paris", "correct": True},
        {"id": "b", "text": "Lyon", "correct": False},
    ]
}


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def make_key(portal, scopes=("questions:read",)):
    with portal.activate():
        return create_api_key(name="LMS sync", scopes=list(scopes))


def test_a_key_reads_its_own_portal_only(two_portals):
    a, b = two_portals
    key_a, raw_a = make_key(a)
    _, raw_b = make_key(b)
    me = a.client.get("/api/v1/me", **bearer(raw_a))
    assert me.status_code == 200
    assert me.json() == {
        "portal": "Alpha University",
        "key": "LMS sync",
        "scopes": ["questions:read"],
    }
    assert a.client.get("/api/v1/me", **bearer(raw_b)).status_code == 401  # B's key on A
    assert b.client.get("/api/v1/me", **bearer(raw_a)).status_code == 401  # A's key on B
    assert a.client.get("/api/v1/me").status_code == 401


def test_scopes_and_revocation(two_portals):
    a, _ = two_portals
    _, raw_none = make_key(a, scopes=())
    key, raw = make_key(a)
    assert a.client.get("/api/v1/questions", **bearer(raw_none)).status_code == 403
    assert a.client.get("/api/v1/questions", **bearer(raw)).status_code == 200
    with a.activate():
        revoke(key=key)
    assert a.client.get("/api/v1/questions", **bearer(raw)).status_code == 401
    with a.activate(), pytest.raises(ApiKeyError, match="Unknown scope"):
        create_api_key(name="x", scopes=["everything"])


def test_guessing_keys_is_throttled_even_with_forged_forwarded_for(two_portals):
    a, b = two_portals
    _, raw = make_key(a)
    for attempt in range(10):
        response = a.client.get(
            "/api/v1/me",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}",
            **bearer(f"viva_deadbeef_guess{attempt}"),
        )
        assert response.status_code == 401
    blocked = a.client.get("/api/v1/me", HTTP_X_FORWARDED_FOR="198.51.100.1", **bearer(raw))
    assert blocked.status_code == 429
    _, raw_b = make_key(b)
    assert b.client.get("/api/v1/me", **bearer(raw_b)).status_code == 200  # per portal
    other_client = Client(HTTP_HOST=a.domain, REMOTE_ADDR="192.0.2.50")
    assert other_client.get("/api/v1/me", **bearer(raw)).status_code == 200  # per address


def test_questions_are_listed_from_the_keys_portal(two_portals):
    a, b = two_portals
    with a.activate():
        from django.contrib.auth import get_user_model

        admin = get_user_model().objects.get(email=a.admin_email)
        create_question(
            author=admin,
            type="single_choice",
            title="Capital of France",
            stem="<p>Which city is the capital of France?</p>",
            data=SINGLE,
            status="active",
        )
    _, raw_a = make_key(a)
    _, raw_b = make_key(b)
    listed = a.client.get("/api/v1/questions", **bearer(raw_a)).json()
    assert [(q["title"], q["type"], q["status"], q["version"]) for q in listed] == [
        ("Capital of France", "single_choice", "active", 1)
    ]
    assert b.client.get("/api/v1/questions", **bearer(raw_b)).json() == []


def test_the_command_prints_a_key_once_and_refuses_public(two_portals, capsys):
    a, _ = two_portals
    call_command("create_api_key", f"--schema={a.schema}", "--name=Reports", "--scopes=exams:read")
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    assert raw.startswith("viva_")
    assert a.client.get("/api/v1/me", **bearer(raw)).json()["scopes"] == ["exams:read"]
    with pytest.raises(CommandError, match="No active portal with schema 'public'"):
        call_command("create_api_key", "--schema=public", "--name=x")
