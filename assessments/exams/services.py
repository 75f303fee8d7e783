"""Writes to exams: settings, sections and items, publishing, cohorts and assignments.

Every function takes keyword arguments, re-reads the objects it is given by id in the current
schema (a service called in tenant B never touches tenant A's rows) and raises ``ExamError``
with every problem found, changing nothing, when it refuses.

Publishing (``publish_exam``) is the only way an ``ExamVersion`` is made, and nothing here ever
changes one: editing an exam or its questions afterwards only affects the next version.
"""

from __future__ import annotations

import copy
import ipaddress
import random
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from assessments.html import sanitise_html
from assessments.models import Category, Question, QuestionVersion
from assessments.questions import get_type
from assessments.questions.base import decimal_text
from assessments.selectors import category_path, search_questions
from billing import entitlements
from tenants.selectors import current_tenant

from .models import Cohort, Exam, ExamAssignment, ExamSection, ExamVersion, SectionItem

#: Settings an author edits on an exam (besides title and description).
SETTINGS_FIELDS = (
    "opens_at",
    "closes_at",
    "time_limit_minutes",
    "attempts_allowed",
    "navigation",
    "shuffle_questions",
    "shuffle_options",
    "pass_mark_percent",
    "results_release",
    "proctoring_level",
    "grace_seconds",
    "overdue_policy",
    "ip_allowlist",
    "webcam_proctoring",
    "webcam_interval_seconds",
)
EDITABLE_FIELDS = ("title", "description", *SETTINGS_FIELDS)

#: Seconds between two webcam snapshots an author may choose (inclusive).
WEBCAM_INTERVAL_RANGE = (30, 300)

#: Version of the layout of ``ExamVersion.snapshot``; readers check it.
SNAPSHOT_SCHEMA = 1


class ExamError(ValueError):
    """A refused change; ``errors`` lists every problem in words an author understands."""

    def __init__(self, errors: list[str] | str):
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        super().__init__("; ".join(self.errors))


# -- exams --------------------------------------------------------------------------------


def create_exam(*, by: Any, title: str, description: str = "", **settings: Any) -> Exam:
    """A new draft exam; ``settings`` are any of ``SETTINGS_FIELDS`` (defaults otherwise).

    The only place exams are made (builder, marketplace install, demo), so the plan's exam
    limit is enforced here: beyond it, ``ExamError`` carries the upgrade message.
    """
    _refuse_unknown(settings)
    exam = Exam(created_by=by)
    values = _clean_exam(exam, {"title": title, "description": description, **settings})
    for name, value in values.items():
        setattr(exam, name, value)
    with transaction.atomic():
        _claim_exam_allowance()
        exam.save()
    return exam


def _claim_exam_allowance() -> None:
    """Refuse a new exam beyond the plan's limit (archived exams do not count).

    A transaction-level advisory lock per schema serialises the count and the insert of
    concurrent creations until commit, so two at once cannot both take the last exam.
    """
    tenant = current_tenant()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{tenant.schema_name}:exam-limit"]
        )
    allowance = entitlements.check(tenant, entitlements.EXAMS)
    if not allowance.allowed:
        raise ExamError(allowance.message)


def update_exam(*, exam: Exam, by: Any, **changes: Any) -> Exam:
    """Apply ``changes`` (any of ``EDITABLE_FIELDS``) to the draft. Published versions are
    not affected; publish again to make them the next version."""
    _refuse_unknown(changes)
    with transaction.atomic():
        current = _locked_exam(exam)
        state = {name: getattr(current, name) for name in EDITABLE_FIELDS}
        values = _clean_exam(current, {**state, **changes})
        for name, value in values.items():
            setattr(current, name, value)
        current.save()
    return current


def archive_exam(*, exam: Exam, by: Any) -> Exam:
    """Take an exam out of use; its versions stay (attempts point to them)."""
    with transaction.atomic():
        current = _locked_exam(exam)
        current.status = Exam.Status.ARCHIVED
        current.save(update_fields=["status", "updated"])
    return current


def _refuse_unknown(values: dict) -> None:
    unknown = sorted(set(values) - set(EDITABLE_FIELDS))
    if unknown:
        raise ExamError([f"{name} is not an exam setting" for name in unknown])


