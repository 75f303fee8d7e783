"""PDF documents in the portal's branding (WeasyPrint), fetching nothing from outside.

Every URL a document refers to goes through ``safe_url_fetcher``: the app's own static files
and ``data:`` URIs are allowed; ``file://``, ``http(s)://`` (including private addresses) and
anything else are refused, so user-supplied HTML in a report can never read the server's files
or reach the network.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from themes.css import theme_css
from themes.selectors import current_theme

ASSET_PREFIX = "viva-static:"


class RefusedURL(ValueError):
    pass


MIME_TYPES = {
    ".woff2": "font/woff2",
    ".png": "image/png",
    ".css": "text/css",
    ".svg": "image/svg+xml",
}


def _static_asset(url: str) -> Path:
    relative = url[len(ASSET_PREFIX) :].lstrip("/")
    found = finders.find(relative) if ".." not in Path(relative).parts else None
    if not found:
        raise RefusedURL(f"PDF rendering refused to fetch {url!r}")
    return Path(found)


def safe_url_fetcher():
    """A WeasyPrint fetcher that serves only the app's static files and data: URIs."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class SafeURLFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            if url.startswith(ASSET_PREFIX):
                path = _static_asset(url)
                mime = MIME_TYPES.get(path.suffix, "application/octet-stream")
                return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})
            raise RefusedURL(f"PDF rendering refused to fetch {url!r}")

    return SafeURLFetcher(allowed_protocols=["data", "viva-static"], allow_redirects=False)


def render_branded_pdf(*, title: str, portal_name: str, body_html: str) -> bytes:
    """A PDF with the current tenant's header colours and font around ``body_html``."""
    from weasyprint import HTML

    theme = current_theme()
    css = theme_css(theme).replace("url(" + settings.STATIC_URL, f"url({ASSET_PREFIX}")
    html = render_to_string(
        "themes/pdf/base.html",
        {"title": title, "portal_name": portal_name, "body_html": body_html, "theme_css": css},
    )
    return HTML(string=html, base_url=ASSET_PREFIX, url_fetcher=safe_url_fetcher()).write_pdf()
