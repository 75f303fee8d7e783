"""Importing and exporting question files in the portal's Wagtail admin (/cms/questions/):
inline previews, background jobs with progress, all-or-nothing commits, clear refusals,
templates that import cleanly, exports in every format, and two-tenant isolation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from assessments import services as bank
from assessments.interchange import jobs
from assessments.interchange.services import preview_import
from assessments.models import Category, ImportJob, Question, QuestionVersion
from tenants.access.permissions import assign_role
from tenants.storage import tenant_media_root

pytestmark = pytest.mark.django_db
User = get_user_model()
IMPORT = "/cms/questions/import/"


def person(portal, email: str, role: str | None = None):
    with portal.activate():
        user = User.objects.create_user(email=email)
        if role:
            assign_role(user=user, role=role)
    return user


def client_as(portal, user) -> Client:
    client = Client(HTTP_HOST=portal.domain)
    with portal.activate():
        client.force_login(user)
    return client


def csv_file(count: int, *, bad_line: int | None = None, extra_column: bool = False) -> bytes:
    """``count`` single-choice questions; the question on ``bad_line`` (a file line number)
    points its answer at an option that does not exist."""
    header = "type,title,stem,category,tags,option_1,option_2,correct"
    if extra_column:
        header += ",colour"
    lines = [header]
    for n in range(1, count + 1):
        line_number = n + 1
        correct = "5" if line_number == bad_line else "1"
        row = (
            f"single_choice,Imported {n:05},<p>Question {n}?</p>,Bulk/Part {n % 3},bulk,"
            f"Yes,No,{correct}"
        )
        if extra_column:
            row += ",red"
        lines.append(row)
    return ("\n".join(lines) + "\n").encode()


def upload(client: Client, name: str, data: bytes, format: str = ""):  # noqa: A002
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, data), "format": format})


def counts(portal) -> tuple[int, int, int, int]:
    with portal.activate():
        return (
            Question.objects.count(),
            QuestionVersion.objects.count(),
            Category.objects.count(),
            ImportJob.objects.count(),
        )


def stored_uploads(portal) -> list[Path]:
    folder = tenant_media_root(portal.schema) / "imports"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture(autouse=True)
def _no_uploads_from_earlier_tests():
    """Files are not rolled back with the test's transaction: start each test without any."""
    import shutil

    for folder in Path(django_settings.MEDIA_ROOT).glob("*/imports"):
        shutil.rmtree(folder, ignore_errors=True)


def text(response) -> str:
    return " ".join(response.content.decode().split())


def test_a_small_file_is_previewed_at_once_and_imported_on_confirmation(make_portal):
    portal = make_portal("alpha")
    author = person(portal, "author@alpha.test", "author")
    client = client_as(portal, author)

    response = upload(client, "three.csv", csv_file(3, extra_column=True))
    assert response.status_code == 302
    with portal.activate():
        job = ImportJob.objects.get()
    assert response["Location"] == f"{IMPORT}{job.pk}/"
    assert (job.status, job.format, job.background, job.author) == ("ready", "csv", False, author)
    assert (job.progress_done, job.progress_total) == (3, 3)
    assert counts(portal)[:3] == (0, 0, 0)  # nothing stored before the author confirms
    assert len(stored_uploads(portal)) == 1

    page = text(client.get(f"{IMPORT}{job.pk}/"))
    assert "3 questions read: 3 single_choice." in page and "No errors." in page
    assert "<td>line 2</td> <td>single_choice</td> <td>Imported 00001</td>" in page
    assert "<strong>line 1</strong>: column &#x27;colour&#x27; is not a known column; ignored" in (
        page
    )
    assert "Import 3 questions" in page

    committed = client.post(f"{IMPORT}{job.pk}/commit/", follow=True)
    assert "Imported 3 question(s) as drafts." in text(committed)
    with portal.activate():
        job.refresh_from_db()
        assert (job.status, job.created_count, job.file.name) == ("done", 3, "")
        assert sorted(Question.objects.values_list("title", "status", "created_by")) == [
            (f"Imported {n:05}", "draft", author.pk) for n in (1, 2, 3)
        ]
    assert stored_uploads(portal) == []  # the upload is deleted once imported
    again = client.post(f"{IMPORT}{job.pk}/commit/", follow=True)
    assert "only a ready preview can be imported" in text(again)
    assert counts(portal)[0] == 3
    listing = text(client.get(IMPORT))
    assert "three.csv" in listing and "3 imported" in listing


