"""Images that travel inside a template document.

A question's ``<img src>`` points into its portal's media (``/media/images/…``), which only
that portal's host serves: a buyer could never load it. So at publish time the publisher's
own images are read from the publisher's media folder, checked (PNG, JPEG, GIF or WebP,
at most ``MARKETPLACE_MAX_IMAGE_BYTES`` each) and carried in the document::

    "media": {"<key>": {"content_type": "image/png", "width": 640, "height": 480,
                        "sha256": "<hex>", "data": "<base64>"}}

with ``key`` the first 16 hex digits of the content's SHA-256, and the tag rewritten to
``<img src="viva-media:<key>" alt="…" width="…" height="…">``. Any other image (a third
party's, a ``data:`` URI, another portal's path, a file outside the portal's folder) is
dropped with a warning: it would leak who opens the exam or could not be read by a buyer.

A preview shows a sample's own images as ``data:`` URIs; installing puts each image in the
buyer's image library (collection "Marketplace", found again by its file hash) and points
the texts at the buyer's own rendition, as the question editor does.

Every text is first run through ``sanitise_html`` (nh3), whose output writes each tag in one
canonical form, so finding ``<img>`` tags below is exact rather than a guess at HTML.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.utils._os import safe_join
from django.utils.html import escape

SCHEME = "viva-media"
#: Pillow format name → the content type a document declares for it.
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}
MAX_SIDE = 4096  # pixels; a carried image is decoded again for the buyer's rendition
ENTRY_FIELDS = {"content_type", "width", "height", "sha256", "data"}
RENDITION = "max-800x800"  # what the question editor inserts (``bank.forms._with_image``)
COLLECTION = "Marketplace"
_KEY = re.compile(r"^[0-9a-f]{16}$")
# nh3 writes every tag as ``<img name="value" …>`` with ``"``, ``<`` and ``>`` escaped.
_CANONICAL_IMG = re.compile(r'<img((?: [a-z-]+="[^"]*")*)>')
_ATTRIBUTE = re.compile(r' ([a-z-]+)="([^"]*)"')


class MediaError(ValueError):
    """An image that cannot travel; the message names it for the publisher."""


def max_image_bytes() -> int:
    return int(getattr(settings, "MARKETPLACE_MAX_IMAGE_BYTES", 2 * 1024 * 1024))


def media_key(sha256: str) -> str:
    return sha256[:16]


def sanitised(html: str) -> str:
    """``html`` sanitised as question texts are, keeping ``viva-media:`` sources."""
    from assessments.html import sanitise_html

    return sanitise_html(html or "", extra_url_schemes=frozenset({SCHEME}))


def _size(size: int) -> str:
    if size >= 1048576:
        return f"{size / 1048576:.1f} MB"
    return f"{size / 1024:.0f} KB" if size >= 1024 else f"{size} bytes"


@dataclass(frozen=True)
class ImageInfo:
    content_type: str
    width: int
    height: int


def inspect_image(data: bytes) -> ImageInfo:
    """What ``data`` is, or ``MediaError`` when it is too large, not a PNG, JPEG, GIF or WebP
    image, or does not decode."""
    from PIL import Image

    if len(data) > max_image_bytes():
        raise MediaError(
            f"the image is {_size(len(data))}; the limit per image is "
            f"{_size(max_image_bytes())} (MARKETPLACE_MAX_IMAGE_BYTES)"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
                width, height, kind = image.width, image.height, image.format
                if max(width, height) > MAX_SIDE:
                    raise MediaError(
                        f"the image is {width}×{height} pixels; at most {MAX_SIDE} on a side"
                    )
                image.load()
    except MediaError:
        raise
    except Exception:  # Pillow raises many kinds for bytes that are not a whole image
        raise MediaError("the file is not a PNG, JPEG, GIF or WebP image") from None
    return ImageInfo(content_type=FORMATS[kind], width=width, height=height)


def entry_for(data: bytes) -> tuple[str, dict[str, Any]]:
    """The key and document entry of image ``data`` (checked by ``inspect_image``)."""
    info = inspect_image(data)
    sha256 = hashlib.sha256(data).hexdigest()
    return media_key(sha256), {
        "content_type": info.content_type,
        "width": info.width,
        "height": info.height,
        "sha256": sha256,
        "data": base64.b64encode(data).decode("ascii"),
    }


# -- the tags ---------------------------------------------------------------------------------


def _rewrite_images(html: str, replace: Callable[[dict[str, str]], str | None]) -> str:
    """``html`` (canonical, from nh3) with each ``<img>`` replaced by ``replace(attributes)``,
    or removed when it answers ``None``."""

    def one(match: re.Match) -> str:
        attributes = {name: unescape(value) for name, value in _ATTRIBUTE.findall(match[1])}
        return replace(attributes) or ""

    return _CANONICAL_IMG.sub(one, html)


def _img(src: str, attributes: dict[str, str], *, size: tuple[int, int] | None = None) -> str:
    """An ``<img>`` with ``src``, the alt text and the size; every other attribute dropped."""
    width, height = size or (attributes.get("width", ""), attributes.get("height", ""))
    parts = [f'src="{escape(src)}"', f'alt="{escape(attributes.get("alt", ""))}"']
    parts += [f'{n}="{v}"' for n, v in (("width", width), ("height", height)) if str(v).isdigit()]
    return f"<img {' '.join(parts)}>"


def reference_of(src: str) -> str | None:
    """The key of a ``viva-media:<key>`` source, else ``None``."""
    prefix = f"{SCHEME}:"
    return src[len(prefix) :] if src.startswith(prefix) else None


def references_in(html: str) -> list[str | None]:
    """The media key of every image of ``html``, ``None`` for an image that is not carried."""
    found: list[str | None] = []

    def note(attributes: dict[str, str]) -> None:
        found.append(reference_of(attributes.get("src", "")))

    _rewrite_images(sanitised(html), note)
    return found


# -- publishing (in the publisher's schema) ---------------------------------------------------


def own_media_file(src: str, *, schema: str) -> Path | None:
    """The file of ``schema``'s media folder that ``src`` names, or ``None`` when ``src`` is
    not a plain ``MEDIA_URL`` path of an existing, public file inside that folder (other
    hosts, queries, ``..`` and symbolic links out of the folder all answer ``None``)."""
    from tenants.storage import tenant_media_root
    from tenants.views import PRIVATE_PREFIXES

    url = urlsplit(src)
    if url.scheme or url.netloc or url.query or url.fragment:
        return None
    if not url.path.startswith(settings.MEDIA_URL):
        return None
    relative = unquote(url.path[len(settings.MEDIA_URL) :])
    if not relative or "\x00" in relative or relative.startswith(PRIVATE_PREFIXES):
        return None
    root = tenant_media_root(schema).resolve()
    try:
        path = Path(safe_join(str(root), relative)).resolve()
    except (SuspiciousFileOperation, ValueError, OSError):
        return None
    if not path.is_relative_to(root) or not path.is_file():
        return None
    if path.relative_to(root).as_posix().startswith(PRIVATE_PREFIXES):
        return None
    return path


@dataclass
class Collector:
    """Carries the publisher's own images of the texts it is given into ``media``."""

    schema: str
    media: dict[str, dict[str, Any]] = field(default_factory=dict)

    def carry(self, html: str, *, place: str) -> tuple[str, int]:
        """``html`` with its own images as ``viva-media:`` references and every other image
        removed, and how many were removed. An own file that is no image, or too large,
        refuses publishing (``MediaError`` naming ``place``): the publisher meant it to be
        seen and should know why it cannot be."""
        from assessments.html import sanitise_html

        dropped = 0

        def replace(attributes: dict[str, str]) -> str | None:
            nonlocal dropped
            path = own_media_file(attributes.get("src", ""), schema=self.schema)
            if path is None:
                dropped += 1
                return None
            if path.stat().st_size > max_image_bytes():
                raise MediaError(
                    f"{place}: the image {path.name} is {_size(path.stat().st_size)}; "
                    f"the limit per image is {_size(max_image_bytes())} — use a smaller "
                    "image"
                )
            try:
                key, entry = entry_for(path.read_bytes())
            except MediaError as error:
                raise MediaError(f"{place}: {path.name}: {error}") from None
            self.media[key] = entry
            return _img(f"{SCHEME}:{key}", attributes)

        cleaned = _rewrite_images(sanitise_html(html or ""), replace)
        return cleaned, dropped


