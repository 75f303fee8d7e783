"""StreamField blocks shared by every portal page type."""

from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock

RICH_TEXT_FEATURES = ["h2", "h3", "bold", "italic", "link", "ol", "ul"]


class CalloutBlock(blocks.StructBlock):
    title = blocks.CharBlock(max_length=80)
    text = blocks.TextBlock()

    class Meta:
        icon = "pick"
        template = "cms/blocks/callout.html"


class ImageBlock(blocks.StructBlock):
    image = ImageChooserBlock()
    alt_text = blocks.CharBlock(
        max_length=200, help_text="What the image shows, for people who cannot see it."
    )
    caption = blocks.CharBlock(max_length=200, required=False)

    class Meta:
        icon = "image"
        template = "cms/blocks/image.html"


class BodyBlock(blocks.StreamBlock):
    heading = blocks.CharBlock(
        form_classname="title", max_length=120, template="cms/blocks/heading.html"
    )
    paragraph = blocks.RichTextBlock(features=RICH_TEXT_FEATURES)
    callout = CalloutBlock()
    image = ImageBlock()


class FeaturedPageBlock(blocks.StructBlock):
    page = blocks.PageChooserBlock()
    summary = blocks.TextBlock(required=False, max_length=240)

    class Meta:
        icon = "link"


class QuestionAnswerBlock(blocks.StructBlock):
    question = blocks.CharBlock(max_length=200)
    answer = blocks.RichTextBlock(features=["bold", "italic", "link", "ol", "ul"])

    class Meta:
        icon = "help"
        template = "cms/blocks/question_answer.html"


class PracticeTopicBlock(blocks.StructBlock):
    title = blocks.CharBlock(max_length=120)
    description = blocks.TextBlock()
    sample_question = blocks.CharBlock(max_length=240, required=False)

    class Meta:
        icon = "openquote"
        template = "cms/blocks/practice_topic.html"
