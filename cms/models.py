from __future__ import annotations

from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page

from cms.blocks import BodyBlock


class HomePage(Page):
    """The front page of a portal.

    Editors see the portal's title and a short welcome text; the pages they add under it are
    listed as the portal's sections.
    """

    intro = RichTextField(blank=True, features=["bold", "italic", "link"])

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["wagtailcore.Page"]
    max_count_per_parent = 1
    template = "cms/home_page.html"


class ContentPage(Page):
    """A general page: editors compose its body from headings, paragraphs and callouts."""

    body = StreamField(BodyBlock(), blank=True)

    content_panels = Page.content_panels + [FieldPanel("body")]
    parent_page_types = ["cms.HomePage", "cms.ContentPage"]
    template = "cms/content_page.html"
