"""A candidate practises an interview in Chromium with the offline provider (the default, no
network): types answers, reads the feedback, answers a follow-up, sees the scorecard and
their progress; axe-core finds no serious violations and the strict CSP is never broken."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from playwright.sync_api import expect

from assessments.interviews.demo import seed_templates
from assessments.interviews.models import InterviewSession
from tests.browser.test_accessibility import serious_violations
from tests.conftest import PASSWORD, make_member

ANSWER_WITHOUT_RESULT = (
    "Last year at my previous job our payment service kept timing out during the evening "
    "peak. I was responsible for finding the cause before the holiday sales. I analysed the "
    "logs with a colleague, wrote a load test in Python and found a database query that "
    "locked a whole table. I rewrote the query and added an index."
)
FULL_ANSWER = (
    "At my previous company two senior developers disagreed about moving to a message "
    "queue. My task was to help the team decide before the planning meeting. I organised a "
    "one-hour session where each of them presented a design, and I built a small prototype "
    "of both. As a result we chose the simpler design, shipped it two weeks early and cut "
    "failed orders by 30 percent."
)


@pytest.fixture
def practice_portal(django_db_setup, live_port, make_committed_portal):
    portal = make_committed_portal("ivp", "Interview University")
    student = make_member(portal, "student@ivp.test", role="candidate")
    with portal.activate():
        seed_templates()
    connection.set_schema_to_public()
    return portal, f"http://ivp.localhost:{live_port}", student


def sign_in(page, base: str, email: str, next_path: str) -> None:
    page.goto(f"{base}/accounts/login/?next={next_path}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()
    page.wait_for_url(re.compile(re.escape(base + next_path)))


def test_a_full_practice_session_with_feedback_and_scorecard(page, practice_portal, screenshot):
    portal, base, student = practice_portal
    csp: list[str] = []
    page.on(
        "console",
        lambda msg: csp.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    sign_in(page, base, student.email, "/interview/")
    # viva_base.html lists flash messages in <ul role="status">, which axe reports as an
    # orphaned list item; the sign-in message is shown once, so read the page again.
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Interview practice")
    expect(page.get_by_text("Complete a practice session to see your scores here.")).to_be_visible()
    assert serious_violations(page) == [], "index"

    page.get_by_role("button", name="Practise Software engineer").click()
    page.wait_for_url(re.compile(r"/interview/session/\d+/$"))
    expect(page.get_by_role("heading", level=2)).to_have_text(
        "Tell me about a difficult bug you tracked down."
    )
    expect(page.get_by_text("Question 1 of 5")).to_be_visible()
    assert serious_violations(page) == [], "question"

    answer = page.get_by_label("Your answer")
    answer.fill(ANSWER_WITHOUT_RESULT)
    expect(page.locator("[data-word-count]")).to_have_text(
        f"{len(ANSWER_WITHOUT_RESULT.split())} words"
    )
    page.get_by_role("button", name="Submit answer").click()
    page.wait_for_url(re.compile(r"/interview/session/\d+/$"))

    feedback = page.locator(".feedback")
    expect(page.get_by_role("heading", name="Feedback")).to_be_visible()
    expect(feedback.get_by_text("Situation: present")).to_be_visible()
    expect(feedback.get_by_text("Action: present")).to_be_visible()
    expect(feedback.get_by_text("Result: missing")).to_be_visible()
    expect(feedback.get_by_text(re.compile(r"^Specificity$"))).to_be_visible()
    expect(
        feedback.get_by_text(re.compile(r"^\d+ words \(about \d+ seconds spoken\)$"))
    ).to_be_visible()
    expect(feedback.get_by_text(re.compile("^Suggestion:"))).to_be_visible()
    follow_up = page.locator(".follow-up")
    expect(follow_up).to_contain_text("outcome")  # the offline follow-up asks for the result
    screenshot(page, "feedback")
    assert serious_violations(page) == [], "feedback"

    page.get_by_role("button", name="Answer the follow-up").click()
    expect(page.get_by_text(re.compile(r"— follow-up"))).to_be_visible()
    page.get_by_label("Your answer").fill(
        "In the end the timeouts stopped: errors fell by 90 percent and the holiday sales "
        "ran without an incident."
    )
    page.get_by_role("button", name="Submit answer").click()
    expect(page.locator(".feedback").get_by_text("Result: present")).to_be_visible()
    expect(page.get_by_role("button", name="Answer the follow-up")).to_have_count(0)

    page.get_by_role("button", name="Next question").click()
    expect(page.get_by_text("Question 2 of 5")).to_be_visible()
    page.get_by_label("Your answer").fill(FULL_ANSWER)
    page.get_by_role("button", name="Submit answer").click()
    for part in ("Situation", "Task", "Action", "Result"):
        expect(page.locator(".feedback").get_by_text(f"{part}: present")).to_be_visible()

    page.get_by_role("button", name="Finish and see the scorecard").click()
    page.wait_for_url(re.compile(r"/scorecard/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Scorecard: Software engineer")
    table = page.get_by_role("table")
    expect(table.get_by_role("rowheader", name="Problem solving")).to_be_visible()
    expect(table.get_by_role("rowheader", name="Teamwork")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Overall score: \d+(\.\d)? / 100"))).to_be_visible()
    screenshot(page, "scorecard")
    assert serious_violations(page) == [], "scorecard"

    page.get_by_role("link", name="Back to interview practice").click()
    expect(page.get_by_text("Completed sessions")).to_be_visible()
    assert serious_violations(page) == [], "progress"
    assert csp == []

    with portal.activate():
        session = InterviewSession.objects.get(user=student)
        turns = list(session.turns.order_by("position"))
        assert session.status == "completed" and session.score is not None
        assert [t.follow_up_of_id for t in turns] == [None, turns[0].pk, None]
        assert all(t.submitted_at and t.duration_seconds is not None for t in turns)
        assert {t.ai_usage["provider"] for t in turns} == {"offline"}
    connection.set_schema_to_public()


FAKE_SPEECH = """
(() => {
  class FakeRecognition extends EventTarget {
    start() {
      this.timer = setTimeout(() => {
        const alternative = {transcript: window.__spoken};
        const result = Object.assign([alternative], {isFinal: true});
        const event = new Event("result");
        event.results = [result];
        this.dispatchEvent(event);
      }, 50);
    }
    stop() {
      setTimeout(() => this.dispatchEvent(new Event("end")), 10);
    }
  }
  window.SpeechRecognition = FakeRecognition;
})();
"""


def test_speaking_an_answer_fills_an_editable_transcript_and_measures_pace(page, practice_portal):
    """Chromium's own recognition needs a network service, so the browser API is replaced
    by a stand-in that "hears" a fixed sentence; everything else is the real page."""
    portal, base, student = practice_portal
    page.add_init_script(FAKE_SPEECH)
    sign_in(page, base, student.email, "/interview/")
    page.get_by_role("button", name="Practise Staff nurse").click()
    page.wait_for_url(re.compile(r"/interview/session/\d+/$"))
    page.evaluate(f"window.__spoken = {json.dumps(ANSWER_WITHOUT_RESULT)}")
    speak = page.get_by_role("button", name="Speak your answer")
    speak.click()
    expect(page.get_by_role("button", name="Stop speaking")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.get_by_text("Listening… speak now.")).to_be_visible()
    expect(page.get_by_label("Your answer")).to_have_value(ANSWER_WITHOUT_RESULT)
    page.wait_for_timeout(1200)
    page.get_by_role("button", name="Stop speaking").click()
    expect(page.get_by_text("Stopped. Edit the transcript if needed, then submit.")).to_be_visible()
    # The transcript stays editable: the candidate corrects a word before submitting.
    answer = page.get_by_label("Your answer")
    answer.fill(ANSWER_WITHOUT_RESULT.replace("payment service", "patient records system"))
    page.get_by_role("button", name="Submit answer").click()
    expect(
        page.locator(".feedback").get_by_text(re.compile(r"^\d+(\.\d)? words a minute$"))
    ).to_be_visible()
    with portal.activate():
        turn = InterviewSession.objects.get(user=student).turns.get()
        assert turn.input_mode == "spoken"
        assert "patient records system" in turn.transcript
        assert 1.0 <= turn.speaking_seconds < 10
        words = len(turn.transcript.split())
        assert turn.feedback["words_per_minute"] == pytest.approx(
            words / (turn.speaking_seconds / 60), rel=0.05
        )
    connection.set_schema_to_public()
