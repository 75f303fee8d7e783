"""IMS/1EdTech QTI 2.1 and 3.0: packages (zip with ``imsmanifest.xml``) and single items.

Reading accepts both versions. QTI 3.0 names (``qti-choice-interaction``, ``max-choices``) are
normalised to the QTI 2.1 names (``choiceInteraction``, ``maxChoices``) first, and namespaces
are dropped, so one reader serves both. Every XML file is parsed with defusedxml and any DTD
is refused. Zip packages are checked before anything is unpacked: entry names (zip-slip),
entry count, total unpacked size and compression ratio (zip bombs); every entry is read with
a size cap. Writing produces a QTI 3.0 package. See ``docs/question-format.md``
("File formats: QTI").
"""

from __future__ import annotations

import copy as copy_module
import html
import io
import posixpath
import re
import zipfile
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from xml.etree import ElementTree as ET  # noqa: N817 - building only; parsing is defused
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from assessments.interchange.base import (
    ImportItem,
    ImportPreview,
    ImportProblem,
    InterchangeError,
)
from assessments.interchange.moodle_xml import html_to_text
from assessments.questions.base import decimal_text
from assessments.questions.types import GAP

QTI3_NS = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
QTI21_NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
CP_NS = "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"

MAX_ENTRIES = 5_000
MAX_UNPACKED = 100 * 1024 * 1024
MAX_RATIO = 100
RATIO_FLOOR = 1024 * 1024  # the ratio is checked for entries (and totals) above 1 MB

SUPPORTED = {
    "choiceInteraction",
    "textEntryInteraction",
    "inlineChoiceInteraction",
    "extendedTextInteraction",
    "matchInteraction",
    "orderInteraction",
}
GAP_INTERACTIONS = ("textEntryInteraction", "inlineChoiceInteraction")

ITEM_FAILURES = (ValueError, TypeError, KeyError, IndexError, ArithmeticError, RecursionError)
TWO = Decimal("0.01")


class SkipItem(Exception):  # noqa: N818 - a signal, not a failure
    """An item the bank cannot hold (unsupported interaction); skipped with a warning."""


class QtiFormat:
    key = "qti"
    label = "QTI 2.1 / 3.0"
    can_export = True

    def read(self, data: bytes, *, filename: str = "") -> ImportPreview:
        preview = ImportPreview(format=self.key)
        if data[:4] == b"PK\x03\x04" or filename.lower().endswith(".zip"):
            files = _unpack(data)
            for href, problem in _manifest_items(files, preview):
                if problem:
                    continue
                _read_item_file(files[href], href, preview, in_package=True)
        else:
            _read_item_file(data, filename or "item.xml", preview, in_package=False)
        return preview

    def write(self, questions: list[Any]) -> bytes:
        buffer = io.BytesIO()
        resources = []
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
            for number, question in enumerate(questions, 1):
                identifier = f"item-{number}"
                href = f"items/{identifier}.xml"
                package.writestr(href, _item_xml(question, identifier))
                resources.append((identifier, href))
            package.writestr("imsmanifest.xml", _manifest_xml(resources))
        return buffer.getvalue()


FORMAT = QtiFormat()


# -- package ---------------------------------------------------------------------------------


def _unpack(data: bytes) -> dict[str, bytes]:
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        infos = package.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise InterchangeError(f"The file is not a readable zip package: {exc}.") from None
    if len(infos) > MAX_ENTRIES:
        raise InterchangeError(f"The package has {len(infos)} entries; the limit is {MAX_ENTRIES}.")
    total = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos)
    if total > MAX_UNPACKED:
        raise InterchangeError(
            f"The package unpacks to {total / 1048576:.1f} MB; the limit is "
            f"{MAX_UNPACKED // 1048576} MB."
        )
    if total > RATIO_FLOOR and total > MAX_RATIO * max(packed, 1):
        raise InterchangeError(
            f"The package is compressed more than {MAX_RATIO} to 1 (a zip bomb?); refused."
        )
    files: dict[str, bytes] = {}
    for info in infos:
        name = info.filename
        if _unsafe_name(name):
            raise InterchangeError(
                f"The package entry '{name}' points outside the package (absolute path or "
                "'..'); refused."
            )
        if info.is_dir():
            continue
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise InterchangeError(
                f"The package entry '{name}' is compressed more than {MAX_RATIO} to 1 "
                "(a zip bomb?); refused."
            )
        try:
            with package.open(info) as handle:
                content = handle.read(info.file_size + 1)
        # zipfile raises NotImplementedError for compression methods it does not support.
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as exc:
            raise InterchangeError(f"The package entry '{name}' cannot be read: {exc}.") from None
        if len(content) > info.file_size:
            raise InterchangeError(
                f"The package entry '{name}' is larger than its header says; refused."
            )
        files[name] = content
    return files


