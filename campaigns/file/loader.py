"""Campaign files: YAML -> :class:`~campaigns.file.definition.Campaign`, every mistake named by file, line and field."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

from campaigns.file.definition import Campaign
from campaigns.file.step_text import RUN_PREFIX, STEP_MAX, follow_up_step
from campaigns.file.templates import available, template_problems
from campaigns.file.wording import Loc, explain, unknown
from segments.definitions import Definitions
from segments.rules import Problem, item_line, key_line
from storage import outbox
from storage.errors import ChatcastError

UNION_TAGS = frozenset({"condition", "any_of"})  # the tags of follow_ups[].when items (see definition.When)
MAX_VALUES = 100_000  # YAML aliases can repeat a block exponentially ("billion laughs"): refuse, do not expand
NO_EXPIRY = (
    "the template prints offer.expires, but the offer has no expires: add offer.expires, or print it only"
    " inside {% if offer.expires %}"
)
NO_SHOP_URL = (
    "the template prints shop.url, but no shop URL is set: set CHATCAST_SHOP_URL to the shop's address"
    " (e.g. https://shop.example.com), or print it only inside {% if shop.url %}"
)


class Shop(Protocol):
    """The shop a campaign is checked against when it is loaded for sending (:class:`campaigns.timing.readiness.Shop`):
    its URL, for templates that print ``shop.url``, and what would stop the campaign going out as written now.
    The file stage only asks; the timing stage knows the clock, the zones and the quiet hours."""

    @property
    def url(self) -> str | None: ...

    def problems(self, campaign: Campaign) -> Iterable[tuple[Loc, str]]: ...


class CampaignError(ChatcastError):
    """A campaign file with mistakes; ``problems`` lists each with its file, line and field."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{problems[0]}{more}")


def load_campaign(
    path: Path,
    *,
    definitions: Definitions | None = None,
    skus: Collection[str] | None = None,
    categories: Collection[str] | None = None,
    shop: Shop | None = None,
    channels: Collection[str] | None = None,
) -> Campaign:
    """Read and check a campaign file; raise :class:`CampaignError` naming every mistake (OSError if unreadable)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CampaignError([Problem(str(path), 1, "file", f"not UTF-8 text ({exc.reason})")]) from None
    return parse_campaign(
        text, str(path), definitions=definitions, skus=skus, categories=categories, shop=shop, channels=channels
    )


async def registered(campaign_id: int) -> Campaign | None:
    """The campaign file a campaign was registered with, parsed; None when there is none or it no longer parses
    (the dispatcher then applies the shop's own rules)."""
    text = await outbox.campaign_yaml(campaign_id)
    if not text:
        return None
    try:
        return parse_registered(text)
    except CampaignError:
        return None


@lru_cache(maxsize=64)
def parse_registered(text: str, file: str = "campaign.yaml") -> Campaign:
    """A registered campaign's YAML, parsed once and kept (the model is frozen, so it is shared safely): the
    scheduler's jobs read every running campaign's file each time they run, a rehearsal at every moment of its
    clock, and a parse (YAML with line numbers, every template compiled) costs tens of milliseconds."""
    return parse_campaign(text, file)


def parse_campaign(
    text: str,
    file: str = "campaign.yaml",
    *,
    definitions: Definitions | None = None,
    skus: Collection[str] | None = None,
    categories: Collection[str] | None = None,
    shop: Shop | None = None,
    channels: Collection[str] | None = None,
) -> Campaign:
    """Check the YAML ``text`` of a campaign; the references are checked against what is given (``channels``: the
    chat channels there are), and with a ``shop`` whether it can go out as written now
    (:mod:`campaigns.timing.readiness`, ``shop.url`` in templates)."""
    try:
        doc = YAML(typ="rt").load(text)
    except YAMLError as exc:
        mark, context = getattr(exc, "problem_mark", None), getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        if context and mark and context.line != mark.line:  # where the unclosed thing began
            problem += f" ({getattr(exc, 'context', None) or 'started'} on line {context.line + 1})"
        line = mark.line + 1 if mark else 1
        raise CampaignError([Problem(file, line, "file", f"not valid YAML: {problem}")]) from None
    if not isinstance(doc, dict):
        raise CampaignError([Problem(file, 1, "file", "expected a mapping: a campaign with id, name, message")])
    try:
        data = _plain(doc, [MAX_VALUES])
    except ValueError as exc:
        raise CampaignError([Problem(file, 1, "file", str(exc))]) from None
    problems: list[Problem] = []
    campaign = None
    try:
        campaign = Campaign.model_validate(data)
    except ValidationError as exc:
        for e in exc.errors():
            loc = tuple(part for part in e["loc"] if part not in UNION_TAGS)  # a tagged union's tag is no field
            problems.append(Problem(file, _line(doc, loc), _path(loc), explain(e)))
    seen = {p.path for p in problems}  # a value the model refused is not checked again
    checks = [*_references(data, definitions, skus, categories, channels), *_templates(data, shop)]
    if campaign is not None and shop is not None:
        checks += [(loc, None, message) for loc, message in shop.problems(campaign)]
    for loc, offset, message in checks:
        if _path(loc) not in seen:
            problems.append(Problem(file, _line(doc, loc, offset), _path(loc), message))
    if problems or campaign is None:
        raise CampaignError(sorted(problems, key=lambda p: p.line))
    return campaign


def _plain(node: Any, left: list[int]) -> Any:
    """Plain Python values from ruamel's round-trip ones (pydantic wants dicts, lists, str, datetime)."""
    left[0] -= 1
    if left[0] < 0:
        raise ValueError(f"more than {MAX_VALUES:,} values: is an alias repeating a block?")
    if isinstance(node, dict):
        return {k: _plain(v, left) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v, left) for v in node]
    if isinstance(node, datetime):
        return datetime.combine(node.date(), node.timetz())
    return next((kind(node) for kind in (bool, str, int, float) if isinstance(node, kind)), node)


