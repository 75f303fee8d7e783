"""Media in marketplace templates (issue 8): a publisher's library images travel inside the
version document, land in the buyer's own image library and are served on the buyer's host
only; other images are dropped; tampered media is refused whole; a preview shows only the
samples' own images; with publisher, licensed buyer and unlicensed buyer."""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from PIL import Image as PILImage
from wagtail.images import get_image_model

from assessments import services as bank
from assessments.bank.forms import _with_image
from assessments.exams import services as exams
from assessments.models import Question
from marketplace import media, services
from marketplace.models import Installation, ListingVersion
from marketplace.services import MarketplaceError
from tenants.storage import tenant_media_root

from .test_marketplace import buy, grant_selling, make_three

pytestmark = pytest.mark.django_db
User = get_user_model()
COLOURS = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 30), (30, 200, 200)]
IMG_SRC = re.compile(r'<img src="([^"]+)"')


@pytest.fixture
def three(make_portal):
    """Publisher, buyer and non-buyer, with empty media folders: a rolled-back test keeps
    its files, and the next test's portals reuse the schema names."""
    portals = make_three(make_portal)
    for portal in portals:
        shutil.rmtree(tenant_media_root(portal.schema), ignore_errors=True)
    yield portals
    for portal in portals:
        shutil.rmtree(tenant_media_root(portal.schema), ignore_errors=True)


