"""The self-contained document of a listing version, and comparing two of them.

A document is Viva's own question JSON (``docs/question-format.md``) wrapped with what an exam
needs around it::

    {"format": "viva-template", "version": 1, "kind": "exam",
     "title": "...", "description": "...",
     "settings": {"time_limit_minutes": 60, "attempts_allowed": 1, ...},
     "sections": [{"title": "...", "instructions": "<p>…</p>",
                   "items": [{"kind": "fixed", "question": "q3f…", "points": "2.00"},
                             {"kind": "pool", "count": 2, "questions": ["q…", "q…"],
                              "points": null}]}],
     "questions": [{"ref": "q3f…", "type": "essay", "title": "...", "stem": "<p>…</p>",
                    "data": {...}, "explanation": "", "tags": [...], "difficulty": 3}],
     "media": {"3fa9…": {"content_type": "image/png", "width": 640, "height": 480,
                         "sha256": "3fa9…", "data": "<base64>"}}}

An interview template (``kind`` "interview") carries no exam: it is the publisher's
``InterviewTemplate`` with its competencies and questions::

    {"format": "viva-template", "version": 1, "kind": "interview",
     "title": "...", "description": "...", "industry": "technology", "role": "Data scientist",
     "competencies": ["Communication", ...],
     "questions": [{"ref": "t9a…", "kind": "behavioural", "competency": "Communication",
                    "prompt": "Tell me about…", "ideal_answer_notes": "…"}]}

``ref`` is stable across versions of the same publisher question (a hash, not its id), which
is what lets an update tell changed questions from added and removed ones. Rubrics travel in
an essay's ``data``. Window, network allowlist and who sits the exam are the buyer's business
and are not part of a template.

Media travels inside the document (``marketplace.media``): at publish time each ``<img>`` of
a text (description, section instructions, stems, explanations) that shows a file of the
publisher's own media is read, checked and carried under ``media`` by the key of its content
hash, and the tag becomes ``<img src="viva-media:<key>" alt width height>``. Other images (a
third party's, which would learn who opens the exam, ``data:`` URIs, another portal's path)
are dropped with a warning. ``validate_document`` refuses an entry whose bytes are not a
PNG, JPEG, GIF or WebP image, exceed ``MARKETPLACE_MAX_IMAGE_BYTES``, or do not match their
hash, key or declared size, and a text image that does not name an entry; every entry must
be used. Samples show their own images as ``data:`` URIs; installing puts them in the
buyer's image library.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from marketplace import media as carried

FORMAT = "viva-template"
VERSION = 1
KINDS = ("exam", "interview", "question_bank")
MAX_QUESTIONS = 5000
#: Exam settings a template carries (the window and the network allowlist stay the buyer's).
TEMPLATE_SETTINGS = (
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
)
QUESTION_FIELDS = ("ref", "type", "title", "stem", "data", "explanation", "tags", "difficulty")
CONTENT_FIELDS = QUESTION_FIELDS[1:]
INTERVIEW_KINDS = ("behavioural", "technical", "situational")
INTERVIEW_INDUSTRIES = ("technology", "finance", "healthcare", "consulting", "education", "other")
INTERVIEW_QUESTION_FIELDS = ("ref", "kind", "competency", "prompt", "ideal_answer_notes")
INTERVIEW_CONTENT_FIELDS = INTERVIEW_QUESTION_FIELDS[1:]
#: Header fields of an interview document an update compares (shown like exam settings).
INTERVIEW_HEADER = ("industry", "role", "competencies")


class DocumentError(ValueError):
    """A document refused as a whole; ``errors`` name each place."""

    def __init__(self, errors: list[str] | str):
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        super().__init__("; ".join(self.errors))


def max_version_bytes() -> int:
    return int(getattr(settings, "MARKETPLACE_MAX_VERSION_BYTES", 5 * 1024 * 1024))


def canonical_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def checksum(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(document)).hexdigest()


def question_ref(*, schema: str, question_id: int) -> str:
    """A stable name for a publisher's question that reveals neither its id nor the schema."""
    return "q" + hashlib.sha256(f"{schema}:{question_id}".encode()).hexdigest()[:16]


# -- building (in the publisher's schema) -----------------------------------------------------