def _unsafe_name(name: str) -> bool:
    normal = name.replace("\\", "/")
    return (
        normal.startswith("/")
        or re.match(r"^[A-Za-z]:", normal) is not None
        or ".." in normal.split("/")
        or "\x00" in normal
    )


def _manifest_items(files: dict[str, bytes], preview: ImportPreview):
    """(href, problem?) for every item resource the manifest lists, in order."""
    if "imsmanifest.xml" not in files:
        raise InterchangeError(
            "The package has no imsmanifest.xml at its top level; a QTI package lists its "
            "items there."
        )
    manifest = _parse(files["imsmanifest.xml"], "imsmanifest.xml")
    if manifest.tag != "manifest":
        raise InterchangeError(
            f"imsmanifest.xml: the root element is <{manifest.tag}>, not <manifest>."
        )
    found = 0
    for resource in manifest.iter("resource"):
        kind = resource.get("type", "")
        if not kind.startswith("imsqti_item"):
            continue
        found += 1
        identifier = resource.get("identifier", "")
        href = resource.get("href", "")
        ref = f"imsmanifest.xml resource {identifier or found} ({href})"
        if not href:
            preview.errors.append(ImportProblem(ref, "the resource has no href"))
            yield href, True
            continue
        base = resource.get("{http://www.w3.org/XML/1998/namespace}base", "")
        path = posixpath.normpath(posixpath.join(base, href)) if base else href
        if _unsafe_name(path):
            raise InterchangeError(f"{ref}: the href points outside the package; refused.")
        if path not in files:
            preview.errors.append(
                ImportProblem(ref, f"the listed file '{path}' is not in the package")
            )
            yield path, True
            continue
        yield path, False
    if not found:
        preview.warnings.append(
            ImportProblem("imsmanifest.xml", "the manifest lists no QTI item resources")
        )


# -- XML -------------------------------------------------------------------------------------


def _parse(data: bytes, place: str) -> Element:
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise InterchangeError(
            f"{place}: the file declares a DTD or entities (<!DOCTYPE …>); they are refused "
            f"because they can read server files or exhaust memory ({type(exc).__name__})."
        ) from None
    except ParseError as exc:
        line, column = exc.position
        raise InterchangeError(
            f"{place}: not well-formed XML at line {line}, column {column + 1}: "
            f"{str(exc).split(':')[0]}."
        ) from None
    except (ValueError, LookupError, RecursionError) as exc:
        raise InterchangeError(f"{place}: cannot be read as XML: {exc}.") from None
    _normalise(root)
    return root


def _camel(name: str) -> str:
    head, *rest = name.split("-")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _normalise(root: Element) -> None:
    """Drop namespaces; QTI 3.0 ``qti-foo-bar`` → ``fooBar`` with kebab attributes camelled."""
    for element in root.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if "}" in tag:
            tag = tag.split("}", 1)[1]
        if tag.startswith("qti-"):
            tag = _camel(tag[4:])
            for key in list(element.attrib):
                if "-" in key and not key.startswith(("data-", "aria-", "{")):
                    element.attrib[_camel(key)] = element.attrib.pop(key)
        element.tag = tag
        for key in list(element.attrib):
            if key.startswith("{") and not key.startswith("{http://www.w3.org/XML/1998/"):
                element.attrib[key.split("}", 1)[1]] = element.attrib.pop(key)


def _read_item_file(data: bytes, name: str, preview: ImportPreview, *, in_package: bool) -> None:
    try:
        root = _parse(data, name)
    except InterchangeError as exc:
        if in_package and "DTD" not in str(exc):
            preview.errors.append(ImportProblem(f"item ({name})", str(exc)))
            return
        raise
    if root.tag != "assessmentItem":
        if in_package:
            preview.errors.append(
                ImportProblem(f"item ({name})", f"the root element is <{root.tag}>, not an item")
            )
            return
        raise InterchangeError(
            f"{name}: the root element is <{root.tag}>; a QTI item starts with "
            "<assessmentItem> (2.1) or <qti-assessment-item> (3.0)."
        )
    ref = f"item {root.get('identifier', '?')} ({name})"
    try:
        preview.items.append(_read_item(root, ref))
    except SkipItem as skip:
        preview.warnings.append(ImportProblem(ref, str(skip)))
    except ITEM_FAILURES as exc:
        preview.errors.append(ImportProblem(ref, f"cannot be read: {exc}"))


