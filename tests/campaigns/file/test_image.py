"""A message's picture: a public https address of a JPEG, PNG or GIF and its alt text, checked where it is written
(file, line, field, how to fix it); the variant's own picture wins over the step's, and a follow-up shows only its
own."""

from __future__ import annotations

import pytest

from campaigns.file.definition import campaign_schema
from campaigns.file.loader import CampaignError, parse_campaign
from campaigns.file.step_text import describe, step_image

YAML = """\
id: spring
name: Spring
channels: [telegram, slack]
message:
  brief: Main brief.
  template: "Main {{ unsubscribe }}"
  image:
    url: https://cdn.shop.example.com/main.jpg
    alt: Shoes on grass
variants:
  - id: plain
  - id: bold
    image: {url: "https://cdn.shop.example.com/bold.png", alt: Bold shoes}
    steps:
      reminder: {image: {url: "https://cdn.shop.example.com/bold-reminder.gif", alt: Bold reminder}}
follow_ups:
  - id: reminder
    after: 2d
    message: {brief: Reminder brief., template: "Reminder {{ unsubscribe }}"}
  - id: last-call
    after: 1d
    message:
      brief: Last brief.
      template: "Last {{ unsubscribe }}"
      image: {url: "https://cdn.shop.example.com/last.jpg?v=2", alt: The last pair}
"""


@pytest.mark.parametrize(
    ("step", "variant", "url"),
    [
        ("main", "plain", "main.jpg"),
        ("main", "bold", "bold.png"),
        ("main", None, "main.jpg"),
        ("run-20270405T0900Z", "bold", "bold.png"),  # a recurring run sends the main message
        ("reminder", "plain", None),  # a follow-up never shows the main message's picture
        ("reminder", "bold", "bold-reminder.gif"),
        ("last-call", "plain", "last.jpg?v=2"),
        ("last-call", "bold", "last.jpg?v=2"),  # the variant gives the last call no picture of its own
        ("run-20270405T0900Z/reminder", "bold", "bold-reminder.gif"),
    ],
)
def test_the_most_specific_picture_wins(step: str, variant: str | None, url: str | None) -> None:
    image = step_image(parse_campaign(YAML), step, variant)
    assert (image.url.rsplit("/", 1)[-1] if image else None) == url


def test_validate_names_each_steps_picture() -> None:
    assert describe(parse_campaign(YAML)) == [
        "main / variant plain: the message's brief and template, picture https://cdn.shop.example.com/main.jpg",
        "main / variant bold: the message's brief and template, picture https://cdn.shop.example.com/bold.png",
        "reminder / variant plain: the follow-up's own brief and template",
        "reminder / variant bold: the follow-up's own brief and template,"
        " picture https://cdn.shop.example.com/bold-reminder.gif",
        "last-call / every variant: the follow-up's own brief and template,"
        " picture https://cdn.shop.example.com/last.jpg?v=2",
    ]


def problems(yaml: str) -> list[str]:
    with pytest.raises(CampaignError) as caught:
        parse_campaign(yaml, "spring.yaml")
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://cdn.shop.example.com/main.jpg", "must be an https address such as https://"),
        ("cdn.shop.example.com/main.jpg", "must be an https address"),
        ("https:///main.jpg", "must be an https address"),
        ("https://cdn.shop.example.com/main.webp", "a WEBP picture is not shown by every channel: give a JPEG, PNG"),
        ("https://cdn.shop.example.com/logo.SVG", "a SVG picture is not shown by every channel"),
        ("https://cdn.shop.example.com/" + "a" * 3000 + ".jpg", "must have at most 3000 characters"),
    ],
)
def test_a_picture_address_that_cannot_go_out_is_located_with_a_hint(url: str, message: str) -> None:
    [problem] = problems(YAML.replace("https://cdn.shop.example.com/main.jpg", url))
    assert problem.startswith("spring.yaml:8: message.image.url: ") and message in problem, problem


def test_an_address_without_a_file_name_is_fine() -> None:
    campaign = parse_campaign(YAML.replace("main.jpg", "img?id=42&w=800"))
    assert campaign.message.image and campaign.message.image.url.endswith("?id=42&w=800")


def test_alt_text_is_required_and_bounded_and_a_file_says_to_give_an_address() -> None:
    missing = problems(YAML.replace("    alt: Shoes on grass\n", ""))
    assert missing == ["spring.yaml:7: message.image.alt: missing (required)"]
    [long] = problems(YAML.replace("alt: Shoes on grass", "alt: " + "x" * 2001))
    assert long == "spring.yaml:9: message.image.alt: must have at most 2000 characters, got 2001"
    [filed] = problems(YAML.replace("url: https://cdn.shop.example.com/main.jpg", "file: pictures/main.jpg"))
    assert filed.startswith("spring.yaml:7: message.image: a file cannot be sent: put the picture where your shop")
    assert problems(YAML.replace("    alt: Shoes", "    alt_text: Shoes")) == [
        "spring.yaml:7: message.image.alt: missing (required)",
        "spring.yaml:9: message.image.alt_text: unknown field 'alt_text' (did you mean 'alt'?)",
    ]


def test_variants_and_their_follow_up_steps_are_checked_too() -> None:
    found = problems(
        YAML.replace("bold.png", "bold.tiff").replace("alt: Bold reminder", 'alt: ""').replace("last.jpg", "last.mp4")
    )
    assert [p.split(": ", 2)[:2] for p in found] == [
        ["spring.yaml:13", "variants[1].image.url"],
        ["spring.yaml:15", "variants[1].steps.reminder.image.alt"],
        ["spring.yaml:25", "follow_ups[1].message.image.url"],
    ]


def test_the_schema_describes_the_picture() -> None:
    schema = campaign_schema()
    image = schema["$defs"]["Image"]
    assert image["required"] == ["url", "alt"] and image["additionalProperties"] is False
    assert image["properties"]["url"]["maxLength"] == 3000 and image["properties"]["alt"]["maxLength"] == 2000
    for model in ("Message", "Variant", "VariantStep"):
        assert "image" in schema["$defs"][model]["properties"]
