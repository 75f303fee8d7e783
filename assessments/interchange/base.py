"""The contract every question format implements, and the preview that imports produce."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

#: Limits that apply to every format (a larger file is refused whole, with this message).
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ITEMS = 20_000


class InterchangeError(ValueError):
    """The file cannot be read at all (wrong format, unsafe, too large). Names the place."""


@dataclass
class ImportItem:
    """One question read from a file, in the bank's own terms, not yet stored.

    ``ref`` says where it came from in words a person finds in the file ("line 12",
    "question 3 (name: Capital of France)", "item item-07.xml"). ``type`` and ``data`` follow
    ``docs/question-format.md``. ``warnings`` list what the format had that the bank drops or
    approximates for this item ("feedback per option dropped", "shuffle flag ignored").
    """

    ref: str
    type: str
    title: str
    stem: str
    data: dict[str, Any]
    explanation: str = ""
    tags: list[str] = field(default_factory=list)
    category_path: list[str] = field(default_factory=list)  # e.g. ["Maths", "Algebra"]
    difficulty: int = 3
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportProblem:
    ref: str
    message: str


@dataclass
class ImportPreview:
    format: str
    items: list[ImportItem] = field(default_factory=list)
    errors: list[ImportProblem] = field(default_factory=list)
    warnings: list[ImportProblem] = field(default_factory=list)  # file-level warnings

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        """The preview as JSON-ready data (what `import_questions --dry-run` prints)."""
        return {
            "format": self.format,
            "total": len(self.items),
            "by_type": dict(sorted(Counter(item.type for item in self.items).items())),
            "items": [
                {
                    "ref": item.ref,
                    "type": item.type,
                    "title": item.title,
                    "category": "/".join(item.category_path),
                    "tags": item.tags,
                    "warnings": item.warnings,
                }
                for item in self.items
            ],
            "warnings": [
                {"ref": w.ref, "message": w.message}
                for w in self.warnings
                + [ImportProblem(i.ref, m) for i in self.items for m in i.warnings]
            ],
            "errors": [{"ref": e.ref, "message": e.message} for e in self.errors],
        }


class QuestionFormat(Protocol):
    key: str  # "csv", "xlsx", "json", "moodle-xml", "gift", "qti", "pdf"
    label: str
    can_export: bool

    def read(self, data: bytes, *, filename: str = "") -> ImportPreview:
        """Parse ``data``; never raise for a bad item (record an ImportProblem with its ref),
        raise InterchangeError only when the file as a whole cannot be read."""

    def write(self, questions: list[Any]) -> bytes:
        """Serialise ``Question`` objects (export); only when ``can_export``."""
