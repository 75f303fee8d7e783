from __future__ import annotations

from django.db import models
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page

from cms.blocks import BodyBlock, FeaturedPageBlock, PracticeTopicBlock, QuestionAnswerBlock

SECTION_PARENTS = ["cms.HomePage", "cms.ContentPage"]


class HomePage(Page):
    """The front page of a portal.

    Editors see a hero (heading is the page title, a short intro and a call-to-action link),
    a list of featured pages (exams, guides, practice), and a free body. The three newest news
    items of the portal are listed automatically.
    """

    intro = RichTextField(blank=True, features=["bold", "italic", "link"])
    hero_cta_label = models.CharField("call to action", max_length=60, blank=True)
    hero_cta_page = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="call to action links to",
    )
    featured = StreamField(
        [("page", FeaturedPageBlock())], blank=True, verbose_name="featured pages"
    )
    body = StreamField(BodyBlock(), blank=True)

    content_panels = Page.content_panels + [
        MultiFieldPanel(
            [FieldPanel("intro"), FieldPanel("hero_cta_label"), FieldPanel("hero_cta_page")],
            heading="Hero",
        ),
        FieldPanel("featured"),
        FieldPanel("body"),
    ]
    parent_page_types = ["wagtailcore.Page"]
    max_count_per_parent = 1
    template = "cms/home_page.html"

    def latest_news(self):
        return NewsPage.objects.live().public().descendant_of(self).order_by("-date")[:3]


class ContentPage(Page):
    """A general page: editors compose its body from headings, paragraphs, images and
    callouts."""

    body = StreamField(BodyBlock(), blank=True)

    content_panels = Page.content_panels + [FieldPanel("body")]
    parent_page_types = SECTION_PARENTS
    template = "cms/content_page.html"


class NewsPage(Page):
    """A dated news item; the newest three appear on the home page."""

    date = models.DateField()
    summary = models.CharField(max_length=240)
    body = StreamField(BodyBlock(), blank=True)

    content_panels = Page.content_panels + [
        FieldPanel("date"),
        FieldPanel("summary"),
        FieldPanel("body"),
    ]
    parent_page_types = SECTION_PARENTS
    template = "cms/news_page.html"


class ExamCataloguePage(Page):
    """The list of exams and mock tests. Editors write the introduction; the exams a signed-in
    candidate may take are listed below it by the exam delivery module."""

    intro = RichTextField(blank=True, features=["bold", "italic", "link", "ol", "ul"])

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = SECTION_PARENTS
    max_count_per_parent = 1
    template = "cms/exam_catalogue_page.html"

    def get_context(self, request, *args, **kwargs):
        """Adds ``exams``: what the visitor may take, each with its window, attempts left and
        any open attempt to resume (empty for anonymous visitors)."""
        from assessments.delivery.views import catalogue_entries

        context = super().get_context(request, *args, **kwargs)
        context["exams"] = catalogue_entries(user=request.user)
        return context


class InterviewPracticePage(Page):
    """Interview practice: an introduction and the topics candidates can rehearse, each with
    a description and an optional sample question."""

    intro = RichTextField(blank=True, features=["bold", "italic", "link"])
    topics = StreamField([("topic", PracticeTopicBlock())], blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("topics")]
    parent_page_types = SECTION_PARENTS
    template = "cms/interview_practice_page.html"


class StudyGuidePage(Page):
    """A study guide on one subject: editors give the subject, an estimated reading time and
    the guide's body. Guides can nest (a guide and its chapters)."""

    subject = models.CharField(max_length=120)
    reading_minutes = models.PositiveSmallIntegerField(default=10)
    body = StreamField(BodyBlock(), blank=True)

    content_panels = Page.content_panels + [
        FieldPanel("subject"),
        FieldPanel("reading_minutes"),
        FieldPanel("body"),
    ]
    parent_page_types = [*SECTION_PARENTS, "cms.StudyGuidePage"]
    template = "cms/study_guide_page.html"


class FAQPage(Page):
    """Frequently asked questions: editors add question-and-answer pairs, shown as
    expandable items."""

    intro = RichTextField(blank=True, features=["bold", "italic", "link"])
    questions = StreamField([("item", QuestionAnswerBlock())], blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("questions")]
    parent_page_types = SECTION_PARENTS
    template = "cms/faq_page.html"

    class Meta:
        verbose_name = "FAQ page"