# -- checking a document ----------------------------------------------------------------------


def validate_media(media: Any) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The document's ``media`` and the problems of each entry: a key that is not derived
    from the content hash, malformed base64, bytes that are no allowed image or too large,
    a declared hash, type or size that does not match the bytes."""
    if media is None:
        return {}, []
    if not isinstance(media, dict):
        return {}, ["media must be an object of images by key"]
    errors: list[str] = []
    for key, entry in media.items():
        place = f"media {key!r}"
        if not isinstance(entry, dict) or set(entry) != ENTRY_FIELDS:
            errors.append(f"{place} must hold exactly {', '.join(sorted(ENTRY_FIELDS))}")
            continue
        try:
            data = base64.b64decode(str(entry["data"]), validate=True)
        except (binascii.Error, ValueError):
            errors.append(f"{place}: data is not valid base64")
            continue
        sha256 = hashlib.sha256(data).hexdigest()
        if entry["sha256"] != sha256:
            errors.append(f"{place}: sha256 does not match the image data")
            continue
        if not _KEY.match(str(key)) or key != media_key(sha256):
            errors.append(f"{place}: the key must be the first 16 hex digits of its sha256")
            continue
        try:
            info = inspect_image(data)
        except MediaError as error:
            errors.append(f"{place}: {error}")
            continue
        declared = (entry["content_type"], entry["width"], entry["height"])
        if declared != (info.content_type, info.width, info.height):
            errors.append(
                f"{place}: declared as {declared[0]} {declared[1]}×{declared[2]} but the data "
                f"is {info.content_type} {info.width}×{info.height}"
            )
    return media, errors


def reference_errors(html: str, *, place: str, media: dict[str, Any]) -> tuple[list[str], set]:
    """Problems of the images of one text (each must refer to an entry of ``media``) and the
    keys it uses."""
    errors: list[str] = []
    used: set[str] = set()
    for key in references_in(html):
        if key is None:
            errors.append(
                f"{place}: an image must refer to the template's media (viva-media:<key>)"
            )
        elif key not in media:
            errors.append(f"{place}: image viva-media:{key} is not in the template's media")
        else:
            used.add(key)
    return errors, used


# -- previews ---------------------------------------------------------------------------------


def with_data_uris(html: str, media: dict[str, dict[str, Any]]) -> str:
    """``html`` sanitised, its carried images inline as ``data:`` URIs (allowed by the CSP's
    ``img-src``): a preview shows a sample's own images and reveals nothing else."""

    def replace(attributes: dict[str, str]) -> str | None:
        entry = media.get(reference_of(attributes.get("src", "")) or "")
        if entry is None:
            return None
        uri = f"data:{entry['content_type']};base64,{entry['data']}"
        return _img(uri, attributes)

    return _rewrite_images(sanitised(html), replace)


