"""AI question generation: drafts an author reviews, never questions on their own.

``generate_batch`` asks the provider for questions about a topic, a pasted syllabus or an
uploaded document (``extract_text``: txt, pdf, docx), checks every draft with its type's
validator, looks for duplicates in the bank and stores the lot as a ``GenerationBatch``.
Nothing enters the bank until the author picks drafts on the review page:
``save_drafts`` stores exactly those, as **draft** questions, and refuses invalid ones.

Duplicates: a draft whose normalised text (tags stripped, case folded, punctuation and
spacing ignored) equals a bank question's is "the same text"; otherwise the provider's
embeddings of the draft and of the bank's question texts are compared, and a cosine of at
least ``VIVA_AI_DUPLICATE_COSINE`` (default 0.9) is "very similar". Retired questions are
not compared; the most recent ``VIVA_AI_DUPLICATE_BANK_LIMIT`` questions (default 5,000) are.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils.html import strip_tags

from assessments import services as bank
from assessments.ai import metering
from assessments.ai.base import GenerationRequest, ProviderError, get_provider
from assessments.ai.feature_models import GenerationBatch
from assessments.html import sanitise_html
from assessments.models import Question
from assessments.questions import REGISTRY, QuestionDataError, get_type

FEATURE = "question_generation"
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_SOURCE_CHARS = 30_000
MAX_COUNT = 20
GENERATABLE_TYPES = ("single_choice", "multiple_response", "true_false", "short_answer", "essay")


class GenerationError(ValueError):
    """A refused generation step, in words an author can read."""


# -- source documents ---------------------------------------------------------------------


def extract_text(*, filename: str, data: bytes) -> str:
    """The plain text of an uploaded txt, pdf or docx file (``GenerationError`` otherwise)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise GenerationError(f"The file is larger than {MAX_UPLOAD_BYTES // 1048576} MB.")
    if not data:
        raise GenerationError("The file is empty.")
    name = filename.lower()
    if name.endswith((".txt", ".md")):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    elif name.endswith(".pdf"):
        text = _pdf_text(data)
    elif name.endswith(".docx"):
        text = _docx_text(data)
    else:
        raise GenerationError("Upload a .txt, .pdf or .docx file.")
    text = re.sub(r"[ \t]+", " ", text).strip()
    if not text:
        raise GenerationError("No text could be read from the file.")
    return text[:MAX_SOURCE_CHARS]


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        return "\n".join((page.extract_text() or "") for page in reader.pages[:200])
    except (PyPdfError, ValueError, KeyError, OSError) as error:
        raise GenerationError(f"The PDF could not be read ({type(error).__name__}).") from None


def _docx_text(data: bytes) -> str:
    """The paragraphs of ``word/document.xml`` (parsed with defusedxml: no DTDs)."""
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    namespace = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("word/document.xml")
            if info.file_size > 50 * 1024 * 1024:
                raise GenerationError("The document is too large once unpacked.")
            root = ElementTree.fromstring(archive.read(info))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, DefusedXmlException):
        raise GenerationError("The .docx file could not be read.") from None
    paragraphs = []
    for paragraph in root.iter(f"{namespace}p"):
        paragraphs.append("".join(t.text or "" for t in paragraph.iter(f"{namespace}t")))
    return "\n".join(p for p in paragraphs if p.strip())


# -- checking drafts ----------------------------------------------------------------------


def normalised_text(value: str) -> str:
    text = html.unescape(strip_tags(value or "")).casefold()
    return " ".join(re.findall(r"\w+", text))