@dataclass
class Built:
    document: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


DROPPED = "only images from this portal's own media travel with a template"


def _carry(collector: carried.Collector, html: str, *, place: str) -> tuple[str, int]:
    """``collector.carry`` with a refused image as a ``DocumentError``."""
    try:
        return collector.carry(html, place=place)
    except carried.MediaError as error:
        raise DocumentError(str(error)) from None


def _question_record(
    ref: str, snapshot: dict[str, Any], warnings: list[str], collector: carried.Collector
) -> dict[str, Any]:
    place = f"“{snapshot['title']}”"
    stem, dropped_stem = _carry(collector, snapshot.get("stem", ""), place=f"{place}, stem")
    explanation, dropped_expl = _carry(
        collector, snapshot.get("explanation", ""), place=f"{place}, explanation"
    )
    if dropped_stem or dropped_expl:
        warnings.append(f"{place}: {dropped_stem + dropped_expl} image(s) dropped ({DROPPED})")
    return {
        "ref": ref,
        "type": snapshot["type"],
        "title": snapshot["title"],
        "stem": stem,
        "data": snapshot["data"],
        "explanation": explanation,
        "tags": sorted(snapshot.get("tags") or []),
        "difficulty": snapshot.get("difficulty") or 3,
    }


def build_from_exam(*, exam_id: int, schema: str, kind: str) -> Built:
    """The document of the exam's latest published version (run in the publisher's schema).
    Building from a published version means every question was already validated and pinned."""
    from assessments.exams.models import Exam, ExamVersion
    from assessments.models import QuestionVersion

    exam = Exam.objects.filter(pk=exam_id).first()
    if exam is None:
        raise DocumentError("the exam does not exist")
    version = ExamVersion.objects.filter(exam=exam).order_by("-number").first()
    if version is None:
        raise DocumentError(f"“{exam.title}” has no published version; publish the exam first")
    snapshot = version.snapshot
    pinned_ids = [
        q["question_version_id"]
        for section in snapshot["sections"]
        for item in section["items"]
        for q in ([item["question"]] if item["kind"] == "fixed" else item["questions"])
    ]
    pinned = {v.pk: v.snapshot for v in QuestionVersion.objects.filter(pk__in=pinned_ids)}
    warnings: list[str] = []
    collector = carried.Collector(schema=schema)
    questions: dict[str, dict[str, Any]] = {}

    def add(q: dict[str, Any]) -> str:
        ref = question_ref(schema=schema, question_id=q["question_id"])
        if ref not in questions:
            snapshot = pinned[q["question_version_id"]]
            questions[ref] = _question_record(ref, snapshot, warnings, collector)
        return ref

    sections = []
    for section in snapshot["sections"]:
        items = []
        for item in section["items"]:
            if item["kind"] == "fixed":
                q = item["question"]
                items.append({"kind": "fixed", "question": add(q), "points": q["points"]})
            else:
                refs = [add(q) for q in item["questions"]]
                points = {q["points"] for q in item["questions"]}
                own = {_own_points(pinned[q["question_version_id"]]) for q in item["questions"]}
                items.append(
                    {
                        "kind": "pool",
                        "count": item["count"],
                        "questions": refs,
                        "points": None if points == own or len(points) != 1 else points.pop(),
                    }
                )
        place = f"section “{section['title']}”"
        instructions, dropped = _carry(
            collector, section.get("instructions", ""), place=f"{place}, instructions"
        )
        if dropped:
            warnings.append(f"{place}: {dropped} image(s) dropped ({DROPPED})")
        sections.append({"title": section["title"], "instructions": instructions, "items": items})
    description, dropped = _carry(collector, exam.description, place="the exam's description")
    if dropped:
        warnings.append(f"the exam's description: {dropped} image(s) dropped ({DROPPED})")
    document = {
        "format": FORMAT,
        "version": VERSION,
        "kind": kind,
        "title": exam.title,
        "description": description,
        "settings": {name: snapshot["settings"][name] for name in TEMPLATE_SETTINGS},
        "sections": sections,
        "questions": list(questions.values()),
        "media": collector.media,
    }
    return Built(document=document, warnings=warnings)


