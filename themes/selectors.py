"""Reads of a portal's branding for pages, emails, the manifest and the service worker."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django_tenants.utils import get_public_schema_name
from wagtail.models import Site

from billing.entitlements import REMOVE_PLATFORM_BRANDING, has_feature
from themes.models import Theme


@dataclass(frozen=True)
class Branding:
    theme: Theme
    name: str
    logo_url: str | None
    favicon_url: str | None
    show_platform_branding: bool

    def icon_url(self, size: int) -> str | None:
        image = self.theme.logo
        if image is None:
            return None
        return image.get_rendition(f"fill-{size}x{size}|format-png").url


def current_theme() -> Theme:
    """The theme of the current tenant's (only) site."""
    site = Site.objects.get(is_default_site=True)
    return Theme.for_site(site)


def branding_for(tenant) -> Branding | None:
    """Branding of ``tenant`` (the current schema); None on the platform's public schema."""
    if connection.schema_name == get_public_schema_name():
        return None
    theme = current_theme()
    logo = theme.logo.get_rendition("height-96|format-png").url if theme.logo else None
    favicon_image = theme.favicon or theme.logo
    favicon = favicon_image.get_rendition("fill-64x64|format-png").url if favicon_image else None
    return Branding(
        theme=theme,
        name=tenant.name,
        logo_url=logo,
        favicon_url=favicon,
        show_platform_branding=not has_feature(tenant, REMOVE_PLATFORM_BRANDING),
    )