def png(colour, size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def library_image(portal, data: bytes, title: str):
    """An image of ``portal``'s Wagtail library and its editor rendition (url, bytes)."""
    from django.core.files.base import ContentFile

    with portal.activate():
        image = get_image_model().objects.create(
            title=title, file=ContentFile(data, name=f"{title}.png")
        )
        rendition = image.get_rendition(media.RENDITION)
        with rendition.file.open("rb") as handle:
            served = handle.read()
    connection.set_schema_to_public()
    return image, rendition.url, served


def exam_with_stems(portal, stems: list[str], *, title="Anatomy", instructions="<p>Go.</p>"):
    """A published exam of ``portal``: one true/false question per stem."""
    with portal.activate():
        admin = User.objects.get(email=portal.admin_email)
        exam = exams.create_exam(by=admin, title=title)
        section = exams.add_section(exam=exam, title="Part one", instructions=instructions)
        for number, stem in enumerate(stems, start=1):
            question = bank.create_question(
                author=admin,
                type="true_false",
                title=f"Q{number}",
                stem=stem,
                data={"answer": True},
                status="active",
            )
            exams.add_fixed_item(section=section, question=question)
        exams.publish_exam(exam=exam, by=admin)
    connection.set_schema_to_public()
    return exam


def image_stems(portal, count: int) -> tuple[list[str], list[tuple[str, bytes]]]:
    """``count`` stems as the question editor writes them, each with its own library image;
    and each image's rendition (url, bytes) in ``portal``."""
    stems, renditions = [], []
    for number in range(count):
        image, url, served = library_image(portal, png(COLOURS[number]), f"figure-{number + 1}")
        with portal.activate():
            stems.append(
                _with_image(f"<p>Question {number + 1}</p>", image, f"Figure {number + 1}")
            )
        connection.set_schema_to_public()
        renditions.append((url, served))
    return stems, renditions


def list_exam(press, exam, *, title="Anatomy atlas", **listing):
    created = services.create_listing(publisher=press.tenant, title=title, **listing)
    published = services.publish_version(publisher=press.tenant, listing=created, exam_id=exam.pk)
    created.refresh_from_db()
    return created, published


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def library(portal) -> list[tuple[str, str]]:
    with portal.activate():
        rows = list(
            get_image_model().objects.order_by("pk").values_list("collection__name", "file_hash")
        )
    connection.set_schema_to_public()
    return rows


def marketplace_files(portal) -> list[str]:
    root = tenant_media_root(portal.schema)
    return sorted(p.name for p in root.rglob("marketplace-*"))


# -- publishing ---------------------------------------------------------------------------


def test_a_library_image_travels_in_the_document(three):
    press, _, _ = three
    stems, renditions = image_stems(press, 1)
    listing, published = list_exam(press, exam_with_stems(press, stems))
    assert published.warnings == []
    document = listing.versions.get().document
    url, served = renditions[0]
    sha256 = hashlib.sha256(served).hexdigest()
    key = sha256[:16]
    assert document["media"] == {
        key: {
            "content_type": "image/png",
            "width": 40,
            "height": 30,
            "sha256": sha256,
            "data": b64(served),
        }
    }
    assert document["questions"][0]["stem"] == (
        f'<p>Question 1</p>\n<p><img src="viva-media:{key}" alt="Figure 1" width="40" '
        'height="30"></p>'
    )
    assert "/media/" not in json.dumps(document)


def test_images_from_elsewhere_are_dropped_with_a_warning(three):
    press, _, _ = three
    exam = exam_with_stems(
        press,
        [
            '<p>Tracked<img src="https://tracker.example/x.png" alt="pixel" width="1"></p>',
            f'<p>Inline<img src="data:image/png;base64,{b64(png(COLOURS[0]))}"></p>',
        ],
        instructions='<p>Read<img src="//cdn.example/a.gif"></p>',
    )
    listing, published = list_exam(press, exam)
    why = "only images from this portal's own media travel with a template"
    # (the bank's sanitiser already took the data: URI's src when the question was saved)
    assert published.warnings == [
        f"“Q1”: 1 image(s) dropped ({why})",
        f"“Q2”: 1 image(s) dropped ({why})",
        f"section “Part one”: 1 image(s) dropped ({why})",
    ]
    document = listing.versions.get().document
    assert document["media"] == {}
    assert "tracker.example" not in json.dumps(document)
    assert "cdn.example" not in json.dumps(document)
    assert document["questions"][0]["stem"] == "<p>Tracked</p>"


def test_other_portals_media_and_path_traversal_are_never_read(three):
    press, uni, _ = three
    _, uni_url, uni_bytes = library_image(uni, png(COLOURS[1]), "uni-secret")
    relative = uni_url.removeprefix("/media/")
    press_root = tenant_media_root(press.schema)
    press_root.mkdir(parents=True, exist_ok=True)
    (press_root / "link.png").symlink_to(tenant_media_root(uni.schema) / relative)
    (press_root / "imports").mkdir(exist_ok=True)
    (press_root / "imports" / "upload.png").write_bytes(png(COLOURS[2]))
    sources = [
        uni_url,  # uni's own URL: on press's host it names press's folder, where it is not
        f"/media/../{uni.schema}/{relative}",
        f"/media/%2e%2e/{uni.schema}/{relative}",
        f"/media/{press.schema}/../{uni.schema}/{relative}",
        f"/media/{tenant_media_root(uni.schema) / relative}",
        f"http://{uni.domain}{uni_url}",
        "/media/link.png",  # a symbolic link out of press's folder
        "/media/imports/upload.png",  # private media is never shown, so never carried
    ]
    stems = [f'<p>Q{n}<img src="{src}" alt="x"></p>' for n, src in enumerate(sources, start=1)]
    listing, published = list_exam(press, exam_with_stems(press, stems))
    assert len(published.warnings) == len(sources)
    document = listing.versions.get().document
    assert document["media"] == {}
    assert b64(uni_bytes) not in json.dumps(document)
    for src in sources:
        assert media.own_media_file(src, schema=press.schema) is None


def test_an_own_file_that_is_no_image_or_too_large_refuses_publishing(three, settings):
    press, _, _ = three
    root = tenant_media_root(press.schema) / "images"
    root.mkdir(parents=True, exist_ok=True)
    (root / "notes.png").write_bytes(b"<svg onload='alert(1)'></svg>")
    exam = exam_with_stems(press, ['<p>Q<img src="/media/images/notes.png" alt="n"></p>'])
    listing = services.create_listing(publisher=press.tenant, title="Fake image")
    with pytest.raises(MarketplaceError) as refused:
        services.publish_version(publisher=press.tenant, listing=listing, exam_id=exam.pk)
    assert refused.value.errors == [
        "“Q1”, stem: notes.png: the file is not a PNG, JPEG, GIF or WebP image"
    ]
    stems, _ = image_stems(press, 1)
    big = exam_with_stems(press, stems, title="Big")
    settings.MARKETPLACE_MAX_IMAGE_BYTES = 50
    with pytest.raises(MarketplaceError, match=r"“Q1”, stem: the image .* the limit per image"):
        services.publish_version(publisher=press.tenant, listing=listing, exam_id=big.pk)
    assert not ListingVersion.objects.exists()


# -- refusing tampered media --------------------------------------------------------------


def _retarget(document: dict, data: bytes, **overrides) -> tuple[dict, str]:
    """``document`` with its one image replaced by ``data`` (its entry and reference)."""
    doc = copy.deepcopy(document)
    (old_key,) = doc["media"]
    sha256 = hashlib.sha256(data).hexdigest()
    key = sha256[:16]
    doc["media"] = {
        key: {
            "content_type": "image/png",
            "width": 40,
            "height": 30,
            "sha256": sha256,
            "data": b64(data),
            **overrides,
        }
    }
    doc["questions"][0]["stem"] = doc["questions"][0]["stem"].replace(old_key, key)
    return doc, key


def _tampered(document: dict, case: str) -> tuple[dict, str]:
    doc = copy.deepcopy(document)
    (key,) = doc["media"]
    entry = doc["media"][key]
    if case == "base64":
        entry["data"] = "not*base64!"
        return doc, f"media '{key}': data is not valid base64"
    if case == "not_an_image":
        doc, key = _retarget(document, b"<svg onload='alert(1)'></svg>")
        return doc, f"media '{key}': the file is not a PNG, JPEG, GIF or WebP image"
    if case == "hash":
        entry["data"] = b64(png(COLOURS[4]))
        return doc, f"media '{key}': sha256 does not match the image data"
    if case == "declared":
        entry["width"] = 4000
        return doc, f"media '{key}': declared as image/png 4000×30 but the data is image/png 40×30"
    if case == "missing":
        doc["questions"][0]["stem"] += '<img src="viva-media:ffffffffffffffff">'
        return doc, (
            "question 1 (“Q1”): stem: image viva-media:ffffffffffffffff is not in the "
            "template's media"
        )
    if case == "third_party":
        doc["questions"][0]["explanation"] = '<p><img src="https://tracker.example/x.png"></p>'
        return doc, (
            "question 1 (“Q1”): explanation: an image must refer to the template's media "
            "(viva-media:<key>)"
        )
    if case == "unused":
        extra = png(COLOURS[3])
        sha256 = hashlib.sha256(extra).hexdigest()
        doc["media"][sha256[:16]] = {**entry, "sha256": sha256, "data": b64(extra)}
        return doc, f"media '{sha256[:16]}' is not used by any text"
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case", ["base64", "not_an_image", "hash", "declared", "missing", "third_party", "unused"]
)
def test_tampered_media_is_refused_whole_with_its_place(three, case):
    press, _, _ = three
    stems, _ = image_stems(press, 1)
    original, _ = list_exam(press, exam_with_stems(press, stems))
    document, message = _tampered(original.versions.get().document, case)
    listing = services.create_listing(publisher=press.tenant, title="Tampered")
    with pytest.raises(MarketplaceError) as refused:
        services.publish_document(publisher=press.tenant, listing=listing, document=document)
    assert refused.value.code == "invalid_document"
    assert message in refused.value.errors, refused.value.errors
    assert not ListingVersion.objects.filter(listing=listing).exists()


