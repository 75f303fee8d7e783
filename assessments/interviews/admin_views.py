"""Interviews in the portal's Wagtail admin (``/cms/interviews/…``).

- *Interviews → Templates*: a Wagtail ``ModelViewSet`` over ``InterviewTemplate`` with its
  questions inline (permissions ``interviews.*_interviewtemplate``).
- *Interviews → Hiring*: positions, invitations, panel scheduling (ICS invites), panel
  scoring and the candidate ranking. Managers need ``interviews.manage_hiring``; reviewers
  ``interviews.review_panel`` and a seat on the panel. Anything else answers 404.

``interviews_viewset_group()`` is what ``assessments/wagtail_hooks.py`` registers.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.decorators.http import require_POST
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.menus import MenuItem as ListingMenuItem
from wagtail.admin.views import generic
from wagtail.admin.viewsets.base import ViewSet, ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import Button

from . import selectors, services
from .forms import (
    FeedbackForm,
    InviteForm,
    MarketplacePublishForm,
    PositionForm,
    RankingFilterForm,
    RescheduleForm,
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
        (
            panel,
            selectors.visible_reviews(panel=panel, user=request.user),
            _reschedule_form(panel) if manager and selectors.is_open(panel=panel) else None,
        )
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


def _reschedule_form(panel) -> RescheduleForm:
    local = panel.starts_at.astimezone(ZoneInfo(panel.timezone)).replace(tzinfo=None)
    return RescheduleForm(
        initial={
            "starts_at": local.strftime("%Y-%m-%dT%H:%M"),
            "tz_name": panel.timezone,
            "duration_minutes": panel.duration_minutes,
        },
        prefix=f"panel{panel.pk}",
    )


@require_POST
def reschedule(request: HttpRequest, panel_id: int) -> HttpResponse:
    _require_manager(request)
    panel = selectors.panel_or_404(user=request.user, panel_id=panel_id)
    form = RescheduleForm(request.POST, prefix=f"panel{panel.pk}")
    if form.is_valid():
        data = form.cleaned_data
        local = data["starts_at"]
        if timezone.is_aware(local):
            local = timezone.make_naive(local)
        try:
            services.reschedule_panel(
                panel=panel,
                starts_at=services.local_to_utc(local=local, tz_name=data["tz_name"]),
                duration_minutes=data["duration_minutes"],
                tz_name=data["tz_name"],
            )
        except services.InterviewError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Panel moved; updated calendar invites are on their way.")
    else:
        messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
    return redirect(f"{NS}:candidate", panel.candidate_id)


@require_POST
def cancel(request: HttpRequest, panel_id: int) -> HttpResponse:
    _require_manager(request)
    panel = selectors.panel_or_404(user=request.user, panel_id=panel_id)
    try:
        services.cancel_panel(panel=panel)
    except services.InterviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Panel cancelled; everyone invited gets a cancellation.")
    return redirect(f"{NS}:candidate", panel.candidate_id)


@require_POST
def withdraw(request: HttpRequest, candidate_id: int) -> HttpResponse:
    _require_manager(request)
    candidate = selectors.candidate_or_404(user=request.user, candidate_id=candidate_id)
    position_id, email = candidate.position_id, candidate.user.email
    services.release_candidate(candidate=candidate)
    messages.success(
        request, f"{email} withdrawn: upcoming panels are cancelled and the seat is free."
    )
    return redirect(f"{NS}:position", position_id)


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
            path("candidate/<int:candidate_id>/withdraw/", withdraw, name="withdraw"),
            path("panel/<int:panel_id>/", panel_detail, name="panel"),
            path("panel/<int:panel_id>/invite.ics", panel_ics, name="panel_ics"),
            path("panel/<int:panel_id>/reschedule/", reschedule, name="reschedule"),
            path("panel/<int:panel_id>/cancel/", cancel, name="cancel"),
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


# -- publishing a template to the marketplace ---------------------------------------------


def _may_publish(request: HttpRequest) -> bool:
    """Publishing acts for the whole portal, as in the marketplace screens: admins only."""
    from tenants.access.permissions import has_role

    return has_role(request.user, "admin")


def publish_template(request: HttpRequest, pk: int) -> HttpResponse:
    """*Publish to marketplace*: the template as a new interview listing, or as the next
    version of one of the portal's interview listings."""
    from marketplace import services as marketplace
    from marketplace.models import Listing

    if not _may_publish(request):
        raise Http404("Not found")
    template = InterviewTemplate.objects.filter(pk=pk).first()
    if template is None:
        raise Http404("Not found")
    own = Listing.objects.filter(publisher=request.tenant, kind=Listing.Kind.INTERVIEW)
    form = MarketplacePublishForm(
        request.POST or None,
        initial={"title": template.title, "description": template.description},
        listings=[(listing.pk, f"New version of “{listing.title}”") for listing in own],
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            published = marketplace.publish_interview_template(
                publisher=request.tenant,
                template_id=template.pk,
                listing_id=data["listing"],
                release_notes=data["release_notes"],
                **({} if data["listing"] else form.listing_values()),
            )
        except marketplace.MarketplaceError as error:
            for message in error.errors:
                form.add_error(None, message)
        else:
            version = published.version
            messages.success(
                request,
                f"“{template.title}” published as version {version.number} of "
                f"“{version.listing.title}”.",
            )
            return redirect("marketplace_admin:mine")
    return TemplateResponse(
        request,
        "assessments/interviews/admin/publish.html",
        {"template": template, "form": form, "is_publisher": request.tenant.kind == "publisher"},
    )


class TemplateIndexView(generic.IndexView):
    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if instance.source_listing_id is None and _may_publish(self.request):
            buttons.append(
                ListingMenuItem(
                    "Publish to marketplace",
                    url=reverse("interview_templates:publish", args=[instance.pk]),
                    icon_name="pick",
                    priority=40,
                )
            )
        return buttons


class TemplateEditView(generic.EditView):
    @cached_property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        if self.object.source_listing_id is None and _may_publish(self.request):
            buttons.append(
                Button(
                    "Publish to marketplace",
                    url=reverse("interview_templates:publish", args=[self.object.pk]),
                    icon_name="pick",
                    priority=40,
                )
            )
        return buttons


class InterviewTemplateViewSet(ModelViewSet):
    model = InterviewTemplate
    index_view_class = TemplateIndexView
    edit_view_class = TemplateEditView
    delete_view_class = TemplateDeleteView
    name = "interview_templates"
    url_prefix = "interviews/templates"
    menu_label = "Templates"
    icon = "doc-full"
    list_display = ["title", "industry", "role", "published", "from_marketplace"]
    list_filter = ["industry", "published"]

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("<int:pk>/publish/", publish_template, name="publish"),
        ]


class InterviewsViewSetGroup(ViewSetGroup):
    menu_label = "Interviews"
    menu_icon = "user"
    menu_order = 250
    items = (InterviewTemplateViewSet, HiringViewSet)


def interviews_viewset_group() -> ViewSetGroup:
    return InterviewsViewSetGroup()