def check_draft(draft: Any) -> dict:
    """A draft as stored on the batch: its fields (data normalised when valid) and
    ``errors`` naming every problem (empty when it can be saved)."""
    errors: list[str] = []
    kind = getattr(draft, "type", "")
    data = getattr(draft, "data", {})
    if kind not in REGISTRY:
        errors.append(f"type: {kind!r} is not a question type")
    else:
        try:
            data = get_type(kind).validate(data)
        except QuestionDataError as error:
            errors += [f"data: {message}" for message in error.errors]
    title = str(getattr(draft, "title", "") or "").strip()
    if not title:
        errors.append("title is empty")
    elif len(title) > 255:
        errors.append("title is longer than 255 characters")
    difficulty = getattr(draft, "difficulty", 3)
    if not isinstance(difficulty, int) or isinstance(difficulty, bool) or not 1 <= difficulty <= 5:
        errors.append("difficulty must be a whole number from 1 to 5")
    tags = [str(t).strip()[:100] for t in (getattr(draft, "tags", ()) or ()) if str(t).strip()]
    stem = sanitise_html(str(getattr(draft, "stem", "") or ""))
    if not normalised_text(stem):
        errors.append("stem is empty")
    return {
        "type": kind,
        "title": title[:255],
        "stem": stem,
        "data": data if isinstance(data, dict) else {},
        "explanation": sanitise_html(str(getattr(draft, "explanation", "") or "")),
        "difficulty": difficulty,
        "tags": sorted(set(tags)),
        "rationale": str(getattr(draft, "rationale", "") or ""),
        "errors": errors,
        "answer_key": answer_key(kind, data) if not errors else [],
        "duplicates": [],
        "saved_question_id": None,
    }


def answer_key(kind: str, data: dict) -> list[str]:
    """The right answer of validated ``data``, in words an author checks at a glance."""
    if kind == "single_choice":
        return [o["text"] for o in data["options"] if o.get("correct")]
    if kind == "multiple_response":
        return [
            f"{o['text']} ({o['weight']})" for o in data["options"] if Decimal(str(o["weight"])) > 0
        ]
    if kind == "true_false":
        return ["True" if data["answer"] else "False"]
    if kind == "short_answer":
        return list(data["accepted"])
    if kind == "numeric":
        return [f"{data['answer']} ± {data['tolerance']} ({data['tolerance_mode']})"]
    if kind == "essay":
        return [f"{c['criterion']}: {c['max_points']} points" for c in data["rubric"]]
    if kind == "matching":
        return [f"{p['prompt']} → {p['match']}" for p in data["pairs"]]
    if kind == "ordering":
        return [" → ".join(data["items"])]
    if kind == "cloze":
        return [f"gap {g['id']}: {' | '.join(g['accepted'])}" for g in data["gaps"]]
    return []