def _clean_exam(exam: Exam, values: dict) -> dict:
    errors: list[str] = []
    cleaned = dict(values)
    title = values.get("title")
    title = title.strip() if isinstance(title, str) else ""
    if not title:
        errors.append("title is empty")
    elif len(title) > 255:
        errors.append("title is longer than 255 characters")
    cleaned["title"] = title
    cleaned["description"] = sanitise_html(values.get("description") or "")
    defaults = {f.name: f.get_default() for f in Exam._meta.fields if f.name in SETTINGS_FIELDS}
    for name in SETTINGS_FIELDS:
        cleaned.setdefault(name, defaults[name])

    opens_at, closes_at = cleaned["opens_at"], cleaned["closes_at"]
    for name in ("opens_at", "closes_at"):
        value = cleaned[name]
        if value is not None and not isinstance(value, datetime):
            errors.append(f"{name} must be a date and time")
        elif value is not None and timezone.is_naive(value):
            errors.append(f"{name} must carry a time zone")
    if (
        isinstance(opens_at, datetime)
        and isinstance(closes_at, datetime)
        and not _naive(opens_at, closes_at)
        and closes_at <= opens_at
    ):
        errors.append("the exam must close after it opens")

    limit = cleaned["time_limit_minutes"]
    if limit is not None and (not _whole(limit) or limit <= 0):
        errors.append("the time limit must be a whole number of minutes above 0 (or empty)")
    attempts = cleaned["attempts_allowed"]
    if not _whole(attempts) or attempts < 1:
        errors.append("attempts allowed must be a whole number of at least 1")
    grace = cleaned["grace_seconds"]
    if not _whole(grace) or grace < 0:
        errors.append("grace must be a whole number of seconds, 0 or more")
    try:
        mark = Decimal(str(cleaned["pass_mark_percent"]))
    except (InvalidOperation, ValueError):
        mark = None
    if mark is None or not mark.is_finite() or not 0 <= mark <= 100:
        errors.append("the pass mark must be a percentage from 0 to 100")
    else:
        cleaned["pass_mark_percent"] = mark.quantize(Decimal("0.01"))
    for name in ("shuffle_questions", "shuffle_options", "webcam_proctoring"):
        if not isinstance(cleaned[name], bool):
            errors.append(f"{name} must be true or false")
    for name, choices in (
        ("navigation", Exam.Navigation),
        ("results_release", Exam.ResultsRelease),
        ("proctoring_level", Exam.ProctoringLevel),
        ("overdue_policy", Exam.OverduePolicy),
    ):
        if cleaned[name] not in choices.values:
            errors.append(f"{name} must be one of {', '.join(choices.values)}")
    cleaned["ip_allowlist"] = _networks(cleaned["ip_allowlist"], errors)
    _check_webcam(exam, cleaned, errors)
    if errors:
        raise ExamError(errors)
    return cleaned


def _check_webcam(exam: Exam, cleaned: dict, errors: list[str]) -> None:
    """The snapshot interval's range, and the plan's word on turning webcam proctoring on.

    Only turning it *on* asks the plan: an exam that already has it keeps it after a
    downgrade (so its other settings stay editable), and attempts started while the plan
    lacks the feature run without capture (``delivery.proctoring.capture_interval``).
    """
    low, high = WEBCAM_INTERVAL_RANGE
    interval = cleaned["webcam_interval_seconds"]
    if not _whole(interval) or not low <= interval <= high:
        errors.append(
            f"the snapshot interval must be a whole number of seconds from {low} to {high}"
        )
    if cleaned["webcam_proctoring"] is True and not exam.webcam_proctoring:
        from billing.entitlements import WEBCAM_PROCTORING, check
        from tenants.selectors import current_tenant

        answer = check(current_tenant(), WEBCAM_PROCTORING)
        if not answer.allowed:
            errors.append(answer.message)


def _networks(value: Any, errors: list[str]) -> str:
    """The allowlist normalised to one network per line; each bad entry named in ``errors``."""
    if not isinstance(value, str):
        errors.append("the network allowlist must be text")
        return ""
    networks = []
    for entry in value.replace(",", " ").split():
        try:
            networks.append(str(ipaddress.ip_network(entry, strict=False)))
        except ValueError:
            errors.append(f"“{entry}” is not an IP address or network (e.g. 10.1.0.0/16)")
    return "\n".join(networks)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _naive(*values: datetime) -> bool:
    return any(timezone.is_naive(value) for value in values)


def _locked_exam(exam: Exam) -> Exam:
    return Exam.objects.select_for_update().get(pk=exam.pk)


