"""Analytics pages and files: the teacher's dashboard and drill-downs (accessible SVG charts),
CSV/XLSX exports read back, branded PDFs that fetch nothing outside the app, certificates and
their public verification, the bulk zip job, the candidate's own dashboard, opt-in
leaderboards, and two-tenant isolation of all of it."""

from __future__ import annotations

import csv
import io
import json
import re
import time
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from assessments.analytics import exports, services
from assessments.analytics.models import Certificate, LeaderboardOptIn, ReportJob
from assessments.delivery.models import Attempt, IntegrityEvent
from assessments.exams import services as exams
from tenants.access.permissions import assign_role

from .conftest import PASSWORD, make_member, sign_in
from .test_analytics import build_exam

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def seeded(make_portal):
    """A portal with a seeded exam (40 graded attempts) and its item analysis."""
    data = build_exam(make_portal("alpha"), candidates=40)
    with data.portal.activate():
        services.compute_item_analysis(version=data.version)
        first = Attempt.objects.filter(version=data.version).order_by("id").first()
        IntegrityEvent.objects.create(attempt=first, kind="paste", at=first.started_at)
    connection.set_schema_to_public()
    return data


def admin_client(portal) -> Client:
    return portal.login_admin(Client(HTTP_HOST=portal.domain))


def get(client: Client, url: str, **extra):
    response = client.get(url, **extra)
    connection.set_schema_to_public()
    return response


def svgs(html: str) -> list[str]:
    return re.findall(r"<svg[^>]*class=\"viva-chart\".*?</svg>", html, flags=re.S)


# -- the teacher's dashboard ------------------------------------------------------------------


