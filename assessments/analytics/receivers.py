"""Analytics' listeners: refresh item analysis as attempts arrive; privacy export/erasure.

The ``post_save`` receiver on ``Attempt`` is the documented extension point delivery offers
(it saves the row when an attempt is submitted and when a grader changes a score): it only
schedules a recomputation after commit and never raises into the submission.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from assessments.delivery.models import Attempt
from tenants.privacy.signals import collecting_personal_data, erasing_user

from . import services
from .models import Certificate, LeaderboardOptIn, ReportJob


@receiver(post_save, sender=Attempt, dispatch_uid="analytics.refresh_on_submit")
def refresh_on_submit(sender: Any, instance: Attempt, **kwargs: Any) -> None:
    if instance.status == Attempt.Status.SUBMITTED and instance.grading == Attempt.Grading.GRADED:
        services.request_item_analysis(version_id=instance.version_id)


@receiver(collecting_personal_data, dispatch_uid="analytics.export")
def export_analytics(sender: Any, user: Any, **kwargs: Any) -> dict:
    """Certificates and leaderboard consents; a section only when there is something in it."""
    sections = {
        "certificates": list(
            Certificate.objects.filter(attempt__user=user).values(
                "code", "candidate_name", "exam_title", "percent", "passed_on", "issued_at"
            )
        ),
        "leaderboard_opt_ins": list(
            LeaderboardOptIn.objects.filter(user=user).values("exam__title", "created")
        ),
    }
    return {name: rows for name, rows in sections.items() if rows}


@receiver(erasing_user, dispatch_uid="analytics.erase")
def erase_analytics(sender: Any, user: Any, **kwargs: Any) -> None:
    # A certificate names the person; after erasure it verifies nothing.
    Certificate.objects.filter(attempt__user=user).delete()
    LeaderboardOptIn.objects.filter(user=user).delete()
    # Bulk zips of the exams they sat may hold their report or certificate: removed.
    jobs = ReportJob.objects.filter(exam__attempts__user=user).exclude(file="").distinct()
    for job in jobs:
        job.file.delete(save=False)
        job.message = "The file was removed when a person's data was erased."
        job.save(update_fields=["file", "message"])
