"""Themes: each portal's branding (tenant schema). Built out by the "Branded portals" issue."""
