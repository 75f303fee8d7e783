from __future__ import annotations

import mimetypes
import os

from django.db import DatabaseError, connection
from django.http import FileResponse, Http404, JsonResponse
from django.utils._os import safe_join
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from tenants.selectors import migration_state
from tenants.storage import tenant_media_root

# Raster images may be shown inline; anything else (SVG, HTML, PDF...) is a download, so an
# uploaded file can never run script on the portal's origin.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"})


@never_cache
@require_GET
def healthz(request):
    """Database reachability and whether this host's schema has every migration applied."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        state = migration_state()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    body = {
        "status": "ok" if state.current else "error",
        "database": "ok",
        "schema": state.schema,
        "migrations": "current" if state.current else "pending",
        "pending": list(state.pending),
    }
    return JsonResponse(body, status=200 if state.current else 503)


#: Media folders never served over HTTP: uploaded import files wait there for their job;
#: webcam snapshots are shown to proctors only, through a permission-checked view.
PRIVATE_PREFIXES = ("imports/", "proctoring/")


@require_GET
def serve_media(request, path: str):
    """Serve a file from the current tenant's media folder only."""
    root = tenant_media_root()
    try:
        full_path = safe_join(str(root), path)
    except Exception as exc:  # SuspiciousFileOperation on "../" and absolute paths
        raise Http404("File not found") from exc
    if os.path.relpath(full_path, root).replace(os.sep, "/").startswith(PRIVATE_PREFIXES):
        raise Http404("File not found")
    try:
        handle = open(full_path, "rb")  # noqa: SIM115 - FileResponse closes it
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
        raise Http404("File not found") from exc
    content_type = mimetypes.guess_type(full_path)[0] or "application/octet-stream"
    response = FileResponse(
        handle, content_type=content_type, as_attachment=content_type not in INLINE_TYPES
    )
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response