@pytest.mark.parametrize(
    ("name", "data", "chosen", "message"),
    [
        ("bank.xlsx", b"this is not a workbook", "", "The file is not an XLSX workbook"),
        (
            "bank.xlsx",
            b"PK\x03\x04broken",
            "",
            "The XLSX file is damaged or truncated",
        ),
        ("bank.docx", b"anything", "", "cannot be told from its name; choose the format"),
        ("bank.json", b"{not json", "", "bank.json:"),
        ("bank.csv", b"title,stem\nx,y\n", "", "has no column &#x27;type&#x27;"),
        ("notes.bin", b"%PDF-1.4 garbage", "pdf", "could not read the PDF"),
        ("empty.csv", b"", "", "The submitted file is empty."),
    ],
)
def test_an_unreadable_file_is_refused_with_a_clear_error_and_nothing_is_stored(
    make_portal, name, data, chosen, message
):
    portal = make_portal("alpha")
    client = portal.login_admin()
    response = upload(client, name, data, chosen)
    assert response.status_code == 400
    page = text(response)
    assert message in page
    assert name == "empty.csv" or "Nothing was stored." in page
    assert counts(portal) == (0, 0, 0, 0)
    assert stored_uploads(portal) == []


def test_a_large_file_is_previewed_in_the_background_with_progress_then_committed(
    make_portal, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.VIVA_IMPORT_INLINE_MAX_BYTES = 1000
    portal = make_portal("alpha")
    author = person(portal, "author@alpha.test", "author")
    client = client_as(portal, author)
    seen: list[tuple] = []
    real_reporter = jobs._reporter

    def spying_reporter(job):
        report = real_reporter(job)

        def spy(done: int, total: int) -> None:
            report(done, total)
            seen.append(
                ImportJob.objects.values_list("status", "progress_done", "progress_total").get()
            )

        return spy

    monkeypatch.setattr(jobs, "_reporter", spying_reporter)

    data = csv_file(120)
    assert len(data) > 1000
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = upload(client, "big.csv", data)
    assert response.status_code == 302 and len(callbacks) == 1
    with portal.activate():
        job = ImportJob.objects.get()
        assert (job.status, job.background, job.progress_done, job.progress_total) == (
            "ready",
            True,
            120,
            120,
        )
        assert job.preview["total"] == 120 and job.preview["errors"] == []
    assert seen == [
        ("previewing", 0, 120),
        ("previewing", 50, 120),
        ("previewing", 100, 120),
        ("previewing", 120, 120),
    ]
    status = client.get(f"{IMPORT}{job.pk}/status/")
    assert "no-store" in status["Cache-Control"]
    assert status.json() == {
        "id": job.pk,
        "status": "ready",
        "label": "Preview ready",
        "running": False,
        "done": 120,
        "total": 120,
        "message": "",
        "created": 0,
    }
    assert counts(portal)[0] == 0

    seen.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        committed = client.post(f"{IMPORT}{job.pk}/commit/")
    assert committed.status_code == 302 and len(callbacks) == 1
    assert seen == [("committing", 0, 120), ("committing", 120, 120)]
    with portal.activate():
        job.refresh_from_db()
        assert (job.status, job.created_count) == ("done", 120)
        assert Question.objects.count() == 120
        assert sorted(Category.objects.values_list("name", flat=True)) == [
            "Bulk",
            "Part 0",
            "Part 1",
            "Part 2",
        ]
    assert stored_uploads(portal) == []


def test_the_job_page_shows_a_progress_bar_while_the_background_work_runs(make_portal, settings):
    settings.VIVA_IMPORT_INLINE_MAX_BYTES = 100
    portal = make_portal("alpha")
    client = portal.login_admin()
    response = upload(client, "big.csv", csv_file(10))  # on_commit not run: stays queued
    with portal.activate():
        job = ImportJob.objects.get()
    assert job.status == "queued"
    page = text(client.get(response["Location"]))
    assert '<progress id="import-progress" data-import-progress' in page
    assert 'max="1" value="0" aria-valuemin="0" aria-valuemax="1"' in page
    assert 'aria-valuenow="0"' in page and "Waiting to start…" in page
    assert f'data-status-url="{IMPORT}{job.pk}/status/"' in page
    assert "/static/assessments/admin/import-progress.js" in page
    assert "Import 10" not in page  # no commit button before the preview is ready
    refused = client.post(f"{IMPORT}{job.pk}/commit/", follow=True)
    assert "This import is queued; only a ready preview can be imported." in text(refused)
    with portal.activate():
        jobs.run_preview(job_id=job.pk)
    assert client.get(f"{IMPORT}{job.pk}/status/").json()["status"] == "ready"


def test_a_file_with_one_bad_question_imports_nothing(
    make_portal, settings, django_capture_on_commit_callbacks
):
    settings.VIVA_IMPORT_INLINE_MAX_BYTES = 1000
    portal = make_portal("alpha")
    client = portal.login_admin()
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, "big.csv", csv_file(80, bad_line=42))
    with portal.activate():
        job = ImportJob.objects.get()
    assert job.status == "ready" and job.preview["total"] == 79
    page = text(client.get(response["Location"]))
    assert "1 error: fix it in the file and upload it again" in page
    assert "<strong>line 42</strong>: column &#x27;correct&#x27; refers to option 5" in page
    assert "Import 79" not in page
    with django_capture_on_commit_callbacks(execute=True):
        refused = client.post(f"{IMPORT}{job.pk}/commit/", follow=True)
    assert "The file has 1 error(s); nothing was imported." in text(refused)
    assert counts(portal)[:3] == (0, 0, 0)
    with portal.activate():
        job.refresh_from_db()
        assert job.status == "ready"