# -- reading items ---------------------------------------------------------------------------


def _decimal(raw: str | None) -> Decimal | None:
    try:
        return Decimal((raw or "").strip())
    except InvalidOperation:
        return None


def _values(element: Element | None) -> list[str]:
    if element is None:
        return []
    return ["".join(v.itertext()).strip() for v in element.iter("value")]


def _declarations(root: Element) -> dict[str, dict]:
    out = {}
    for decl in root.iter("responseDeclaration"):
        mapping = decl.find("mapping")
        entries = []
        if mapping is not None:
            for entry in mapping.iter("mapEntry"):
                entries.append(
                    (
                        entry.get("mapKey", ""),
                        _decimal(entry.get("mappedValue")) or Decimal(0),
                        entry.get("caseSensitive", "false").lower() == "true",
                    )
                )
        out[decl.get("identifier", "")] = {
            "correct": _values(decl.find("correctResponse")),
            "mapping": entries,
            "area": decl.find("areaMapping") is not None,
        }
    return out


def _max_score(root: Element) -> Decimal | None:
    for decl in root.iter("outcomeDeclaration"):
        if decl.get("identifier") == "MAXSCORE":
            values = _values(decl.find("defaultValue"))
            if values:
                return _decimal(values[0])
    return None


def _points_text(value: Decimal | None, item: ImportItem) -> str:
    if value is None or value <= 0:
        return "1.00"
    rounded = value.quantize(TWO, rounding=ROUND_HALF_UP)
    if rounded != value:
        item.warnings.append(f"score {value} rounded to {rounded}")
    return decimal_text(max(rounded, TWO))


def _inner_html(element: Element) -> str:
    parts = [html.escape(element.text or "", quote=False)]
    for child in element:
        parts.append(ET.tostring(child, encoding="unicode"))
    return "".join(parts).strip()


def _plain(element: Element, skip: tuple[str, ...] = ("feedbackInline",)) -> str:
    copy = _copy_without(element, skip)
    return html_to_text(_inner_html(copy))


def _copy_without(element: Element, tags: tuple[str, ...]) -> Element:
    copy = copy_module.deepcopy(element)
    emptied: list[Element] = []
    for parent in list(copy.iter()):
        for child in list(parent):
            if child.tag in tags:
                if child.tail:
                    previous = _previous(parent, child)
                    if previous is None:
                        parent.text = (parent.text or "") + child.tail
                    else:
                        previous.tail = (previous.tail or "") + child.tail
                parent.remove(child)
                emptied.append(parent)
    parents = {child: parent for parent in copy.iter() for child in parent}
    for parent in emptied:  # a paragraph that only held an interaction goes with it
        if parent is not copy and not len(parent) and not (parent.text or "").strip():
            holder = parents.get(parent)
            if holder is not None and parent in list(holder):
                if parent.tail and parent.tail.strip():
                    continue
                holder.remove(parent)
    return copy


def _previous(parent: Element, child: Element) -> Element | None:
    children = list(parent)
    index = children.index(child)
    return children[index - 1] if index else None


