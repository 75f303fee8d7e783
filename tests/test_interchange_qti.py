"""QTI 2.1 and 3.0: 1EdTech-style items and packages, unsafe and malformed packages, and
round trips through an exported QTI 3.0 package."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from assessments import services
from assessments.interchange.base import InterchangeError
from assessments.interchange.services import commit_import, export_questions, preview_import
from assessments.models import Question

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "interchange" / "qti"


def admin_of(portal):
    return get_user_model().objects.get(email=portal.admin_email)


def package(files: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def fixture_package() -> bytes:
    root = FIXTURES / "package"
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.xml")}
    files["images/sign.png"] = b"\x89PNG\r\n\x1a\n"
    return package(files)


def refused(portal, data: bytes, match: str, filename: str = "upload.zip") -> None:
    with portal.activate():
        with pytest.raises(InterchangeError, match=match):
            preview = preview_import(format="qti", data=data, filename=filename)
            commit_import(preview=preview, author=admin_of(portal))
        assert Question.objects.count() == 0


# -- reading 1EdTech-style files -------------------------------------------------------------


def test_qti21_single_choice_item(make_portal):
    portal = make_portal("alpha")
    with portal.activate():
        data = (FIXTURES / "choice-qti21.xml").read_bytes()
        preview = preview_import(format="qti", data=data, filename="choice.xml")
        assert preview.ok, preview.errors
        (item,) = preview.items
        assert item.ref == "item choice (choice.xml)"
        assert item.type == "single_choice"
        assert item.title == "Unattended Luggage"
        assert "Look at the text in the picture." in item.stem
        assert "What does it say?" in item.stem
        assert [o["correct"] for o in item.data["options"]] == [True, False, False]
        assert item.data["options"][0]["text"] == "You must stay with your luggage at all times."
        assert item.data["shuffle"] is False
        commit_import(preview=preview, author=admin_of(portal))
        assert Question.objects.get().type == "single_choice"


def test_qti30_package_with_four_interactions(make_portal):
    portal = make_portal("alpha")
    with portal.activate():
        preview = preview_import(format="qti", data=fixture_package(), filename="pkg.zip")
        assert preview.ok, preview.errors
        items = {item.title: item for item in preview.items}
        assert [i.type for i in preview.items] == [
            "multiple_response",
            "short_answer",
            "matching",
            "essay",
        ]
        water = items["Composition of Water"]
        assert water.ref == "item choiceMultiple (items/choice-multiple.xml)"
        weights = {o["text"]: o["weight"] for o in water.data["options"]}
        assert weights["Hydrogen"] == "0.50" and weights["Oxygen"] == "0.50"
        assert weights["Chlorine"] == "-0.50" and weights["Helium"] == "0.00"
        assert water.data["negative_marking"] is True
        assert water.data["points"] == "2.00"
        york = items["Richard III (Take 3)"]
        assert york.data["accepted"] == ["York"]
        assert york.data["case_sensitive"] is True
        assert "answers with partial credit dropped" in york.warnings
        plays = items["Characters and Plays"]
        assert {p["prompt"]: p["match"] for p in plays.data["pairs"]} == {
            "Capulet": "Romeo and Juliet",
            "Demetrius": "A Midsummer-Night's Dream",
            "Lysander": "A Midsummer-Night's Dream",
            "Prospero": "The Tempest",
        }
        assert plays.data["distractors"] == ["Hamlet"]
        assert plays.data["points"] == "4.00"
        essay = items["Writing a Postcard"]
        assert essay.data["rubric"][0]["criterion"] == "Overall"
        assert essay.data["rubric"][0]["max_points"] == "5.00"
        assert any("Overall" in w for w in essay.warnings)
        commit_import(preview=preview, author=admin_of(portal))
        assert Question.objects.count() == 4


def test_unsupported_interaction_is_skipped_with_a_warning(make_portal):
    item = b"""<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
      identifier="hot" title="Hotspot"><qti-item-body>
      <qti-hotspot-interaction response-identifier="RESPONSE" max-choices="1"/>
      </qti-item-body></qti-assessment-item>"""
    with make_portal("alpha").activate():
        preview = preview_import(format="qti", data=item, filename="hot.xml")
    assert preview.ok and not preview.items
    assert preview.warnings[0].ref == "item hot (hot.xml)"
    assert "hotspotInteraction" in preview.warnings[0].message


# -- unsafe and malformed ----------------------------------------------------------------------


def test_xxe_item_is_refused(make_portal):
    data = (FIXTURES / "xxe-item.xml").read_bytes()
    refused(make_portal("alpha"), data, "xxe-item.xml: the file declares a DTD", "xxe-item.xml")


def test_xxe_item_inside_a_package_is_refused(make_portal):
    manifest = (FIXTURES / "package" / "imsmanifest.xml").read_bytes()
    xxe = (FIXTURES / "xxe-item.xml").read_bytes()
    data = package({"imsmanifest.xml": manifest, "items/choice-multiple.xml": xxe})
    refused(make_portal("alpha"), data, "items/choice-multiple.xml.*DTD")


def test_zip_slip_entry_is_refused(make_portal):
    data = package({"imsmanifest.xml": "<manifest/>", "../../etc/evil.xml": "<x/>"})
    refused(make_portal("alpha"), data, r"'\.\./\.\./etc/evil\.xml' points outside")


def test_absolute_entry_is_refused(make_portal):
    data = package({"/tmp/evil.xml": "<x/>"})
    refused(make_portal("alpha"), data, "points outside")


def test_zip_bomb_is_refused_before_unpacking(make_portal):
    data = package({"imsmanifest.xml": "<manifest/>", "items/bomb.xml": b"\0" * (20 * 1048576)})
    assert len(data) < 200_000
    refused(make_portal("alpha"), data, "compressed more than 100 to 1")


def test_missing_manifest_resource_file_names_the_resource(make_portal):
    root = FIXTURES / "package"
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.xml")}
    del files["items/match.xml"]
    portal = make_portal("alpha")
    with portal.activate():
        preview = preview_import(format="qti", data=package(files), filename="pkg.zip")
        assert [(e.ref, e.message) for e in preview.errors] == [
            (
                "imsmanifest.xml resource match (items/match.xml)",
                "the listed file 'items/match.xml' is not in the package",
            )
        ]
        with pytest.raises(InterchangeError, match="1 error"):
            commit_import(preview=preview, author=admin_of(portal))
        assert Question.objects.count() == 0


def test_package_without_manifest_is_refused(make_portal):
    refused(make_portal("alpha"), package({"items/a.xml": "<x/>"}), "no imsmanifest.xml")


def test_not_well_formed_item_names_line(make_portal):
    refused(make_portal("alpha"), b"<assessmentItem><itemBody>", "item.xml: .*line 1", "item.xml")


# -- round trips -------------------------------------------------------------------------------

ROUND_TRIP = [
    (
        "single_choice",
        {
            "points": "2.00",
            "shuffle": False,
            "options": [
                {"id": "a", "text": "Paris & <Île>", "correct": True, "feedback": "Yes"},
                {"id": "b", "text": "Lyon", "correct": False},
            ],
        },
    ),
    (
        "multiple_response",
        {
            "negative_marking": True,
            "options": [
                {"id": "1", "text": "2", "weight": "0.50"},
                {"id": "2", "text": "3", "weight": "0.50", "feedback": "prime"},
                {"id": "3", "text": "9", "weight": "-1.00"},
            ],
        },
    ),
    ("short_answer", {"accepted": ["Paris", "Lut*tia"], "case_sensitive": False}),
    (
        "matching",
        {
            "pairs": [
                {"prompt": "France", "match": "Paris"},
                {"prompt": "Italy", "match": "Rome"},
                {"prompt": "Lazio", "match": "Rome"},
            ],
            "distractors": ["Lyon"],
        },
    ),
    ("ordering", {"points": "3.00", "items": ["Mercury", "Venus", "Earth"]}),
    (
        "essay",
        {
            "rubric": [
                {"id": "arg", "criterion": "Argument <b>", "max_points": "4.00"},
                {"id": "style", "criterion": "Style", "max_points": "1.50", "description": "a&b"},
            ]
        },
    ),
    (
        "cloze",
        {
            "text": "France: {{1}}, Italy: {{2}}.",
            "gaps": [
                {"id": "1", "accepted": ["Paris", "paname"]},
                {"id": "2", "accepted": ["Rome"], "options": ["Rome", "Milan / Turin"]},
            ],
        },
    ),
]


def snapshot(question) -> dict:
    return {
        "type": question.type,
        "title": question.title,
        "stem": question.stem,
        "data": question.data,
        "explanation": question.explanation,
    }


def test_round_trip_through_a_qti30_package(two_portals):
    alpha, beta = two_portals
    with alpha.activate():
        author = admin_of(alpha)
        for number, (kind, data) in enumerate(ROUND_TRIP, 1):
            services.create_question(
                author=author,
                type=kind,
                title=f"Question {number} ({kind})",
                stem=f"<p>Stem of {kind} &amp; <em>co</em>.</p>",
                explanation="<p>Because.</p>",
                data=data,
            )
        originals = [snapshot(q) for q in Question.objects.order_by("id")]
        exported = export_questions(format="qti", questions=Question.objects.order_by("id"))
    with zipfile.ZipFile(io.BytesIO(exported)) as archive:
        names = archive.namelist()
        assert "imsmanifest.xml" in names and len(names) == len(ROUND_TRIP) + 1
        first = archive.read("items/item-1.xml").decode()
    assert "qti-choice-interaction" in first and "imsqtiasi_v3p0" in first
    with beta.activate():
        preview = preview_import(format="qti", data=exported, filename="export.zip")
        assert preview.ok, preview.errors
        commit_import(preview=preview, author=admin_of(beta))
        copies = [snapshot(q) for q in Question.objects.order_by("id")]
    assert copies == originals


def test_numeric_and_true_false_are_written_with_a_note(make_portal):
    portal = make_portal("alpha")
    with portal.activate():
        author = admin_of(portal)
        services.create_question(author=author, type="numeric", title="g", stem="<p>g?</p>",
                                 data={"answer": "9.81", "tolerance": "0.05"})  # fmt: skip
        services.create_question(author=author, type="true_false", title="tf",
                                 stem="<p>Sky is blue</p>", data={"answer": True})  # fmt: skip
        exported = export_questions(format="qti", questions=Question.objects.order_by("id"))
        preview = preview_import(format="qti", data=exported, filename="export.zip")
    assert preview.ok, preview.errors
    assert [i.type for i in preview.items] == ["short_answer", "single_choice"]
    assert preview.items[0].data["accepted"] == ["9.81"]
    with zipfile.ZipFile(io.BytesIO(exported)) as archive:
        assert b"tolerance and units dropped" in archive.read("items/item-1.xml")
