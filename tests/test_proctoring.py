"""Webcam proctoring: the exam setting and the plan, consent at start, snapshot uploads and
their refusals, the proctor's timeline and image view, retention, privacy export and erasure,
and two-tenant isolation of the images (by id, host, file path and the public media URL)."""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context
from PIL import Image

from assessments.delivery import proctoring, tasks
from assessments.delivery import services as delivery
from assessments.delivery.models import Attempt, IntegrityEvent, ProctoringSnapshot
from assessments.exams import services as exams
from assessments.exams.models import Exam
from billing.models import Plan, Subscription
from tenants.models import Tenant
from tenants.privacy import services as privacy
from tenants.storage import tenant_media_root
from tenants.views import PRIVATE_PREFIXES
from tests.test_delivery_views import admin_of, build_exam, client_for, make_user

pytestmark = pytest.mark.django_db
User = get_user_model()

UPGRADE = (
    "Webcam proctoring is not included in the Free plan. Upgrade under Settings → Billing to "
    "use it."
)


def jpeg(size=(320, 240), *, noise: bool = False, quality: int = 70) -> bytes:
    image = Image.new("RGB", size, (90, 120, 150))
    if noise:
        image = Image.frombytes("RGB", size, os.urandom(3 * size[0] * size[1]))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (0, 0, 0)).save(buffer, "PNG")
    return buffer.getvalue()


def go_pro(portal) -> None:
    Subscription.objects.create(
        tenant=portal.tenant, plan=Plan.objects.get(code="pro"), status="active"
    )


def webcam_exam(portal, interval: int = 60) -> Exam:
    return build_exam(portal, webcam_proctoring=True, webcam_interval_seconds=interval)


def start(portal, exam, user, *, consent: bool = True) -> Attempt:
    with portal.activate():
        return proctoring.start_attempt(
            exam=exam,
            user=user,
            client=delivery.Client(session_key="s", ip="10.0.0.1", user_agent="UA"),
            consent=consent,
        )


def post_snapshot(client: Client, attempt_id: int, body: bytes, content_type="image/jpeg"):
    response = client.post(f"/exam/attempt/{attempt_id}/snapshot/", body, content_type=content_type)
    connection.set_schema_to_public()
    return response


def stored(portal) -> tuple[int, list[Path]]:
    """Snapshot rows and snapshot files of ``portal``."""
    with portal.activate():
        count = ProctoringSnapshot.objects.count()
    folder = tenant_media_root(portal.schema) / "proctoring"
    return count, sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture(autouse=True)
def _no_snapshot_files_of_earlier_tests():
    """A rolled-back test leaves its files behind, and the next test's tenant and attempt get
    the same schema and ids: start each test without them (this run's media folder only)."""
    for folder in Path(settings.MEDIA_ROOT).glob("*/proctoring"):
        shutil.rmtree(folder)


@pytest.fixture
def pro_portal(make_portal):
    portal = make_portal("cam", "Camera University")
    go_pro(portal)
    return portal


def proctor_client(portal, email: str) -> Client:
    return client_for(portal, make_user(portal, email, role="proctor"))


# -- the setting ------------------------------------------------------------------------------


def test_turning_webcam_on_is_refused_on_free_with_the_upgrade_message(make_portal):
    portal = make_portal("free", "Free College")
    exam = build_exam(portal)
    with portal.activate(), pytest.raises(exams.ExamError) as refused:
        exams.update_exam(exam=exam, by=admin_of(portal), webcam_proctoring=True)
    assert refused.value.errors == [UPGRADE]
    with portal.activate(), pytest.raises(exams.ExamError):
        exams.create_exam(by=admin_of(portal), title="New", webcam_proctoring=True)
    with portal.activate():
        assert Exam.objects.get(pk=exam.pk).webcam_proctoring is False
        assert not Exam.objects.filter(title="New").exists()

    # The builder's settings form shows the plan's message and saves nothing.
    admin = portal.login_admin()
    form = {
        "title": "Mid-term",
        "attempts_allowed": "1",
        "navigation": "free",
        "pass_mark_percent": "50",
        "results_release": "immediately",
        "proctoring_level": "none",
        "grace_seconds": "30",
        "overdue_policy": "auto_submit",
        "webcam_proctoring": "on",
        "webcam_interval_seconds": "60",
    }
    response = admin.post(f"/cms/exams/{exam.pk}/settings/", form)
    assert response.status_code == 400
    assert "Webcam proctoring is not included in the Free plan." in response.content.decode()
    with portal.activate():
        assert Exam.objects.get(pk=exam.pk).webcam_proctoring is False


