"""The seeded demo, crawled: every page a demo admin or student can reach by following links
from their start pages answers without a server error or a broken link.

Screens are tested one by one elsewhere; this catches what falls between them — a menu item
or a listing button that breaks a page only when real demo data is on it (a 500 that no
focused test rendered)."""

from __future__ import annotations

import re
from collections import deque

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from tenants.demo import seed_demo

FOLLOWED = ("/cms/", "/interview", "/results", "/exam", "/marketplace", "/accounts/privacy")
# Links that change something on GET-less forms, download files, or need query parameters
# (Wagtail's bulk-action base URLs answer 404 without the ids they are given by script).
SKIPPED = re.compile(
    r"logout|/delete/|/disable/|/revoke/|\.pdf|\.xlsx|\.csv|\.zip|/download|/export|"
    r"/sessions/|/2fa/|/reauthenticate|/cms/bulk/"
)
# Links in the page, and the admin menu's, which Wagtail's sidebar reads from a JSON script.
LINK = re.compile(r'(?:href="|"url": ")(/[^"#?]*)"')


def crawl(host: str, email: str, start: list[str], limit: int = 250) -> tuple[int, list]:
    client = Client(HTTP_HOST=host)
    with schema_context(host.split(".")[0]):
        client.force_login(get_user_model().objects.get(email=email))
    seen: set[str] = set()
    queue = deque(start)
    broken = []
    while queue and len(seen) < limit:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        connection.set_schema_to_public()
        if response.status_code >= 500 or response.status_code == 404:
            broken.append((path, response.status_code))
        if response.status_code == 200 and "html" in response.get("Content-Type", ""):
            for href in LINK.findall(response.content.decode(errors="replace")):
                if href.startswith(FOLLOWED) and not SKIPPED.search(href):
                    queue.append(href)
    return len(seen), broken


@pytest.mark.django_db
def test_every_page_linked_from_the_demo_answers():
    seed_demo()
    connection.set_schema_to_public()
    for host, email, start, at_least in [
        ("uni.localhost", "admin@uni.test", ["/cms/", "/"], 80),
        ("uni.localhost", "student@uni.test", ["/", "/exams/", "/interview/", "/results/"], 8),
        ("acme.localhost", "admin@acme.test", ["/cms/"], 70),
        ("press.localhost", "admin@press.test", ["/cms/"], 70),
    ]:
        pages, broken = crawl(host, email, start)
        assert broken == [], (host, email)
        assert pages >= at_least, (host, email, pages)  # the crawl really went through