def _read_item(root: Element, ref: str) -> ImportItem:
    body = root.find("itemBody")
    if body is None:
        raise ValueError("the item has no itemBody")
    interactions = [e for e in body.iter() if e.tag.endswith("Interaction")]
    kinds = {e.tag for e in interactions}
    unsupported = sorted(kinds - SUPPORTED)
    if unsupported:
        raise SkipItem(f"interaction '{unsupported[0]}' is not supported; item skipped")
    if not interactions:
        raise SkipItem("the item has no interaction; skipped")
    block = kinds - set(GAP_INTERACTIONS)
    if (
        len(block) > 1
        or (block and kinds & set(GAP_INTERACTIONS))
        or (block and len(interactions) > 1)
    ):
        raise SkipItem("items with several interactions are not supported; item skipped")
    title = (root.get("title") or root.get("identifier") or ref).strip()
    item = ImportItem(ref=ref, type="", title=title[:255], stem="", data={})
    if len(title) > 255:
        item.warnings.append("title shortened to 255 characters")
    feedback = [
        _inner_html(f.find("contentBody") if f.find("contentBody") is not None else f)
        for f in root.iter("modalFeedback")
    ]
    item.explanation = "".join(feedback)
    if len(feedback) > 1:
        item.warnings.append("several modal feedbacks joined into the explanation")
    declarations = _declarations(root)
    points = _max_score(root)
    if block:
        interaction = interactions[0]
        declaration = declarations.get(interaction.get("responseIdentifier", ""))
        if declaration is None:
            raise ValueError(
                f"no responseDeclaration '{interaction.get('responseIdentifier', '')}'"
            )
        stem_body = _copy_without(body, (interaction.tag, "rubricBlock"))
        stem = _inner_html(stem_body)
        prompt = interaction.find("prompt")
        if prompt is not None:
            prompt_html = _inner_html(prompt)
            if prompt_html and not prompt_html.startswith("<"):
                prompt_html = f"<p>{prompt_html}</p>"
            stem += prompt_html
        item.stem = stem
        READERS[interaction.tag](interaction, declaration, points, item, root)
    elif len(interactions) == 1 and interactions[0].tag == "textEntryInteraction":
        item.stem = _inner_html(_copy_without(body, ("textEntryInteraction", "rubricBlock")))
        declaration = declarations.get(interactions[0].get("responseIdentifier", ""), {})
        _read_short_answer(declaration, points, item)
    else:
        _read_cloze(body, interactions, declarations, points, item)
    if root.find("itemBody//rubricBlock") is not None and item.type != "essay":
        item.warnings.append("rubric blocks dropped")
    if not item.title:
        item.title = html_to_text(item.stem)[:255] or ref
    return item


def _split_weights(values: list[Decimal]) -> list[Decimal]:
    """Weights rounded to two places; the first right one takes the remainder."""
    positive = sum((v for v in values if v > 0), Decimal(0))
    if positive <= 0:
        return [Decimal(0)] * len(values)
    weights = [
        max(Decimal(-1), (v / positive).quantize(TWO, rounding=ROUND_HALF_UP)) for v in values
    ]
    right = [i for i, v in enumerate(values) if v > 0]
    weights[right[0]] += 1 - sum(weights[i] for i in right)
    return weights


def _read_choice(interaction, declaration, points, item, root) -> None:
    choices = list(interaction.iter("simpleChoice"))
    options = []
    for number, choice in enumerate(choices, 1):
        feedback = " ".join(_plain(f, ()) for f in choice.iter("feedbackInline"))
        options.append(
            {
                "id": choice.get("identifier") or str(number),
                "text": _plain(choice),
                "feedback": feedback,
            }
        )
    shuffle = interaction.get("shuffle", "false").lower() == "true"
    max_choices = interaction.get("maxChoices", "1").strip() or "1"
    correct = set(declaration["correct"])
    if max_choices == "1":
        item.type = "single_choice"
        for option in options:
            option["correct"] = option["id"] in correct
        item.data = {"points": _points_text(points, item), "shuffle": shuffle, "options": options}
        return
    item.type = "multiple_response"
    mapped = {key: value for key, value, _ in declaration["mapping"]}
    if mapped:
        values = [mapped.get(o["id"], Decimal(0)) for o in options]
        total = sum((v for v in values if v > 0), Decimal(0))
    else:
        if declaration["area"]:
            item.warnings.append("areaMapping ignored: correct responses share the score")
        values = [Decimal(1) if o["id"] in correct else Decimal(0) for o in options]
        total = None
    weights = _split_weights(values)
    for option, weight in zip(options, weights, strict=True):
        option["weight"] = decimal_text(weight)
    if points is None and total:
        points = total
    item.data = {
        "points": _points_text(points, item),
        "shuffle": shuffle,
        "negative_marking": any(w < 0 for w in weights),
        "options": options,
    }


def _accepted(declaration: dict, item: ImportItem) -> tuple[list[str], bool]:
    accepted = list(declaration.get("correct", []))
    entries = declaration.get("mapping", [])
    case = True
    if entries:
        best = max(value for _, value, _ in entries)
        case = all(sensitive for _, _, sensitive in entries)
        for key, value, _ in entries:
            if value == best and best > 0:
                if key not in accepted:
                    accepted.append(key)
            elif value > 0:
                item.warnings.append("answers with partial credit dropped")
    return accepted, case


