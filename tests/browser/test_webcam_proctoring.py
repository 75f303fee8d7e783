"""Webcam proctoring in Chromium with its fake camera: the candidate agrees, the player waits
for the camera before the first question, a snapshot reaches the server, and the proctor's
page shows it. axe finds no serious violation on the candidate's pages.

Only this file launches Chromium with the fake media flags (its own browser, not the
session's), so no other browser test gets a camera."""

from __future__ import annotations

import re
import time

import pytest
from django.db import connection
from playwright.sync_api import expect

from assessments.delivery.models import Attempt, IntegrityEvent, ProctoringSnapshot
from billing.models import Plan, Subscription
from tests.browser.test_accessibility import serious_violations
from tests.browser.test_exam_delivery import sign_in
from tests.test_delivery_views import build_exam, make_user

FAKE_CAMERA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@pytest.fixture
def camera_browser(launch_browser, browser_type_launch_args):
    browser = launch_browser(args=[*browser_type_launch_args["args"], *FAKE_CAMERA])
    yield browser
    browser.close()


def wait_for(portal, read, what: str, timeout: float = 20.0):
    """Poll ``read()`` in the portal's schema until it returns something."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with portal.activate():
            found = read()
        connection.set_schema_to_public()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"{what} never reached the server")


def test_a_webcam_exam_captures_snapshots_the_proctor_sees(
    django_db_setup, live_port, make_committed_portal, camera_browser, screenshot
):
    portal = make_committed_portal("cam-live", "Camera University")
    Subscription.objects.create(
        tenant=portal.tenant, plan=Plan.objects.get(code="pro"), status="active"
    )
    candidate = make_user(portal, "cand@cam-live.test")
    proctor = make_user(portal, "proctor@cam-live.test", role="proctor")
    exam = build_exam(portal, webcam_proctoring=True, webcam_interval_seconds=30)
    connection.set_schema_to_public()
    base = f"http://cam-live.localhost:{live_port}"

    context = camera_browser.new_context()
    page = context.new_page()
    csp: list[str] = []
    page.on(
        "console",
        lambda msg: csp.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    sign_in(page, base, candidate.email, f"/exam/{exam.pk}/")
    expect(page.get_by_role("heading", name="Webcam snapshots")).to_be_visible()
    expect(page.get_by_text("one image every 30 seconds", exact=False)).to_be_visible()
    page.get_by_role("button", name="Check my camera").click()
    expect(page.get_by_text("Your camera works.")).to_be_visible()
    assert serious_violations(page) == [], "landing"

    page.get_by_label("I agree to webcam snapshots as described above.").check()
    page.get_by_role("button", name="Start the exam").click()
    page.wait_for_url(re.compile(r"/exam/attempt/\d+/"))
    attempt_id = int(re.search(r"/attempt/(\d+)/", page.url).group(1))
    # The camera comes on, the gate goes and the first question shows.
    expect(page.locator("#item-1")).to_be_visible()
    expect(page.locator("[data-viva-camera-gate]")).to_be_hidden()
    expect(page.locator("[data-viva-camera-preview]")).to_be_visible()
    snapshot = wait_for(
        portal,
        lambda: ProctoringSnapshot.objects.filter(attempt_id=attempt_id).first(),
        "a snapshot",
    )
    assert 0 < snapshot.bytes <= 100 * 1024
    assert serious_violations(page) == [], "player"
    screenshot(page, "player")
    page.get_by_label("Paris").check()
    expect(page.locator("[data-viva-save-state]")).to_have_text("All answers saved")
    # The camera's state is an integrity event (batched by player.js).
    wait_for(
        portal,
        lambda: IntegrityEvent.objects.filter(attempt_id=attempt_id, kind="camera_on").exists(),
        "the camera_on event",
    )
    with portal.activate():
        assert Attempt.objects.get(pk=attempt_id).webcam_consent_at is not None
    connection.set_schema_to_public()
    assert csp == []

    staff = camera_browser.new_context().new_page()
    sign_in(staff, base, proctor.email, f"/cms/proctor/attempt/{attempt_id}/")
    image = staff.locator(f'[data-snapshot="{snapshot.pk}"] img')
    expect(image).to_be_visible()
    served = staff.evaluate(
        "async url => { const r = await fetch(url);"
        " return [r.status, r.headers.get('content-type')]; }",
        image.get_attribute("src"),
    )
    assert served == [200, "image/jpeg"]
    staff.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=10000
    )
    screenshot(staff, "proctor")
    # The image's own URL is the permission-checked view, not /media/.
    assert "/media/" not in image.get_attribute("src")
    context.close()
