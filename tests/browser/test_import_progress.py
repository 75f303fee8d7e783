"""An author uploads a question file large enough for the background path, watches the
progress bar reach the preview, leaves, comes back to it and imports it."""

from __future__ import annotations

from django_tenants.utils import schema_context
from playwright.sync_api import expect

from assessments.interchange import jobs, tasks


def big_csv(count: int) -> bytes:
    lines = ["type,title,stem,category,option_1,option_2,correct"]
    lines += [
        f"single_choice,Browser question {n:04},<p>Question {n}?</p>,Browser/Bulk,Yes,No,1"
        for n in range(1, count + 1)
    ]
    return ("\n".join(lines) + "\n").encode()


def test_a_background_import_shows_progress_and_can_be_left_and_reopened(
    django_db_setup, page, live_port, make_committed_portal, settings, monkeypatch, screenshot
):
    settings.VIVA_IMPORT_INLINE_MAX_BYTES = 2048
    portal = make_committed_portal("bimport", "Import Browser University")
    # Hold the tasks back as a busy worker would; the test then runs them itself.
    sent: list[tuple[str, int, str]] = []
    monkeypatch.setattr(
        jobs, "_send", lambda step, job_id, schema: sent.append((step, job_id, schema))
    )
    csp_violations: list[str] = []
    page.on(
        "console",
        lambda msg: (
            csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None
        ),
    )
    host = f"http://bimport.localhost:{live_port}"

    page.goto(f"{host}/cms/")
    page.get_by_label("Email").fill(portal.admin_email)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign In", exact=True).click()
    expect(page.get_by_role("heading", name="Site summary")).to_be_visible()

    page.goto(f"{host}/cms/questions/import/")
    data = big_csv(300)
    assert len(data) > 2048
    page.get_by_label("Question file", exact=True).set_input_files(
        {"name": "big-bank.csv", "mimeType": "text/csv", "buffer": data}
    )
    page.get_by_role("button", name="Upload and check").click()

    progress = page.get_by_role("progressbar")
    expect(progress).to_be_visible()
    expect(progress).to_have_attribute("aria-valuenow", "0")
    expect(page.get_by_text("Waiting to start…")).to_be_visible()
    assert [(step, schema) for step, _, schema in sent] == [("preview", "bimport")]
    job_id = sent[0][1]
    screenshot(page, "queued")

    # The worker starts and reports progress: the page follows without a reload.
    with schema_context("bimport"):
        from assessments.models import ImportJob

        ImportJob.objects.filter(pk=job_id).update(
            status="previewing", progress_done=100, progress_total=300
        )
    expect(progress).to_have_attribute("aria-valuenow", "100")
    expect(progress).to_have_attribute("aria-valuemax", "300")
    expect(page.get_by_text("100 of 300 questions")).to_be_visible()
    expect(page.get_by_text("Reading the file", exact=True)).to_be_visible()
    screenshot(page, "progress")

    # Leave the page while the work goes on.
    page.goto(f"{host}/cms/")
    with schema_context("bimport"):
        ImportJob.objects.filter(pk=job_id).update(status="queued", progress_done=0)
        assert tasks.preview_import_job(job_id, "bimport") == "ready"

    # Come back from the list of imports: the preview is there.
    page.goto(f"{host}/cms/questions/import/")
    page.get_by_role("link", name="big-bank.csv").click()
    expect(page.get_by_text("300 questions read: 300 single_choice.")).to_be_visible()
    expect(page.get_by_role("cell", name="Browser question 0200")).to_be_visible()
    screenshot(page, "preview")

    # Importing runs in the background too; the page polls until it is done.
    page.get_by_role("button", name="Import 300 questions").click()
    expect(page.get_by_text("Importing questions")).to_be_visible()
    assert [step for step, _, _ in sent] == ["preview", "commit"]
    with schema_context("bimport"):
        assert tasks.commit_import_job(job_id, "bimport") == "done"
    expect(page.get_by_text("Imported 300 questions")).to_be_visible(timeout=15_000)
    with schema_context("bimport"):
        from assessments.models import Question

        assert Question.objects.filter(title__startswith="Browser question").count() == 300
    screenshot(page, "done")
    assert csp_violations == []
