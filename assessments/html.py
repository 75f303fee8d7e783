"""Sanitising the rich text of questions (stem, explanation) with nh3 (ammonia)."""

from __future__ import annotations

import nh3

# ammonia's defaults, plus ``class`` on inline/code elements so math markup
# (``<span class="math">``) survives for the renderer.
_ATTRIBUTES = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
for _tag in ("span", "div", "code", "pre"):
    _ATTRIBUTES.setdefault(_tag, set()).add("class")


def sanitise_html(html: str, *, extra_url_schemes: frozenset[str] = frozenset()) -> str:
    """``html`` without scripts, event handlers, styles or unsafe URLs. ``extra_url_schemes``
    are kept besides ammonia's safe ones (the marketplace's ``viva-media:`` image references)."""
    schemes = set(nh3.ALLOWED_URL_SCHEMES) | extra_url_schemes
    return nh3.clean(html or "", attributes=_ATTRIBUTES, url_schemes=schemes).strip()