# -- installing (in the buyer's schema) -------------------------------------------------------


@contextmanager
def removed_if_failed() -> Iterator[list[Path]]:
    """A list for the files an install writes to the buyer's media folder; when the block
    fails (its transaction rolled back, so their image rows are gone) they are deleted."""
    written: list[Path] = []
    try:
        yield written
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def _collection():
    from wagtail.models import Collection

    root = Collection.get_first_root_node()
    return root.get_children().filter(name=COLLECTION).first() or root.add_child(name=COLLECTION)


def land_media(
    media: dict[str, dict[str, Any]], *, titles: dict[str, str], written: list[Path]
) -> dict[str, Any]:
    """Each entry of ``media`` as an image of the current (buyer's) library, in the
    "Marketplace" collection — the one already there with the same file hash when an earlier
    install or update brought it — and the rendition a text shows, by key. Files written are
    added to ``written``."""
    from django.core.files.base import ContentFile
    from wagtail.images import get_image_model

    if not media:
        return {}
    image_model = get_image_model()
    collection = _collection()
    renditions = {}
    for key, entry in media.items():
        data = base64.b64decode(entry["data"])
        file_hash = hashlib.sha1(data).hexdigest()  # noqa: S324 - Wagtail's own file_hash
        image = image_model.objects.filter(collection=collection, file_hash=file_hash).first()
        created = image is None
        if created:
            image = image_model(
                title=(titles.get(key) or "Marketplace image")[:255],
                collection=collection,
                file=ContentFile(
                    data, name=f"marketplace-{key}.{EXTENSIONS[entry['content_type']]}"
                ),
                file_size=len(data),
                file_hash=file_hash,
            )
            image.save()
            written.append(Path(image.file.path))
        rendition = image.get_rendition(RENDITION)
        if created:
            written.append(Path(rendition.file.path))
        renditions[key] = rendition
    return renditions


def titles_of(texts: list[str]) -> dict[str, str]:
    """A library title per media key: the first alt text that describes it."""
    titles: dict[str, str] = {}

    def note(attributes: dict[str, str]) -> None:
        key = reference_of(attributes.get("src", ""))
        if key and attributes.get("alt", "").strip():
            titles.setdefault(key, attributes["alt"].strip())

    for text in texts:
        _rewrite_images(sanitised(text), note)
    return titles


def localised(html: str, renditions: dict[str, Any]) -> str:
    """``html`` with each ``viva-media:`` image pointing at the buyer's rendition, in the
    shape the question editor writes; an image without a rendition is removed."""

    def replace(attributes: dict[str, str]) -> str | None:
        rendition = renditions.get(reference_of(attributes.get("src", "")) or "")
        if rendition is None:
            return None
        return _img(rendition.url, attributes, size=(rendition.width, rendition.height))

    return _rewrite_images(sanitised(html), replace)
