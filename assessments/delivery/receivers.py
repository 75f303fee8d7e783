"""Delivery's part in privacy: what an export holds and what an erasure removes.

An erased candidate's attempts stay (anonymised through the user row) so exam statistics
keep their counts and scores, but where they sat is forgotten: IP, browser, session digest
and the details of integrity events (which name addresses and browsers) are cleared.
Webcam snapshots are images of the person: an erasure deletes them (rows and files), and an
export lists each one (when it was taken, its size) with the consent the attempt recorded.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from tenants.privacy.signals import collecting_personal_data, erasing_user

from . import proctoring
from .models import Attempt, IntegrityEvent, ProctoringSnapshot, Response


@receiver(collecting_personal_data, dispatch_uid="delivery.export_attempts")
def export_attempts(sender: Any, user: Any, **kwargs: Any) -> dict:
    attempts = Attempt.objects.filter(user=user).select_related("exam", "version")
    return {
        "exam_attempts": [
            {
                "exam": attempt.exam.title,
                "version": attempt.version.number,
                "number": attempt.number,
                "status": attempt.status,
                "started_at": attempt.started_at,
                "deadline": attempt.deadline,
                "submitted_at": attempt.submitted_at,
                "score": attempt.score,
                "max_score": attempt.max_score,
                "passed": attempt.passed,
                "ip": attempt.ip,
                "webcam_consent_at": attempt.webcam_consent_at,
                "user_agent": attempt.user_agent,
                "responses": list(
                    Response.objects.filter(attempt=attempt)
                    .order_by("position")
                    .values("position", "value", "flagged", "saved_at", "score", "feedback")
                ),
                "integrity_events": list(
                    IntegrityEvent.objects.filter(attempt=attempt)
                    .order_by("at", "pk")
                    .values("kind", "at", "detail")
                ),
                # Listed, not embedded: the export is JSON; the images stay with the portal's
                # proctors until retention or erasure deletes them.
                "webcam_snapshots": list(
                    ProctoringSnapshot.objects.filter(attempt=attempt)
                    .order_by("taken_at", "pk")
                    .values("taken_at", "bytes")
                ),
            }
            for attempt in attempts.order_by("started_at", "pk")
        ]
    }


@receiver(erasing_user, dispatch_uid="delivery.erase_attempt_traces")
def erase_attempt_traces(sender: Any, user: Any, **kwargs: Any) -> None:
    attempts = Attempt.objects.filter(user=user)
    proctoring.delete_snapshots_of(user=user)
    IntegrityEvent.objects.filter(attempt__in=attempts).update(detail={})
    attempts.update(ip=None, user_agent="", session_key_hash="")
