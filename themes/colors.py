"""Colour arithmetic for themes: WCAG 2.2 contrast ratios and readable variants."""

from __future__ import annotations

import re

HEX_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
WHITE = "#ffffff"
DARK_BACKGROUND = "#121417"
AA_NORMAL_TEXT = 4.5


def parse_hex(color: str) -> tuple[int, int, int]:
    if not HEX_RE.match(color or ""):
        raise ValueError(f"'{color}' is not a colour like #1f4e79.")
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def to_hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(max(0, min(255, c))):02x}" for c in rgb)


def relative_luminance(color: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = parse_hex(color)
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(foreground: str, background: str) -> float:
    lighter, darker = sorted(
        (relative_luminance(foreground), relative_luminance(background)), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)


def mix(color: str, other: str, amount: float) -> str:
    a, b = parse_hex(color), parse_hex(other)
    return to_hex(tuple(x + (y - x) * amount for x, y in zip(a, b, strict=True)))


def readable_on(color: str, background: str, minimum: float = AA_NORMAL_TEXT) -> str:
    """``color``, lightened or darkened just enough to reach ``minimum`` contrast."""
    if contrast_ratio(color, background) >= minimum:
        return color
    target = WHITE if relative_luminance(background) < 0.5 else "#000000"
    for step in range(1, 21):
        candidate = mix(color, target, step / 20)
        if contrast_ratio(candidate, background) >= minimum:
            return candidate
    return target
