"""Low-level PostgreSQL schema operations used by provisioning.

PostgreSQL DDL is transactional, so every function here may run inside ``transaction.atomic``:
if the surrounding work fails, the created, cloned or renamed schema is rolled back with it.
"""

from __future__ import annotations

from django.core.management import call_command
from django.db import connection
from django_tenants.clone import CloneSchema
from django_tenants.utils import quote_schema_name
from django_tenants.utils import schema_exists as _schema_exists


def schema_exists(schema_name: str) -> bool:
    return _schema_exists(schema_name, case_sensitive=False)


def create_schema_by_migration(schema_name: str) -> None:
    """Create an empty schema and replay every tenant migration into it (the slow way)."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {quote_schema_name(schema_name)}")
    try:
        call_command(
            "migrate_schemas",
            tenant=True,
            schema_name=schema_name,
            interactive=False,
            verbosity=0,
        )
    finally:
        connection.set_schema_to_public()


def clone_schema(source: str, target: str) -> None:
    """Copy ``source`` (tables, sequences, data and its migration records) to ``target``.

    The copy includes ``django_migrations``, so the clone is exactly as migrated as its source
    and needs no fake-migration pass afterwards.
    """
    CloneSchema().clone_schema(source, target, "DATA", set_connection=True)


def rename_schema(old: str, new: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER SCHEMA {quote_schema_name(old)} RENAME TO {quote_schema_name(new)}")


def drop_schema(schema_name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {quote_schema_name(schema_name)} CASCADE")


def tables_in_schema(schema_name: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            [schema_name],
        )
        return {row[0] for row in cursor.fetchall()}


def columns_of(schema_name: str, table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s",
            [schema_name, table],
        )
        return {row[0] for row in cursor.fetchall()}
