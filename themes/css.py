"""The CSS custom properties a theme sets; the portal's stylesheet only reads them."""

from __future__ import annotations

from django.templatetags.static import static

from themes.colors import DARK_BACKGROUND, WHITE, readable_on
from themes.models import DENSITIES, FONT_STACKS, RADII, Theme


def _font_faces(slug: str, family: str) -> str:
    return "".join(
        f'@font-face{{font-family:"{family}";font-style:normal;font-weight:{weight};'
        f"font-display:swap;src:url({static(f'themes/fonts/{slug}-latin-{weight}-normal.woff2')})"
        ' format("woff2");}\n'
        for weight in (400, 700)
    )


def theme_css(theme: Theme) -> str:
    label, stack, font_slug = FONT_STACKS.get(theme.font, FONT_STACKS["system"])
    light = {
        "--viva-primary": theme.primary_color,
        "--viva-accent": theme.accent_color,
        "--viva-on-primary": WHITE,
        "--viva-on-accent": WHITE,
        "--viva-bg": WHITE,
        "--viva-surface": "#f4f5f7",
        "--viva-text": "#1b1b1f",
        "--viva-muted": "#4a4f57",
        "--viva-link": readable_on(theme.primary_color, WHITE),
    }
    dark = {
        "--viva-bg": DARK_BACKGROUND,
        "--viva-surface": "#1e2227",
        "--viva-text": "#eceef1",
        "--viva-muted": "#b7bcc4",
        "--viva-link": readable_on(theme.primary_color, DARK_BACKGROUND),
    }
    common = {
        "--viva-font": stack,
        "--viva-radius": RADII.get(theme.corner_radius, RADII["small"]),
        "--viva-density": DENSITIES.get(theme.density, DENSITIES["comfortable"]),
    }

    def block(selector: str, values: dict[str, str]) -> str:
        body = "".join(f"{name}:{value};" for name, value in values.items())
        return f"{selector}{{{body}}}\n"

    css = _font_faces(font_slug, label) if font_slug else ""
    css += block(":root", {**light, **common, "color-scheme": "light"})
    css += block(':root[data-mode="dark"]', {**dark, "color-scheme": "dark"})
    css += (
        '@media (prefers-color-scheme: dark){:root[data-mode="auto"]'
        + block("", {**dark, "color-scheme": "dark"}).strip()
        + "}\n"
    )
    return css