# -- sections -----------------------------------------------------------------------------


def add_section(
    *, exam: Exam, title: str, instructions: str = "", position: int | None = None
) -> ExamSection:
    """A new section, last unless ``position`` (1-based) says where."""
    title = title.strip() if isinstance(title, str) else ""
    if not title:
        raise ExamError("section title is empty")
    with transaction.atomic():
        current = _locked_exam(exam)
        sections = list(current.sections.order_by("position", "id"))
        section = ExamSection.objects.create(
            exam=current,
            title=title,
            instructions=sanitise_html(instructions or ""),
            position=len(sections) + 1,
        )
        _reorder(sections, section, position)
        current.save(update_fields=["updated"])
    return section


def update_section(
    *, section: ExamSection, title: str | None = None, instructions: str | None = None
) -> ExamSection:
    with transaction.atomic():
        current = ExamSection.objects.select_for_update().get(pk=section.pk)
        if title is not None:
            if not title.strip():
                raise ExamError("section title is empty")
            current.title = title.strip()
        if instructions is not None:
            current.instructions = sanitise_html(instructions)
        current.save()
        Exam.objects.filter(pk=current.exam_id).update(updated=timezone.now())
    return current


def move_section(*, section: ExamSection, position: int) -> ExamSection:
    """Put ``section`` at ``position`` (1-based, clamped) among its exam's sections."""
    with transaction.atomic():
        exam = _locked_exam(ExamSection.objects.get(pk=section.pk).exam)
        sections = list(exam.sections.order_by("position", "id"))
        moved = next(s for s in sections if s.pk == section.pk)
        sections.remove(moved)
        _reorder(sections, moved, position)
        exam.save(update_fields=["updated"])
    return moved


def remove_section(*, section: ExamSection) -> None:
    """Delete a section and its items; the other sections close up."""
    with transaction.atomic():
        exam = _locked_exam(ExamSection.objects.get(pk=section.pk).exam)
        ExamSection.objects.filter(pk=section.pk).delete()
        _reorder(list(exam.sections.order_by("position", "id")), None, None)
        exam.save(update_fields=["updated"])


# -- items --------------------------------------------------------------------------------


def add_fixed_item(
    *,
    section: ExamSection,
    question: Question,
    points: Decimal | int | str | None = None,
    position: int | None = None,
) -> SectionItem:
    """Ask ``question`` in ``section``. Its version is pinned when the exam is published."""
    with transaction.atomic():
        current, items = _locked_section(section)
        found = Question.objects.filter(pk=question.pk).first()
        if found is None:
            raise ExamError("question does not exist")
        item = SectionItem.objects.create(
            section=current, question=found, points=_points(points), position=len(items) + 1
        )
        _reorder(items, item, position)
    return item


def add_pool_item(
    *,
    section: ExamSection,
    count: int,
    category: Category | None = None,
    include_subcategories: bool = True,
    tags: Iterable[str] = (),
    difficulty: tuple[int, int] = (1, 5),
    points: Decimal | int | str | None = None,
    position: int | None = None,
) -> SectionItem:
    """Draw ``count`` active questions at random per attempt from those matching the rule.
    Whether enough match is checked at publish time, when the pool is frozen."""
    errors = []
    if not _whole(count) or count < 1:
        errors.append("a pool must draw at least 1 question")
    low, high = difficulty
    if not (_whole(low) and _whole(high) and 1 <= low <= high <= 5):
        errors.append("difficulty must be a range within 1 to 5, low first")
    tag_names = sorted(
        {t.strip() for t in ([tags] if isinstance(tags, str) else tags) if t.strip()}
    )
    if category is not None:
        category = Category.objects.filter(pk=category.pk).first()
        if category is None:
            errors.append("category does not exist")
    if errors:
        raise ExamError(errors)
    with transaction.atomic():
        current, items = _locked_section(section)
        item = SectionItem.objects.create(
            section=current,
            count=count,
            category=category,
            include_subcategories=include_subcategories,
            tags=tag_names,
            difficulty_min=low,
            difficulty_max=high,
            points=_points(points),
            position=len(items) + 1,
        )
        _reorder(items, item, position)
    return item