def find_duplicates(
    texts: list[str], *, provider: Any = None, user: Any = None
) -> tuple[list[list[dict]], str]:
    """For each text, the bank questions it duplicates (best first, at most three), and a
    note when the similarity check could not run (exact matches are still found)."""
    limit = int(getattr(settings, "VIVA_AI_DUPLICATE_BANK_LIMIT", 5000))
    threshold = float(getattr(settings, "VIVA_AI_DUPLICATE_COSINE", 0.9))
    rows = list(
        Question.objects.exclude(status=Question.Status.RETIRED)
        .order_by("-updated", "-id")
        .values_list("pk", "title", "stem")[:limit]
    )
    found: list[list[dict]] = [[] for _ in texts]
    if not rows or not texts:
        return found, ""
    bank_texts = [normalised_text(stem) or normalised_text(title) for _, title, stem in rows]
    exact: dict[str, list[int]] = {}
    for index, text in enumerate(bank_texts):
        exact.setdefault(text, []).append(index)
    wanted = [normalised_text(t) for t in texts]
    for d, text in enumerate(wanted):
        for b in exact.get(text, [])[:3]:
            found[d].append(_duplicate(rows[b], "same text", 1.0))
    try:
        provider = provider or get_provider()
        result = metering.call(FEATURE, provider.embed, wanted + bank_texts, user=user)
        vectors = np.asarray(result.vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(wanted) + len(bank_texts):
            raise ProviderError("malformed output: wrong number of embeddings")
    except ProviderError as error:
        return found, f"The similarity check could not run: {error.reason}"
    drafts, stored = vectors[: len(wanted)], vectors[len(wanted) :]
    similarities = drafts @ stored.T
    for d in range(len(wanted)):
        already = {item["question_id"] for item in found[d]}
        for b in np.argsort(-similarities[d])[:3]:
            cosine = float(similarities[d, b])
            if cosine < threshold:
                break
            if rows[b][0] not in already:
                found[d].append(_duplicate(rows[b], "very similar", cosine))
    return found, ""


def _duplicate(row: tuple, reason: str, cosine: float) -> dict:
    return {"question_id": row[0], "title": row[1], "reason": reason, "cosine": round(cosine, 3)}


# -- generating and saving ----------------------------------------------------------------


def generate_batch(
    *,
    author: Any,
    topic: str = "",
    source_text: str = "",
    filename: str = "",
    count: int = 5,
    types: Iterable[str] = ("single_choice", "true_false", "short_answer"),
    difficulty: int | None = None,
    provider: Any = None,
) -> GenerationBatch:
    """Drafts from the provider, checked and compared with the bank, stored for review.
    Raises ``GenerationError`` (storing nothing) when the provider fails."""
    topic, source_text = topic.strip(), source_text.strip()[:MAX_SOURCE_CHARS]
    if not topic and not source_text:
        raise GenerationError("Give a topic, paste a syllabus or upload a document.")
    if not 1 <= count <= MAX_COUNT:
        raise GenerationError(f"Ask for 1 to {MAX_COUNT} questions.")
    types = tuple(t for t in types if t in GENERATABLE_TYPES) or ("single_choice",)
    provider = provider or get_provider()
    request = GenerationRequest(
        topic=topic, source_text=source_text, count=count, types=types, difficulty=difficulty
    )
    try:
        result = metering.call(FEATURE, provider.generate_questions, request, user=author)
    except ProviderError as error:
        raise GenerationError(
            f"The AI provider could not draft questions: {error.reason}"
        ) from None
    drafts = [check_draft(d) for d in result.drafts[: MAX_COUNT * 2]]
    duplicates, note = find_duplicates(
        [d["stem"] or d["title"] for d in drafts], provider=provider, user=author
    )
    for draft, found in zip(drafts, duplicates, strict=True):
        draft["duplicates"] = found
    return GenerationBatch.objects.create(
        source="document" if filename else "text" if source_text else "topic",
        topic=topic[:255],
        filename=filename[:255],
        drafts={"items": drafts, "note": note},
        provider=result.usage.provider,
        model=result.usage.model,
        prompt_version=result.usage.prompt_version,
        author=author,
    )


def batch_drafts(batch: GenerationBatch) -> tuple[list[dict], str]:
    """The batch's drafts and the note about the duplicate check (empty when it ran)."""
    return batch.drafts.get("items", []), batch.drafts.get("note", "")


def batch_of(*, user: Any, batch_id: int) -> GenerationBatch | None:
    """One of ``user``'s batches in this schema (someone else's id finds nothing)."""
    return GenerationBatch.objects.filter(pk=batch_id, author_id=user.pk).first()


def save_drafts(*, batch: GenerationBatch, indexes: Iterable[int], author: Any) -> list[Question]:
    """Store the chosen drafts as **draft** questions, all or none. Refuses an invalid or
    already saved draft and an empty choice."""
    chosen = sorted(set(indexes))
    if not chosen:
        raise GenerationError("Pick at least one draft to save.")
    with transaction.atomic():
        batch = GenerationBatch.objects.select_for_update().get(pk=batch.pk)
        drafts, note = batch_drafts(batch)
        for index in chosen:
            if not 0 <= index < len(drafts):
                raise GenerationError("A chosen draft does not exist.")
            if drafts[index]["errors"]:
                raise GenerationError(f"Draft {index + 1} has errors and cannot be saved.")
            if drafts[index]["saved_question_id"]:
                raise GenerationError(f"Draft {index + 1} is already in the bank.")
        try:
            created = bank.create_questions(
                author=author,
                questions=[
                    {
                        "type": drafts[i]["type"],
                        "title": drafts[i]["title"],
                        "stem": drafts[i]["stem"],
                        "data": drafts[i]["data"],
                        "explanation": drafts[i]["explanation"],
                        "difficulty": drafts[i]["difficulty"],
                        "tags": drafts[i]["tags"],
                        "status": Question.Status.DRAFT,
                    }
                    for i in chosen
                ],
            )
        except QuestionDataError as error:
            raise GenerationError("; ".join(error.errors)) from None
        for index, question in zip(chosen, created, strict=True):
            drafts[index]["saved_question_id"] = question.pk
        batch.drafts = {"items": drafts, "note": note}
        batch.save(update_fields=["drafts"])
    return created