def _own_points(snapshot: dict[str, Any]) -> str:
    from assessments.questions import get_type
    from assessments.questions.base import decimal_text

    return decimal_text(get_type(snapshot["type"]).max_score(snapshot["data"]))


def interview_question_ref(*, schema: str, question_id: int) -> str:
    """Like ``question_ref`` for a publisher's interview question (its own namespace, so an
    interview question never shares a name with a bank question of the same id)."""
    return "t" + hashlib.sha256(f"{schema}:interview:{question_id}".encode()).hexdigest()[:16]


def build_from_interview_template(*, template_id: int, schema: str) -> Built:
    """The document of the publisher's interview template as it is now (run in the
    publisher's schema). Practice sessions, positions and who may practise stay behind."""
    from assessments.interviews.models import InterviewTemplate

    template = InterviewTemplate.objects.filter(pk=template_id).first()
    if template is None:
        raise DocumentError("the interview template does not exist")
    if template.source_listing_id is not None:
        raise DocumentError(
            f"“{template.title}” was installed from the marketplace; only templates authored "
            "here can be published"
        )
    questions = [
        {
            "ref": interview_question_ref(schema=schema, question_id=q.pk),
            "kind": q.kind,
            "competency": q.competency,
            "prompt": q.prompt,
            "ideal_answer_notes": q.ideal_answer_notes,
        }
        for q in template.questions.order_by("sort_order", "pk")
    ]
    document = {
        "format": FORMAT,
        "version": VERSION,
        "kind": "interview",
        "title": template.title,
        "description": template.description,
        "industry": template.industry,
        "role": template.role,
        "competencies": template.competency_list,
        "questions": questions,
    }
    return Built(document=document)


def build_from_category(*, category_id: int, schema: str, title: str) -> Built:
    """A question-bank document: the active questions of a category and its subcategories."""
    from assessments.models import Category, Question, QuestionVersion
    from assessments.selectors import category_with_descendants

    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        raise DocumentError("the category does not exist")
    ids = category_with_descendants(category=category)
    questions = list(
        Question.objects.filter(category_id__in=ids, status=Question.Status.ACTIVE).order_by("pk")
    )
    versions = {
        (v.question_id, v.number): v.snapshot
        for v in QuestionVersion.objects.filter(question__in=questions)
    }
    warnings: list[str] = []
    collector = carried.Collector(schema=schema)
    records = [
        _question_record(
            question_ref(schema=schema, question_id=q.pk),
            versions[(q.pk, q.version)],
            warnings,
            collector,
        )
        for q in questions
    ]
    document = {
        "format": FORMAT,
        "version": VERSION,
        "kind": "question_bank",
        "title": title,
        "description": "",
        "settings": {},
        "sections": [],
        "questions": records,
        "media": collector.media,
    }
    return Built(document=document, warnings=warnings)


# -- checking ---------------------------------------------------------------------------------