def _path(loc: Loc) -> str:
    text = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
    return text or "campaign"


def _line(doc: Any, loc: Loc, offset: int | None = None) -> int:
    """The line of the key or item at ``loc`` (its parent's if it is missing); ``offset``: a line of its text."""
    node, line = doc, 1
    for part in loc:
        if isinstance(node, dict) and part in node:
            line, node = key_line(node, part, line), node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            line, node = item_line(node, part, line), node[part]
        else:
            return line
    if offset is None:
        return line
    block = isinstance(node, LiteralScalarString | FoldedScalarString)  # its text starts below the key
    return line + offset - (0 if block else 1)


def _get(data: Any, *loc: int | str) -> Any:
    for part in loc:
        ok = isinstance(data, dict) or (isinstance(data, list) and isinstance(part, int) and part < len(data))
        data = data.get(part) if isinstance(data, dict) else data[part] if ok else None
    return data


def _items(data: Any, *loc: int | str) -> list[tuple[int, Any]]:
    found = _get(data, *loc)
    return list(enumerate(found)) if isinstance(found, list) else []


def _messages(data: Any) -> Iterator[Loc]:
    yield ("message",)
    yield from (("follow_ups", i, "message") for i, _ in _items(data, "follow_ups"))


def _references(
    data: Any,
    definitions: Definitions | None,
    skus: Collection[str] | None,
    categories: Collection[str] | None,
    channels: Collection[str] | None = None,
) -> Iterator[tuple[Loc, int | None, str]]:
    """Channels, personas, segments, SKUs and categories that do not exist; step and variant ids used twice."""
    for i, name in _items(data, "channels"):
        if channels is not None and isinstance(name, str) and name not in channels:
            yield ("channels", i), None, unknown("value", name, list(channels))
    if definitions is not None:
        known = {"persona": definitions.persona_ids(), "segment": list(definitions.segments)}
        for key in ("personas", "exclude_personas", "segments", "exclude_segments"):
            what = key.removeprefix("exclude_").removesuffix("s")
            for i, ident in _items(data, "audience", key):
                if isinstance(ident, str) and ident not in known[what]:
                    yield ("audience", key, i), None, unknown(what, ident, known[what])
        for loc in _messages(data):
            tones = _get(data, *loc, "tone")
            for persona in tones if isinstance(tones, dict) else []:
                if persona not in known["persona"]:
                    yield (*loc, "tone", persona), None, unknown("persona", persona, known["persona"])
    for i, sku in _items(data, "products", "skus"):
        if skus is not None and isinstance(sku, str) and sku not in skus:
            yield ("products", "skus", i), None, unknown("SKU", sku, skus)
    category = _get(data, "products", "recommend", "category")
    if categories is not None and isinstance(category, str) and category not in categories:
        yield ("products", "recommend", "category"), None, unknown("category", category, sorted(categories))
    yield from _variant_steps(data)
    yield from _run_steps(data)
    controls = [i for i, item in _items(data, "variants") if _get(item, "control") is True]
    for i in controls[1:]:
        yield (
            ("variants", i, "control"),
            None,
            f"only one variant can be the control: variants[{controls[0]}] already is",
        )
    for key, what in (("variants", "variant"), ("follow_ups", "step")):
        first: dict[Any, int] = {"main": -1} if key == "follow_ups" else {}
        for i, item in _items(data, key):
            ident = _get(item, "id")
            if not isinstance(ident, str):
                continue  # not an id at all: the schema says so
            if ident in first:
                where = "the first step" if first[ident] < 0 else f"{key}[{first[ident]}]"
                yield (key, i, "id"), None, f"{what} id {ident!r} is already taken by {where}"
            else:
                first[ident] = i


