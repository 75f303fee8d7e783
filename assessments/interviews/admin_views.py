"""Interviews in the portal's Wagtail admin (``/cms/interviews/…``).

- *Interviews → Templates*: a Wagtail ``ModelViewSet`` over ``InterviewTemplate`` with its
  questions inline (permissions ``interviews.*_interviewtemplate``).
- *Interviews → Hiring*: positions, invitations, panel scheduling (ICS invites), panel
  scoring and the candidate ranking. Managers need ``interviews.manage_hiring``; reviewers
  ``interviews.review_panel`` and a seat on the panel. Anything else answers 404.

``interviews_viewset_group()`` is what ``assessments/wagtail_hooks.py`` registers.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from wagtail.admin.menu import MenuItem
from wagtail.admin.views import generic
from wagtail.admin.viewsets.base import ViewSet, ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet

from . import selectors, services
from .forms import (
    FeedbackForm,
    InviteForm,
    PositionForm,
    RankingFilterForm,
    ReviewForm,
    ScheduleForm,
    parse_rubric_lines,
)
from .models import InterviewTemplate, PanelReview, Position

NS = "interview_hiring"


def _require_hiring(request: HttpRequest) -> None:
    if not selectors.can_use_hiring(request.user):
        raise Http404("Not found")


def _require_manager(request: HttpRequest) -> None:
    if not selectors.can_manage_hiring(request.user):
        raise Http404("Not found")


def _portal_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def positions(request: HttpRequest) -> HttpResponse:
    _require_hiring(request)
    form = None
    if selectors.can_manage_hiring(request.user):
        form = PositionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                position = services.create_position(
                    by=request.user,
                    title=data["title"],
                    description=data["description"],
                    template=data["template"],
                    exam=data["exam"],
                    rubric=parse_rubric_lines(data["rubric"]),
                )
            except services.InterviewError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Position “{position.title}” created.")
                return redirect(f"{NS}:position", position.pk)
    elif request.method == "POST":
        raise Http404("Not found")
    return TemplateResponse(
        request,
        "assessments/interviews/admin/positions.html",
        {"positions": selectors.positions_for(user=request.user), "form": form},
    )


def position_detail(request: HttpRequest, position_id: int) -> HttpResponse:
    _require_hiring(request)
    position = selectors.position_or_404(user=request.user, position_id=position_id)
    competencies = selectors.competencies_of(position=position)
    filters = RankingFilterForm(request.GET or None, competencies=competencies)
    kwargs = {}
    if filters.is_valid():
        data = filters.cleaned_data
        kwargs = {
            "min_score": data["min_score"],
            "competency": data["competency"],
            "min_competency": data["min_competency"],
            "flags": data["flags"],
        }
    rows = selectors.ranking_for(user=request.user, position=position, **kwargs)
    manager = selectors.can_manage_hiring(request.user)
    return TemplateResponse(
        request,
        "assessments/interviews/admin/position.html",
        {
            "position": position,
            "rows": rows,
            "filters": filters,
            "competencies": competencies,
            "invite_form": InviteForm() if manager else None,
            "manager": manager,
        },
    )


@require_POST
def invite(request: HttpRequest, position_id: int) -> HttpResponse:
    _require_manager(request)
    position = selectors.position_or_404(user=request.user, position_id=position_id)
    form = InviteForm(request.POST)
    if form.is_valid():
        for line in form.cleaned_data["emails"].splitlines():
            email = line.strip()
            if not email:
                continue
            try:
                services.invite_candidate(
                    position=position, email=email, by=request.user, portal_url=_portal_url(request)
                )
            except services.InterviewError as exc:
                messages.error(request, f"{email}: {exc}")
            else:
                messages.success(request, f"{email} invited.")
    return redirect(f"{NS}:position", position.pk)


def candidate_detail(request: HttpRequest, candidate_id: int) -> HttpResponse:
    _require_hiring(request)
    candidate = selectors.candidate_or_404(user=request.user, candidate_id=candidate_id)
    manager = selectors.can_manage_hiring(request.user)
    schedule_form = feedback_form = None
    if manager:
        schedule_form = ScheduleForm(reviewer_queryset=selectors.reviewer_choices())
        feedback_form = FeedbackForm(initial={"text": candidate.feedback})
    panels = [
        (panel, selectors.visible_reviews(panel=panel, user=request.user))
        for panel in candidate.panels.prefetch_related("reviewers")
    ]
    return TemplateResponse(
        request,
        "assessments/interviews/admin/candidate.html",
        {
            "candidate": candidate,
            "panels": panels,
            "schedule_form": schedule_form,
            "feedback_form": feedback_form,
            "manager": manager,
        },
    )


@require_POST
def schedule(request: HttpRequest, candidate_id: int) -> HttpResponse:
    _require_manager(request)
    candidate = selectors.candidate_or_404(user=request.user, candidate_id=candidate_id)
    form = ScheduleForm(request.POST, reviewer_queryset=selectors.reviewer_choices())
    if form.is_valid():
        data = form.cleaned_data
        try:
            # The form made the wall-clock time aware in the server's zone; take it back to
            # the wall-clock time and read it in the zone the manager chose.
            local = data["starts_at"]
            if timezone.is_aware(local):
                local = timezone.make_naive(local)
            starts = services.local_to_utc(local=local, tz_name=data["tz_name"])
            services.schedule_panel(
                candidate=candidate,
                starts_at=starts,
                duration_minutes=data["duration_minutes"],
                tz_name=data["tz_name"],
                reviewers=list(data["reviewers"]),
                location=data["location"],
                by=request.user,
            )
        except services.InterviewError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Panel scheduled; calendar invites are on their way.")
    else:
        messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
    return redirect(f"{NS}:candidate", candidate.pk)


@require_POST
def feedback(request: HttpRequest, candidate_id: int) -> HttpResponse:
    _require_manager(request)
    candidate = selectors.candidate_or_404(user=request.user, candidate_id=candidate_id)
    form = FeedbackForm(request.POST)
    if form.is_valid():
        try:
            services.send_feedback(
                candidate=candidate, text=form.cleaned_data["text"], by=request.user
            )
        except services.InterviewError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Feedback sent to {candidate.user.email}.")
    return redirect(f"{NS}:candidate", candidate.pk)


def panel_detail(request: HttpRequest, panel_id: int) -> HttpResponse:
    _require_hiring(request)
    panel = selectors.panel_or_404(user=request.user, panel_id=panel_id)
    rubric = panel.candidate.position.rubric
    on_panel = panel.reviewers.filter(pk=request.user.pk).exists()
    own = PanelReview.objects.filter(panel=panel, reviewer=request.user).first()
    form = None
    if on_panel and own is None:
        form = ReviewForm(request.POST or None, rubric=rubric)
        if request.method == "POST" and form.is_valid():
            try:
                services.submit_review(
                    panel=panel,
                    reviewer=request.user,
                    scores=form.scores(),
                    comments=form.cleaned_data["comments"],
                )
            except services.InterviewError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Your scores are submitted.")
                return redirect(f"{NS}:panel", panel.pk)
    elif request.method == "POST":
        raise Http404("Not found")
    reviews = selectors.visible_reviews(panel=panel, user=request.user)
    criteria = {c["id"]: c for c in rubric}
    return TemplateResponse(
        request,
        "assessments/interviews/admin/panel.html",
        {
            "panel": panel,
            "form": form,
            "on_panel": on_panel,
            "own": own,
            "reviews": [
                (r, [(criteria.get(cid, {"criterion": cid}), pts) for cid, pts in r.scores.items()])
                for r in reviews
            ],
            "hidden_count": 0 if reviews or not on_panel else panel.reviews.count(),
        },
    )


def panel_ics(request: HttpRequest, panel_id: int) -> HttpResponse:
    _require_hiring(request)
    panel = selectors.panel_or_404(user=request.user, panel_id=panel_id)
    response = HttpResponse(
        services.panel_calendar(panel=panel), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="panel-{panel.pk}.ics"'
    return response


class HiringMenuItem(MenuItem):
    def is_shown(self, request):
        return selectors.can_use_hiring(request.user)


class HiringViewSet(ViewSet):
    name = NS
    url_prefix = "interviews/hiring"
    menu_label = "Hiring"
    icon = "group"

    def get_urlpatterns(self):
        return [
            path("", positions, name="positions"),
            path("<int:position_id>/", position_detail, name="position"),
            path("<int:position_id>/invite/", invite, name="invite"),
            path("candidate/<int:candidate_id>/", candidate_detail, name="candidate"),
            path("candidate/<int:candidate_id>/schedule/", schedule, name="schedule"),
            path("candidate/<int:candidate_id>/feedback/", feedback, name="feedback"),
            path("panel/<int:panel_id>/", panel_detail, name="panel"),
            path("panel/<int:panel_id>/invite.ics", panel_ics, name="panel_ics"),
        ]

    def get_menu_item(self, order=None):
        return HiringMenuItem(
            self.menu_label,
            reverse(f"{NS}:positions"),
            name=self.menu_name,
            icon_name=self.icon,
            order=order or 100,
        )


class TemplateDeleteView(generic.DeleteView):
    """Practice sessions and positions keep pointing at their template: one in use is
    unpublished instead of deleted."""

    def form_valid(self, form):
        template = self.object
        if template.sessions.exists() or Position.objects.filter(template=template).exists():
            messages.error(
                self.request,
                f"“{template.title}” has practice sessions or positions, so it cannot be "
                "deleted. Untick “Published” to stop offering it.",
            )
            return redirect(self.get_success_url())
        return super().form_valid(form)


class InterviewTemplateViewSet(ModelViewSet):
    model = InterviewTemplate
    delete_view_class = TemplateDeleteView
    name = "interview_templates"
    url_prefix = "interviews/templates"
    menu_label = "Templates"
    icon = "doc-full"
    list_display = ["title", "industry", "role", "published"]
    list_filter = ["industry", "published"]


class InterviewsViewSetGroup(ViewSetGroup):
    menu_label = "Interviews"
    menu_icon = "user"
    menu_order = 250
    items = (InterviewTemplateViewSet, HiringViewSet)


def interviews_viewset_group() -> ViewSetGroup:
    return InterviewsViewSetGroup()