def validate_document(document: Any) -> dict[str, Any]:
    """The document, normalised, or ``DocumentError`` naming every problem (and its size when
    over ``MARKETPLACE_MAX_VERSION_BYTES``). Run at publish time and again before installing."""
    from assessments.questions import QuestionDataError, get_type

    if not isinstance(document, dict):
        raise DocumentError("the document is not a JSON object")
    size = len(canonical_bytes(document))
    limit = max_version_bytes()
    if size > limit:
        raise DocumentError(
            f"the version is {size / 1048576:.1f} MB; the limit is {limit / 1048576:.1f} MB "
            "(MARKETPLACE_MAX_VERSION_BYTES)"
        )
    errors: list[str] = []
    if document.get("format") != FORMAT or document.get("version") != VERSION:
        raise DocumentError(f"not a {FORMAT} document of version {VERSION}")
    kind = document.get("kind")
    if kind == "interview":
        return _validate_interview(document)
    if kind not in KINDS:
        errors.append(f"kind must be one of {', '.join(KINDS)}")
    if not isinstance(document.get("title"), str) or not document["title"].strip():
        errors.append("title is empty")
    questions = document.get("questions")
    if not isinstance(questions, list) or not questions:
        raise DocumentError([*errors, "the template has no questions"])
    if len(questions) > MAX_QUESTIONS:
        errors.append(f"more than {MAX_QUESTIONS} questions")
    normalised_questions = []
    refs: set[str] = set()
    texts: list[tuple[str, Any]] = [("description", document.get("description", ""))]
    for number, q in enumerate(questions, start=1):
        place = f"question {number}"
        if not isinstance(q, dict):
            errors.append(f"{place} is not an object")
            continue
        unknown = sorted(set(q) - set(QUESTION_FIELDS))
        if unknown:
            errors.append(f"{place}: {', '.join(unknown)} not known")
        ref = q.get("ref")
        if not isinstance(ref, str) or not ref or ref in refs:
            errors.append(f"{place}: ref is missing or repeated")
        refs.add(ref if isinstance(ref, str) else "")
        title = q.get("title")
        if not isinstance(title, str) or not title.strip() or len(title) > 255:
            errors.append(f"{place}: title is empty or longer than 255 characters")
        else:
            place = f"{place} (“{title}”)"
        try:
            question_type = get_type(q.get("type"))
        except QuestionDataError:
            errors.append(f"{place}: type {q.get('type')!r} is not a question type")
            continue
        try:
            data = question_type.validate(q.get("data"))
        except QuestionDataError as error:
            errors.extend(f"{place}: data: {message}" for message in error.errors)
            continue
        tags = q.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            errors.append(f"{place}: tags must be a list of texts")
        difficulty = q.get("difficulty", 3)
        if not isinstance(difficulty, int) or not 1 <= difficulty <= 5:
            errors.append(f"{place}: difficulty must be 1 to 5")
        for text in ("stem", "explanation"):
            texts.append((f"{place}: {text}", q.get(text, "")))
        normalised_questions.append({**q, "data": data})
    sections = document.get("sections") or []
    if kind == "exam" and not sections:
        errors.append("an exam template needs at least one section")
    used: set[str] = set()
    if not isinstance(sections, list):
        errors.append("sections must be a list")
        sections = []
    for s_number, section in enumerate(sections, start=1):
        place = f"section {s_number}"
        if not isinstance(section, dict) or not str(section.get("title") or "").strip():
            errors.append(f"{place}: title is empty")
            continue
        texts.append((f"{place}: instructions", section.get("instructions", "")))
        items = section.get("items")
        if not isinstance(items, list) or not items:
            errors.append(f"{place} has no questions")
            continue
        for i_number, item in enumerate(items, start=1):
            where = f"{place}, item {i_number}"
            if not isinstance(item, dict) or item.get("kind") not in ("fixed", "pool"):
                errors.append(f"{where}: kind must be fixed or pool")
                continue
            named = [item.get("question")] if item["kind"] == "fixed" else item.get("questions")
            if not isinstance(named, list) or not named:
                errors.append(f"{where}: names no question")
                continue
            for ref in named:
                if ref not in refs:
                    errors.append(f"{where}: question {ref!r} is not in the template")
                elif ref in used:
                    errors.append(f"{where}: question {ref!r} is used twice")
                used.add(ref)
            if item["kind"] == "pool":
                count = item.get("count")
                if not isinstance(count, int) or not 1 <= count <= len(named):
                    errors.append(f"{where}: count must be 1 to {len(named)}")
    template_settings = document.get("settings") or {}
    if not isinstance(template_settings, dict) or set(template_settings) - set(TEMPLATE_SETTINGS):
        errors.append(f"settings may only hold {', '.join(TEMPLATE_SETTINGS)}")
    media = _validate_media(document.get("media"), texts, errors)
    if errors:
        raise DocumentError(errors)
    return {**document, "questions": normalised_questions, "media": media}


def _validate_media(
    media: Any, texts: list[tuple[str, Any]], errors: list[str]
) -> dict[str, dict[str, Any]]:
    """The document's media, adding to ``errors`` each bad entry, each text that is not text
    or shows an image the template does not carry, and each entry no text uses (a document
    carries nothing a buyer is not shown)."""
    media, media_errors = carried.validate_media(media)
    errors.extend(media_errors)
    used: set[str] = set()
    for place, html in texts:
        if not isinstance(html, str):
            errors.append(f"{place} must be text")
            continue
        text_errors, keys = carried.reference_errors(html, place=place, media=media)
        errors.extend(text_errors)
        used |= keys
    errors.extend(f"media {key!r} is not used by any text" for key in media if key not in used)
    return media