def move_item(
    *, item: SectionItem, position: int, section: ExamSection | None = None
) -> SectionItem:
    """Put ``item`` at ``position`` (1-based) in ``section`` (default: its own), within the
    same exam."""
    with transaction.atomic():
        item = SectionItem.objects.select_related("section").get(pk=item.pk)
        source, source_items = _locked_section(item.section)
        target = source
        if section is not None and section.pk != source.pk:
            target = ExamSection.objects.get(pk=section.pk)
            if target.exam_id != source.exam_id:
                raise ExamError("an item can only move within its exam")
        source_items = [i for i in source_items if i.pk != item.pk]
        if target.pk == source.pk:
            _reorder(source_items, item, position)
        else:
            _reorder(source_items, None, None)
            target, target_items = _locked_section(target)
            item.section = target
            item.save(update_fields=["section"])
            _reorder(target_items, item, position)
    return item


def remove_item(*, item: SectionItem) -> None:
    with transaction.atomic():
        found = SectionItem.objects.get(pk=item.pk)
        section, items = _locked_section(found.section)
        removed = found.pk  # delete() clears pk
        found.delete()
        _reorder([i for i in items if i.pk != removed], None, None)


def _locked_section(section: ExamSection) -> tuple[ExamSection, list[SectionItem]]:
    current = ExamSection.objects.get(pk=section.pk)
    exam = _locked_exam(current.exam)
    exam.save(update_fields=["updated"])
    return current, list(current.items.order_by("position", "id"))


def _reorder(rows: list, inserted: Any, position: int | None) -> None:
    """Number ``rows`` 1..n, with ``inserted`` placed at ``position`` (default: last)."""
    rows = list(rows)
    if inserted is not None:
        index = len(rows) if position is None else max(0, min(position - 1, len(rows)))
        rows.insert(index, inserted)
    changed = []
    for number, row in enumerate(rows, start=1):
        if row.position != number:
            row.position = number
            changed.append(row)
    if changed:
        type(changed[0]).objects.bulk_update(changed, ["position"])


def _points(points: Any) -> Decimal | None:
    if points is None:
        return None
    try:
        value = Decimal(str(points))
    except (InvalidOperation, ValueError):
        value = Decimal("NaN")
    if not value.is_finite() or value < 0:
        raise ExamError("points must be a number, 0 or more")
    return value.quantize(Decimal("0.01"))


# -- publishing ---------------------------------------------------------------------------