def test_an_oversized_image_in_a_document_is_refused(three, settings):
    press, _, _ = three
    stems, renditions = image_stems(press, 1)
    original, _ = list_exam(press, exam_with_stems(press, stems))
    settings.MARKETPLACE_MAX_IMAGE_BYTES = 50
    listing = services.create_listing(publisher=press.tenant, title="Oversized")
    with pytest.raises(MarketplaceError) as refused:
        services.publish_document(
            publisher=press.tenant, listing=listing, document=original.versions.get().document
        )
    (key,) = original.versions.get().document["media"]
    size = len(renditions[0][1])
    assert refused.value.errors == [
        f"media '{key}': the image is {size} bytes; the limit per image is 50 bytes "
        "(MARKETPLACE_MAX_IMAGE_BYTES)"
    ]
    assert not ListingVersion.objects.filter(listing=listing).exists()


def test_a_tampered_stored_version_installs_nothing(three):
    press, uni, _ = three
    stems, _ = image_stems(press, 1)
    listing, _ = list_exam(press, exam_with_stems(press, stems))
    version = listing.versions.get()
    document, _ = _tampered(version.document, "hash")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE marketplace_listingversion SET document = %s WHERE id = %s",
            [json.dumps(document), version.pk],
        )
    with pytest.raises(MarketplaceError) as refused:
        services.install_listing(buyer=uni.tenant, listing=listing)
    assert refused.value.code == "invalid_document"
    assert library(uni) == [] and marketplace_files(uni) == []
    assert not Installation.objects.exists()


