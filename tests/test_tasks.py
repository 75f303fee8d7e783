"""Background work runs in the schema it was sent from, in-process and on a real worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from cms.tasks import publish_scheduled_pages, publish_scheduled_pages_for_all_tenants
from config.celery import app as celery_app
from tenants.models import Tenant
from tenants.tasks import refill_spare_pool


def schedule_page(portal, title: str) -> int:
    """A draft page whose approved revision should have gone live a minute ago."""
    from wagtail.models import Site

    from cms.models import ContentPage

    with portal.activate():
        home = Site.objects.get(is_default_site=True).root_page.specific
        page = home.add_child(instance=ContentPage(title=title, live=False))
        revision = page.save_revision()
        revision.approved_go_live_at = timezone.now() - timedelta(minutes=1)
        revision.save()
        return page.pk


def is_live(portal, page_id: int) -> bool:
    from wagtail.models import Page

    with portal.activate():
        return Page.objects.get(pk=page_id).live


@pytest.mark.django_db
def test_a_task_sent_from_tenant_a_publishes_only_as_pages(two_portals):
    a, b = two_portals
    page_a, page_b = schedule_page(a, "Alpha timetable"), schedule_page(b, "Beta timetable")

    with schema_context(a.schema):
        publish_scheduled_pages.delay()

    assert connection.schema_name == "public"
    assert is_live(a, page_a) is True
    assert is_live(b, page_b) is False
    assert b.client.get("/beta-timetable/").status_code == 404
    assert a.client.get("/alpha-timetable/").status_code == 200


@pytest.mark.django_db
def test_the_periodic_fan_out_reaches_every_portal_and_nothing_else(two_portals):
    a, b = two_portals
    page_a, page_b = schedule_page(a, "Alpha news"), schedule_page(b, "Beta news")
    assert publish_scheduled_pages_for_all_tenants.delay().get() == 2
    assert is_live(a, page_a) and is_live(b, page_b)


@pytest.mark.django_db
def test_refill_task_tops_the_pool_up(django_capture_on_commit_callbacks):
    from tenants import services

    services.discard_spares()
    assert refill_spare_pool.delay().get() == settings.VIVA_SPARE_POOL_SIZE
    assert Tenant.objects.filter(status=Tenant.Status.SPARE).count() == 2


def worker_env() -> dict[str, str]:
    db = connection.settings_dict
    host = db["HOST"] or "127.0.0.1"
    url = f"postgres://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}"
    if host.startswith("/"):
        url = f"postgres://{db['USER']}@/{db['NAME']}?host={host}&port={db['PORT'] or 5432}"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": url,
        "PYTEST_XDIST_WORKER": os.environ.get("PYTEST_XDIST_WORKER", "main"),
    }


@pytest.fixture
def celery_worker_process(committed_db):
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set: tasks run in-process (covered by the tests above)")
    worker = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "-Q",
            settings.CELERY_TASK_DEFAULT_QUEUE,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "WARNING",
        ],
        env=worker_env(),
        cwd=settings.BASE_DIR,
    )
    celery_app.conf.task_always_eager = False
    try:
        yield worker
    finally:
        celery_app.conf.task_always_eager = True
        worker.terminate()
        worker.wait(timeout=20)


def wait_for(predicate, *, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.celery_worker
def test_a_real_worker_runs_each_task_in_its_senders_schema(
    celery_worker_process, make_committed_portal
):
    a = make_committed_portal("walpha", "Worker Alpha")
    b = make_committed_portal("wbeta", "Worker Beta", "company")
    page_a, page_b = schedule_page(a, "Alpha exam day"), schedule_page(b, "Beta exam day")

    with schema_context(a.schema):
        publish_scheduled_pages.delay()

    assert wait_for(lambda: is_live(a, page_a)), "the worker never published A's page"
    time.sleep(1.0)  # give a misrouted task the chance to do harm before we look at B
    assert is_live(b, page_b) is False

    publish_scheduled_pages_for_all_tenants.delay()
    assert wait_for(lambda: is_live(b, page_b)), "the fan-out never reached B"
    assert celery_worker_process.poll() is None