def test_a_background_job_that_fails_says_why_and_stores_nothing(
    make_portal, settings, django_capture_on_commit_callbacks
):
    settings.VIVA_IMPORT_INLINE_MAX_BYTES = 10
    portal = make_portal("alpha")
    client = portal.login_admin()
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, "bank.xlsx", b"not a workbook at all, just text")
    with portal.activate():
        job = ImportJob.objects.get()
    assert (job.status, job.file.name) == ("failed", "")
    assert job.message.startswith("The file is not an XLSX workbook")
    page = text(client.get(response["Location"]))
    assert "This import failed." in page and "The file is not an XLSX workbook" in page
    assert "Nothing was stored." in page
    assert counts(portal)[:3] == (0, 0, 0) and stored_uploads(portal) == []

    # A ready job whose stored file has gone fails on commit, and imports nothing.
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, "ok.csv", csv_file(5))
    with portal.activate():
        ready = ImportJob.objects.get(filename="ok.csv")
        ready.file.storage.delete(ready.file.name)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{IMPORT}{ready.pk}/commit/")
    with portal.activate():
        ready.refresh_from_db()
        assert ready.status == "failed"
        assert ready.message == (
            "The uploaded file is no longer stored; upload it again. Nothing was imported."
        )
    assert counts(portal)[:3] == (0, 0, 0)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_downloaded_template_imports_cleanly(make_portal, kind):
    portal = make_portal("alpha")
    client = portal.login_admin()
    download = client.get(f"{IMPORT}template.{kind}")
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="question-template.{kind}"'
    body = download.content
    with portal.activate():
        preview = preview_import(format=kind, data=body, filename=f"template.{kind}")
    assert preview.errors == [] and len(preview.items) == 9

    response = upload(client, f"template.{kind}", body)
    with portal.activate():
        job = ImportJob.objects.get()
    assert response.status_code == 302 and job.preview["errors"] == []
    assert sorted(job.preview["by_type"]) == [
        "cloze",
        "essay",
        "matching",
        "multiple_response",
        "numeric",
        "ordering",
        "short_answer",
        "single_choice",
        "true_false",
    ]
    client.post(f"{IMPORT}{job.pk}/commit/")
    with portal.activate():
        assert Question.objects.count() == 9