def _read_short_answer(declaration, points, item) -> None:
    item.type = "short_answer"
    accepted, case = _accepted(declaration, item)
    item.data = {
        "points": _points_text(points, item),
        "accepted": accepted,
        "case_sensitive": case,
    }


def _read_cloze(body, interactions, declarations, points, item) -> None:
    item.type = "cloze"
    gaps: list[dict] = []
    tokens: dict[str, str] = {}
    copy = copy_module.deepcopy(body)
    first_block = None
    for index, child in enumerate(list(copy)):
        if any(e.tag in GAP_INTERACTIONS for e in child.iter()):
            first_block = index
            break
    for parent in list(copy.iter()):
        for child in list(parent):
            if child.tag not in GAP_INTERACTIONS:
                continue
            gap_id = str(len(gaps) + 1)
            declaration = declarations.get(child.get("responseIdentifier", ""), {})
            accepted, case = _accepted(declaration, item)
            gap: dict[str, Any] = {"id": gap_id, "accepted": accepted, "case_sensitive": False}
            if child.tag == "inlineChoiceInteraction":
                texts = {c.get("identifier", ""): _plain(c) for c in child.iter("inlineChoice")}
                gap["accepted"] = [texts.get(a, a) for a in accepted]
                gap["options"] = list(texts.values())
            else:
                gap["case_sensitive"] = case
            gaps.append(gap)
            token = f"\x00{gap_id}\x00"
            tokens[token] = "{{" + gap_id + "}}"
            child.text, child.tag = token, "span"
            child.attrib.clear()
            for grandchild in list(child):
                child.remove(grandchild)
    children = list(copy)
    stem_part = children[:first_block]
    holder = Element("div")
    holder.text = copy.text
    holder.extend(stem_part)
    item.stem = _inner_html(holder)
    rest = Element("div")
    rest.extend(c for c in children[first_block:] if c.tag != "rubricBlock")
    text = html_to_text(_inner_html(rest))
    for token, gap_text in tokens.items():
        text = text.replace(token, gap_text)
    item.data = {"points": _points_text(points, item), "text": text, "gaps": gaps}


def _read_essay(interaction, declaration, points, item, root) -> None:
    item.type = "essay"
    rubric = []
    blocks = list(root.iter("rubricBlock"))
    for block in blocks:
        for entry in block.iter("li"):
            if entry.get("data-max-points") is None:
                continue
            strong = entry.find("strong")
            criterion = "".join(strong.itertext()).strip() if strong is not None else ""
            description = (strong.tail or "") if strong is not None else "".join(entry.itertext())
            rubric.append(
                {
                    "id": entry.get("data-criterion-id") or str(len(rubric) + 1),
                    "criterion": criterion,
                    "max_points": entry.get("data-max-points", ""),
                    "description": description.removeprefix(":").strip(),
                }
            )
    if not rubric:
        description = " ".join(html_to_text(_inner_html(b)) for b in blocks).strip()
        rubric = [
            {
                "id": "1",
                "criterion": "Overall",
                "max_points": _points_text(points, item),
                "description": description[:2000],
            }
        ]
        item.warnings.append("rubric approximated as one criterion ('Overall') worth the score")
    item.data = {"rubric": rubric}


def _read_match(interaction, declaration, points, item, root) -> None:
    item.type = "matching"
    sets = list(interaction.iter("simpleMatchSet"))
    if len(sets) != 2:
        raise ValueError("a matchInteraction needs two simpleMatchSets")
    sources = {c.get("identifier", ""): _plain(c) for c in sets[0].iter("simpleAssociableChoice")}
    targets = {c.get("identifier", ""): _plain(c) for c in sets[1].iter("simpleAssociableChoice")}
    pairs, used, seen = [], set(), set()
    for value in declaration["correct"]:
        parts = value.split()
        if len(parts) != 2 or parts[0] not in sources or parts[1] not in targets:
            raise ValueError(f"correct response {value!r} does not name a source and a target")
        if parts[0] in seen:
            item.warnings.append("a prompt with several right matches keeps the first")
            continue
        seen.add(parts[0])
        used.add(parts[1])
        pairs.append({"prompt": sources[parts[0]], "match": targets[parts[1]]})
    if set(sources) - seen:
        item.warnings.append("prompts without a right match dropped")
    matches = {p["match"] for p in pairs}
    distractors = []
    for key, text in targets.items():
        if key not in used and text not in matches and text not in distractors:
            distractors.append(text)
    item.data = {
        "points": _points_text(points, item),
        "shuffle": interaction.get("shuffle", "false").lower() == "true",
        "pairs": pairs,
        "distractors": distractors,
    }


