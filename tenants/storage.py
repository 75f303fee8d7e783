"""Media storage with one folder per tenant schema.

A file saved while tenant ``uni`` is active lands in ``MEDIA_ROOT/uni/...``; its URL carries
no schema name (``/media/images/x.png``) and is served only from the current tenant's folder,
so the same name in two tenants is two different files, and neither host can reach the other's.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import connection


def tenant_media_root(schema_name: str | None = None) -> Path:
    return Path(settings.MEDIA_ROOT) / (schema_name or connection.schema_name)


class TenantMediaStorage(FileSystemStorage):
    @property
    def base_location(self) -> str:  # type: ignore[override]
        return str(tenant_media_root())

    @property
    def location(self) -> str:  # type: ignore[override]
        return str(tenant_media_root().resolve())

    @property
    def base_url(self) -> str:  # type: ignore[override]
        return settings.MEDIA_URL
