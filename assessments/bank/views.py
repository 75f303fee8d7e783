"""The question bank in the portal's Wagtail admin (``/cms/questions/``).

Thin views: forms parse, ``assessments.services`` writes (every save is a new version),
``assessments.selectors`` reads. Every view first checks ``access.require_author``; a question
or version id is looked up in the current schema only, so another portal's ids are "not found".
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from assessments import selectors, services
from assessments.html import sanitise_html
from assessments.models import Category, Question, QuestionVersion
from assessments.questions import REGISTRY, QuestionDataError, get_type

from . import forms
from .access import question_or_404, require_author, version_or_404
from .rendering import candidate_context, well_shaped

PAGE_SIZE = 50


class BankView(WagtailAdminTemplateMixin, TemplateView):
    """Base of the bank's admin pages: the permission check and the breadcrumbs."""

    header_icon = "help"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        require_author(request.user)
        return super().dispatch(request, *args, **kwargs)

    def crumbs(self) -> list[dict]:
        return []

    def get_breadcrumbs_items(self) -> list[dict]:
        return [
            *self.breadcrumbs_items,
            {"url": reverse("bank:index"), "label": "Question bank"},
            *self.crumbs(),
            {"url": "", "label": self.get_page_title()},
        ]


class QuestionPageMixin:
    """Views about one question (``question_id`` in the URL)."""

    question: Question

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        require_author(request.user)
        self.question = question_or_404(kwargs["question_id"])
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]

    def crumbs(self) -> list[dict]:
        return [
            {"url": reverse("bank:edit", args=[self.question.pk]), "label": self.question.title}
        ]


# -- the list ------------------------------------------------------------------------------


class BankIndexView(BankView):
    """The bank: search, filters, 50 to a page, and bulk actions on the ticked rows."""

    template_name = "assessments/bank/index.html"
    page_title = "Question bank"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        paths = forms.category_paths()
        filters = forms.FilterForm(self.request.GET or None, paths=paths)
        questions = selectors.search_questions(**filters.criteria())
        page = Paginator(questions, PAGE_SIZE).get_page(self.request.GET.get("p"))
        rows = [
            {
                "question": question,
                "type_label": REGISTRY[question.type].label
                if question.type in REGISTRY
                else question.type,
                "category": paths.get(question.category_id, ""),
                "tags": sorted(tag.name for tag in question.tags.all()),
            }
            for question in page.object_list
        ]
        query = {k: v for k, v in self.request.GET.items() if k != "p" and v}
        return super().get_context_data(
            filters=filters,
            page=page,
            rows=rows,
            bulk_form=forms.BulkForm(paths=paths),
            query=urlencode(query),
            current_url=self.request.get_full_path(),
            types=forms.TYPE_CHOICES,
            **kwargs,
        )


def bulk_action(request: HttpRequest) -> HttpResponse:
    """Tag, untag, move or retire the ticked questions (POST), then back to the list."""
    require_author(request.user)
    if request.method != "POST":
        return redirect("bank:index")
    form = forms.BulkForm(request.POST)
    back = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = ""
    back = back or reverse("bank:index")
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return HttpResponseRedirect(back)
    action, ids = form.cleaned_data["action"], form.cleaned_data["ids"]
    tag = form.cleaned_data["tag"].strip()
    try:
        if action == "add_tag":
            count = services.bulk_tag(questions=ids, add=[tag], author=request.user)
            messages.success(request, f"Tag “{tag}” added to {_questions(count)}.")
        elif action == "remove_tag":
            count = services.bulk_tag(questions=ids, remove=[tag], author=request.user)
            messages.success(request, f"Tag “{tag}” removed from {_questions(count)}.")
        elif action == "move":
            category = forms.category_from_choice(form.cleaned_data["category"])
            count = services.move_questions(questions=ids, category=category, author=request.user)
            where = forms.category_paths().get(category.pk) if category else "no category"
            messages.success(request, f"{_questions(count).capitalize()} moved to {where}.")
        else:
            count = services.retire_questions(questions=ids, author=request.user)
            messages.success(request, f"{_questions(count).capitalize()} retired.")
    except QuestionDataError as error:
        messages.error(request, "Nothing was changed: " + "; ".join(error.errors))
    return HttpResponseRedirect(back)


def _questions(count: int) -> str:
    return f"{count} question{'s' if count != 1 else ''}"


# -- categories ----------------------------------------------------------------------------


