"""Writes to the marketplace: listings and versions, installing and updating, reviews,
moderation. Payments are in ``marketplace.payments``.

Content crosses schemas only here. Publishing reads the publisher's schema
(``schema_context(publisher.schema_name)``) into a self-contained document stored in the
public schema; installing writes that document into the buyer's schema. Both run in one
database transaction with the public rows, so a failure anywhere leaves nothing behind
(PostgreSQL keeps every schema in the same transaction). Nothing here ever reads a buyer's
users, attempts or results on a publisher's behalf.

Every function is keyword-only, takes the acting tenant explicitly and re-checks that it may
act on the object: a listing that is not visible to the tenant answers ``not_found`` exactly
like one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from django_tenants.utils import schema_context

from marketplace import documents, media
from marketplace.documents import DocumentDiff, DocumentError
from marketplace.models import (
    Installation,
    Licence,
    Listing,
    ListingVersion,
    Review,
    SampleQuestion,
)
from tenants.models import Tenant

SAMPLE_COUNT = 3


class MarketplaceError(ValueError):
    """A refused action; ``errors`` are for people, ``code`` for callers."""

    def __init__(self, errors: list[str] | str, *, code: str = "invalid"):
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        self.code = code
        super().__init__("; ".join(self.errors))


def _not_found() -> MarketplaceError:
    return MarketplaceError("This listing does not exist.", code="not_found")


def may_sell(tenant: Tenant) -> bool:
    """Paid listings need the plan feature ``marketplace_selling`` (billing's one check)."""
    from billing.entitlements import MARKETPLACE_SELLING, has_feature

    return has_feature(tenant, MARKETPLACE_SELLING)


# -- listings ---------------------------------------------------------------------------------


def _unique_slug(title: str) -> str:
    base = slugify(title)[:70] or "listing"
    slug, n = base, 1
    while Listing.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _clean_listing(values: dict[str, Any], tenant: Tenant) -> dict[str, Any]:
    errors = []
    title = str(values.get("title") or "").strip()
    if not title or len(title) > 200:
        errors.append("title is empty or longer than 200 characters")
    if values.get("kind") not in Listing.Kind.values:
        errors.append(f"kind must be one of {', '.join(Listing.Kind.values)}")
    if values.get("level") not in Listing.Level.values:
        errors.append(f"level must be one of {', '.join(Listing.Level.values)}")
    price_model = values.get("price_model")
    if price_model not in Listing.PriceModel.values:
        errors.append(f"price must be one of {', '.join(Listing.PriceModel.values)}")
    try:
        amount = int(values.get("price_amount") or 0)
    except (TypeError, ValueError):
        amount = -1
    if price_model == Listing.PriceModel.FREE:
        amount = 0
    elif amount <= 0:
        errors.append("a paid listing needs a price above 0")
    currency = str(values.get("currency") or "usd").lower()
    if len(currency) != 3 or not currency.isalpha():
        errors.append("currency must be a three-letter code")
    tags = values.get("tags") or []
    if isinstance(tags, str):
        tags = tags.split(",")
    tags = sorted({str(t).strip().lower() for t in tags if str(t).strip()})
    if any(len(t) > 50 for t in tags) or len(tags) > 20:
        errors.append("at most 20 tags of at most 50 characters")
    community = bool(values.get("community"))
    if community and price_model != Listing.PriceModel.FREE:
        errors.append("community listings are free")
    if not community and tenant.kind != Tenant.Kind.PUBLISHER:
        errors.append("only publishers list templates; others may share a free community bank")
    paid = price_model in (Listing.PriceModel.ONE_OFF, Listing.PriceModel.PER_SEAT)
    if paid and not errors and not may_sell(tenant):
        errors.append(
            "Selling in the marketplace is not included in your plan. Upgrade under "
            "Settings → Billing to sell templates."
        )
    if errors:
        raise MarketplaceError(errors)
    return {
        "title": title,
        "description": str(values.get("description") or "").strip(),
        "subject": str(values.get("subject") or "").strip()[:100],
        "tags": tags,
        "level": values["level"],
        "language": str(values.get("language") or "en").strip()[:10] or "en",
        "kind": values["kind"],
        "price_model": price_model,
        "price_amount": amount,
        "currency": currency,
        "licence_terms": str(values.get("licence_terms") or "").strip(),
        "community": community,
    }


def create_listing(
    *,
    publisher: Tenant,
    title: str,
    kind: str = Listing.Kind.EXAM,
    description: str = "",
    subject: str = "",
    tags: Any = (),
    level: str = Listing.Level.INTRODUCTORY,
    language: str = "en",
    price_model: str = Listing.PriceModel.FREE,
    price_amount: int = 0,
    currency: str = "usd",
    licence_terms: str = "",
    community: bool = False,
) -> Listing:
    """A draft listing of ``publisher``; it enters the catalogue with its first version."""
    values = _clean_listing(
        {
            "title": title,
            "kind": kind,
            "description": description,
            "subject": subject,
            "tags": tags,
            "level": level,
            "language": language,
            "price_model": price_model,
            "price_amount": price_amount,
            "currency": currency,
            "licence_terms": licence_terms,
            "community": community,
        },
        publisher,
    )
    with transaction.atomic():
        return Listing.objects.create(publisher=publisher, slug=_unique_slug(title), **values)


def owned_listing(*, publisher: Tenant, listing_id: int) -> Listing:
    """``publisher``'s own listing, or ``not_found``."""
    listing = Listing.objects.filter(pk=listing_id, publisher=publisher).first()
    if listing is None:
        raise _not_found()
    return listing


@dataclass
class Published:
    version: ListingVersion
    warnings: list[str]


def publish_version(
    *,
    publisher: Tenant,
    listing: Listing,
    exam_id: int | None = None,
    category_id: int | None = None,
    template_id: int | None = None,
    release_notes: str = "",
) -> Published:
    """Build the document in the publisher's own schema — from an exam or a category of
    questions, or for an interview listing from an interview template — and publish it as
    the listing's next version."""
    listing = owned_listing(publisher=publisher, listing_id=listing.pk)
    try:
        built = _build(
            publisher=publisher,
            listing=listing,
            exam_id=exam_id,
            category_id=category_id,
            template_id=template_id,
        )
    except DocumentError as error:
        raise MarketplaceError(error.errors, code="invalid_document") from None
    if listing.kind == Listing.Kind.QUESTION_BANK:
        built.document["kind"] = "question_bank"
    version = publish_document(
        publisher=publisher,
        listing=listing,
        document=built.document,
        release_notes=release_notes,
    )
    return Published(version=version, warnings=built.warnings)


def publish_interview_template(
    *,
    publisher: Tenant,
    template_id: int,
    listing_id: int | None = None,
    release_notes: str = "",
    **listing_values: Any,
) -> Published:
    """Publish the publisher's interview template: as the next version of its own interview
    listing ``listing_id``, or as a new interview listing made from ``listing_values`` (the
    arguments of ``create_listing``). All or nothing: a refused document leaves no draft."""
    with transaction.atomic():
        if listing_id is None:
            listing = create_listing(
                publisher=publisher, kind=Listing.Kind.INTERVIEW, **listing_values
            )
        else:
            listing = owned_listing(publisher=publisher, listing_id=listing_id)
            if listing.kind != Listing.Kind.INTERVIEW:
                raise MarketplaceError(
                    f"“{listing.title}” is not an interview listing; choose an interview "
                    "listing or make a new one."
                )
        return publish_version(
            publisher=publisher,
            listing=listing,
            template_id=template_id,
            release_notes=release_notes,
        )


def _build(
    *,
    publisher: Tenant,
    listing: Listing,
    exam_id: int | None,
    category_id: int | None,
    template_id: int | None,
) -> documents.Built:
    interview = listing.kind == Listing.Kind.INTERVIEW
    if interview and template_id is None:
        raise MarketplaceError(
            "An interview listing is built from an interview template: choose one, or use "
            "“Publish to marketplace” under Interviews → Templates.",
            code="invalid_document",
        )
    if template_id is not None and not interview:
        raise MarketplaceError(
            "An interview template can only be published in an interview listing.",
            code="invalid_document",
        )
    with schema_context(publisher.schema_name):
        if template_id is not None:
            built = documents.build_from_interview_template(
                template_id=template_id, schema=publisher.schema_name
            )
        elif exam_id is not None:
            built = documents.build_from_exam(
                exam_id=exam_id, schema=publisher.schema_name, kind="exam"
            )
        elif category_id is not None:
            built = documents.build_from_category(
                category_id=category_id, schema=publisher.schema_name, title=listing.title
            )
        else:
            raise MarketplaceError("choose an exam or a category of questions")
    return built


def publish_document(
    *, publisher: Tenant, listing: Listing, document: Any, release_notes: str = ""
) -> ListingVersion:
    """Check ``document`` (refused whole with every problem, or when larger than
    ``MARKETPLACE_MAX_VERSION_BYTES``) and store it as version n+1 with its samples. The first
    version puts the listing in the catalogue (community listings wait for moderation)."""
    try:
        clean = documents.validate_document(document)
    except DocumentError as error:
        raise MarketplaceError(error.errors, code="invalid_document") from None
    expected = "exam" if listing.kind == Listing.Kind.EXAM else listing.kind
    if clean["kind"] != expected:
        raise MarketplaceError(
            "a question bank listing takes a category of questions, an exam listing an exam "
            "and an interview listing an interview template",
            code="invalid_document",
        )
    with transaction.atomic():
        listing = Listing.objects.select_for_update().get(pk=listing.pk, publisher=publisher)
        if listing.status == Listing.Status.SUSPENDED:
            raise MarketplaceError("This listing is suspended by the platform.", code="suspended")
        number = (listing.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = ListingVersion.objects.create(
            listing=listing,
            number=number,
            document=clean,
            release_notes=release_notes.strip(),
            size_bytes=len(documents.canonical_bytes(clean)),
            checksum=documents.checksum(clean),
            question_count=len(clean["questions"]),
        )
        SampleQuestion.objects.bulk_create(
            SampleQuestion(version=version, **sample)
            for sample in documents.sample_questions(clean, count=SAMPLE_COUNT)
        )
        if listing.status == Listing.Status.DRAFT:
            listing.status = (
                Listing.Status.PENDING_MODERATION if listing.community else Listing.Status.PUBLISHED
            )
            listing.save(update_fields=["status", "updated"])
    return version


# -- moderation (platform staff, through the Django admin) -------------------------------------


def approve_listing(*, listing: Listing) -> Listing:
    with transaction.atomic():
        listing = Listing.objects.select_for_update().get(pk=listing.pk)
        if not listing.versions.exists():
            raise MarketplaceError("a listing without a version cannot be published")
        listing.status = Listing.Status.PUBLISHED
        listing.moderation_note = ""
        listing.save(update_fields=["status", "moderation_note", "updated"])
    return listing


def suspend_listing(*, listing: Listing, note: str = "") -> Listing:
    """Out of the catalogue: no new installs or purchases; what buyers installed stays theirs."""
    with transaction.atomic():
        listing = Listing.objects.select_for_update().get(pk=listing.pk)
        listing.status = Listing.Status.SUSPENDED
        listing.moderation_note = note
        listing.save(update_fields=["status", "moderation_note", "updated"])
    return listing


def moderate_review(*, review: Review, status: str) -> Review:
    if status not in Review.Status.values:
        raise MarketplaceError(f"status must be one of {', '.join(Review.Status.values)}")
    Review.objects.filter(pk=review.pk).update(status=status, updated=timezone.now())
    review.refresh_from_db()
    return review


# -- licences and installing ------------------------------------------------------------------


def visible_listing(*, tenant: Tenant | None, listing_id: int) -> Listing:
    """A listing the catalogue shows (published), or the tenant's own; else ``not_found``."""
    listing = Listing.objects.select_related("publisher").filter(pk=listing_id).first()
    if listing is None:
        raise _not_found()
    if listing.status == Listing.Status.PUBLISHED:
        return listing
    if tenant is not None and listing.publisher_id == tenant.pk:
        return listing
    raise _not_found()


def _licence_for(*, buyer: Tenant, listing: Listing, create_free: bool) -> Licence:
    licence = Licence.objects.select_for_update().filter(buyer=buyer, listing=listing).first()
    if licence is not None:
        return licence
    if listing.is_free or listing.publisher_id == buyer.pk:
        if not create_free:
            raise MarketplaceError("This listing is not installed.", code="not_installed")
        Licence.objects.get_or_create(
            buyer=buyer, listing=listing, defaults={"source": Licence.Source.FREE}
        )
        return Licence.objects.select_for_update().get(buyer=buyer, listing=listing)
    raise MarketplaceError("Buy this listing before installing it.", code="licence_required")


def _version(listing: Listing, number: int | None) -> ListingVersion:
    versions = ListingVersion.objects.filter(listing=listing)
    version = (
        versions.filter(number=number).first()
        if number is not None
        else versions.order_by("-number").first()
    )
    if version is None:
        raise MarketplaceError("This version does not exist.", code="not_found")
    return version


@dataclass
class Installed:
    installation: Installation
    created: bool


def install_listing(
    *, buyer: Tenant, listing: Listing, version_number: int | None = None
) -> Installed:
    """Copy a version (the latest by default) into ``buyer``'s schema: for exam and question
    bank listings, active bank questions under *Marketplace / <title>* (and an exam published
    as its first version); for interview listings, an editable interview template that
    records the listing and version it came from. Idempotent (installing again changes
    nothing; ``update_installation`` moves to a newer version) and all-or-nothing: image files
    written to the buyer's media are deleted again when the transaction fails."""
    with media.removed_if_failed() as written, transaction.atomic():
        listing = visible_listing(tenant=buyer, listing_id=listing.pk)
        if listing.publisher_id != buyer.pk and listing.status != Listing.Status.PUBLISHED:
            raise _not_found()
        _licence_for(buyer=buyer, listing=listing, create_free=True)  # locks the licence row
        existing = Installation.objects.filter(buyer=buyer, listing=listing).first()
        if existing is not None:
            return Installed(installation=existing, created=False)
        version = _version(listing, version_number)
        document = _checked(version)
        with schema_context(buyer.schema_name):
            landed = _land(
                document=document,
                listing=listing,
                version=version.number,
                previous=None,
                written=written,
            )
        installation = Installation.objects.create(
            buyer=buyer,
            listing=listing,
            version=version,
            history=[{"version": version.number, "at": timezone.now().isoformat()}],
            **landed,
        )
    return Installed(installation=installation, created=True)


def _checked(version: ListingVersion) -> dict[str, Any]:
    """The stored document, checked again before it touches a buyer's schema."""
    try:
        return documents.validate_document(version.document)
    except DocumentError as error:
        raise MarketplaceError(error.errors, code="invalid_document") from None


def update_preview(
    *, buyer: Tenant, listing: Listing
) -> tuple[Installation, ListingVersion, DocumentDiff]:
    """The buyer's installation, the newest version and what updating to it would change."""
    installation = (
        Installation.objects.select_related("version")
        .filter(buyer=buyer, listing_id=listing.pk)
        .first()
    )
    if installation is None:
        raise MarketplaceError("This listing is not installed.", code="not_installed")
    latest = _version(installation.listing, None)
    return (
        installation,
        latest,
        documents.diff_documents(installation.version.document, latest.document),
    )


@dataclass
class Updated:
    installation: Installation
    diff: DocumentDiff
    changed: bool


def update_installation(
    *, buyer: Tenant, listing: Listing, version_number: int | None = None
) -> Updated:
    """Move the buyer's installation to a newer version (the latest by default): changed
    questions get a new bank version, added ones are created, removed ones retired, and the
    exam is rebuilt and published as a new exam version, so attempts on the old one are
    untouched. An interview template is updated in place with what the publisher changed
    (``land_template_document``); turns keep the text they asked. Updating to the installed
    version changes nothing."""
    with media.removed_if_failed() as written, transaction.atomic():
        listing = Listing.objects.filter(pk=listing.pk).first()
        if listing is None:
            raise _not_found()
        if listing.status == Listing.Status.SUSPENDED and listing.publisher_id != buyer.pk:
            raise MarketplaceError("This listing is suspended.", code="suspended")
        _licence_for(buyer=buyer, listing=listing, create_free=False)
        installation = (
            Installation.objects.select_for_update()
            .select_related("version")
            .filter(buyer=buyer, listing=listing)
            .first()
        )
        if installation is None:
            raise MarketplaceError("This listing is not installed.", code="not_installed")
        target = _version(listing, version_number)
        old = installation.version.document
        diff = documents.diff_documents(old, target.document)
        if target.number <= installation.version.number:
            return Updated(installation=installation, diff=DocumentDiff(), changed=False)
        if _lands_as(target.document) != _lands_as(old):
            # An interview listing of the first releases carried an exam; landing a template
            # over it would orphan that exam (and its per-seat licence check).
            raise MarketplaceError(
                f"Version {target.number} is {_lands_as(target.document)}, but the installed "
                f"version is {_lands_as(old)}: it cannot replace it. Keep the installed "
                "version, or ask the publisher to publish it as a new listing.",
                code="kind_changed",
            )
        document = _checked(target)
        with schema_context(buyer.schema_name):
            landed = _land(
                document=document,
                listing=listing,
                version=target.number,
                previous=installation,
                written=written,
            )
        for name, value in landed.items():
            setattr(installation, name, value)
        installation.version = target
        installation.history = [
            *installation.history,
            {"version": target.number, "at": timezone.now().isoformat()},
        ]
        installation.save()
    return Updated(installation=installation, diff=diff, changed=True)


def _lands_as(document: dict[str, Any]) -> str:
    """What a version document becomes in a buyer's schema (by its shape: the interview
    listings of the first releases carried exam-shaped documents)."""
    if document.get("kind") == "question_bank":
        return "bank questions"
    if document.get("kind") == "interview" and "sections" not in document:
        return "an interview template"
    return "an exam"


# -- landing a document in the buyer's schema (called inside schema_context) -------------------


def _category(name: str, parent):
    from assessments.models import Category
    from assessments.services import create_category

    found = Category.objects.filter(name=name, parent=parent).first()
    return found or create_category(name=name, parent=parent)


def _pool_key(s_number: int, i_number: int) -> str:
    return f"{s_number}.{i_number}"


def _land(
    *,
    document: dict[str, Any],
    listing: Listing,
    version: int,
    previous: Installation | None,
    written: list,
) -> dict:
    """Write ``document`` into the current (buyer's) schema; with ``previous``, over what an
    earlier version left. Returns the ids to record on the installation; image files it
    wrote are added to ``written``."""
    if document["kind"] == "interview":
        return _land_interview(
            document=document, listing=listing, version=version, previous=previous
        )
    return _land_exam(document=document, listing=listing, previous=previous, written=written)


def _land_interview(
    *, document: dict[str, Any], listing: Listing, version: int, previous: Installation | None
) -> dict:
    """An interview template, found again by its provenance on update (``question_map``
    names the template's questions by document ref)."""
    from assessments.interviews.services import land_template_document

    template = land_template_document(
        document=document,
        listing_id=listing.pk,
        version=version,
        old_document=previous.version.document if previous is not None else None,
    )
    return {
        "exam_id": None,
        "exam_version_number": None,
        "category_id": None,
        "question_map": dict(
            template.questions.exclude(source_ref="").values_list("source_ref", "pk")
        ),
        "pool_categories": {},
    }


def _localise_texts(document: dict[str, Any], *, written: list) -> dict[str, Any]:
    """``document`` with its carried images landed in the buyer's image library and every
    text pointing at the buyer's own renditions instead of ``viva-media:`` references."""
    texts = [document.get("description", "")]
    texts += [s.get("instructions", "") for s in document["sections"]]
    texts += [q.get(f, "") for q in document["questions"] for f in ("stem", "explanation")]
    renditions = media.land_media(
        document.get("media") or {}, titles=media.titles_of(texts), written=written
    )
    return {
        **document,
        "description": media.localised(document.get("description", ""), renditions),
        "sections": [
            {**s, "instructions": media.localised(s.get("instructions", ""), renditions)}
            for s in document["sections"]
        ],
        "questions": [
            {
                **q,
                "stem": media.localised(q.get("stem", ""), renditions),
                "explanation": media.localised(q.get("explanation", ""), renditions),
            }
            for q in document["questions"]
        ],
    }


def _land_exam(
    *, document: dict[str, Any], listing: Listing, previous: Installation | None, written: list
) -> dict:
    from assessments import services as bank
    from assessments.exams import services as exams
    from assessments.exams.models import Exam
    from assessments.models import Category, Question

    home = None
    if previous is not None and previous.category_id:
        home = Category.objects.filter(pk=previous.category_id).first()
    if home is None:
        home = _category(listing.title[:200], _category("Marketplace", None))
    pool_categories: dict[str, int] = {}
    category_of = {q["ref"]: home for q in document["questions"]}
    for s_number, section in enumerate(document["sections"], start=1):
        for i_number, item in enumerate(section["items"], start=1):
            if item["kind"] == "pool":
                pool = _category(f"Section {s_number} pool {i_number}", home)
                pool_categories[_pool_key(s_number, i_number)] = pool.pk
                for ref in item["questions"]:
                    category_of[ref] = pool

    question_map: dict[str, int] = {}
    existing = {}
    if previous is not None:
        ids = {ref: pk for ref, pk in previous.question_map.items()}
        found = {q.pk: q for q in Question.objects.filter(pk__in=ids.values())}
        existing = {ref: found[pk] for ref, pk in ids.items() if pk in found}
    old_by_ref = {q["ref"]: q for q in (previous.version.document["questions"] if previous else [])}
    # Texts as the buyer stores them (images in its own library); changes are still found by
    # comparing the documents, whose references do not depend on the buyer.
    local = _localise_texts(document, written=written)
    shown = {q["ref"]: q for q in local["questions"]}
    to_create = []
    for q in document["questions"]:
        content = {
            "type": q["type"],
            "title": q["title"],
            "stem": shown[q["ref"]]["stem"],
            "data": q["data"],
            "explanation": shown[q["ref"]]["explanation"],
            "tags": q.get("tags", []),
            "difficulty": q.get("difficulty", 3),
        }
        current = existing.get(q["ref"])
        if current is None:
            to_create.append((q["ref"], content))
            continue
        changed = any(old_by_ref.get(q["ref"], {}).get(f) != q.get(f) for f in content)
        moved = current.category_id != category_of[q["ref"]].pk
        if changed or moved or current.status != Question.Status.ACTIVE:
            bank.update_question(
                question=current,
                author=None,
                **content,
                category=category_of[q["ref"]],
                status=Question.Status.ACTIVE,
            )
        question_map[q["ref"]] = current.pk
    created = bank.create_questions(
        author=None,
        questions=[
            {**content, "category": category_of[ref], "status": Question.Status.ACTIVE}
            for ref, content in to_create
        ],
    )
    question_map.update({ref: q.pk for (ref, _), q in zip(to_create, created, strict=True)})
    removed = [q for ref, q in existing.items() if ref not in question_map]
    if removed:
        bank.retire_questions(questions=removed, author=None)

    exam_id = previous.exam_id if previous else None
    exam_version_number = previous.exam_version_number if previous else None
    if document["kind"] != "question_bank":
        settings = dict(document["settings"])
        if "pass_mark_percent" in settings:
            settings["pass_mark_percent"] = Decimal(str(settings["pass_mark_percent"]))
        exam = Exam.objects.filter(pk=exam_id).first() if exam_id else None
        if exam is None:
            try:
                exam = exams.create_exam(
                    by=None,
                    title=document["title"],
                    description=local["description"],
                    **settings,
                )
            except exams.ExamError as error:  # e.g. the plan's exam limit, with its message
                raise MarketplaceError(error.errors, code="exam_refused") from None
        else:
            exam = exams.update_exam(
                exam=exam,
                by=None,
                title=document["title"],
                description=local["description"],
                **settings,
            )
            for section in list(exam.sections.all()):
                exams.remove_section(section=section)
        for s_number, section_doc in enumerate(local["sections"], start=1):
            section = exams.add_section(
                exam=exam, title=section_doc["title"], instructions=section_doc["instructions"]
            )
            for i_number, item in enumerate(section_doc["items"], start=1):
                if item["kind"] == "fixed":
                    exams.add_fixed_item(
                        section=section,
                        question=Question(pk=question_map[item["question"]]),
                        points=item.get("points"),
                    )
                else:
                    exams.add_pool_item(
                        section=section,
                        count=item["count"],
                        category=Category.objects.get(
                            pk=pool_categories[_pool_key(s_number, i_number)]
                        ),
                        include_subcategories=False,
                        points=item.get("points"),
                    )
        exam_version = exams.publish_exam(exam=exam, by=None)
        exam_id, exam_version_number = exam.pk, exam_version.number
    return {
        "exam_id": exam_id,
        "exam_version_number": exam_version_number,
        "category_id": home.pk,
        "question_map": question_map,
        "pool_categories": pool_categories,
    }


# -- reviews ----------------------------------------------------------------------------------


def submit_review(*, buyer: Tenant, listing: Listing, rating: Any, text: str = "") -> Review:
    """A licensed buyer's review (one per buyer; submitting again edits it). A review hidden
    by moderation stays hidden when edited."""
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    errors = []
    if not 1 <= rating <= 5:
        errors.append("rating must be 1 to 5")
    text = (text or "").strip()
    if len(text) > 5000:
        errors.append("the review is longer than 5,000 characters")
    if errors:
        raise MarketplaceError(errors)
    with transaction.atomic():
        listing = visible_listing(tenant=buyer, listing_id=listing.pk)
        if listing.publisher_id == buyer.pk:
            raise MarketplaceError("Publishers cannot review their own listing.", code="forbidden")
        if not Licence.objects.filter(buyer=buyer, listing=listing).exists():
            raise MarketplaceError(
                "Only portals holding a licence for this listing can review it.",
                code="licence_required",
            )
        review, _ = Review.objects.update_or_create(
            buyer=buyer, listing=listing, defaults={"rating": rating, "text": text}
        )
    return review


def reply_to_review(*, publisher: Tenant, review_id: int, text: str) -> Review:
    """The publisher's public answer to a review of one of its listings."""
    review = Review.objects.filter(pk=review_id, listing__publisher=publisher).first()
    if review is None:
        raise MarketplaceError("This review does not exist.", code="not_found")
    text = (text or "").strip()
    if len(text) > 5000:
        raise MarketplaceError("the reply is longer than 5,000 characters")
    Review.objects.filter(pk=review.pk).update(
        publisher_reply=text, replied_at=timezone.now() if text else None, updated=timezone.now()
    )
    review.refresh_from_db()
    return review
