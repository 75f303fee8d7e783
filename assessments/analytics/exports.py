"""Files teachers and candidates take away: CSV and XLSX of results and item statistics, the
exam report and candidate report as branded PDFs, and certificates.

Spreadsheets: every text cell goes through ``tenants.audit.services.csv_safe``, so a name or
title starting with ``=``, ``+``, ``-`` or ``@`` is never run as a formula (openpyxl would store
a string starting with ``=`` as a formula); numbers stay numbers. PDFs: ``themes.pdf`` renders
with the tenant's theme and a URL fetcher that serves only the app's own static files and
``data:`` URIs, so a crafted field (an ``<img src="file:///etc/passwd">`` in a question) makes
the renderer read no file and reach no network. Charts are the dashboard's own SVG.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.template.loader import render_to_string
from django.urls import reverse

from assessments.delivery.models import Attempt
from assessments.exams.models import Exam, ExamVersion
from tenants.audit.services import csv_safe
from themes.pdf import render_branded_pdf

from . import charts, selectors
from .models import Certificate, ItemAnalysis
from .services import version_questions

RESULT_HEADERS = (
    "Attempt",
    "Candidate",
    "Name",
    "Attempt number",
    "Version",
    "Started",
    "Submitted",
    "Minutes",
    "Score",
    "Max score",
    "Percent",
    "Passed",
    "Grading",
    "Integrity flags",
)
ITEM_HEADERS = (
    "Question id",
    "Title",
    "Type",
    "Section",
    "Tags",
    "Points",
    "Asked",
    "Facility",
    "Point-biserial (corrected)",
    "Upper-lower index",
    "Omitted rate",
    "Flags",
    "Distractors (share: all / upper / lower)",
)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return value
    return csv_safe(value)


def result_rows(*, version: ExamVersion) -> list[tuple]:
    board = selectors.exam_dashboard(exam=version.exam, version=version)
    rows = []
    for row in sorted(board.candidates, key=lambda r: (r["attempt"].user.email, r["attempt"].pk)):
        a: Attempt = row["attempt"]
        rows.append(
            (
                a.pk,
                a.user.email,
                (a.user.get_full_name() or "").strip(),
                a.number,
                version.number,
                a.started_at.isoformat(timespec="seconds"),
                a.submitted_at.isoformat(timespec="seconds") if a.submitted_at else None,
                round(row["minutes"], 1) if row["minutes"] is not None else None,
                a.score,
                a.max_score,
                a.percent,
                a.passed,
                a.get_grading_display(),
                row["flags"],
            )
        )
    return rows


def item_rows(*, analysis: ItemAnalysis | None) -> list[tuple]:
    if analysis is None:
        return []
    tags = selectors.question_tags({item["question_id"] for item in analysis.items})

    def rounded(value):
        return round(value, 4) if value is not None else None

    return [
        (
            item["question_id"],
            item["title"],
            item["type"],
            item["section"],
            ", ".join(tags.get(item["question_id"], [])),
            item["points"],
            item["asked"],
            rounded(item["facility"]),
            rounded(item["point_biserial"]),
            rounded(item["upper_lower"]),
            rounded(item["omitted"]),
            "; ".join(flag["label"] for flag in item["flags"]),
            "; ".join(
                f"{d['id']}{'*' if d['correct'] else ''}: "
                f"{d['share']:.2f} / {d['upper']:.2f} / {d['lower']:.2f}"
                for d in item["distractors"]
            ),
        )
        for item in analysis.items
    ]


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode()  # BOM: spreadsheets then read UTF-8


def to_xlsx(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for title, headers, rows in sheets:
        sheet = book.create_sheet(title[:31])
        sheet.append(list(headers))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_cell(v) if not isinstance(v, Decimal) else float(v) for v in row])
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def summary_rows(*, analysis: ItemAnalysis | None) -> list[tuple]:
    if analysis is None:
        return []
    s = analysis.summary
    return [
        ("Attempts analysed", s.get("attempts")),
        ("Items", s.get("items")),
        ("Items in the reliability", s.get("reliability_items")),
        ("Mean score", s.get("mean")),
        ("Standard deviation", s.get("sd")),
        ("Cronbach's alpha", s.get("alpha")),
        ("KR-20", s.get("kr20")),
        ("Standard error of measurement", s.get("sem")),
        ("Computed at", analysis.computed_at.isoformat(timespec="seconds")),
    ]


def exam_workbook(*, version: ExamVersion) -> bytes:
    analysis = selectors.item_analysis(version=version)
    return to_xlsx(
        [
            ("Results", RESULT_HEADERS, result_rows(version=version)),
            ("Item statistics", ITEM_HEADERS, item_rows(analysis=analysis)),
            ("Summary", ("Figure", "Value"), summary_rows(analysis=analysis)),
        ]
    )


# -- PDFs ---------------------------------------------------------------------------------


def _portal_name() -> str:
    from tenants.selectors import current_tenant

    return current_tenant().name


def portal_link(path: str) -> str:
    """Absolute URL of ``path`` on the current portal's primary host."""
    from tenants.selectors import current_tenant
    from tenants.services import portal_url

    tenant = current_tenant()
    host = tenant.domains.filter(is_primary=True).values_list("domain", flat=True).first()
    return portal_url(host or "localhost", path)


def exam_report_pdf(*, exam: Exam, version: ExamVersion) -> bytes:
    board = selectors.exam_dashboard(exam=exam, version=version)
    # Stems are sanitised HTML (nh3) from the frozen snapshot; they are rendered as HTML, so
    # any URL in them meets the PDF fetcher, which refuses all but the app's static files.
    stems = {q["question_id"]: q["stem"] for q in version_questions(version)}
    item_rows = (
        [(i, stems.get(i["question_id"], "")) for i in (board.analysis.items or [])]
        if board.analysis
        else []
    )
    body = render_to_string(
        "assessments/analytics/pdf/exam_report.html",
        {"board": board, "item_rows": item_rows},
    )
    return render_branded_pdf(
        title=f"Exam report: {exam.title} (version {version.number})",
        portal_name=_portal_name(),
        body_html=body,
    )


def candidate_report_pdf(attempt: Attempt) -> bytes:
    breakdown = selectors.attempt_breakdown(attempt)
    chart = None
    if breakdown["topics"]:
        chart = charts.bar_chart(
            title="Results by topic",
            description="Share of points earned on the questions of each topic.",
            labels=[t["tag"] for t in breakdown["topics"]],
            values=[round(t["percent"], 1) for t in breakdown["topics"]],
            maximum=100,
            unit="%",
            headers=("Topic", "Score"),
        )
    body = render_to_string(
        "assessments/analytics/pdf/candidate_report.html",
        {
            "attempt": attempt,
            "name": attempt.user.get_full_name() or attempt.user.email,
            "breakdown": breakdown,
            "chart": chart,
            "percentile": selectors.percentile_for(attempt=attempt),
            "minutes": selectors.minutes_spent(attempt),
        },
    )
    return render_branded_pdf(
        title=f"Candidate report: {attempt.exam.title}",
        portal_name=_portal_name(),
        body_html=body,
    )


def certificate_pdf(*, certificate: Certificate) -> bytes:
    verify_path = reverse("analytics:verify", kwargs={"code": certificate.code})
    body = render_to_string(
        "assessments/analytics/pdf/certificate.html",
        {"certificate": certificate, "verify_url": portal_link(verify_path)},
    )
    return render_branded_pdf(title="Certificate", portal_name=_portal_name(), body_html=body)