# -- installing ---------------------------------------------------------------------------


def _installed_stems(portal) -> list[str]:
    with portal.activate():
        stems = list(Question.objects.order_by("title").values_list("stem", flat=True))
    connection.set_schema_to_public()
    return stems


def test_installing_lands_images_in_the_buyers_library_served_on_its_host_only(three):
    press, uni, acme = three
    stems, renditions = image_stems(press, 1)
    publisher_url, served = renditions[0]
    listing, _ = list_exam(press, exam_with_stems(press, stems))
    services.install_listing(buyer=uni.tenant, listing=listing)
    sha1 = hashlib.sha1(served).hexdigest()  # noqa: S324 - Wagtail's file_hash
    assert library(uni) == [("Marketplace", sha1)]
    (stem,) = _installed_stems(uni)
    (buyer_url,) = IMG_SRC.findall(stem)
    with uni.activate():
        image = get_image_model().objects.get()
        rendition = image.get_rendition(media.RENDITION)
        assert image.title == "Figure 1"
    connection.set_schema_to_public()
    assert stem == (
        f'<p>Question 1</p>\n<p><img src="{rendition.url}" alt="Figure 1" width="40" '
        'height="30"></p>'
    )
    assert buyer_url.startswith("/media/images/marketplace-")
    response = uni.client.get(buyer_url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    body = b"".join(response.streaming_content)
    assert PILImage.open(io.BytesIO(body)).size == (40, 30)
    assert (
        body == Path(tenant_media_root(uni.schema), buyer_url.removeprefix("/media/")).read_bytes()
    )
    # Neither the publisher nor anyone else serves the buyer's copy; the publisher's file is
    # not served on the buyer's host.
    assert press.client.get(buyer_url).status_code == 404
    assert acme.client.get(buyer_url).status_code == 404
    assert uni.client.get(publisher_url).status_code == 404
    assert press.client.get(publisher_url).status_code == 200


def test_installing_again_or_updating_does_not_duplicate_images(three):
    press, uni, _ = three
    stems, _ = image_stems(press, 2)
    exam = exam_with_stems(press, stems)
    listing, _ = list_exam(press, exam)
    services.install_listing(buyer=uni.tenant, listing=listing)
    before_library, before_stems = library(uni), _installed_stems(uni)
    assert len(before_library) == 2
    assert not services.install_listing(buyer=uni.tenant, listing=listing).created
    assert library(uni) == before_library
    # Version 2: the second question's title changes, the images stay.
    with press.activate():
        question = Question.objects.get(title="Q2")
        bank.update_question(question=question, author=None, title="Q2 revised")
        exams.publish_exam(exam=exam, by=None)
    connection.set_schema_to_public()
    services.publish_version(publisher=press.tenant, listing=listing, exam_id=exam.pk)
    updated = services.update_installation(buyer=uni.tenant, listing=listing)
    assert updated.changed and [c.title for c in updated.diff.changed] == ["Q2 revised"]
    assert library(uni) == before_library
    with uni.activate():
        stems_now = list(
            Question.objects.filter(status="active").order_by("pk").values_list("stem", flat=True)
        )
    connection.set_schema_to_public()
    assert stems_now == before_stems
    assert len(marketplace_files(uni)) == 4  # two originals, two renditions
    # Another listing carrying the same image reuses the buyer's copy.
    second, _ = list_exam(press, exam_with_stems(press, stems[:1], title="Again"), title="Again")
    services.install_listing(buyer=uni.tenant, listing=second)
    assert library(uni) == before_library


def test_a_failed_install_leaves_no_image_rows_or_files(three, monkeypatch):
    press, uni, _ = three
    stems, _ = image_stems(press, 2)
    listing, _ = list_exam(press, exam_with_stems(press, stems))

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(exams, "publish_exam", broken)
    with pytest.raises(RuntimeError):
        services.install_listing(buyer=uni.tenant, listing=listing)
    connection.set_schema_to_public()
    assert library(uni) == [] and marketplace_files(uni) == []
    assert not Installation.objects.exists()


# -- previews, with publisher, licensed buyer and unlicensed buyer -------------------------


def platform() -> Client:
    return Client(HTTP_HOST="localhost")


def test_a_preview_shows_only_the_samples_own_images(three):
    press, uni, acme = three
    grant_selling(press.tenant)
    stems, renditions = image_stems(press, 5)
    listing, _ = list_exam(
        press, exam_with_stems(press, stems), price_model="one_off", price_amount=4900
    )
    inline = [b64(served) for _, served in renditions]
    acme.login_admin()
    previews = [
        platform().get(f"/marketplace/api/listings/{listing.slug}/").content.decode(),
        platform().get(f"/marketplace/{listing.slug}/").content.decode(),
        platform().get("/marketplace/api/listings/").content.decode(),
        acme.client.get(f"/cms/marketplace/listing/{listing.pk}/").content.decode(),
    ]
    samples = json.loads(previews[0])["samples"]
    assert [IMG_SRC.findall(s["stem"]) for s in samples] == [
        [f"data:image/png;base64,{data}"] for data in inline[:3]
    ]
    for page in previews[1:2] + previews[3:]:
        assert all(f"data:image/png;base64,{data}" in page for data in inline[:3])
    for page in previews:
        assert not any(data in page for data in inline[3:])  # not the other questions'
        assert "viva-media" not in page
        assert not any(url in page for url, _ in renditions)  # nor the publisher's files
    # The unlicensed portal's install endpoint lands nothing; the publisher's files are not
    # served on its host.
    acme_before = library(acme)
    response = acme.client.post(f"/cms/marketplace/listing/{listing.pk}/install/")
    assert response.status_code == 302
    assert library(acme) == acme_before and marketplace_files(acme) == []
    for url, _ in renditions:
        assert acme.client.get(url).status_code == 404
        assert uni.client.get(url).status_code == 404
    # The licensed buyer gets every image, in its own library only.
    buy(uni, listing)
    services.install_listing(buyer=uni.tenant, listing=listing)
    assert len(library(uni)) == 5 and library(acme) == acme_before
    buyer_urls = [IMG_SRC.findall(stem)[0] for stem in _installed_stems(uni)]
    assert all(uni.client.get(url).status_code == 200 for url in buyer_urls)
    assert all(press.client.get(url).status_code == 404 for url in buyer_urls)
    assert all(acme.client.get(url).status_code == 404 for url in buyer_urls)