class CategoriesView(BankView):
    """The category tree with question counts, and a form to add a category anywhere in it."""

    template_name = "assessments/bank/categories.html"
    page_title = "Categories"
    header_icon = "folder-open-inverse"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = forms.CategoryForm(request.POST)
        if form.is_valid():
            try:
                category = services.create_category(
                    name=form.cleaned_data["name"],
                    parent=forms.category_from_choice(form.cleaned_data["parent"]),
                )
            except QuestionDataError as error:
                for message in error.errors:
                    form.add_error("name", message)
            else:
                path = forms.category_paths()[category.pk]
                messages.success(request, f"Category “{path}” created.")
                return redirect("bank:categories")
        return self.render_to_response(self.get_context_data(form=form))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from django.db.models import Count

        categories = list(Category.objects.annotate(count=Count("questions")).order_by("name"))
        children: dict[int | None, list[Category]] = {}
        for category in categories:
            children.setdefault(category.parent_id, []).append(category)

        def branch(parent: int | None, depth: int) -> list[dict]:
            nodes = []
            for category in children.get(parent, []):
                nodes.append({"category": category, "depth": depth})
                nodes.extend(branch(category.pk, depth + 1))
            return nodes

        kwargs.setdefault("form", forms.CategoryForm())
        return super().get_context_data(tree=branch(None, 0), **kwargs)


# -- the editor ----------------------------------------------------------------------------


class QuestionEditorMixin:
    template_name = "assessments/bank/edit.html"
    request: HttpRequest

    def editor_context(self, form: forms.QuestionForm, type_key: str) -> dict[str, Any]:
        return {
            "form": form,
            "type_key": type_key,
            "type_label": REGISTRY[type_key].label if type_key in REGISTRY else type_key,
            "type_doc": forms.type_documentation(type_key) if type_key in REGISTRY else "",
            "example": forms.data_as_text(forms.EXAMPLES.get(type_key, {})),
            "types": forms.TYPE_CHOICES,
            "media": form.media,
        }


class QuestionCreateView(QuestionEditorMixin, BankView):
    """A new question: first its type (``?type=``), then the form pre-filled with an example."""

    page_title = "New question"
    header_icon = "plus"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        type_key = request.GET.get("type")
        if type_key not in REGISTRY:
            return TemplateResponse(
                request,
                "assessments/bank/choose_type.html",
                super().get_context_data(
                    types=[
                        (key, question_type.label, forms.type_documentation(key).split("\n\n")[0])
                        for key, question_type in REGISTRY.items()
                    ]
                ),
            )
        form = forms.QuestionForm(
            initial={"type": type_key, "data": forms.data_as_text(forms.EXAMPLES[type_key])}
        )
        return self.render_to_response(self.get_context_data(**self.editor_context(form, type_key)))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = forms.QuestionForm(request.POST)
        if form.is_valid():
            try:
                question = services.create_question(author=request.user, **form.values())
            except QuestionDataError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, f"Question “{question.title}” created (version 1).")
                return redirect("bank:edit", question.pk)
        messages.error(request, "The question was not saved: correct the errors below.")
        type_key = request.POST.get("type", "")
        return self.render_to_response(self.get_context_data(**self.editor_context(form, type_key)))


class QuestionEditView(QuestionPageMixin, QuestionEditorMixin, BankView):
    """Edit a question; a save that changes anything makes a new version."""

    header_icon = "edit"

    def get_page_title(self) -> str:
        return f"Edit: {self.question.title}"

    def crumbs(self) -> list[dict]:
        return []

    def initial(self) -> dict[str, Any]:
        question = self.question
        return {
            "type": question.type,
            "title": question.title,
            "stem": question.stem,
            "data": forms.data_as_text(question.data),
            "explanation": question.explanation,
            "category": str(question.category_id or ""),
            "tags": list(question.tags.all()),
            "difficulty": question.difficulty,
            "irt_a": question.irt_a,
            "irt_b": question.irt_b,
            "irt_c": question.irt_c,
            "status": question.status,
        }

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = forms.QuestionForm(initial=self.initial())
        return self.render_to_response(
            self.get_context_data(**self.editor_context(form, self.question.type))
        )

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = forms.QuestionForm(request.POST)
        if form.is_valid():
            changes = _changes(self.question, form.values())
            if not changes:
                messages.info(request, "Nothing changed, so no new version was made.")
                return redirect("bank:edit", self.question.pk)
            try:
                question = services.update_question(
                    question=self.question, author=request.user, **changes
                )
            except QuestionDataError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, f"Saved as version {question.version}.")
                return redirect("bank:edit", question.pk)
        messages.error(request, "The question was not saved: correct the errors below.")
        type_key = request.POST.get("type", self.question.type)
        return self.render_to_response(self.get_context_data(**self.editor_context(form, type_key)))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(question=self.question, **kwargs)


def _changes(question: Question, values: dict) -> dict:
    """The fields of ``values`` that differ from ``question`` (HTML compared once sanitised)."""
    current = services.snapshot_of(question)
    changes = {}
    for name, value in values.items():
        if name == "category":
            if (value.pk if value else None) != question.category_id:
                changes[name] = value
        elif name == "tags":
            if sorted(set(value)) != current["tags"]:
                changes[name] = value
        elif name in ("stem", "explanation"):
            if sanitise_html(value) != current[name]:
                changes[name] = value
        elif value != current[name]:
            changes[name] = value
    return changes


# -- versions ------------------------------------------------------------------------------