def publish_exam(*, exam: Exam, by: Any) -> ExamVersion:
    """Validate the exam and freeze it as version n+1; the exam becomes ``published``.

    The snapshot pins every fixed question to its current ``QuestionVersion`` and every pool
    to the list of question versions eligible now (active, matching the rule, not a fixed
    question of this exam, not already in an earlier pool). Raises ``ExamError`` listing every
    problem (in words naming the section and item) and stores nothing when refused.
    """
    with transaction.atomic():
        current = _locked_exam(exam)
        if current.status == Exam.Status.ARCHIVED:
            raise ExamError("an archived exam cannot be published")
        snapshot = _snapshot(current)
        number = (current.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = ExamVersion.objects.create(
            exam=current,
            number=number,
            published_at=timezone.now(),
            published_by=by,
            snapshot=snapshot,
        )
        current.status = Exam.Status.PUBLISHED
        current.save(update_fields=["status", "updated"])
    return version


def _snapshot(exam: Exam) -> dict:
    errors: list[str] = []
    try:
        _clean_exam(exam, {name: getattr(exam, name) for name in EDITABLE_FIELDS})
    except ExamError as error:
        errors += error.errors
    sections = list(exam.sections.order_by("position", "id").prefetch_related("items"))
    if not sections:
        errors.append("the exam has no sections")
    items_by_section = {
        s.pk: sorted(s.items.all(), key=lambda i: (i.position, i.pk)) for s in sections
    }
    fixed_ids = {
        i.question_id for items in items_by_section.values() for i in items if not i.is_pool
    }
    pinned = _pinned_versions(fixed_ids)
    taken: set[int] = set(fixed_ids)  # a question is asked at most once per attempt

    frozen_sections = []
    for s_number, section in enumerate(sections, start=1):
        items = items_by_section[section.pk]
        if not items:
            errors.append(f"Section {s_number} ({section.title}) has no questions")
        frozen_items = []
        pool_number = 0
        for i_number, item in enumerate(items, start=1):
            if not item.is_pool:
                question, version = pinned[item.question_id]
                if question.status != Question.Status.ACTIVE:
                    errors.append(
                        f"Section {s_number}, item {i_number}: question “{question.title}” "
                        f"is {question.status}; only active questions can be published"
                    )
                    continue
                frozen_items.append(
                    {
                        "kind": "fixed",
                        "item_id": item.pk,
                        "question": _question_snapshot(version, item.points),
                    }
                )
                continue
            pool_number += 1
            matching = list(_pool_matches(item))
            eligible = [q for q in matching if q.pk not in taken]
            if item.count > len(eligible):
                message = (
                    f"Section {s_number}, pool {pool_number} asks for {item.count} questions "
                    f"but only {len(eligible)} active questions match ({_describe_rule(item)})"
                )
                used = len(matching) - len(eligible)
                if used:
                    message += (
                        f"; {used} more {'is' if used == 1 else 'are'} already used by a fixed "
                        "item or an earlier pool"
                    )
                errors.append(message)
                continue
            taken.update(q.pk for q in eligible)
            versions = _pinned_versions({q.pk for q in eligible})
            frozen_items.append(
                {
                    "kind": "pool",
                    "item_id": item.pk,
                    "count": item.count,
                    "rule": {
                        "category_id": item.category_id,
                        "category": category_path(category_id=item.category_id)
                        if item.category_id
                        else None,
                        "include_subcategories": item.include_subcategories,
                        "tags": list(item.tags),
                        "difficulty": [item.difficulty_min, item.difficulty_max],
                    },
                    "questions": [
                        _question_snapshot(versions[q.pk][1], item.points)
                        for q in sorted(eligible, key=lambda q: q.pk)
                    ],
                }
            )
        frozen_sections.append(
            {
                "section_id": section.pk,
                "title": section.title,
                "instructions": section.instructions,
                "items": frozen_items,
            }
        )
    if errors:
        raise ExamError(errors)
    return {
        "schema": SNAPSHOT_SCHEMA,
        "exam": {"id": exam.pk, "title": exam.title, "description": exam.description},
        "settings": settings_of(exam),
        "sections": frozen_sections,
    }


def settings_of(exam: Exam) -> dict:
    """The exam's settings as JSON-ready values (times in ISO 8601, pass mark as text)."""
    values = {name: getattr(exam, name) for name in SETTINGS_FIELDS}
    for name in ("opens_at", "closes_at"):
        values[name] = values[name].isoformat() if values[name] else None
    values["pass_mark_percent"] = decimal_text(Decimal(values["pass_mark_percent"]))
    return values


def _pinned_versions(question_ids: set[int]) -> dict[int, tuple[Question, QuestionVersion]]:
    """Each question (locked against concurrent edits) with its current version."""
    questions = {
        q.pk: q
        for q in Question.objects.select_for_update().filter(pk__in=question_ids).order_by("pk")
    }
    versions = {
        v.question_id: v
        for v in QuestionVersion.objects.filter(question_id__in=questions).filter(
            number__in={q.version for q in questions.values()}
        )
        if v.number == questions[v.question_id].version
    }
    return {pk: (question, versions[pk]) for pk, question in questions.items()}


def _pool_matches(item: SectionItem):
    return search_questions(
        tags=item.tags,
        category=item.category,
        include_subcategories=item.include_subcategories,
        difficulty=(item.difficulty_min, item.difficulty_max),
        status=Question.Status.ACTIVE,
    ).order_by("pk")


def _describe_rule(item: SectionItem) -> str:
    parts = []
    if item.category_id:
        name = item.category.name
        parts.append(f"category {name}" if item.include_subcategories else f"category {name} only")
    if item.tags:
        parts.append(f"tags: {', '.join(item.tags)}")
    if (item.difficulty_min, item.difficulty_max) != (1, 5):
        parts.append(f"difficulty {item.difficulty_min}–{item.difficulty_max}")
    return ", ".join(parts) or "any question"


def _question_snapshot(version: QuestionVersion, points: Decimal | None) -> dict:
    """What an attempt needs of one question, taken from its pinned version."""
    content = version.snapshot
    own_points = get_type(content["type"]).max_score(content["data"])
    return {
        "question_id": version.question_id,
        "question_version_id": version.pk,
        "version": version.number,
        "type": content["type"],
        "title": content["title"],
        "stem": content["stem"],
        "data": content["data"],
        "explanation": content["explanation"],
        "points": decimal_text(points if points is not None else own_points),
    }


# -- drawing ------------------------------------------------------------------------------


def draw_questions(*, version: ExamVersion, seed: int | str) -> list[dict]:
    """The questions one attempt is asked, in order: deterministic for (version, seed).

    Sections keep their order. Within a section, fixed items and pool draws (``count``
    questions sampled from the frozen pool) come in authored order, shuffled when the version
    says ``shuffle_questions``. Each dict is a copy of the pinned question snapshot plus
    ``section`` (1-based), ``section_title``, ``item_id``, ``position`` (1-based over the
    whole exam) and ``option_seed``: pass it to the type's ``render_context`` as
    ``shuffle_seed`` (``None`` when the version does not shuffle options).
    """
    snapshot = version.snapshot
    rng = random.Random(f"viva-exam-draw:{version.exam_id}:{version.number}:{seed}")  # noqa: S311 - not security
    settings = snapshot["settings"]
    drawn: list[dict] = []
    for s_number, section in enumerate(snapshot["sections"], start=1):
        questions: list[tuple[int, dict]] = []
        for item in section["items"]:
            if item["kind"] == "fixed":
                questions.append((item["item_id"], item["question"]))
            else:
                for question in rng.sample(item["questions"], item["count"]):
                    questions.append((item["item_id"], question))
        if settings["shuffle_questions"]:
            rng.shuffle(questions)
        for item_id, question in questions:
            drawn.append(
                {
                    **copy.deepcopy(question),
                    "section": s_number,
                    "section_title": section["title"],
                    "item_id": item_id,
                    "position": len(drawn) + 1,
                    "option_seed": (
                        f"{seed}:{question['question_version_id']}"
                        if settings["shuffle_options"]
                        else None
                    ),
                }
            )
    return drawn


# -- cohorts and assignments --------------------------------------------------------------


def create_cohort(*, name: str, description: str = "", members: Iterable[Any] = ()) -> Cohort:
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise ExamError("cohort name is empty")
    with transaction.atomic():
        if Cohort.objects.filter(name=name).exists():
            raise ExamError(f"cohort {name!r} already exists")
        cohort = Cohort.objects.create(name=name, description=description)
        cohort.members.set(_users(members))
    return cohort


def add_cohort_members(*, cohort: Cohort, users: Iterable[Any]) -> None:
    Cohort.objects.get(pk=cohort.pk).members.add(*_users(users))


def remove_cohort_members(*, cohort: Cohort, users: Iterable[Any]) -> None:
    Cohort.objects.get(pk=cohort.pk).members.remove(*_users(users))


def assign_exam(
    *,
    exam: Exam,
    cohort: Cohort | None = None,
    user: Any = None,
    extra_time_minutes: int = 0,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
) -> ExamAssignment:
    """Let a cohort or one user sit ``exam``; assigning the same one again updates it."""
    errors = []
    if (cohort is None) == (user is None):
        errors.append("assign the exam to one cohort or one user")
    if not _whole(extra_time_minutes) or extra_time_minutes < 0:
        errors.append("extra time must be a whole number of minutes, 0 or more")
    for name, value in (("opens_at", opens_at), ("closes_at", closes_at)):
        if value is not None and (not isinstance(value, datetime) or timezone.is_naive(value)):
            errors.append(f"{name} must be a date and time with a time zone")
    if (
        isinstance(opens_at, datetime)
        and isinstance(closes_at, datetime)
        and not _naive(opens_at, closes_at)
        and closes_at <= opens_at
    ):
        errors.append("the assignment must close after it opens")
    if errors:
        raise ExamError(errors)
    with transaction.atomic():
        current = _locked_exam(exam)
        target: dict[str, Any]
        if cohort is not None:
            target = {"cohort": Cohort.objects.get(pk=cohort.pk)}
        else:
            target = {"user": _users([user])[0]}
        assignment, _ = ExamAssignment.objects.update_or_create(
            exam=current,
            **target,
            defaults={
                "extra_time_minutes": extra_time_minutes,
                "opens_at": opens_at,
                "closes_at": closes_at,
            },
        )
    return assignment


def unassign_exam(*, assignment: ExamAssignment) -> None:
    ExamAssignment.objects.filter(pk=assignment.pk).delete()


def _users(users: Iterable[Any]) -> list:
    ids = [u.pk if hasattr(u, "pk") else u for u in users]
    found = list(get_user_model().objects.filter(pk__in=ids))
    if len(found) != len(set(ids)):
        raise ExamError("a user does not exist")
    return found