def _run_steps(data: Any) -> Iterator[tuple[Loc, int | None, str]]:
    """In a recurring campaign, follow-up ids too long for the step of a run's follow-up (``run-<id>/<follow-up>``)."""
    if not isinstance(_get(data, "schedule", "cron"), str):
        return
    longest = STEP_MAX - len(follow_up_step(RUN_PREFIX + "20270111T0800Z", ""))
    for i, follow_up in _items(data, "follow_ups"):
        ident = _get(follow_up, "id")
        if isinstance(ident, str) and len(ident) > longest:
            yield (
                ("follow_ups", i, "id"),
                None,
                f"a recurring campaign sends each run's follow-up as step 'run-<run>/{ident}', which must fit"
                f" {STEP_MAX} characters: shorten the id to {longest} characters at most",
            )


def _variant_steps(data: Any) -> Iterator[tuple[Loc, int | None, str]]:
    """A variant's ``steps`` that name no follow-up of the campaign."""
    follow_ups = [f.get("id") for _, f in _items(data, "follow_ups") if isinstance(f, dict)]
    known = [i for i in follow_ups if isinstance(i, str)]
    for i, _ in _items(data, "variants"):
        steps = _get(data, "variants", i, "steps")
        for step in steps if isinstance(steps, dict) else []:
            if step == "main":
                yield (
                    ("variants", i, "steps", step),
                    None,
                    (
                        "the main message's words are the variant's own brief and template (at its top level);"
                        " steps name follow-ups"
                    ),
                )
            elif step not in known:
                hint = unknown("follow-up", step, known) if known else f"unknown follow-up {step!r}: there are none"
                yield ("variants", i, "steps", step), None, hint


def _sources(data: Any) -> Iterator[Loc]:
    for loc in _messages(data):
        yield (*loc, "template")
        yield from ((*loc, "buttons", i, "url") for i, _ in _items(data, *loc, "buttons"))
    for i, _ in _items(data, "variants"):
        yield ("variants", i, "template")
        steps = _get(data, "variants", i, "steps")
        yield from (("variants", i, "steps", step, "template") for step in (steps if isinstance(steps, dict) else []))


def _templates(data: Any, shop: Shop | None) -> Iterator[tuple[Loc, int | None, str]]:
    """Templates that do not compile, use variables (or their fields) that this campaign's messages lack, or print
    a value that will have none: an expiry the offer lacks; with a ``shop``, its URL when it has none."""
    offer = _get(data, "offer")
    names = available(offer is not None, _get(data, "products") is not None)
    unset = {"offer.expires": NO_EXPIRY} if isinstance(offer, dict) and offer.get("expires") is None else {}
    if shop is not None and not shop.url:
        unset["shop.url"] = NO_SHOP_URL
    for loc in _sources(data):
        source = _get(data, *loc)
        for line, message in template_problems(source, names, unset) if isinstance(source, str) else []:
            yield loc, line, message