def test_pro_turns_webcam_on_and_the_version_freezes_it(pro_portal):
    exam = build_exam(pro_portal)
    with pro_portal.activate():
        author = admin_of(pro_portal)
        exams.update_exam(exam=exam, by=author, webcam_proctoring=True, webcam_interval_seconds=45)
        version = exams.publish_exam(exam=exam, by=author)
        exams.update_exam(exam=exam, by=author, webcam_interval_seconds=120)
        settings_ = version.snapshot["settings"]
        assert (settings_["webcam_proctoring"], settings_["webcam_interval_seconds"]) == (True, 45)
    admin = pro_portal.login_admin()
    page = admin.get(f"/cms/exams/{exam.pk}/settings/").content.decode()
    assert "Webcam proctoring" in page and "Snapshot interval (seconds)" in page


@pytest.mark.parametrize("interval", [29, 301, "60", True])
def test_snapshot_interval_outside_30_to_300_is_refused(pro_portal, interval):
    exam = build_exam(pro_portal)
    with pro_portal.activate(), pytest.raises(exams.ExamError) as refused:
        exams.update_exam(exam=exam, by=admin_of(pro_portal), webcam_interval_seconds=interval)
    assert refused.value.errors == [
        "the snapshot interval must be a whole number of seconds from 30 to 300"
    ]


def test_after_a_downgrade_attempts_start_without_capture_and_the_proctor_is_told(pro_portal):
    exam = webcam_exam(pro_portal)
    Subscription.objects.filter(tenant=pro_portal.tenant).delete()  # back on Free
    candidate = make_user(pro_portal, "cand@cam.test")
    attempt = start(pro_portal, exam, candidate, consent=False)
    assert attempt.webcam_interval_seconds is None and attempt.webcam_consent_at is None
    with pro_portal.activate():
        kinds = list(attempt.events.values_list("kind", flat=True))
        assert kinds == [IntegrityEvent.Kind.WEBCAM_NOT_IN_PLAN]
        # The exam keeps its setting (editable otherwise) but cannot be turned on again.
        exams.update_exam(exam=exam, by=admin_of(pro_portal), title="Renamed")
    page = proctor_client(pro_portal, "p@cam.test").get(f"/cms/proctor/attempt/{attempt.pk}/")
    assert "did not include webcam proctoring" in page.content.decode()


# -- consent at start -------------------------------------------------------------------------


def test_start_needs_consent_which_the_attempt_records(pro_portal):
    exam = webcam_exam(pro_portal, interval=30)
    candidate = make_user(pro_portal, "cand@cam.test")
    client = client_for(pro_portal, candidate)

    landing = client.get(f"/exam/{exam.pk}/")
    text = landing.content.decode()
    assert landing["Permissions-Policy"] == "camera=(self)"
    for words in ("one image every 30 seconds", "proctors and exam administrators", "90 days"):
        assert words in text
    assert 'name="webcam_consent"' in text

    refused = client.post(f"/exam/{exam.pk}/start/", follow=True)
    assert "tick the box to agree before you start" in refused.content.decode()
    with pro_portal.activate():
        assert not Attempt.objects.filter(user=candidate).exists()

    client.post(f"/exam/{exam.pk}/start/", {"webcam_consent": "yes"})
    with pro_portal.activate():
        attempt = Attempt.objects.get(user=candidate)
        assert attempt.webcam_interval_seconds == 30 and attempt.webcam_consent_at is not None
    player = client.get(f"/exam/attempt/{attempt.pk}/")
    assert player["Permissions-Policy"] == "camera=(self)"
    assert player.context["config"]["webcam_interval"] == 30
    assert "data-viva-camera-gate" in player.content.decode()
    # Resuming asks for nothing more.
    assert start(pro_portal, exam, candidate, consent=False).pk == attempt.pk