def seed_questions(portal, prefix: str) -> dict:
    with portal.activate():
        admin = User.objects.get(email=portal.admin_email)
        science = bank.create_category(name=f"{prefix} science")
        physics = bank.create_category(name="Physics", parent=science)
        other = bank.create_category(name=f"{prefix} other")
        made = {}
        for title, category, status in (
            (f"{prefix} gravity", physics, "active"),
            (f"{prefix} atoms", science, "draft"),
            (f"{prefix} poetry", other, "active"),
        ):
            made[title] = bank.create_question(
                author=admin,
                type="single_choice",
                title=title,
                stem=f"<p>{title}?</p>",
                data={
                    "options": [
                        {"id": "1", "text": "Yes", "correct": True},
                        {"id": "2", "text": "No"},
                    ]
                },
                category=category,
                status=status,
            )
        made["science"] = science
        return made


EXPORTS = {
    "json": ("json", "application/json"),
    "csv": ("csv", "text/csv; charset=utf-8"),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "moodle-xml": ("xml", "application/xml"),
    "gift": ("gift.txt", "text/plain; charset=utf-8"),
    "qti": ("qti.zip", "application/zip"),
}


@pytest.mark.parametrize("format_key", list(EXPORTS))
def test_export_downloads_a_category_or_a_selection_in_each_format(two_portals, format_key):
    a, b = two_portals
    made = seed_questions(a, "Alpha")
    seed_questions(b, "Beta")
    extension, content_type = EXPORTS[format_key]

    client = a.login_admin()
    response = client.get(
        "/cms/questions/export/",
        {"format": format_key, "category": made["science"].pk, "include_subcategories": "on"},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith('attachment; filename="questions-')
    assert response["Content-Disposition"].endswith(f'.{extension}"')
    with a.activate():
        back = preview_import(format=format_key, data=response.content, filename=f"x.{extension}")
    assert sorted(item.title for item in back.items) == ["Alpha atoms", "Alpha gravity"]

    selected = client.post(
        "/cms/questions/export/",
        {"format": format_key, "ids": f"{made['Alpha poetry'].pk}, {made['Alpha atoms'].pk}"},
    )
    with a.activate():
        back = preview_import(format=format_key, data=selected.content, filename=f"x.{extension}")
    assert sorted(item.title for item in back.items) == ["Alpha atoms", "Alpha poetry"]

    active = client.get("/cms/questions/export/", {"format": format_key, "status": "active"})
    with a.activate():
        back = preview_import(format=format_key, data=active.content, filename=f"x.{extension}")
    assert sorted(item.title for item in back.items) == ["Alpha gravity", "Alpha poetry"]

    # B's export holds B's questions only, whatever ids it names.
    b_client = b.login_admin()
    everything = b_client.get("/cms/questions/export/", {"format": format_key})
    alpha_ids = ",".join(str(q.pk) for key, q in made.items() if key != "science")
    by_alpha_ids = b_client.get("/cms/questions/export/", {"format": format_key, "ids": alpha_ids})
    with b.activate():
        titles = sorted(
            item.title
            for item in preview_import(
                format=format_key, data=everything.content, filename=f"x.{extension}"
            ).items
        )
    assert titles == ["Beta atoms", "Beta gravity", "Beta poetry"]
    assert b"Alpha" not in everything.content
    assert b"Alpha" not in by_alpha_ids.content


def test_an_export_matching_nothing_says_so(make_portal):
    portal = make_portal("alpha")
    response = portal.login_admin().get("/cms/questions/export/", {"format": "json"})
    assert response.status_code == 400
    assert "No question matches; nothing to export." in text(response)


@pytest.mark.parametrize("role", ["candidate", "grader", "proctor"])
def test_only_authors_and_tenant_admins_import_and_export(make_portal, role, settings):
    settings.VIVA_IMPORT_INLINE_MAX_BYTES = 10
    portal = make_portal("alpha")
    seed_questions(portal, "Alpha")
    outsider = person(portal, f"{role}@alpha.test", role)
    client = client_as(portal, outsider)
    for url in (IMPORT, f"{IMPORT}template.csv", "/cms/questions/export/?format=json"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert b"Alpha" not in response.content
    assert upload(client, "x.csv", csv_file(2)).status_code == 302
    assert counts(portal)[3] == 0 and stored_uploads(portal) == []


def test_another_portal_cannot_reach_an_import_job_or_its_file(
    two_portals, settings, django_capture_on_commit_callbacks
):
    settings.VIVA_IMPORT_INLINE_MAX_BYTES = 1000
    a, b = two_portals
    author_a = person(a, "author@alpha.test", "author")
    with django_capture_on_commit_callbacks(execute=True):
        upload(client_as(a, author_a), "alpha-secret.csv", csv_file(60))
    with a.activate():
        job = ImportJob.objects.get()
        assert job.status == "ready"
        relative = job.file.name
    # The upload lives in A's media folder, under an unguessable name.
    stored = stored_uploads(a)
    assert stored == [tenant_media_root(a.schema) / relative]
    assert str(stored[0]).startswith(str(Path(django_settings.MEDIA_ROOT) / a.schema))
    assert stored_uploads(b) == []

    # B's author (and B's admin) cannot see, poll, commit or discard A's job by its id.
    for client in (client_as(b, person(b, "author@beta.test", "author")), b.login_admin()):
        with b.activate():
            ImportJob.objects.create(filename="beta.csv", format="csv", author=None)
        for url in (f"{IMPORT}{job.pk}/", f"{IMPORT}{job.pk}/status/"):
            response = client.get(url)
            assert response.status_code == 404, url
            assert b"alpha-secret" not in response.content
        for url in (f"{IMPORT}{job.pk}/commit/", f"{IMPORT}{job.pk}/discard/"):
            assert client.post(url).status_code == 404, url
        assert b"alpha-secret" not in client.get(IMPORT).content
        # The file is not served on B's host.
        assert client.get(f"/media/{relative}").status_code == 404
    # Another author of A's own portal does not see it either.
    colleague = client_as(a, person(a, "colleague@alpha.test", "author"))
    assert colleague.get(f"{IMPORT}{job.pk}/").status_code == 404
    # Nor is the upload served on A's own host: import files are never public media.
    assert colleague.get(f"/media/{relative}").status_code == 404
    assert colleague.get(f"/media/./{relative}").status_code == 404
    assert colleague.get(f"/media/x/../{relative}").status_code == 404
    with a.activate():
        job.refresh_from_db()
        assert (job.status, Question.objects.count()) == ("ready", 0)
    with b.activate():
        assert Question.objects.count() == 0
    assert stored_uploads(a) == stored


def test_discarding_a_job_deletes_its_file(make_portal):
    portal = make_portal("alpha")
    client = portal.login_admin()
    response = upload(client, "three.csv", csv_file(3))
    assert len(stored_uploads(portal)) == 1
    discarded = client.post(f"{response['Location']}discard/", follow=True)
    assert "Import of three.csv discarded." in text(discarded)
    assert counts(portal) == (0, 0, 0, 0) and stored_uploads(portal) == []


def test_the_status_json_is_valid_for_a_running_job(make_portal, settings):
    settings.VIVA_IMPORT_INLINE_MAX_BYTES = 10
    portal = make_portal("alpha")
    client = portal.login_admin()
    upload(client, "q.json", json.dumps({"format": "viva-questions", "version": 1}).encode())
    with portal.activate():
        job = ImportJob.objects.get()
    assert client.get(f"{IMPORT}{job.pk}/status/").json()["running"] is True
