from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.db import models
from django.template.response import TemplateResponse
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.models import PreviewableMixin

from themes.colors import AA_NORMAL_TEXT, HEX_RE, WHITE, contrast_ratio

FONT_STACKS = {
    "system": ("System", 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif', None),
    "inter": ("Inter", '"Inter", system-ui, sans-serif', "inter"),
    "atkinson": (
        "Atkinson Hyperlegible",
        '"Atkinson Hyperlegible", system-ui, sans-serif',
        "atkinson-hyperlegible",
    ),
    "serif": ("Source Serif 4", '"Source Serif 4", Georgia, serif', "source-serif-4"),
}
RADII = {"none": "0", "small": "6px", "large": "14px"}
DENSITIES = {"compact": "0.75", "comfortable": "1"}


def validate_hex_color(value: str) -> None:
    if not HEX_RE.match(value or ""):
        raise ValidationError(f"'{value}' is not a colour: use the form #1f4e79.")


@register_setting(icon="view")
class Theme(PreviewableMixin, BaseSiteSetting):
    """The portal's branding. Editors see logo, favicon, colours, font, light/dark mode,
    corner radius and density, with a live preview of the portal beside the form. Colours
    that would make white text on them unreadable (WCAG AA, 4.5:1) are refused with the
    measured ratio."""

    class Mode(models.TextChoices):
        LIGHT = "light", "Light"
        DARK = "dark", "Dark"
        AUTO = "auto", "Follow the visitor's device"

    logo = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    favicon = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    primary_color = models.CharField(
        max_length=7,
        default="#1f4e79",
        validators=[validate_hex_color],
        help_text="Header background and links. White text must stay readable on it.",
    )
    accent_color = models.CharField(
        max_length=7,
        default="#a4262c",
        validators=[validate_hex_color],
        help_text="Buttons and highlights, with white text on them.",
    )
    font = models.CharField(
        max_length=20,
        choices=[(key, label) for key, (label, _, _) in FONT_STACKS.items()],
        default="system",
    )
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.AUTO)
    corner_radius = models.CharField(
        max_length=10, choices=[(k, k.title()) for k in RADII], default="small"
    )
    density = models.CharField(
        max_length=12, choices=[(k, k.title()) for k in DENSITIES], default="comfortable"
    )

    panels = [
        MultiFieldPanel([FieldPanel("logo"), FieldPanel("favicon")], heading="Images"),
        MultiFieldPanel(
            [FieldPanel("primary_color"), FieldPanel("accent_color")], heading="Colours"
        ),
        MultiFieldPanel(
            [
                FieldPanel("font"),
                FieldPanel("mode"),
                FieldPanel("corner_radius"),
                FieldPanel("density"),
            ],
            heading="Look and feel",
        ),
    ]

    class Meta:
        verbose_name = "Theme"

    def clean(self) -> None:
        super().clean()
        errors = {}
        for field, role in (("primary_color", "header text"), ("accent_color", "button text")):
            value = getattr(self, field)
            if not HEX_RE.match(value or ""):
                continue
            ratio = contrast_ratio(WHITE, value)
            if ratio < AA_NORMAL_TEXT:
                errors[field] = (
                    f"{value} gives white {role} a contrast of {ratio:.2f}:1; WCAG AA needs at "
                    f"least {AA_NORMAL_TEXT}:1. Choose a darker colour."
                )
        if errors:
            raise ValidationError(errors)

    @property
    def version(self) -> str:
        """Changes whenever anything that shapes the CSS or icons changes (cache busting)."""
        parts = [
            self.primary_color,
            self.accent_color,
            self.font,
            self.mode,
            self.corner_radius,
            self.density,
            str(self.logo_id),
            str(self.favicon_id),
        ]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]

    # --- live preview in the admin ---------------------------------------------------------
    def get_preview_template(self, request, mode_name):
        return "themes/preview.html"

    def serve_preview(self, request, mode_name):
        from themes.css import theme_css

        context = {"theme": self, "theme_inline_css": theme_css(self), "request": request}
        return TemplateResponse(request, self.get_preview_template(request, mode_name), context)


class CustomDomain(models.Model):
    """A host name a tenant admin wants their portal served on, and its verification state.

    The claim lives in the tenant's own schema; only a verified claim becomes a routing row
    (``tenants.Domain``) in the public schema. Until then nothing is served on the host.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for DNS verification"
        VERIFIED = "verified", "Verified"
        FAILED = "failed", "Verification failed"

    hostname = models.CharField(max_length=253, unique=True)
    token = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    is_primary = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["hostname"]

    def __str__(self) -> str:
        return self.hostname

    @property
    def record_name(self) -> str:
        return f"_viva-challenge.{self.hostname}"

    @property
    def record_value(self) -> str:
        return f"viva-verification={self.token}"
