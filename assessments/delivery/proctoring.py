"""Webcam proctoring (a plan feature, ``billing.entitlements.WEBCAM_PROCTORING``).

An exam version with ``webcam_proctoring`` asks the candidate to agree, before starting, to a
small webcam snapshot every ``webcam_interval_seconds``; the attempt records when they agreed
and the interval it captures at (``start_attempt``). The browser uploads each snapshot to
``store_snapshot``, which takes only a small JPEG, only for the candidate's own open attempt,
and at most one per interval. Proctors read ``webcam_timeline`` (snapshots, integrity events,
gaps); ``purge_expired_snapshots`` deletes images older than
``VIVA_PROCTORING_RETENTION_DAYS``.

If the portal's plan loses the feature, attempts on such exams still start (the candidate is
not punished for the institution's billing) but capture nothing, and the attempt's timeline
says so, so a proctor knows why there are no images.

Files live under ``proctoring/`` in the tenant's media folder, a prefix the public media view
never serves; a proctor sees them through ``snapshot_for_proctor_or_404``. Deleting a snapshot
row (directly or by cascade) deletes its file once the transaction commits.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.http import Http404
from django.utils import timezone
from django_tenants.utils import schema_context
from PIL import Image, UnidentifiedImageError

from assessments.exams.models import Exam, ExamVersion

from . import selectors, services
from .models import Attempt, IntegrityEvent, ProctoringSnapshot

#: Largest snapshot accepted, in bytes (the browser sends a ~320×240 JPEG of 10–30 KB).
MAX_SNAPSHOT_BYTES = 100 * 1024
#: Largest snapshot accepted, in pixels per side.
MAX_SNAPSHOT_SIDE = 1280
#: How much earlier than the interval a snapshot may arrive (timers and networks jitter).
INTERVAL_TOLERANCE_SECONDS = 3
#: A stretch without any image longer than this many intervals is flagged to the proctor.
GAP_INTERVALS = 2

DeliveryError = services.DeliveryError


class SnapshotError(DeliveryError):
    """A refused upload; ``status`` is the HTTP status the endpoint answers with."""

    def __init__(self, message: str, *, code: str, status: int, retry_after: int | None = None):
        super().__init__(message, code=code)
        self.status = status
        self.retry_after = retry_after


# -- the setting and the plan -----------------------------------------------------------------


def asks_for_webcam(version: ExamVersion | None) -> bool:
    """Whether the published version was frozen with webcam proctoring on."""
    return bool(version and version.snapshot["settings"].get("webcam_proctoring"))


def plan_allows_webcam() -> bool:
    from billing.entitlements import WEBCAM_PROCTORING, has_feature
    from tenants.selectors import current_tenant

    return has_feature(current_tenant(), WEBCAM_PROCTORING)


def capture_interval(version: ExamVersion | None) -> int | None:
    """Seconds between snapshots for a new attempt on ``version``; None: capture nothing
    (the version does not ask for it, or the portal's plan no longer includes it)."""
    if not asks_for_webcam(version) or not plan_allows_webcam():
        return None
    return int(version.snapshot["settings"]["webcam_interval_seconds"])


# -- starting with consent --------------------------------------------------------------------


def start_attempt(
    *, exam: Exam, user: Any, client: services.Client, consent: bool, now: datetime | None = None
) -> Attempt:
    """``services.start_attempt`` plus webcam proctoring: a new attempt on a webcam exam
    starts only with the candidate's consent, which it records with the capture interval.

    Resuming an open attempt needs no new consent. Under the exam's row lock (the same one
    ``services.start_attempt`` takes) no other request can start an attempt in between, so
    "there was no open attempt" means the returned one is new; refusing then rolls it back,
    after the other refusals (not open, no attempts left...) had their say.
    """
    now = now or timezone.now()
    with transaction.atomic():
        exam = Exam.objects.select_for_update().get(pk=exam.pk)
        resuming = selectors.open_attempt(exam=exam, user=user) is not None
        attempt = services.start_attempt(exam=exam, user=user, client=client, now=now)
        if resuming:
            return attempt
        interval = capture_interval(attempt.version)
        if interval is not None and not consent:
            raise DeliveryError(
                "This exam takes webcam snapshots. Read the notice about the camera and tick "
                "the box to agree before you start.",
                code="webcam_consent",
            )
        if interval is not None:
            attempt.webcam_interval_seconds = interval
            attempt.webcam_consent_at = now
            attempt.save(update_fields=["webcam_interval_seconds", "webcam_consent_at"])
        elif asks_for_webcam(attempt.version):
            IntegrityEvent.objects.create(
                attempt=attempt, kind=IntegrityEvent.Kind.WEBCAM_NOT_IN_PLAN, at=now, detail={}
            )
    return attempt


# -- uploads ------------------------------------------------------------------------------------


def store_snapshot(
    *, attempt: Attempt, data: bytes, now: datetime | None = None
) -> ProctoringSnapshot:
    """Keep one webcam image of ``attempt`` (the caller has checked it is the candidate's own).

    Refuses (``SnapshotError``, nothing stored) an attempt that captures nothing or is
    closed, an empty, oversized or non-JPEG body, and a snapshot sooner than the interval
    after the last one. The attempt row is locked while checking the last snapshot, so two
    uploads racing each other cannot both pass the interval check.
    """
    now = now or timezone.now()
    _check_image(data)
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().get(pk=attempt.pk)
        if not attempt.captures_webcam:
            raise SnapshotError(
                "This attempt does not take webcam snapshots.", code="no_webcam", status=409
            )
        if not attempt.is_open or selectors.is_past_grace(attempt, now):
            raise SnapshotError("This attempt is closed.", code="closed", status=409)
        _check_interval(attempt, now)
        snapshot = ProctoringSnapshot(attempt=attempt, taken_at=now, bytes=len(data))
        snapshot.file.save("snapshot.jpg", ContentFile(data), save=False)
        try:
            snapshot.save()
        except BaseException:
            snapshot.file.storage.delete(snapshot.file.name)
            raise
    return snapshot


def _check_image(data: bytes) -> None:
    if not data:
        raise SnapshotError("The snapshot is empty.", code="empty", status=400)
    if len(data) > MAX_SNAPSHOT_BYTES:
        raise SnapshotError(
            f"The snapshot is larger than {MAX_SNAPSHOT_BYTES // 1024} KB.",
            code="too_large",
            status=413,
        )
    not_jpeg = SnapshotError("The snapshot must be a JPEG image.", code="not_jpeg", status=415)
    if not data.startswith(b"\xff\xd8\xff"):
        raise not_jpeg
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "JPEG":
                raise not_jpeg
            if max(image.size) > MAX_SNAPSHOT_SIDE:
                raise SnapshotError(
                    f"The snapshot is larger than {MAX_SNAPSHOT_SIDE} pixels a side.",
                    code="too_large",
                    status=413,
                )
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise not_jpeg from exc


def _check_interval(attempt: Attempt, now: datetime) -> None:
    last = attempt.snapshots.order_by("-taken_at").values_list("taken_at", flat=True).first()
    if last is None:
        return
    earliest = last + timedelta(
        seconds=attempt.webcam_interval_seconds - INTERVAL_TOLERANCE_SECONDS
    )
    if now < earliest:
        wait = max(1, int((earliest - now).total_seconds()) + 1)
        raise SnapshotError(
            f"Too soon: one snapshot every {attempt.webcam_interval_seconds} seconds.",
            code="too_soon",
            status=429,
            retry_after=wait,
        )


# -- reading (proctors) -------------------------------------------------------------------------


def snapshot_for_proctor_or_404(*, user: Any, snapshot_id: int) -> ProctoringSnapshot:
    """A snapshot of this portal for a user with ``delivery.proctor_attempt``; else 404."""
    if not selectors.can_proctor(user=user):
        raise Http404("Not found")
    snapshot = ProctoringSnapshot.objects.filter(pk=snapshot_id).first()
    if snapshot is None or not snapshot.file:
        raise Http404("Not found")
    return snapshot


@dataclass(frozen=True)
class TimelineEntry:
    """One row of the proctor's webcam timeline: a snapshot, an integrity event or a gap."""

    at: datetime
    kind: str  # "snapshot", "event" or "gap"
    snapshot: ProctoringSnapshot | None = None
    event: IntegrityEvent | None = None
    gap_until: datetime | None = None

    @property
    def gap_text(self) -> str:
        """ "No image for 3 min" (whole minutes, or seconds under two minutes)."""
        seconds = int((self.gap_until - self.at).total_seconds())
        if seconds < 120:
            return f"No image for {seconds} s"
        return f"No image for {seconds // 60} min"


def webcam_timeline(*, attempt: Attempt, now: datetime | None = None) -> list[TimelineEntry]:
    """Snapshots and integrity events in time order, with every stretch longer than
    ``GAP_INTERVALS`` intervals without an image flagged as a gap (from the start of the
    attempt to its end, or to now while it is open)."""
    if not attempt.captures_webcam:
        return []
    snapshots = list(attempt.snapshots.order_by("taken_at", "pk"))
    entries = [TimelineEntry(at=s.taken_at, kind="snapshot", snapshot=s) for s in snapshots]
    entries += [
        TimelineEntry(at=e.at, kind="event", event=e) for e in selectors.timeline(attempt=attempt)
    ]
    end = attempt.submitted_at or now or timezone.now()
    limit = timedelta(seconds=attempt.webcam_interval_seconds * GAP_INTERVALS)
    marks = [attempt.started_at, *(s.taken_at for s in snapshots), end]
    entries += [
        TimelineEntry(at=before, kind="gap", gap_until=after)
        for before, after in zip(marks, marks[1:], strict=False)
        if after - before > limit
    ]
    order = {"snapshot": 0, "gap": 1, "event": 2}
    return sorted(entries, key=lambda entry: (entry.at, order[entry.kind]))


# -- deleting -----------------------------------------------------------------------------------


def purge_expired_snapshots(*, now: datetime | None = None) -> int:
    """Delete this tenant's snapshots older than ``VIVA_PROCTORING_RETENTION_DAYS``; their
    files go once the deletion commits. Returns how many rows were deleted."""
    days = settings.VIVA_PROCTORING_RETENTION_DAYS
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted, _ = ProctoringSnapshot.objects.filter(taken_at__lt=cutoff).delete()
    return deleted


def delete_snapshots_of(*, user: Any) -> int:
    """Erasure: every snapshot of ``user``'s attempts (files go once the erasure commits)."""
    deleted, _ = ProctoringSnapshot.objects.filter(attempt__user=user).delete()
    return deleted


@receiver(post_delete, sender=ProctoringSnapshot, dispatch_uid="delivery.snapshot_file")
def _delete_file_after_commit(sender: Any, instance: ProctoringSnapshot, **kwargs: Any) -> None:
    """However a snapshot row goes (retention, erasure, a deleted attempt), its file follows
    once the transaction commits; a rollback keeps both."""
    name, storage, schema_name = instance.file.name, instance.file.storage, connection.schema_name
    if not name:
        return

    def delete_file() -> None:
        with schema_context(schema_name):
            storage.delete(name)

    transaction.on_commit(delete_file)