def test_exams_without_webcam_deny_the_camera(pro_portal):
    exam = build_exam(pro_portal)
    candidate = make_user(pro_portal, "cand@cam.test")
    client = client_for(pro_portal, candidate)
    assert client.get(f"/exam/{exam.pk}/")["Permissions-Policy"] == "camera=()"
    client.post(f"/exam/{exam.pk}/start/")
    with pro_portal.activate():
        attempt = Attempt.objects.get(user=candidate)
    assert client.get(f"/exam/attempt/{attempt.pk}/")["Permissions-Policy"] == "camera=()"
    response = post_snapshot(client, attempt.pk, jpeg())
    assert response.status_code == 409 and response.json()["error"] == "no_webcam"
    assert stored(pro_portal) == (0, [])


# -- uploads ------------------------------------------------------------------------------------


def test_a_snapshot_is_stored_privately_and_shown_to_proctors_only(pro_portal):
    exam = webcam_exam(pro_portal)
    candidate = make_user(pro_portal, "cand@cam.test")
    attempt = start(pro_portal, exam, candidate)
    client = client_for(pro_portal, candidate)
    image = jpeg()
    response = post_snapshot(client, attempt.pk, image)
    assert response.status_code == 201, response.content
    count, files = stored(pro_portal)
    assert count == 1 and len(files) == 1 and files[0].read_bytes() == image
    with pro_portal.activate():
        snapshot = ProctoringSnapshot.objects.get()
    assert snapshot.file.name.startswith(f"proctoring/{attempt.pk}/")
    assert snapshot.bytes == len(image)

    proctor = proctor_client(pro_portal, "p@cam.test")
    served = proctor.get(f"/cms/proctor/snapshot/{snapshot.pk}/")
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert "private" in served["Cache-Control"] and "no-store" in served["Cache-Control"]
    assert b"".join(served.streaming_content) == image
    page = proctor.get(f"/cms/proctor/attempt/{attempt.pk}/").content.decode()
    assert f"/cms/proctor/snapshot/{snapshot.pk}/" in page
    # Not the candidate, not a grader, and never the public media URL (path tricks included).
    assert client.get(f"/cms/proctor/snapshot/{snapshot.pk}/").status_code in (302, 404)
    grader = client_for(pro_portal, make_user(pro_portal, "g@cam.test", role="grader"))
    assert grader.get(f"/cms/proctor/snapshot/{snapshot.pk}/").status_code in (302, 404)
    name = snapshot.file.name
    for path in (name, f"./{name}", f"x/../{name}", f"proctoring//{name[len('proctoring/') :]}"):
        assert proctor.get(f"/media/{path}").status_code == 404, path
        assert client.get(f"/media/{path}").status_code == 404, path


def test_private_prefixes_include_proctoring():
    assert "proctoring/" in PRIVATE_PREFIXES


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"", "image/jpeg", 400, "empty"),
        (b"not an image at all", "image/jpeg", 415, "not_jpeg"),
        ("png", "image/jpeg", 415, "not_jpeg"),
        ("jpeg", "image/png", 415, "not_jpeg"),
        ("jpeg", "text/plain", 415, "not_jpeg"),
        ("truncated", "image/jpeg", 415, "not_jpeg"),
        ("oversize", "image/jpeg", 413, "too_large"),
        ("too_wide", "image/jpeg", 413, "too_large"),
    ],
)
def test_bad_uploads_are_refused_and_store_nothing(pro_portal, body, content_type, status, code):
    bodies = {
        "png": png(),
        "jpeg": jpeg(),
        "truncated": jpeg()[:40],
        "oversize": jpeg((700, 700), noise=True, quality=95),
        "too_wide": jpeg((2000, 8)),
    }
    data = bodies.get(body, body)
    if body == "oversize":
        assert len(data) > proctoring.MAX_SNAPSHOT_BYTES
    if body == "too_wide":
        assert len(data) < proctoring.MAX_SNAPSHOT_BYTES
    exam = webcam_exam(pro_portal)
    candidate = make_user(pro_portal, "cand@cam.test")
    attempt = start(pro_portal, exam, candidate)
    response = post_snapshot(client_for(pro_portal, candidate), attempt.pk, data, content_type)
    assert (response.status_code, response.json()["error"]) == (status, code)
    assert response.json()["message"]
    assert stored(pro_portal) == (0, [])