def _in_field_order(changes: list) -> list:
    """Changes in the editor's field order (JSON snapshots keep no key order)."""
    order = list(services.EDITABLE_FIELDS)
    return sorted(
        changes,
        key=lambda change: order.index(change.field) if change.field in order else len(order),
    )


class VersionHistoryView(QuestionPageMixin, BankView):
    """Every version (number, author, date), and a choice of two to compare."""

    template_name = "assessments/bank/history.html"
    header_icon = "history"

    def get_page_title(self) -> str:
        return f"History: {self.question.title}"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        versions = list(
            QuestionVersion.objects.filter(question_id=self.question.pk)
            .select_related("author")
            .order_by("-number")
        )
        latest = self.question.version
        pair = forms.VersionPairForm(initial={"a": max(latest - 1, 1), "b": latest})
        return super().get_context_data(
            question=self.question, versions=versions, pair=pair, **kwargs
        )


class VersionDiffView(QuestionPageMixin, BankView):
    """What changed between two versions (``?a=&b=``), field by field."""

    template_name = "assessments/bank/diff.html"
    header_icon = "history"

    def get_page_title(self) -> str:
        return f"Compare versions: {self.question.title}"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        a = version_or_404(self.question, self.request.GET.get("a"))
        b = version_or_404(self.question, self.request.GET.get("b"))
        changes = _in_field_order(
            selectors.version_diff(question=self.question, a=a.number, b=b.number)
        )
        return super().get_context_data(question=self.question, a=a, b=b, changes=changes, **kwargs)

    def crumbs(self) -> list[dict]:
        return [
            *super().crumbs(),
            {"url": reverse("bank:history", args=[self.question.pk]), "label": "History"},
        ]


class VersionRestoreView(QuestionPageMixin, BankView):
    """Confirm (GET: what would change) and restore (POST) an earlier version as a new one."""

    template_name = "assessments/bank/restore.html"
    header_icon = "history"

    def get_page_title(self) -> str:
        return f"Restore version {self.kwargs['number']}: {self.question.title}"

    def crumbs(self) -> list[dict]:
        return [
            *super().crumbs(),
            {"url": reverse("bank:history", args=[self.question.pk]), "label": "History"},
        ]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        version = version_or_404(self.question, self.kwargs["number"])
        changes = _in_field_order(
            selectors.version_diff(
                question=self.question, a=self.question.version, b=version.number
            )
        )
        return super().get_context_data(
            question=self.question, version=version, changes=changes, **kwargs
        )

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        version = version_or_404(self.question, kwargs["number"])
        try:
            question = services.restore_version(
                question=self.question, number=version.number, author=request.user
            )
        except QuestionDataError as error:
            messages.error(request, "Version not restored: " + "; ".join(error.errors))
            return redirect("bank:history", self.question.pk)
        messages.success(
            request, f"Version {version.number} restored as version {question.version}."
        )
        return redirect("bank:edit", question.pk)


# -- preview -------------------------------------------------------------------------------


class PreviewView(QuestionPageMixin, TemplateView):
    """The question exactly as a candidate sees it (the portal's look and the candidate
    partial), with "Check answer" grading the previewed response. ``?version=`` previews an
    earlier version, ``?seed=`` a shuffle. The key is never on the page before checking."""

    template_name = "assessments/bank/preview.html"

    def snapshot(self) -> tuple[dict, int]:
        number = self.request.GET.get("version") or self.request.POST.get("version")
        if number:
            version = version_or_404(self.question, number)
            content, shown = version.snapshot, version.number
        else:
            content, shown = services.snapshot_of(self.question), self.question.version
        points = get_type(content["type"]).max_score(content["data"])
        return {**content, "points": str(points)}, shown

    def seed(self) -> str | None:
        seed = self.request.POST.get("seed") or self.request.GET.get("seed")
        return seed[:40] if seed else None

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = json.loads(request.POST.get("response") or "null")
        except json.JSONDecodeError:
            response = None
        content, _ = self.snapshot()
        response = well_shaped(content["type"], response)
        grade = get_type(content["type"]).grade(content["data"], response)
        return self.render_to_response(self.get_context_data(response=response, grade=grade))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        content, shown = self.snapshot()
        response = kwargs.pop("response", None)
        grade = kwargs.get("grade")
        return super().get_context_data(
            question=self.question,
            shown_version=shown,
            seed=self.seed() or "",
            q=candidate_context(content, position=1, shuffle_seed=self.seed(), response=response),
            # Shown only once an answer was checked: it may give the answer away.
            explanation=mark_safe(sanitise_html(content.get("explanation", "")))  # noqa: S308
            if grade is not None
            else "",
            **kwargs,
        )


bank_index = BankIndexView.as_view()
categories = CategoriesView.as_view()
question_create = QuestionCreateView.as_view()
question_edit = QuestionEditView.as_view()
version_history = VersionHistoryView.as_view()
version_diff = VersionDiffView.as_view()
version_restore = VersionRestoreView.as_view()
preview = PreviewView.as_view()