def _text(value: Any, *, place: str, name: str, limit: int | None, errors: list[str]) -> str:
    """``value`` stripped, or an error naming ``place`` when it is not text, empty or long."""
    if not isinstance(value, str) or not value.strip():
        errors.append(f"{place}: {name} is empty")
        return ""
    if limit is not None and len(value) > limit:
        errors.append(f"{place}: {name} is longer than {limit} characters")
    return value.strip()


def _validate_interview(document: dict[str, Any]) -> dict[str, Any]:
    """An interview document normalised, or ``DocumentError`` naming every problem: the
    header (title, industry, role, competencies) and each question (kind, competency,
    prompt, notes), every place named by number and prompt."""
    errors: list[str] = []
    unknown = sorted(
        set(document)
        - {"format", "version", "kind", "title", "description", *INTERVIEW_HEADER, "questions"}
    )
    if unknown:
        errors.append(f"{', '.join(unknown)} not known in an interview template")
    title = _text(document.get("title"), place="template", name="title", limit=200, errors=errors)
    description = document.get("description", "")
    if not isinstance(description, str):
        errors.append("template: description must be text")
        description = ""
    industry = document.get("industry")
    if industry not in INTERVIEW_INDUSTRIES:
        errors.append(f"template: industry must be one of {', '.join(INTERVIEW_INDUSTRIES)}")
    role = _text(document.get("role"), place="template", name="role", limit=120, errors=errors)
    competencies = document.get("competencies")
    if (
        not isinstance(competencies, list)
        or not competencies
        or not all(isinstance(c, str) and c.strip() for c in competencies)
    ):
        errors.append("template: competencies must be a list of at least one name")
        competencies = []
    questions = document.get("questions")
    if not isinstance(questions, list) or not questions:
        raise DocumentError([*errors, "the template has no questions"])
    if len(questions) > MAX_QUESTIONS:
        errors.append(f"more than {MAX_QUESTIONS} questions")
    clean_questions = []
    refs: set[str] = set()
    for number, q in enumerate(questions, start=1):
        place = f"question {number}"
        if not isinstance(q, dict):
            errors.append(f"{place} is not an object")
            continue
        prompt = q.get("prompt")
        if isinstance(prompt, str) and prompt.strip():
            place = f"{place} (“{prompt.strip()[:60]}”)"
        unknown = sorted(set(q) - set(INTERVIEW_QUESTION_FIELDS))
        if unknown:
            errors.append(f"{place}: {', '.join(unknown)} not known")
        ref = q.get("ref")
        if not isinstance(ref, str) or not ref or len(ref) > 40 or ref in refs:
            errors.append(f"{place}: ref is missing, longer than 40 characters or repeated")
        refs.add(ref if isinstance(ref, str) else "")
        if q.get("kind") not in INTERVIEW_KINDS:
            errors.append(f"{place}: kind must be one of {', '.join(INTERVIEW_KINDS)}")
        notes = q.get("ideal_answer_notes", "")
        if not isinstance(notes, str):
            errors.append(f"{place}: ideal_answer_notes must be text")
            notes = ""
        clean_questions.append(
            {
                "ref": ref,
                "kind": q.get("kind"),
                "competency": _text(
                    q.get("competency"), place=place, name="competency", limit=80, errors=errors
                ),
                "prompt": _text(prompt, place=place, name="prompt", limit=None, errors=errors),
                "ideal_answer_notes": notes.strip(),
            }
        )
    if errors:
        raise DocumentError(errors)
    return {
        "format": FORMAT,
        "version": VERSION,
        "kind": "interview",
        "title": title,
        "description": description.strip(),
        "industry": industry,
        "role": role,
        "competencies": [c.strip() for c in competencies],
        "questions": clean_questions,
    }


# -- sample questions -------------------------------------------------------------------------


