"""Interviews' part in privacy: what an export holds and what an erasure removes.

Practice transcripts are the candidate's own words: the export carries them and erasure
deletes the sessions outright. Candidacies keep the panel scores (the hiring record) but
lose the written feedback; reviews written by an erased reviewer lose their comments.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from tenants.privacy.signals import collecting_personal_data, erasing_user

from .models import InterviewSession, PanelReview, PositionCandidate


@receiver(collecting_personal_data, dispatch_uid="interviews.export")
def export_interviews(sender: Any, user: Any, **kwargs: Any) -> dict:
    sessions = InterviewSession.objects.filter(user=user).select_related("template")
    return {
        "interview_practice": [
            {
                "template": session.template.title,
                "status": session.status,
                "started_at": session.started_at,
                "completed_at": session.completed_at,
                "score": session.score,
                "turns": list(
                    session.turns.order_by("position").values(
                        "position",
                        "prompt",
                        "transcript",
                        "input_mode",
                        "asked_at",
                        "submitted_at",
                        "duration_seconds",
                        "feedback",
                        "score",
                    )
                ),
            }
            for session in sessions.order_by("started_at", "pk")
        ],
        "job_applications": [
            {
                "position": c.position.title,
                "invited_at": c.invited_at,
                "feedback": c.feedback,
                "feedback_sent_at": c.feedback_sent_at,
            }
            for c in PositionCandidate.objects.filter(user=user).select_related("position")
        ],
    }


@receiver(erasing_user, dispatch_uid="interviews.erase")
def erase_interview_data(sender: Any, user: Any, **kwargs: Any) -> None:
    InterviewSession.objects.filter(user=user).delete()
    PositionCandidate.objects.filter(user=user).update(feedback="")
    PanelReview.objects.filter(reviewer=user).update(comments="")
