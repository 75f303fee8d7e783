"""A candidate takes exams in Chromium: the whole flow, offline answers, reload, two tabs, the
server closing the attempt, a forged clock, keyboard-only answering and axe-core checks."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from assessments.delivery import services as delivery
from assessments.delivery.models import Attempt, Response
from tests.browser.test_accessibility import serious_violations
from tests.conftest import PASSWORD
from tests.test_delivery_views import build_exam, make_user


@pytest.fixture
def exam_portal(django_db_setup, live_port, make_committed_portal):
    """A committed portal with a candidate and a published exam: (portal, base URL,
    candidate, exam). Asks for the test database first so this file also runs alone."""

    def make(slug: str, **settings):
        portal = make_committed_portal(slug, "Delivery University")
        candidate = make_user(portal, f"cand@{slug}.test")
        exam = build_exam(portal, **settings)
        connection.set_schema_to_public()
        return portal, f"http://{slug}.localhost:{live_port}", candidate, exam

    return make


def sign_in(page, base: str, email: str, next_path: str = "/") -> None:
    page.goto(f"{base}/accounts/login/?next={next_path}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()
    page.wait_for_url(re.compile(re.escape(base + next_path.split("?")[0])))


def start_exam(page, base: str, exam) -> int:
    page.goto(f"{base}/exam/{exam.pk}/")
    page.get_by_role("button", name=re.compile("Start the exam|Resume attempt")).click()
    page.wait_for_url(re.compile(r"/exam/attempt/\d+/"))
    return int(re.search(r"/exam/attempt/(\d+)/", page.url).group(1))


def save_state(page):
    return page.locator("[data-viva-save-state]")


def responses(portal, attempt_id: int) -> dict[int, object]:
    with portal.activate():
        return dict(Response.objects.filter(attempt_id=attempt_id).values_list("position", "value"))


def go_to(page, position: int) -> None:
    page.locator(f'.palette [data-goto="{position}"]').click()
    expect(page.locator(f"#item-{position}")).to_be_visible()


def test_take_a_whole_exam_by_keyboard_and_see_results(page, exam_portal, screenshot):
    portal, base, candidate, exam = exam_portal("dlv-whole", time_limit_minutes=30)
    csp: list[str] = []
    page.on(
        "console",
        lambda msg: csp.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    sign_in(page, base, candidate.email, "/exams/")
    page.get_by_role("link", name="Mid-term", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mid-term")
    expect(page.get_by_text("30 minutes.")).to_be_visible()
    assert serious_violations(page) == [], "landing"

    page.get_by_role("button", name="Start the exam").click()
    page.wait_for_url(re.compile(r"/exam/attempt/\d+/"))
    attempt_id = int(re.search(r"/attempt/(\d+)/", page.url).group(1))
    expect(page.locator("#item-1")).to_be_visible()
    expect(page.locator("#item-2")).to_be_hidden()
    expect(page.locator("[data-viva-clock]")).to_have_text(re.compile(r"^(29:\d\d|30:00)$"))
    assert serious_violations(page) == [], "player"

    # Keyboard only: into question 1, choose the first option, on to question 2.
    page.locator(".palette [data-goto='1']").focus()
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "vq1-o1":
            break
    assert page.evaluate("document.activeElement.id") == "vq1-o1"
    page.keyboard.press("Space")
    expect(page.locator("#vq1-o1")).to_be_checked()
    page.keyboard.press("Tab")  # to the flag box
    page.keyboard.press("Tab")  # to "Next"
    assert page.evaluate("document.activeElement.textContent").strip() == "Next question"
    page.keyboard.press("Enter")
    expect(page.locator("#item-2")).to_be_visible()
    expect(page.locator("#item-2")).to_be_focused()
    expect(save_state(page)).to_have_text("All answers saved")

    page.get_by_label("True").check()
    go_to(page, 3)
    page.get_by_label("Your answer", exact=True).fill("cerulean")
    page.get_by_label("Flag question 3 for review").check()
    go_to(page, 4)
    page.get_by_label("Your answer (a number)").fill("9.81")
    page.get_by_label("Your answer (a number)").press("Tab")
    expect(save_state(page)).to_have_text("All answers saved")
    expect(page.locator('.palette [data-goto="3"]')).to_have_class(re.compile("is-flagged"))
    screenshot(page, "player")

    page.get_by_role("link", name="Review and submit").last.click()
    page.wait_for_url(re.compile(r"/summary/$"))
    expect(page.get_by_text("You have answered every question.")).to_be_visible()
    expect(page.get_by_role("heading", name="Flagged for review (1)")).to_be_visible()
    assert serious_violations(page) == [], "summary"
    page.get_by_label("I have finished and want to submit my answers").check()
    page.get_by_role("button", name="Submit my answers").click()
    page.wait_for_url(re.compile(r"/results/$"))
    expect(page.get_by_text("Score: 4.00 of 4.00 (100.00%)")).to_be_visible()
    expect(page.locator(".results__verdict")).to_have_text("Passed")
    assert serious_violations(page) == [], "results"
    screenshot(page, "results")
    with portal.activate():
        attempt = Attempt.objects.get(pk=attempt_id)
        assert (attempt.status, attempt.closed_by, str(attempt.score)) == (
            "submitted",
            "candidate",
            "4.00",
        )
    assert csp == []


def test_answers_given_offline_reach_the_server_when_back_online(page, exam_portal):
    portal, base, candidate, exam = exam_portal("dlv-offline", time_limit_minutes=30)
    sign_in(page, base, candidate.email)
    attempt_id = start_exam(page, base, exam)
    expect(save_state(page)).to_have_text("All answers saved")

    page.context.set_offline(True)
    page.locator("#vq1-o1").check()
    go_to(page, 2)
    page.get_by_label("False").check()
    go_to(page, 3)
    page.get_by_label("Your answer", exact=True).fill("cerulean")
    page.get_by_label("Your answer", exact=True).press("Tab")
    expect(save_state(page)).to_have_text("Offline — 3 answers waiting")
    assert responses(portal, attempt_id) == {}

    page.context.set_offline(False)
    expect(save_state(page)).to_have_text("All answers saved", timeout=15000)
    assert responses(portal, attempt_id) == {1: "a", 2: False, 3: "cerulean"}
    assert page.evaluate(f"localStorage.getItem('viva-attempt:{attempt_id}')") is None


def test_reload_and_crash_keep_answers(page, exam_portal):
    portal, base, candidate, exam = exam_portal("dlv-reload", time_limit_minutes=30)
    sign_in(page, base, candidate.email)
    attempt_id = start_exam(page, base, exam)
    page.locator("#vq1-o2").check()
    go_to(page, 3)
    page.get_by_label("Your answer", exact=True).fill("azure")
    expect(save_state(page)).to_have_text("All answers saved")

    # The server cannot be reached for the next answer; then the page is reloaded.
    page.route("**/exam/autosave/", lambda route: route.abort())
    go_to(page, 4)
    page.get_by_label("Your answer (a number)").fill("3.5")
    page.get_by_label("Your answer (a number)").press("Tab")
    expect(save_state(page)).to_have_text("Offline — 1 answer waiting")
    page.unroute("**/exam/autosave/")
    page.reload()

    expect(page.locator("#item-4")).to_be_visible()  # the question shown before the reload
    expect(page.get_by_label("Your answer (a number)")).to_have_value("3.5")
    expect(save_state(page)).to_have_text("All answers saved")
    go_to(page, 1)
    expect(page.locator("#vq1-o2")).to_be_checked()
    go_to(page, 3)
    expect(page.get_by_label("Your answer", exact=True)).to_have_value("azure")
    expect(page.locator('.palette [data-goto="1"]')).to_have_class(re.compile("is-answered"))
    expect(page.locator('.palette [data-goto="2"]')).not_to_have_class(re.compile("is-answered"))
    assert responses(portal, attempt_id) == {1: "b", 3: "azure", 4: "3.5"}


def test_a_stale_tab_cannot_overwrite_the_newer_answer(page, exam_portal):
    portal, base, candidate, exam = exam_portal("dlv-tabs", time_limit_minutes=30)
    sign_in(page, base, candidate.email)
    attempt_id = start_exam(page, base, exam)
    stale = page
    newer = page.context.new_page()
    newer.goto(f"{base}/exam/attempt/{attempt_id}/#item-3")

    newer.get_by_label("Your answer", exact=True).fill("cerulean")
    newer.get_by_label("Your answer", exact=True).press("Tab")
    expect(save_state(newer)).to_have_text("All answers saved")

    go_to(stale, 3)
    stale.get_by_label("Your answer", exact=True).fill("azure")
    stale.get_by_label("Your answer", exact=True).press("Tab")
    note = "This answer was changed in another tab; the newer answer is shown."
    expect(stale.locator('[data-note-position="3"]')).to_have_text(note)
    expect(stale.get_by_label("Your answer", exact=True)).to_have_value("cerulean")
    expect(stale.locator("[data-viva-alert]")).to_contain_text(note)
    assert responses(portal, attempt_id) == {3: "cerulean"}

    # Having seen the newer answer, a change made in this tab now counts.
    stale.get_by_label("Your answer", exact=True).fill("sky blue")
    stale.get_by_label("Your answer", exact=True).press("Tab")
    expect(save_state(stale)).to_have_text("All answers saved")
    assert responses(portal, attempt_id) == {3: "sky blue"}


def test_the_server_closes_the_attempt_at_the_deadline_and_refuses_later_answers(page, exam_portal):
    portal, base, candidate, exam = exam_portal(
        "dlv-deadline", time_limit_minutes=30, grace_seconds=0
    )
    sign_in(page, base, candidate.email)
    attempt_id = start_exam(page, base, exam)
    page.locator("#vq1-o1").check()
    expect(save_state(page)).to_have_text("All answers saved")
    assert responses(portal, attempt_id) == {1: "a"}

    # The deadline moves a few seconds ahead behind the page's back; the sweeper closes it.
    with portal.activate():
        Attempt.objects.filter(pk=attempt_id).update(deadline=timezone.now() + timedelta(seconds=2))
    time.sleep(2.5)
    with portal.activate():
        assert delivery.close_overdue_attempts() == {"submitted": 1, "abandoned": 0}

    go_to(page, 2)
    page.get_by_label("True").check()
    message = "This attempt has been submitted; answers are not saved."
    expect(save_state(page)).to_have_text(message)
    expect(page.locator("[data-viva-alert]")).to_contain_text(message)
    expect(page.get_by_label("False")).to_be_disabled()  # no further answers here
    page.wait_for_url(re.compile(r"/results/$"), timeout=10000)
    expect(page.get_by_text("Time ran out: the server closed and submitted")).to_be_visible()
    assert responses(portal, attempt_id) == {1: "a", 2: None, 3: None, 4: None}
    with portal.activate():
        assert Attempt.objects.get(pk=attempt_id).closed_by == "deadline"


FORGED_CLOCK = """
(() => {
  const RealDate = Date;
  const shift = 2 * 60 * 60 * 1000;
  class ForgedDate extends RealDate {
    constructor(...args) {
      if (args.length) { super(...args); } else { super(RealDate.now() + shift); }
    }
    static now() { return RealDate.now() + shift; }
  }
  window.Date = ForgedDate;
})();
"""


def test_a_forged_client_clock_changes_nothing(page, exam_portal):
    portal, base, candidate, exam = exam_portal("dlv-clock", time_limit_minutes=30)
    page.add_init_script(FORGED_CLOCK)
    sign_in(page, base, candidate.email)
    assert page.evaluate("Date.now() - performance.timeOrigin - performance.now()") > 7_000_000
    attempt_id = start_exam(page, base, exam)

    clock = page.locator("[data-viva-clock]")
    expect(clock).to_have_text(re.compile(r"^(29:\d\d|30:00)$"))
    page.locator("#vq1-o1").check()
    expect(save_state(page)).to_have_text("All answers saved")
    time.sleep(1.5)
    expect(clock).to_have_text(re.compile(r"^29:\d\d$"))
    assert "/exam/attempt/" in page.url and not page.url.endswith("/results/")
    assert responses(portal, attempt_id) == {1: "a"}
    # At 200% zoom (half the CSS width) the player reflows without sideways scrolling.
    page.set_viewport_size({"width": 640, "height": 720})
    assert page.evaluate("document.documentElement.scrollWidth") <= 640
    with portal.activate():
        assert Attempt.objects.get(pk=attempt_id).status == "in_progress"
