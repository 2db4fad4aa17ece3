"""Which words each step of a campaign says, for each A/B variant: its brief and its template.

The main message (and each run of a recurring campaign) says the message's words, or a variant's own ``brief``
or ``template`` where the variant gives one. A follow-up always says its own words: a variant's top-level
text is for the main message only, and a variant speaks for a follow-up only through ``steps``, e.g.
``steps: {reminder: {template: ...}}``; what it does not give there is the follow-up's own. A run's follow-up
is the step ``run-<id>/<follow-up id>`` and says that follow-up's words.

A step's picture follows the same rule: the variant's own ``image`` (top level for the main message, in
``steps`` for a follow-up) where it gives one, else the step's message's; a follow-up never shows the main
message's picture.
"""

from __future__ import annotations

from dataclasses import dataclass

from campaigns.file.definition import Campaign, Image, Message, Variant, VariantStep

MAIN = "main"
RUN_PREFIX = "run-"  # the steps of a recurring campaign's runs: run-20270111T0800Z, its follow-ups run-.../nudge
STEP_MAX = 64  # characters in a step's name (the delivery table's column)


def opens_journey(step: str) -> bool:
    """Whether ``step`` is a first message: the main one, or a recurring campaign's run (not a run's follow-up)."""
    return step == MAIN or (step.startswith(RUN_PREFIX) and "/" not in step)


def follow_up_step(journey: str, follow_up: str) -> str:
    """The step of ``follow_up`` in the journey that ``journey`` opened: its id, or ``run-<id>/<id>`` in a run."""
    return follow_up if journey == MAIN else f"{journey}/{follow_up}"


def follow_up_id(step: str) -> str:
    """The follow-up a step sends (the step itself, or the part after a run's ``/``)."""
    return step.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class StepText:
    """A step's brief and template for one variant, and where each comes from (in words, for people)."""

    brief: str
    template: str
    brief_from: str
    template_from: str


def message_for(campaign: Campaign, step: str) -> Message:
    """The message of ``step``: the campaign's own, or a follow-up's."""
    if opens_journey(step):  # a recurring campaign's runs send its main message
        return campaign.message
    for follow_up in campaign.follow_ups:
        if follow_up.id == follow_up_id(step):
            return follow_up.message
    raise KeyError(f"campaign {campaign.id} has no step {step!r}")


def _variant(campaign: Campaign, variant: str | None) -> Variant | None:
    return next((v for v in campaign.variants if v.id == variant), None)


def step_text(campaign: Campaign, step: str, variant: str | None) -> StepText:
    """The brief and template that ``step`` says to the customers of ``variant`` (None, or an id the campaign
    does not have: the step's own)."""
    message, chosen = message_for(campaign, step), _variant(campaign, variant)
    own: Variant | VariantStep | None
    if opens_journey(step):
        own, words, theirs = chosen, "the message's", "the variant's"
    else:
        name = follow_up_id(step)
        own, words, theirs = chosen.steps.get(name) if chosen else None, "the follow-up's own", f"the variant's {name}"
    brief = own.brief if own and own.brief else None
    template = own.template if own and own.template else None
    return StepText(
        brief or message.brief,
        template or message.template,
        theirs if brief else words,
        theirs if template else words,
    )


def step_image(campaign: Campaign, step: str, variant: str | None) -> Image | None:
    """The picture ``step`` shows the customers of ``variant``: the variant's own, else the step's (or none)."""
    message, chosen = message_for(campaign, step), _variant(campaign, variant)
    if opens_journey(step):
        return (chosen.image if chosen else None) or message.image
    own = chosen.steps.get(follow_up_id(step)) if chosen else None
    return (own.image if own else None) or message.image


def _said(text: StepText) -> str:
    if text.brief_from == text.template_from:
        return f"{text.brief_from} brief and template"
    return f"{text.brief_from} brief, {text.template_from} template"


def _shown(campaign: Campaign, step: str, variant: str | None) -> str:
    image = step_image(campaign, step, variant)
    return _said(step_text(campaign, step, variant)) + (f", picture {image.url}" if image else "")


def describe(campaign: Campaign) -> list[str]:
    """One line per step (and per variant where they differ) saying whose words it uses, and its picture, e.g.
    ``reminder / variant product: the variant's reminder brief, the follow-up's own template``."""
    lines = []
    for step in [MAIN, *(f.id for f in campaign.follow_ups)]:
        if not campaign.variants:
            lines.append(f"{step}: {_shown(campaign, step, None)}")
            continue
        said = {v.id: _shown(campaign, step, v.id) for v in campaign.variants}
        if len(set(said.values())) == 1 and len(said) > 1:
            lines.append(f"{step} / every variant: {next(iter(said.values()))}")
        else:
            lines.extend(f"{step} / variant {v}: {text}" for v, text in said.items())
    return lines