def sample_questions(document: dict[str, Any], *, count: int = 3) -> list[dict[str, Any]]:
    """What a preview shows: the first ``count`` questions as a candidate sees them, with
    their own images inline (``data:`` URIs) and nothing else of the document's media."""
    from assessments.questions import get_type

    if document["kind"] == "interview":
        return _interview_samples(document, count=count)
    samples = []
    for position, q in enumerate(document["questions"][:count], start=1):
        samples.append(
            {
                "position": position,
                "type": q["type"],
                "title": q["title"],
                "stem": carried.with_data_uris(q.get("stem", ""), document.get("media") or {}),
                "candidate_view": get_type(q["type"]).render_context(q["data"]),
            }
        )
    return samples


def _interview_samples(document: dict[str, Any], *, count: int) -> list[dict[str, Any]]:
    """The first ``count`` prompts with their kind and competency; the notes on what a
    strong answer covers are what a buyer pays for, so they stay out of the preview."""
    from django.utils.html import escape

    return [
        {
            "position": position,
            "type": f"interview:{q['kind']}",
            "title": f"{q['kind'].capitalize()} · {q['competency']}"[:255],
            "stem": f"<p>{escape(q['prompt'])}</p>",
            "candidate_view": {"kind": q["kind"], "competency": q["competency"]},
        }
        for position, q in enumerate(document["questions"][:count], start=1)
    ]


# -- comparing --------------------------------------------------------------------------------


@dataclass
class QuestionChange:
    ref: str
    title: str
    fields: list[str] = field(default_factory=list)


@dataclass
class DocumentDiff:
    added: list[QuestionChange] = field(default_factory=list)
    removed: list[QuestionChange] = field(default_factory=list)
    changed: list[QuestionChange] = field(default_factory=list)
    settings: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    sections_changed: bool = False
    title_changed: bool = False

    @property
    def is_empty(self) -> bool:
        return not (
            self.added
            or self.removed
            or self.changed
            or self.settings
            or self.sections_changed
            or self.title_changed
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": [c.title for c in self.added],
            "removed": [c.title for c in self.removed],
            "changed": {c.title: c.fields for c in self.changed},
            "settings": {k: list(v) for k, v in self.settings.items()},
            "sections_changed": self.sections_changed,
            "title_changed": self.title_changed,
        }


def question_label(q: dict[str, Any]) -> str:
    """How a diff names a question: its title, or an interview question's prompt."""
    if "title" in q:
        return q["title"]
    prompt = q.get("prompt", "")
    return prompt if len(prompt) <= 80 else prompt[:79] + "…"


def diff_documents(old: dict[str, Any], new: dict[str, Any]) -> DocumentDiff:
    """What installing ``new`` over ``old`` changes: questions, settings, structure. For an
    interview template the header (industry, role, competencies) is reported as settings and
    a new question order as ``sections_changed``."""
    interview = new.get("kind") == "interview"
    content = INTERVIEW_CONTENT_FIELDS if interview else CONTENT_FIELDS
    before = {q["ref"]: q for q in old["questions"]}
    after = {q["ref"]: q for q in new["questions"]}
    diff = DocumentDiff()
    for ref, q in after.items():
        if ref not in before:
            diff.added.append(QuestionChange(ref=ref, title=question_label(q)))
            continue
        fields = [f for f in content if before[ref].get(f) != q.get(f)]
        if fields:
            diff.changed.append(QuestionChange(ref=ref, title=question_label(q), fields=fields))
    diff.removed = [
        QuestionChange(ref=ref, title=question_label(q))
        for ref, q in before.items()
        if ref not in after
    ]
    if interview:
        for name in INTERVIEW_HEADER:
            if old.get(name) != new.get(name):
                diff.settings[name] = (old.get(name), new.get(name))
        diff.sections_changed = [q["ref"] for q in old["questions"] if q["ref"] in after] != [
            q["ref"] for q in new["questions"] if q["ref"] in before
        ]
        diff.title_changed = (old.get("title"), old.get("description")) != (
            new.get("title"),
            new.get("description"),
        )
        return diff
    old_settings, new_settings = old.get("settings") or {}, new.get("settings") or {}
    for name in TEMPLATE_SETTINGS:
        if old_settings.get(name) != new_settings.get(name):
            diff.settings[name] = (old_settings.get(name), new_settings.get(name))
    diff.sections_changed = old.get("sections") != new.get("sections")
    diff.title_changed = (old.get("title"), old.get("description")) != (
        new.get("title"),
        new.get("description"),
    )
    return diff