def test_dashboard_shows_figures_and_accessible_charts(seeded):
    client = admin_client(seeded.portal)
    response = get(client, f"/cms/analytics/exam/{seeded.exam.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    charts = svgs(html)
    assert len(charts) >= 3  # scores, time, topics
    for svg in charts:
        assert 'role="img"' in svg
        title_id = re.search(r'<title id="([^"]+)">[^<]+</title>', svg).group(1)
        desc_id = re.search(r'<desc id="([^"]+)">[^<]+</desc>', svg).group(1)
        assert f'aria-labelledby="{title_id} {desc_id}"' in svg
    # Each chart comes with its numbers as a table.
    assert html.count("data table</summary>") == len(charts)
    assert "Score distribution" in html and "Performance by topic" in html
    assert "Pasted text" in html  # integrity flags summary
    assert "Distractor nobody picks" in html  # item flags in the item table
    # Listing pages: index too.
    assert get(client, "/cms/analytics/").status_code == 200


def test_item_and_candidate_drill_down(seeded):
    client = admin_client(seeded.portal)
    question = seeded.questions[0]
    response = get(client, f"/cms/analytics/exam/{seeded.exam.pk}/item/{question.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Distractor analysis" in html and "Upper 27%" in html and len(svgs(html)) == 1
    candidate = seeded.users[0]
    response = get(client, f"/cms/analytics/exam/{seeded.exam.pk}/candidate/{candidate.pk}/")
    assert response.status_code == 200
    assert candidate.email in response.content.decode()
    assert get(client, f"/cms/analytics/exam/{seeded.exam.pk}/item/999999/").status_code == 404


def test_dashboard_refused_to_people_without_the_permission(seeded):
    # A proctor reaches the admin but not reports (authors and admins have view_report).
    author = make_member(seeded.portal, "proctor@example.test", role="proctor")
    client = sign_in(Client(HTTP_HOST=seeded.portal.domain), author.email)
    for url in (
        f"/cms/analytics/exam/{seeded.exam.pk}/",
        f"/cms/analytics/exam/{seeded.exam.pk}/results.xlsx",
        f"/cms/analytics/exam/{seeded.exam.pk}/report.pdf",
    ):
        assert get(client, url).status_code == 404
    # A grader of this exam (guardian grant) may see it.
    with seeded.portal.activate():
        from guardian.shortcuts import assign_perm

        assign_perm("assessments.grade_exam", author, seeded.exam)
    assert get(client, f"/cms/analytics/exam/{seeded.exam.pk}/").status_code == 200


# -- exports ------------------------------------------------------------------------------


def test_csv_and_xlsx_exports_read_back_and_are_formula_safe(seeded):
    from openpyxl import load_workbook

    with seeded.portal.activate():
        victim = seeded.users[0]
        victim.first_name, victim.last_name = '=HYPERLINK("http://evil")', "@SUM(A1)"
        victim.save()
    client = admin_client(seeded.portal)
    response = get(client, f"/cms/analytics/exam/{seeded.exam.pk}/results.csv")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert tuple(rows[0]) == exports.RESULT_HEADERS
    assert len(rows) == 41
    by_email = {row[1]: row for row in rows[1:]}
    assert by_email[victim.email][2] == '\'=HYPERLINK("http://evil") @SUM(A1)'
    with seeded.portal.activate():
        attempt = Attempt.objects.get(user=victim)
    assert by_email[victim.email][10] == str(attempt.percent)

    response = get(client, f"/cms/analytics/exam/{seeded.exam.pk}/results.xlsx")
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Results", "Item statistics", "Summary"]
    results = list(book["Results"].iter_rows(values_only=True))
    assert results[0] == exports.RESULT_HEADERS and len(results) == 41
    for row in results[1:]:
        for value in row:
            assert not (isinstance(value, str) and value.startswith(("=", "+", "-", "@")))
    victim_row = next(r for r in results if r[1] == victim.email)
    assert victim_row[2].startswith("'=") and victim_row[10] == float(attempt.percent)
    items = list(book["Item statistics"].iter_rows(values_only=True))
    assert len(items) == 1 + 10
    with seeded.portal.activate():
        analysis = seeded.version.item_analysis
    assert items[1][7] == round(analysis.items[0]["facility"], 4)

    response = get(client, f"/cms/analytics/exam/{seeded.exam.pk}/items.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert tuple(rows[0]) == exports.ITEM_HEADERS and len(rows) == 11


# -- PDFs ---------------------------------------------------------------------------------


def _no_network(monkeypatch):
    """Fail on any attempt to open a URL or a file outside the fetcher's allowance."""
    import urllib.request

    fetched: list[str] = []
    from themes import pdf

    original = pdf.safe_url_fetcher

    def recording_fetcher():
        fetcher = original()
        fetch = fetcher.fetch

        def spy(url, *args, **kwargs):
            try:
                answer = fetch(url, *args, **kwargs)
            except pdf.RefusedURL:
                fetched.append(("refused", url))
                raise
            fetched.append(("served", url))
            return answer

        fetcher.fetch = spy
        return fetcher

    monkeypatch.setattr(pdf, "safe_url_fetcher", recording_fetcher)
    monkeypatch.setattr(
        urllib.request, "urlopen", lambda *a, **k: pytest.fail(f"network fetch {a!r}")
    )
    return fetched


def test_pdfs_are_pdfs_and_fetch_no_external_or_file_url(seeded, monkeypatch):
    fetched = _no_network(monkeypatch)
    crafted = (
        '<p>See <img src="file:///etc/passwd"> and <img src="http://169.254.169.254/x.png">'
        ' <img src="https://example.com/track.png"></p>'
    )
    with seeded.portal.activate():
        # A crafted stem in the frozen snapshot, as if it had slipped past sanitising (versions
        # refuse updates through the ORM, so SQL writes it).
        snapshot = seeded.version.snapshot
        snapshot["sections"][0]["items"][0]["question"]["stem"] = crafted
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE assessments_examversion SET snapshot = %s WHERE id = %s",
                [json.dumps(snapshot), seeded.version.pk],
            )
        victim = seeded.users[1]
        victim.first_name = '<img src="file:///etc/passwd">'
        victim.save()
    client = admin_client(seeded.portal)
    response = get(client, f"/cms/analytics/exam/{seeded.exam.pk}/report.pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    with seeded.portal.activate():
        attempt = Attempt.objects.get(user=victim)
    response = get(client, f"/cms/analytics/attempt/{attempt.pk}/report.pdf")
    assert response.content.startswith(b"%PDF")
    # The crafted URLs reached the fetcher and were refused; only the app's own static
    # files and data: URIs were served.
    refused = {url for outcome, url in fetched if outcome == "refused"}
    served = {url for outcome, url in fetched if outcome == "served"}
    assert {"file:///etc/passwd", "http://169.254.169.254/x.png"} <= refused
    assert all(url.startswith(("viva-static:", "data:")) for url in served)
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "root:x:0:0" not in text
    assert '<img src="file:///etc/passwd">' in text  # the name is text, escaped


# -- certificates -------------------------------------------------------------------------


def test_certificate_and_public_verification(seeded):
    with seeded.portal.activate():
        attempt = Attempt.objects.filter(version=seeded.version, passed=True).first()
        attempt.user.first_name, attempt.user.last_name = "Ada", "Lovelace"
        attempt.user.save()
    client = admin_client(seeded.portal)
    response = get(client, f"/cms/analytics/attempt/{attempt.pk}/certificate.pdf")
    assert response.content.startswith(b"%PDF")
    with seeded.portal.activate():
        certificate = Certificate.objects.get(attempt=attempt)
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert certificate.code in text
    assert f"http://alpha.localhost:8000/results/verify/{certificate.code}/" in text

    anonymous = Client(HTTP_HOST=seeded.portal.domain)
    page = get(anonymous, f"/results/verify/{certificate.code}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Ada Lovelace" in html and seeded.exam.title in html and f"{attempt.percent}%" in html
    assert get(anonymous, f"/results/verify/?code={certificate.code.lower()}").status_code == 302
    assert get(anonymous, "/results/verify/AAAA-BBBB-CCCC/").status_code == 404
    # A failed attempt earns none.
    with seeded.portal.activate():
        failed = Attempt.objects.filter(version=seeded.version, passed=False).first()
    assert failed is not None
    response = get(client, f"/cms/analytics/attempt/{failed.pk}/certificate.pdf")
    assert response.status_code == 302
    with seeded.portal.activate():
        assert not Certificate.objects.filter(attempt=failed).exists()


# -- bulk jobs ----------------------------------------------------------------------------


def test_bulk_certificates_for_a_cohort_with_progress_and_zip(
    seeded, django_capture_on_commit_callbacks
):
    with seeded.portal.activate():
        cohort = exams.create_cohort(name="Group A", members=seeded.users[:12])
        expected = Attempt.objects.filter(
            version=seeded.version, passed=True, user__in=seeded.users[:12]
        ).count()
    assert expected > 0
    client = admin_client(seeded.portal)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/cms/analytics/exam/{seeded.exam.pk}/jobs/",
            {"kind": "certificates", "cohort": cohort.pk},
        )
    connection.set_schema_to_public()
    assert response.status_code == 302
    with seeded.portal.activate():
        job = ReportJob.objects.get()
        assert job.status == ReportJob.Status.DONE
        assert (job.progress_done, job.progress_total) == (expected, expected)
        assert job.file.name.startswith("imports/analytics/")
    page = get(client, f"/cms/analytics/jobs/{job.pk}/")
    assert 'data-job-status="done"' in page.content.decode()
    download = get(client, f"/cms/analytics/jobs/{job.pk}/download/")
    assert download.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    names = archive.namelist()
    assert len(names) == expected and all(n.startswith("certificate-") for n in names)
    assert all(archive.read(n).startswith(b"%PDF") for n in names)
    # The zip is not reachable through /media/ (private prefix).
    assert get(client, "/media/" + job.file.name).status_code == 404
    # Running the job again (a retried task) changes nothing.
    with seeded.portal.activate():
        again = services.run_report_job(job_id=job.pk)
        assert again.file.name == job.file.name


# -- the candidate's dashboard ------------------------------------------------------------


def _candidate_client(portal, user) -> Client:
    with portal.activate():
        from allauth.account.models import EmailAddress

        user.set_password(PASSWORD)
        user.save()
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
        assign_role(user=user, role="candidate")
    return sign_in(Client(HTTP_HOST=portal.domain), user.email)


def test_candidate_dashboard_shows_only_own_data_with_recommendations(seeded):
    from wagtail.models import Page

    from cms.models import StudyGuidePage

    me, other = seeded.users[0], seeded.users[1]
    with seeded.portal.activate():
        root = Page.objects.get(depth=2)
        root.add_child(
            instance=StudyGuidePage(
                title="Algebra basics", slug="algebra-basics", subject="Algebra"
            )
        )
        mine = Attempt.objects.get(user=me)
        theirs = Attempt.objects.get(user=other)
        cohort = exams.create_cohort(name="Everyone", members=seeded.users)
        exams.assign_exam(exam=seeded.exam, cohort=cohort)
    client = _candidate_client(seeded.portal, me)
    response = get(client, "/results/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-attempt="{mine.pk}"' in html
    assert f'data-attempt="{theirs.pk}"' not in html and other.email not in html
    assert "Your progress" in html and svgs(html)
    # Percentile shown: results released and 40 in the cohort.
    assert "percentile" in html
    with seeded.portal.activate():
        from assessments.analytics import selectors

        overview = selectors.candidate_overview(user=me)
    weak = {t["tag"] for t in overview.weaknesses}
    recs = {r["tag"]: r for r in overview.recommendations}
    assert weak == set(recs)
    if "algebra" in recs:
        assert [g.title for g in recs["algebra"]["guides"]] == ["Algebra basics"]
        assert "Algebra basics" in html
    # Someone else's report or certificate is "not found".
    assert get(client, f"/results/attempt/{theirs.pk}/report.pdf").status_code == 404
    assert get(client, f"/results/attempt/{mine.pk}/report.pdf").content.startswith(b"%PDF")


def test_percentile_needs_released_results_and_a_group_of_five(make_portal):
    data = build_exam(make_portal("alpha"), candidates=4, results_release="manual")
    with data.portal.activate():
        from assessments.analytics import selectors

        Attempt.objects.update(results_released=False)
        attempt = Attempt.objects.first()
        assert selectors.percentile_for(attempt=attempt) is None  # not released
        Attempt.objects.update(results_released=True)
        attempt.refresh_from_db()
        assert selectors.percentile_for(attempt=attempt) is None  # 4 < 5
        extra = User.objects.create_user(email="fifth@example.test")
        from assessments.analytics.demo import seed_attempts

        seed_attempts(version=data.version, users=[extra], seed=99)
        assert selectors.percentile_for(attempt=attempt) is not None


def test_leaderboard_is_opt_in_per_candidate_and_per_exam(seeded):
    me, other, third = seeded.users[:3]
    with seeded.portal.activate():
        for user, name in ((me, "Me"), (other, "Olga"), (third, "Theo")):
            user.first_name, user.last_name = name, "Surname"
            user.save()
    client = _candidate_client(seeded.portal, me)
    url = f"/results/leaderboard/{seeded.exam.pk}/"
    assert get(client, url).status_code == 404  # the exam has no leaderboard
    admin = admin_client(seeded.portal)
    admin.post(f"/cms/analytics/exam/{seeded.exam.pk}/leaderboard/", {"enabled": "yes"})
    connection.set_schema_to_public()
    page = get(client, url).content.decode()
    assert "Nobody has opted in yet" in page and "Olga" not in page
    with seeded.portal.activate():
        LeaderboardOptIn.objects.create(exam=seeded.exam, user=other)
    page = get(client, url).content.decode()
    assert "Olga S." in page and "Theo" not in page and "Me S." not in page
    assert other.email not in page
    client.post(f"/results/leaderboard/{seeded.exam.pk}/opt-in/", {"opt_in": "yes"})
    connection.set_schema_to_public()
    page = get(client, url).content.decode()
    assert "Me S. (you)" in page
    client.post(f"/results/leaderboard/{seeded.exam.pk}/opt-in/", {"opt_in": "no"})
    connection.set_schema_to_public()
    assert "Me S." not in get(client, url).content.decode()


# -- two tenants --------------------------------------------------------------------------


def test_tenant_b_cannot_reach_a_analytics_exports_certificates_or_jobs(
    two_portals, django_capture_on_commit_callbacks
):
    alpha, beta = two_portals
    data = build_exam(alpha, candidates=12)
    with alpha.activate():
        services.compute_item_analysis(version=data.version)
        attempt = Attempt.objects.filter(passed=True).first()
        certificate = services.issue_certificate(attempt=attempt)
        admin = User.objects.get(email=alpha.admin_email)
        with django_capture_on_commit_callbacks(execute=True):
            job = services.start_report_job(exam=data.exam, cohort=None, kind="reports", by=admin)
        job.refresh_from_db()
        assert job.status == "done"
    connection.set_schema_to_public()
    # B's admin, on B's host, with A's ids and code.
    b_admin = admin_client(beta)
    for url in (
        f"/cms/analytics/exam/{data.exam.pk}/",
        f"/cms/analytics/exam/{data.exam.pk}/results.csv",
        f"/cms/analytics/exam/{data.exam.pk}/results.xlsx",
        f"/cms/analytics/exam/{data.exam.pk}/items.csv",
        f"/cms/analytics/exam/{data.exam.pk}/report.pdf",
        f"/cms/analytics/attempt/{attempt.pk}/report.pdf",
        f"/cms/analytics/attempt/{attempt.pk}/certificate.pdf",
        f"/cms/analytics/jobs/{job.pk}/",
        f"/cms/analytics/jobs/{job.pk}/download/",
        f"/results/verify/{certificate.code}/",
        f"/media/{job.file.name}",
    ):
        response = get(b_admin, url)
        assert response.status_code == 404, url
        assert certificate.candidate_name.encode() not in response.content
    # A's session cookie on B's host is anonymous: redirected to sign in, no data.
    a_admin = admin_client(alpha)
    a_admin.defaults["HTTP_HOST"] = beta.domain
    response = get(a_admin, f"/cms/analytics/exam/{data.exam.pk}/")
    assert response.status_code in (302, 404)
    # And on A's own host the same code verifies.
    assert (
        get(Client(HTTP_HOST=alpha.domain), f"/results/verify/{certificate.code}/").status_code
        == 200
    )
    with beta.activate():
        assert not Certificate.objects.exists() and not ReportJob.objects.exists()


def test_admin_menu_shows_analytics_to_report_viewers_only(seeded):
    page = get(admin_client(seeded.portal), "/cms/").content.decode()
    menu_entry = '"url": "/cms/analytics/"'  # the menu is a JSON blob the sidebar renders
    assert menu_entry in page
    proctor = make_member(seeded.portal, "proctor@example.test", role="proctor")
    client = sign_in(Client(HTTP_HOST=seeded.portal.domain), proctor.email)
    assert menu_entry not in get(client, "/cms/").content.decode()
    assert get(client, "/cms/analytics/").status_code == 404


def test_erasure_removes_certificates_opt_ins_and_bulk_files(
    seeded, django_capture_on_commit_callbacks
):
    from tenants.privacy.services import erase_user

    with seeded.portal.activate():
        attempt = Attempt.objects.filter(version=seeded.version, passed=True).first()
        person = attempt.user
        certificate = services.issue_certificate(attempt=attempt)
        LeaderboardOptIn.objects.create(exam=seeded.exam, user=person)
        admin = User.objects.get(email=seeded.portal.admin_email)
        with django_capture_on_commit_callbacks(execute=True):
            job = services.start_report_job(
                exam=seeded.exam, cohort=None, kind="certificates", by=admin
            )
        job.refresh_from_db()
        stored = job.file.path
        erase_user(user=person, by=admin)
        assert not Certificate.objects.filter(pk=certificate.pk).exists()
        assert not LeaderboardOptIn.objects.filter(user=person).exists()
        job.refresh_from_db()
        assert not job.file
    import os

    assert not os.path.exists(stored)
    anonymous = Client(HTTP_HOST=seeded.portal.domain)
    assert get(anonymous, f"/results/verify/{certificate.code}/").status_code == 404


def test_dashboard_queries_do_not_grow_with_attempts(make_portal, django_assert_max_num_queries):
    from assessments.analytics.demo import seed_attempts

    data = build_exam(make_portal("alpha"), candidates=10)
    client = admin_client(data.portal)
    url = f"/cms/analytics/exam/{data.exam.pk}/"
    get(client, url)  # computes the analysis once
    with django_assert_max_num_queries(45):
        assert get(client, url).status_code == 200
    with data.portal.activate():
        more = [User.objects.create_user(email=f"more{i}@example.test") for i in range(40)]
        seed_attempts(version=data.version, users=more, seed=77)
        services.compute_item_analysis(version=data.version)
    connection.set_schema_to_public()
    with django_assert_max_num_queries(45):
        assert get(client, url).status_code == 200


def test_analysis_task_runs_only_in_the_schema_it_names(two_portals):
    from assessments.analytics import tasks
    from assessments.analytics.models import ItemAnalysis

    alpha, beta = two_portals
    data = build_exam(alpha, candidates=8)
    # Sent for beta with alpha's version id: beta has no such version, nothing is written.
    assert tasks.refresh_item_analysis(data.version.pk, beta.schema) is None
    with beta.activate():
        assert not ItemAnalysis.objects.exists()
    assert tasks.refresh_item_analysis(data.version.pk, alpha.schema) == 8
    with alpha.activate():
        assert ItemAnalysis.objects.get().attempt_count == 8


def test_a_report_job_runs_exactly_once_even_after_a_worker_dies(seeded):
    import psycopg

    with seeded.portal.activate():
        admin = User.objects.get(email=seeded.portal.admin_email)
        # As if a worker took the job and died: it is "running" with some progress, no file.
        job = ReportJob.objects.create(
            exam=seeded.exam, kind="reports", requested_by=admin, status="running"
        )
        ReportJob.objects.filter(pk=job.pk).update(progress_done=3, progress_total=40)
        # While another worker holds the job's lock, a duplicate delivery leaves it alone.
        settings = connection.settings_dict
        other = psycopg.connect(
            host=settings["HOST"],
            port=settings["PORT"] or 5432,
            user=settings["USER"],
            password=settings["PASSWORD"] or None,
            dbname=settings["NAME"],
            autocommit=True,
        )
        key = [f"{seeded.portal.schema}:report-job", job.pk]
        other.execute("SELECT pg_advisory_lock(hashtext(%s), %s)", key)
        assert services.run_report_job(job_id=job.pk).status == "running"
        # The worker's connection ends (it died): the redelivered task finishes the job.
        other.close()
        # The server notices the closed connection a moment later; the lock goes with it.
        with connection.cursor() as cursor:
            for _ in range(100):
                cursor.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND objid = %s AND pid <> pg_backend_pid()",
                    [job.pk],
                )
                if not cursor.fetchone()[0]:
                    break
                time.sleep(0.05)
        done = services.run_report_job(job_id=job.pk)
        assert done.status == "done" and done.progress_done == done.progress_total == 40
        name = done.file.name
        # A further delivery changes nothing.
        assert services.run_report_job(job_id=job.pk).file.name == name
