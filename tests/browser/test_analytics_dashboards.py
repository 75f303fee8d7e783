"""A teacher reads the results dashboards and a student their own results, in Chromium: the
charts carry their data tables, drill-downs work, and axe-core finds no serious violations
(with the strict CSP never broken)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from assessments.analytics.demo import PRACTICE_TITLE, seed_demo_results
from assessments.demo_bank import EXAM_TITLE, seed_question_bank
from tests.browser.test_accessibility import settled_violations
from tests.conftest import PASSWORD, make_member


def _sign_in(page, base: str, email: str, next_path: str) -> None:
    page.goto(f"{base}/accounts/login/?next={next_path}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()


def _watch_csp(page) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return violations


def test_teacher_dashboards_and_student_results_are_usable_and_accessible(
    page, browser, live_port, make_committed_portal, screenshot
):
    portal = make_committed_portal("banalytics", "Analytics University")
    make_member(portal, "student@uni.test", role="candidate")
    with portal.activate():
        admin = get_user_model().objects.get(email=portal.admin_email)
        seed_question_bank(author=admin)
        assert seed_demo_results(author=admin, candidates=30)
    base = f"http://banalytics.localhost:{live_port}"

    csp = _watch_csp(page)
    _sign_in(page, base, portal.admin_email, "/cms/analytics/")
    expect(page.get_by_role("link", name=EXAM_TITLE).first).to_be_visible()
    assert settled_violations(page) == [], "analytics index"

    page.get_by_role("link", name=EXAM_TITLE).first.click()
    expect(page.get_by_role("heading", name="Score distribution")).to_be_visible()
    expect(page.get_by_role("heading", name="Cohort comparison")).to_be_visible()
    # Every chart has its numbers as a table for people who cannot see the picture.
    page.get_by_text("data table").first.click()
    expect(page.locator("figure.analytics-chart table").first).to_be_visible()
    expect(page.get_by_role("link", name="Report").first).to_be_visible()  # a candidate's PDF
    assert settled_violations(page) == [], "exam dashboard"
    screenshot(page, "exam-dashboard")

    # Drill down to one item: its statistics and the options candidates chose.
    page.locator("h2:text('Items') ~ table a").first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert "/item/" in page.url
    assert settled_violations(page) == [], "item detail"

    student = browser.new_context().new_page()
    student_csp = _watch_csp(student)
    _sign_in(student, base, "student@uni.test", "/results/")
    expect(student.get_by_role("heading", name="Your results")).to_be_visible()
    expect(student.get_by_role("heading", name="Progress over time")).to_be_visible()
    expect(student.get_by_text(PRACTICE_TITLE).first).to_be_visible()
    assert settled_violations(student) == [], "candidate results"
    screenshot(student, "candidate-results")
    student.context.close()

    assert csp == [] and student_csp == []