def _read_order(interaction, declaration, points, item, root) -> None:
    item.type = "ordering"
    texts = {c.get("identifier", ""): _plain(c) for c in interaction.iter("simpleChoice")}
    missing = [v for v in declaration["correct"] if v not in texts]
    if missing:
        raise ValueError(f"correct response names unknown choice {missing[0]!r}")
    item.data = {
        "points": _points_text(points, item),
        "items": [texts[v] for v in declaration["correct"]],
    }


READERS = {
    "choiceInteraction": _read_choice,
    "extendedTextInteraction": _read_essay,
    "matchInteraction": _read_match,
    "orderInteraction": _read_order,
}


# -- writing ---------------------------------------------------------------------------------

RP = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/"


def _el(parent: Element | None, tag: str, text: str | None = None, **attrs: str) -> Element:
    attrib = {k.replace("_", "-"): v for k, v in attrs.items()}
    element = Element(tag, attrib) if parent is None else ET.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = _xml_safe(text)
    return element


def _xml_safe(text: str) -> str:
    return "".join(
        ch
        for ch in text
        if ch in "\t\n\r"
        or 0x20 <= ord(ch) <= 0xD7FF
        or 0xE000 <= ord(ch) <= 0xFFFD
        or ord(ch) > 0xFFFF
    )


def _html_fragment(source: str) -> list[Element] | None:
    """Stem HTML as XHTML elements (void tags closed, named entities decoded), or None."""
    text = re.sub(
        r"<(br|hr|img|input|wbr|col|area|source)\b([^>]*?)/?>", r"<\1\2/>", source, flags=re.I
    )
    text = re.sub(
        r"&([A-Za-z][A-Za-z0-9]*);",
        lambda m: (
            m.group(0)
            if m.group(1) in ("amp", "lt", "gt", "quot", "apos")
            else html.escape(html.unescape(m.group(0)))
        ),
        text,
    )
    try:
        holder = SafeET.fromstring(f"<div>{_xml_safe(text)}</div>", forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError):
        return None
    if holder.text and holder.text.strip():
        paragraph = Element("p")
        paragraph.text = holder.text
        return [paragraph, *list(holder)]
    return list(holder)


def _append_html(parent: Element, source: str) -> None:
    if not source.strip():
        return
    fragment = _html_fragment(source)
    if fragment is None:
        parent.append(ET.Comment(" stem was not well-formed XHTML; written as plain text "))
        _el(parent, "p", html_to_text(source))
        return
    parent.extend(fragment)


def _declaration(root, cardinality, base_type, correct, mapping=None, case=None) -> None:
    decl = _el(
        root,
        "qti-response-declaration",
        identifier="RESPONSE",
        cardinality=cardinality,
        base_type=base_type,
    )
    if correct:
        values = _el(decl, "qti-correct-response")
        for value in correct:
            _el(values, "qti-value", value)
    if mapping:
        node = _el(decl, "qti-mapping", default_value="0")
        for key, value in mapping:
            attrs = {"map_key": key, "mapped_value": value}
            if case is not None:
                attrs["case_sensitive"] = "true" if case else "false"
            _el(node, "qti-map-entry", **attrs)


def _outcomes(root, points: str) -> None:
    _el(root, "qti-outcome-declaration", identifier="SCORE", cardinality="single",
        base_type="float")  # fmt: skip
    maxscore = _el(root, "qti-outcome-declaration", identifier="MAXSCORE",
                   cardinality="single", base_type="float")  # fmt: skip
    _el(_el(maxscore, "qti-default-value"), "qti-value", points)


def _choice_id(number: int) -> str:
    return f"choice-{number}"


