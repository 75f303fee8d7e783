"""axe-core in Chromium finds no serious or critical WCAG violations on portal pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from tests.test_branding import set_theme

AXE = (Path(__file__).parent / "vendor" / "axe-4.14.1.min.js").read_text()


def serious_violations(page) -> list[str]:
    page.evaluate(AXE)
    result = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}
        })"""
    )
    return [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def settled_violations(page) -> list[str]:
    """``serious_violations`` on the page as it rests: every animation run to its end first
    (Wagtail's message fade-in, whose mid-animation colours are not the page's, and the admin
    sidebar badge's 25-second "ping" that waiting for would cost)."""
    page.evaluate("() => document.getAnimations().forEach(a => a.finish())")
    return serious_violations(page)


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_portal_pages_pass_axe(page, live_port, make_committed_portal, mode):
    portal = make_committed_portal(f"axe-{mode}", "Axe University")
    set_theme(portal, mode=mode, primary_color="#4b2a7b", accent_color="#b0005a", font="atkinson")
    connection.set_schema_to_public()
    base = f"http://axe-{mode}.localhost:{live_port}"
    for path in ("/", "/exams/", "/help/", "/offline/", "/accounts/login/", "/accounts/signup/"):
        page.goto(base + path)
        assert serious_violations(page) == [], path