def test_uploads_to_someone_elses_or_a_closed_attempt_or_too_soon_are_refused(pro_portal):
    exam = webcam_exam(pro_portal, interval=60)
    owner = make_user(pro_portal, "owner@cam.test")
    other = make_user(pro_portal, "other@cam.test")
    attempt = start(pro_portal, exam, owner)
    owner_client = client_for(pro_portal, owner)

    assert post_snapshot(client_for(pro_portal, other), attempt.pk, jpeg()).status_code == 404
    anonymous = Client(HTTP_HOST=pro_portal.domain)
    assert post_snapshot(anonymous, attempt.pk, jpeg()).status_code == 302
    assert stored(pro_portal) == (0, [])

    assert post_snapshot(owner_client, attempt.pk, jpeg()).status_code == 201
    too_soon = post_snapshot(owner_client, attempt.pk, jpeg())
    assert too_soon.status_code == 429 and too_soon.json()["error"] == "too_soon"
    assert 50 <= int(too_soon["Retry-After"]) <= 60
    assert stored(pro_portal)[0] == 1
    # One interval later (less the jitter allowed) the next one is taken.
    with pro_portal.activate():
        ProctoringSnapshot.objects.update(taken_at=timezone.now() - timedelta(seconds=58))
    assert post_snapshot(owner_client, attempt.pk, jpeg()).status_code == 201

    with pro_portal.activate():
        delivery.submit_attempt(attempt=attempt)
        ProctoringSnapshot.objects.update(taken_at=timezone.now() - timedelta(hours=1))
    closed = post_snapshot(owner_client, attempt.pk, jpeg())
    assert closed.status_code == 409 and closed.json()["error"] == "closed"
    count, files = stored(pro_portal)
    assert count == 2 and len(files) == 2


def test_uploads_need_the_csrf_token(pro_portal):
    exam = webcam_exam(pro_portal)
    candidate = make_user(pro_portal, "cand@cam.test")
    attempt = start(pro_portal, exam, candidate)
    client = Client(HTTP_HOST=pro_portal.domain, enforce_csrf_checks=True)
    with pro_portal.activate():
        client.force_login(candidate)
    assert post_snapshot(client, attempt.pk, jpeg()).status_code == 403
    assert stored(pro_portal) == (0, [])


# -- the proctor's timeline -------------------------------------------------------------------


def test_the_timeline_shows_snapshots_events_and_flags_gaps(pro_portal):
    exam = webcam_exam(pro_portal, interval=30)
    candidate = make_user(pro_portal, "cand@cam.test")
    attempt = start(pro_portal, exam, candidate)
    t0 = attempt.started_at
    with pro_portal.activate():
        for seconds in (5, 35, 215):  # 3 minutes without an image between 35 s and 215 s
            proctoring.store_snapshot(
                attempt=attempt, data=jpeg(), now=t0 + timedelta(seconds=seconds)
            )
        IntegrityEvent.objects.create(
            attempt=attempt, kind="camera_off", at=t0 + timedelta(seconds=40), detail={}
        )
        timeline = proctoring.webcam_timeline(attempt=attempt, now=t0 + timedelta(seconds=230))
    assert [(e.kind, int((e.at - t0).total_seconds())) for e in timeline] == [
        ("snapshot", 5),
        ("snapshot", 35),
        ("gap", 35),
        ("event", 40),
        ("snapshot", 215),
    ]
    assert timeline[2].gap_text == "No image for 3 min"
    page = proctor_client(pro_portal, "p@cam.test").get(f"/cms/proctor/attempt/{attempt.pk}/")
    text = page.content.decode()
    assert text.count("data-snapshot=") == 3 and "No image for 3 min" in text
    assert "Camera stopped" in text


# -- retention ----------------------------------------------------------------------------------