def _item_xml(question: Any, identifier: str) -> bytes:
    data, kind = question.data, question.type
    root = _el(None, "qti-assessment-item", xmlns=QTI3_NS, identifier=identifier,
               title=question.title, adaptive="false", time_dependent="false")  # fmt: skip
    root.set("xml:lang", "en")
    notes: list[str] = []
    template = "match_correct.xml"
    points = data.get("points", "1.00")
    body: Element
    if kind in ("single_choice", "multiple_response", "true_false"):
        if kind == "true_false":
            options = [
                {"id": "true", "text": "True", "correct": data["answer"],
                 "feedback": data["feedback_true"]},
                {"id": "false", "text": "False", "correct": not data["answer"],
                 "feedback": data["feedback_false"]},
            ]  # fmt: skip
            notes.append("true/false written as a choice between True and False")
        else:
            options = data["options"]
        single = kind != "multiple_response"
        if single:
            correct = [o["id"] for o in options if o["correct"]]
            _declaration(root, "single", "identifier", correct)
        else:
            weights = [Decimal(o["weight"]) for o in options]
            if not data["negative_marking"]:
                weights = [max(w, Decimal(0)) for w in weights]
            correct = [o["id"] for o, w in zip(options, weights, strict=True) if w > 0]
            mapping = [(o["id"], decimal_text(w)) for o, w in zip(options, weights, strict=True)]
            _declaration(root, "multiple", "identifier", correct, mapping)
            template = "map_response.xml"
        _outcomes(root, points)
        body = _el(root, "qti-item-body")
        _append_html(body, question.stem)
        interaction = _el(body, "qti-choice-interaction", response_identifier="RESPONSE",
                          shuffle="true" if data.get("shuffle") else "false",
                          max_choices="1" if single else "0")  # fmt: skip
        for option in options:
            choice = _el(interaction, "qti-simple-choice", identifier=option["id"])
            choice.text = _xml_safe(option["text"])
            if option.get("feedback"):
                _el(choice, "qti-feedback-inline", option["feedback"],
                    outcome_identifier="FEEDBACK", identifier=option["id"],
                    show_hide="show")  # fmt: skip
    elif kind in ("short_answer", "numeric"):
        if kind == "numeric":
            accepted, case = [data["answer"]], True
            notes.append("numeric written as a text entry: tolerance and units dropped")
        else:
            accepted, case = data["accepted"], data["case_sensitive"]
        _declaration(root, "single", "string", accepted[:1],
                     [(a, "1") for a in accepted], case)  # fmt: skip
        template = "map_response.xml"
        _outcomes(root, points)
        body = _el(root, "qti-item-body")
        _append_html(body, question.stem)
        _el(_el(body, "p"), "qti-text-entry-interaction", response_identifier="RESPONSE")
    elif kind == "essay":
        points = decimal_text(sum((Decimal(c["max_points"]) for c in data["rubric"]), Decimal(0)))
        _el(root, "qti-response-declaration", identifier="RESPONSE", cardinality="single",
            base_type="string")  # fmt: skip
        _outcomes(root, points)
        body = _el(root, "qti-item-body")
        rubric = _el(_el(body, "qti-rubric-block", use="scoring", view="scorer"),
                     "qti-content-body")  # fmt: skip
        entries = _el(rubric, "ul")
        for criterion in data["rubric"]:
            entry = _el(entries, "li", **{"data-criterion-id": criterion["id"],
                                          "data-max-points": criterion["max_points"]})  # fmt: skip
            strong = _el(entry, "strong", criterion["criterion"])
            if criterion.get("description"):
                strong.tail = _xml_safe(": " + criterion["description"])
        _append_html(body, question.stem)
        _el(body, "qti-extended-text-interaction", response_identifier="RESPONSE")
        if data.get("min_words") or data.get("max_words"):
            notes.append("word limits dropped")
        template = ""
    elif kind == "matching":
        sources = [(f"S{n}", p["prompt"]) for n, p in enumerate(data["pairs"], 1)]
        texts: list[str] = []
        for text in [p["match"] for p in data["pairs"]] + list(data["distractors"]):
            if text not in texts:
                texts.append(text)
        target_ids = {text: f"T{n}" for n, text in enumerate(texts, 1)}
        correct = [f"{s} {target_ids[p['match']]}" for (s, _), p in
                   zip(sources, data["pairs"], strict=True)]  # fmt: skip
        _declaration(root, "multiple", "directedPair", correct)
        _outcomes(root, points)
        body = _el(root, "qti-item-body")
        _append_html(body, question.stem)
        interaction = _el(body, "qti-match-interaction", response_identifier="RESPONSE",
                          shuffle="true" if data["shuffle"] else "false",
                          max_associations=str(len(sources)))  # fmt: skip
        left = _el(interaction, "qti-simple-match-set")
        for source_id, text in sources:
            _el(left, "qti-simple-associable-choice", text, identifier=source_id, match_max="1")
        right = _el(interaction, "qti-simple-match-set")
        for text in texts:
            count = sum(1 for p in data["pairs"] if p["match"] == text)
            _el(right, "qti-simple-associable-choice", text, identifier=target_ids[text],
                match_max=str(max(count, 1)))  # fmt: skip
    elif kind == "ordering":
        ids = [_choice_id(n) for n in range(1, len(data["items"]) + 1)]
        _declaration(root, "ordered", "identifier", ids)
        _outcomes(root, points)
        body = _el(root, "qti-item-body")
        _append_html(body, question.stem)
        interaction = _el(body, "qti-order-interaction", response_identifier="RESPONSE",
                          shuffle="true")  # fmt: skip
        for choice_id, text in zip(ids, data["items"], strict=True):
            _el(interaction, "qti-simple-choice", text, identifier=choice_id)
    elif kind == "cloze":
        _write_cloze(root, question, data, points)
        template = ""
        body = root.find("qti-item-body")
    else:
        raise InterchangeError(f"Question type '{kind}' cannot be written as QTI.")
    if question.explanation.strip():
        feedback = _el(root, "qti-modal-feedback", outcome_identifier="FEEDBACK",
                       identifier="explanation", show_hide="show")  # fmt: skip
        _append_html(_el(feedback, "qti-content-body"), question.explanation)
    if template:
        _el(root, "qti-response-processing", template=RP + template)
    for note in reversed(notes):
        root.insert(0, ET.Comment(" " + note.replace("--", "- -") + " "))
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(
        root, encoding="utf-8", xml_declaration=False
    )


