"""Reads about tenants and their schemas."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder


@cache
def _migrations_in_code() -> frozenset[tuple[str, str]]:
    # Derived from the code on disk, identical in every process: safe to keep per process.
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


@dataclass(frozen=True)
class MigrationState:
    schema: str
    pending: tuple[str, ...]

    @property
    def current(self) -> bool:
        return not self.pending


def migration_state() -> MigrationState:
    """Which migrations of the code are not yet recorded in the current schema."""
    applied = set(MigrationRecorder(connection).applied_migrations())
    pending = sorted(f"{app}.{name}" for app, name in _migrations_in_code() - applied)
    return MigrationState(schema=connection.schema_name, pending=tuple(pending))


def current_tenant():
    """The Tenant row of the connection's current schema (works inside schema_context too)."""
    from tenants.models import Tenant

    return Tenant.objects.get(schema_name=connection.schema_name)
