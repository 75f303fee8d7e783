"""XLSX: the CSV columns in the first sheet of a workbook (read and written with openpyxl).

Rows are referred to as "row N" (the sheet's row number). Before openpyxl opens a file, its
zip directory is checked: a workbook that would unpack to more than ``MAX_UNPACKED_BYTES``,
or that is compressed more than ``MAX_RATIO`` times, is refused as a likely zip bomb.
Formulas are never evaluated: a formula cell is read as its text.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from assessments.interchange.base import ImportPreview, InterchangeError
from assessments.interchange.csv_format import EXAMPLES, parse_table, table
from assessments.interchange.json_format import question_records

MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_RATIO = 100
#: Below this unpacked size the ratio is not checked (tiny, highly regular files are normal).
RATIO_FLOOR_BYTES = 1024 * 1024
SHEET_TITLE = "Questions"


def check_archive(data: bytes) -> None:
    """Refuse what is not a zip with an XLSX layout, and zip bombs, by the zip directory."""
    if not data.startswith(b"PK"):
        raise InterchangeError(
            "The file is not an XLSX workbook (an XLSX file is a zip archive, and this one "
            "is not). Save it from your spreadsheet as 'Excel Workbook (.xlsx)', or import a "
            "CSV file as CSV."
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise InterchangeError(
            f"The XLSX file is damaged or truncated: its zip directory cannot be read ({exc})."
        ) from None
    unpacked = sum(entry.file_size for entry in entries)
    packed = sum(entry.compress_size for entry in entries)
    if unpacked > MAX_UNPACKED_BYTES:
        raise InterchangeError(
            f"The XLSX file would unpack to {unpacked / 1048576:.0f} MB; the limit is "
            f"{MAX_UNPACKED_BYTES // 1048576} MB (refused as a possible zip bomb)."
        )
    if unpacked > RATIO_FLOOR_BYTES and unpacked > MAX_RATIO * max(packed, 1):
        raise InterchangeError(
            f"The XLSX file is compressed {unpacked // max(packed, 1)} times (limit "
            f"{MAX_RATIO}); refused as a possible zip bomb."
        )
    names = {entry.filename for entry in entries}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise InterchangeError(
            "The file is a zip archive but not an XLSX workbook (no [Content_Types].xml "
            "or xl/ folder)."
        )


def cell_text(value: Any) -> str:
    """A cell's value as the text the CSV reader would have seen."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


class XlsxFormat:
    key = "xlsx"
    label = "Excel (XLSX)"
    can_export = True

    def read(self, data: bytes, *, filename: str = "") -> ImportPreview:
        from openpyxl import load_workbook

        check_archive(data)
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        except Exception as exc:  # openpyxl raises many kinds for a broken workbook
            raise InterchangeError(
                f"The XLSX workbook cannot be opened: {type(exc).__name__}: {exc}"
            ) from None
        try:
            if not workbook.worksheets:
                raise InterchangeError("The XLSX workbook has no sheet.")
            sheet = workbook.worksheets[0]

            def rows() -> Iterator[tuple[str, list[str]]]:
                number = 0
                try:
                    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                        yield f"row {number}", [cell_text(value) for value in values]
                except InterchangeError:
                    raise
                except Exception as exc:  # a damaged sheet part
                    raise InterchangeError(
                        f"row {number + 1}: the sheet cannot be read: {type(exc).__name__}: {exc}"
                    ) from None

            return parse_table(rows(), ImportPreview(format=self.key))
        finally:
            workbook.close()

    def write(self, questions: list[Any]) -> bytes:
        return workbook_bytes(table(question_records(questions)))


def workbook_bytes(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_TITLE)
    for row in rows:
        # Every cell is written as text (already formula-safe), so nothing becomes a formula.
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def template_xlsx() -> bytes:
    """The downloadable XLSX template: the header and one example row per question type."""
    return workbook_bytes(table(EXAMPLES))


FORMAT = XlsxFormat()