def _write_cloze(root: Element, question: Any, data: dict, points: str) -> None:
    gaps = {g["id"]: g for g in data["gaps"]}
    order = [m.group(1) for m in GAP.finditer(data["text"])]
    for position, gap_id in enumerate(order, 1):
        gap = gaps[gap_id]
        decl = _el(root, "qti-response-declaration", identifier=f"RESPONSE_{position}",
                   cardinality="single",
                   base_type="identifier" if gap.get("options") else "string")  # fmt: skip
        if gap.get("options"):
            ids = {text: f"g{position}-{n}" for n, text in enumerate(gap["options"], 1)}
            values = _el(decl, "qti-correct-response")
            for accepted in gap["accepted"]:
                _el(values, "qti-value", ids[accepted])
        else:
            values = _el(decl, "qti-correct-response")
            _el(values, "qti-value", gap["accepted"][0])
            mapping = _el(decl, "qti-mapping", default_value="0")
            for accepted in gap["accepted"]:
                _el(mapping, "qti-map-entry", map_key=accepted, mapped_value="1",
                    case_sensitive="true" if gap["case_sensitive"] else "false")  # fmt: skip
    _outcomes(root, points)
    body = _el(root, "qti-item-body")
    _append_html(body, question.stem)
    paragraph = _el(body, "p")
    position_in_text, last = 0, None
    paragraph.text = ""
    for position, found in enumerate(GAP.finditer(data["text"]), 1):
        chunk = _xml_safe(data["text"][position_in_text : found.start()])
        if last is None:
            paragraph.text += chunk
        else:
            last.tail = chunk
        gap = gaps[found.group(1)]
        if gap.get("options"):
            last = _el(paragraph, "qti-inline-choice-interaction",
                       response_identifier=f"RESPONSE_{position}", shuffle="false")  # fmt: skip
            for n, text in enumerate(gap["options"], 1):
                _el(last, "qti-inline-choice", text, identifier=f"g{position}-{n}")
        else:
            last = _el(paragraph, "qti-text-entry-interaction",
                       response_identifier=f"RESPONSE_{position}")  # fmt: skip
        position_in_text = found.end()
    tail = _xml_safe(data["text"][position_in_text:])
    if last is None:
        paragraph.text += tail
    else:
        last.tail = tail


def _manifest_xml(resources: list[tuple[str, str]]) -> bytes:
    root = _el(None, "manifest", xmlns=CP_NS, identifier="MANIFEST-viva-export")
    metadata = _el(root, "metadata")
    _el(metadata, "schema", "QTI Package")
    _el(metadata, "schemaversion", "3.0.0")
    _el(root, "organizations")
    holder = _el(root, "resources")
    for identifier, href in resources:
        resource = _el(holder, "resource", identifier=identifier, type="imsqti_item_xmlv3p0",
                       href=href)  # fmt: skip
        _el(resource, "file", href=href)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(
        root, encoding="utf-8", xml_declaration=False
    )
