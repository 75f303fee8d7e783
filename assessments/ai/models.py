"""What every AI call cost, per tenant (tenant schema; part of the ``assessments`` app).

One ``AICall`` row per provider call, written by ``assessments.ai.metering`` whether the call
succeeded or not, so a tenant sees what its AI features used and why a call failed.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

__all__ = ["AICall"]


class AICall(models.Model):
    """One call to an AI provider made for this tenant."""

    feature = models.CharField(max_length=40)  # e.g. "grading", "question_generation"
    provider = models.CharField(max_length=20)  # "offline" | "gemini"
    model = models.CharField(max_length=80)
    prompt_version = models.CharField(max_length=80, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    units = models.PositiveIntegerField(default=0)  # AI credits counted
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=Decimal(0))
    latency_ms = models.PositiveIntegerField(default=0)
    ok = models.BooleanField(default=True)
    error = models.TextField(blank=True)  # the provider's reason when ``ok`` is false
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["feature", "created"], name="assessments_aicall_feature")]

    def __str__(self) -> str:
        state = "ok" if self.ok else f"failed: {self.error[:40]}"
        return f"{self.feature} via {self.provider}/{self.model} ({state})"
