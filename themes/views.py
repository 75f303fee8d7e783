"""Per-portal assets derived from the theme: stylesheet, web manifest, service worker."""

from __future__ import annotations

import json

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from themes.css import theme_css
from themes.selectors import branding_for

# Pages and assets the service worker keeps so the portal shell opens without a network.
SHELL_PATHS = ("/", "/offline/", "/theme.css", "/manifest.webmanifest")


@require_GET
def theme_stylesheet(request):
    branding = branding_for(request.tenant)
    response = HttpResponse(theme_css(branding.theme), content_type="text/css; charset=utf-8")
    # The page links this file with ?v=<theme version>, so a long cache is safe.
    response["Cache-Control"] = (
        "public, max-age=31536000, immutable" if request.GET.get("v") else "no-cache"
    )
    return response


@require_GET
def web_manifest(request):
    branding = branding_for(request.tenant)
    icons = []
    for size in (192, 512):
        url = branding.icon_url(size) or static(f"themes/icons/icon-{size}.png")
        icons.append({"src": url, "sizes": f"{size}x{size}", "type": "image/png"})
    manifest = {
        "name": branding.name,
        "short_name": branding.name[:12],
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": branding.theme.primary_color,
        "background_color": "#ffffff",
        "icons": icons,
    }
    return JsonResponse(manifest, content_type="application/manifest+json")


@require_GET
def service_worker(request):
    branding = branding_for(request.tenant)
    shell = [*SHELL_PATHS, static("viva/base.css"), static("themes/portal.js")]
    body = render(
        request,
        "themes/sw.js",
        {"cache_name": f"viva-shell-{branding.theme.version}", "shell_json": json.dumps(shell)},
        content_type="text/javascript; charset=utf-8",
    )
    body["Service-Worker-Allowed"] = "/"
    body["Cache-Control"] = "no-cache"
    return body


@require_GET
def offline(request):
    return render(request, "themes/offline.html")