def test_retention_deletes_old_snapshots_of_the_tasks_tenant_only(
    two_portals, django_capture_on_commit_callbacks
):
    a, b = two_portals
    go_pro(a)
    go_pro(b)
    old = timezone.now() - timedelta(days=settings.VIVA_PROCTORING_RETENTION_DAYS + 1)
    kept = {}
    for portal in (a, b):
        exam = webcam_exam(portal)
        attempt = start(portal, exam, make_user(portal, f"cand@{portal.schema}.test"))
        with portal.activate():
            proctoring.store_snapshot(attempt=attempt, data=jpeg(), now=old)
            kept[portal.schema] = proctoring.store_snapshot(
                attempt=attempt, data=jpeg(), now=timezone.now()
            )
    with django_capture_on_commit_callbacks(execute=True), schema_context(a.schema):
        assert tasks.purge_expired_snapshots.delay().get() == 1
    count_a, files_a = stored(a)
    assert count_a == 1 and [p.name for p in files_a] == [Path(kept[a.schema].file.name).name]
    assert stored(b)[0] == 2 and len(stored(b)[1]) == 2

    # The daily fan-out reaches suspended portals too: suspension keeps no image longer.
    Tenant.objects.filter(pk=b.tenant.pk).update(status=Tenant.Status.SUSPENDED)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.purge_expired_snapshots_for_all_tenants.delay()
    assert stored(b)[0] == 1 and len(stored(b)[1]) == 1
    assert stored(a)[0] == 1


# -- privacy ------------------------------------------------------------------------------------


def test_export_lists_snapshots_and_erasure_deletes_them(
    pro_portal, django_capture_on_commit_callbacks
):
    exam = webcam_exam(pro_portal)
    candidate = make_user(pro_portal, "cand@cam.test")
    bystander = make_user(pro_portal, "other@cam.test")
    attempt = start(pro_portal, exam, candidate)
    other_attempt = start(pro_portal, exam, bystander)
    with pro_portal.activate():
        proctoring.store_snapshot(attempt=attempt, data=jpeg())
        proctoring.store_snapshot(attempt=other_attempt, data=jpeg())
        archive = zipfile.ZipFile(io.BytesIO(privacy.export_user_data(user=candidate)))
        attempts = json.loads(archive.read("exam_attempts.json"))
    (exported,) = attempts
    assert exported["webcam_consent_at"]
    assert [s["bytes"] for s in exported["webcam_snapshots"]] == [len(jpeg())]

    with django_capture_on_commit_callbacks(execute=True), pro_portal.activate():
        privacy.erase_user(user=candidate, by=admin_of(pro_portal))
    with pro_portal.activate():
        assert list(ProctoringSnapshot.objects.values_list("attempt_id", flat=True)) == [
            other_attempt.pk
        ]
    count, files = stored(pro_portal)
    assert count == 1 and len(files) == 1 and f"/{other_attempt.pk}/" in str(files[0])


# -- two tenants --------------------------------------------------------------------------------


def test_another_portal_cannot_reach_a_snapshot_by_id_host_path_or_session(two_portals):
    a, b = two_portals
    go_pro(a)
    go_pro(b)
    exam = webcam_exam(a)
    candidate = make_user(a, "cand@alpha.test")
    attempt = start(a, exam, candidate)
    candidate_a = client_for(a, candidate)
    assert post_snapshot(candidate_a, attempt.pk, jpeg()).status_code == 201
    with a.activate():
        snapshot = ProctoringSnapshot.objects.get()
    name = snapshot.file.name

    proctor_a = proctor_client(a, "p@alpha.test")
    proctor_b = proctor_client(b, "p@beta.test")
    assert proctor_a.get(f"/cms/proctor/snapshot/{snapshot.pk}/").status_code == 200
    # B's proctor, on B's host: A's id is nobody's there.
    assert proctor_b.get(f"/cms/proctor/snapshot/{snapshot.pk}/").status_code == 404
    assert proctor_b.get(f"/cms/proctor/attempt/{attempt.pk}/").status_code == 404
    # B's session cookie sent to A's host is anonymous there.
    stolen = Client(HTTP_HOST=a.domain)
    stolen.cookies = proctor_b.cookies
    assert stolen.get(f"/cms/proctor/snapshot/{snapshot.pk}/").status_code == 302
    # The file path, on either host, with or without tricks: never served.
    for client in (proctor_a, proctor_b, candidate_a):
        for path in (name, f"../{a.schema}/{name}", f"%2e%2e/{a.schema}/{name}"):
            assert client.get(f"/media/{path}").status_code == 404, path
    # B's candidate cannot upload to A's attempt id on B's host.
    b_candidate = client_for(b, make_user(b, "cand@beta.test"))
    assert post_snapshot(b_candidate, attempt.pk, jpeg()).status_code == 404
    assert stored(b) == (0, [])
    assert stored(a)[0] == 1
