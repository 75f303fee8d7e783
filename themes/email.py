"""Emails in the portal's branding: an HTML part styled from the theme plus a text part."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from themes.selectors import current_theme


def send_branded_mail(
    *,
    subject: str,
    portal_name: str,
    paragraphs: list[str],
    action_url: str | None,
    action_label: str | None,
    to: list[str],
    attachments: Iterable[tuple[str, str | bytes, str]] = (),
) -> None:
    """Send one email from the current tenant's schema, branded with its theme;
    ``attachments`` are ``(filename, content, mimetype)`` (e.g. an ICS invitation)."""
    theme = current_theme()
    context = {
        "subject": subject,
        "portal_name": portal_name,
        "paragraphs": paragraphs,
        "action_url": action_url,
        "action_label": action_label,
        "theme": theme,
    }
    text = "\n\n".join([*paragraphs, f"{action_label}: {action_url}" if action_url else ""])
    message = EmailMultiAlternatives(subject=subject, body=text.strip() + "\n", to=to)
    message.attach_alternative(render_to_string("themes/email/base.html", context), "text/html")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    message.send()
