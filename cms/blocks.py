"""StreamField blocks shared by every portal page type."""

from wagtail import blocks


class BodyBlock(blocks.StreamBlock):
    heading = blocks.CharBlock(form_classname="title", max_length=120)
    paragraph = blocks.RichTextBlock(features=["bold", "italic", "link", "ol", "ul"])
    callout = blocks.StructBlock(
        [
            ("title", blocks.CharBlock(max_length=80)),
            ("text", blocks.TextBlock()),
        ],
        icon="pick",
    )

    class Meta:
        template = "cms/blocks/body.html"
