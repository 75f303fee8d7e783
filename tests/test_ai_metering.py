"""Metering: one AICall row per AI call in the tenant's own schema, counted against the plan's
AI credits; failures recorded with their reason; never outside a tenant schema."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.db import connection

from assessments.ai import metering
from assessments.ai.base import (
    Criterion,
    CriterionScore,
    GradingRequest,
    GradingResult,
    ProviderError,
    Usage,
)
from assessments.ai.models import AICall
from assessments.ai.offline import OfflineProvider
from billing import entitlements
from billing.models import UsageRecord
from tests.conftest import make_member

REQUEST = GradingRequest(
    question_stem="What is osmosis?",
    response_text="Water moves through a membrane from dilute to concentrated solution.",
    rubric=(Criterion("c", "Content", Decimal("2")),),
    model_answer="Osmosis is the movement of water across a partially permeable membrane.",
)


class SlowProvider:
    """A provider whose grade takes at least 20 ms and notes the schema it ran in."""

    name = "gemini"

    def __init__(self):
        self.schemas: list[str] = []

    def grade(self, request: GradingRequest) -> GradingResult:
        self.schemas.append(connection.schema_name)
        time.sleep(0.02)
        usage = Usage(
            provider="gemini",
            model="gemini-2.5-flash",
            prompt_version="grade_rubric@1",
            input_tokens=120,
            output_tokens=45,
            cost_usd=Decimal("0.000149"),
        )
        return GradingResult((CriterionScore("c", Decimal("2.00"), "ok"),), 0.9, "ok", usage)

    def failing_grade(self, request: GradingRequest) -> GradingResult:
        self.schemas.append(connection.schema_name)
        raise ProviderError("Gemini did not answer in time (read timeout).", retryable=True)


def ai_credits_used(tenant) -> int:
    return sum(
        UsageRecord.objects.filter(tenant=tenant, feature=entitlements.AI_CREDITS).values_list(
            "units", flat=True
        )
    )


def test_a_call_is_recorded_with_prompt_version_latency_and_credits(make_portal):
    portal = make_portal("alpha")
    grader = make_member(portal, "grader@alpha.test")
    provider = SlowProvider()
    with portal.activate():
        result = metering.call("grading", provider.grade, REQUEST, user=grader)
        call = AICall.objects.get()
    assert provider.schemas == ["alpha"]
    assert result.total == Decimal("2.00")
    assert result.usage.latency_ms >= 20
    assert (call.feature, call.provider, call.model, call.prompt_version) == (
        "grading",
        "gemini",
        "gemini-2.5-flash",
        "grade_rubric@1",
    )
    assert (call.input_tokens, call.output_tokens, call.units) == (120, 45, 1)
    assert call.cost_usd == Decimal("0.000149")
    assert call.latency_ms == result.usage.latency_ms >= 20
    assert call.ok and call.error == ""
    assert call.user_id == grader.pk
    assert ai_credits_used(portal.tenant) == 1


def test_the_offline_provider_is_metered_too(make_portal):
    portal = make_portal("alpha")
    provider = OfflineProvider.shared()
    with portal.activate():
        metering.call("grading", provider.grade, REQUEST)
        metering.call("plagiarism", provider.embed, ["one", "two"])
        calls = list(
            AICall.objects.order_by("id").values_list(
                "feature", "provider", "model", "prompt_version", "ok"
            )
        )
    assert calls == [
        ("grading", "offline", "minilm-l6-static", "offline-grade-rules@1", True),
        ("plagiarism", "offline", "minilm-l6-static", "offline-embed@1", True),
    ]
    assert ai_credits_used(portal.tenant) == 2


def test_a_provider_error_is_recorded_with_its_reason_and_costs_nothing(make_portal):
    portal = make_portal("alpha")
    provider = SlowProvider()
    with portal.activate():
        with pytest.raises(ProviderError, match="did not answer in time"):
            metering.call("grading", provider.failing_grade, REQUEST)
        call = AICall.objects.get()
    assert not call.ok
    assert call.error == "Gemini did not answer in time (read timeout)."
    assert call.provider == "gemini" and call.units == 0
    assert ai_credits_used(portal.tenant) == 0


def test_no_ai_call_runs_in_the_public_schema(make_portal):
    make_portal("alpha")
    provider = SlowProvider()
    connection.set_schema_to_public()
    with pytest.raises(metering.OutsideTenantError):
        metering.call("grading", provider.grade, REQUEST)
    with pytest.raises(metering.OutsideTenantError):
        metering.record("grading", Usage("offline", "m", "v"))
    assert provider.schemas == []
    assert UsageRecord.objects.count() == 0


def test_calls_are_refused_when_the_plan_has_no_credits_left(make_portal):
    from billing import services as billing

    portal = make_portal("alpha")
    billing.record_usage(tenant=portal.tenant, feature=entitlements.AI_CREDITS, units=100)
    provider = SlowProvider()
    with portal.activate():
        with pytest.raises(ProviderError, match="AI credits"):
            metering.call("grading", provider.grade, REQUEST)
        call = AICall.objects.get()
    assert provider.schemas == []
    assert not call.ok and "AI credits" in call.error
    assert ai_credits_used(portal.tenant) == 100


def test_a_tenants_calls_are_invisible_to_another(two_portals):
    alpha, beta = two_portals
    provider = SlowProvider()
    with alpha.activate():
        metering.call("grading", provider.grade, REQUEST)
        metering.call("grading", provider.grade, REQUEST)
    with beta.activate():
        metering.call("question_generation", provider.grade, REQUEST)
        assert list(AICall.objects.values_list("feature", flat=True)) == ["question_generation"]
        assert not AICall.objects.filter(feature="grading").exists()
    with alpha.activate():
        assert list(AICall.objects.values_list("feature", flat=True)) == ["grading", "grading"]
    assert provider.schemas == ["alpha", "alpha", "beta"]
    assert ai_credits_used(alpha.tenant) == 2
    assert ai_credits_used(beta.tenant) == 1
