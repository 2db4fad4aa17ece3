"""What a message is written from (facts, briefs, recipients) and how a Jinja2 template becomes its text.

Templates render in a sandbox (:class:`jinja2.sandbox.SandboxedEnvironment`) with ``StrictUndefined``, no
autoescaping (the channel adapters escape) and ``trim_blocks``/``lstrip_blocks`` on, so a ``{% for %}`` on its
own line leaves no blank line. The variables: ``customer`` (name, first_name, language), ``products`` (the
recipient's recommended products, else the brief's), ``product`` (the first, or None), ``offer`` (code,
discount, expires, or None), ``shop`` (name, url) and ``unsubscribe`` (the opt-out hint). A field that is
None (``shop.url`` without CHATCAST_SHOP_URL, an offer's ``expires``, a product's ``url``) reads as
:class:`~campaigns.file.templates.Unset`: false in ``{% if %}``, an error when printed, so no text says "None".

On a channel whose text format reads characters of a value as formatting (Slack's mrkdwn: ``*Pro*`` is bold), each
printed value goes through that channel's ``quote`` (:func:`render`), so it shows as it is while the template's own
``*20% off*`` stays formatting; the composition root hands the writer one per channel that needs it.

A template that fails (a syntax error, an undefined variable, a sandbox ``SecurityError``) never raises: the
caller gets the errors and, for the text, :func:`safe_text`: the offer line, the shop's URL and the hint,
built from the facts alone (never from the brief, which is instructions, not copy).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any, Literal

from jinja2 import Environment, Template

from campaigns.file.definition import ButtonSpec, Offer
from campaigns.file.templates import MAX_OUTPUT, template_env
from campaigns.ports import Button
from storage.catalog import CatalogProduct
from storage.errors import ChatcastError


@dataclass(frozen=True)
class Brief:
    """What one (campaign, step, persona, variant, language) message is about, and the facts it may use."""

    campaign: str
    step: str
    persona: str
    persona_description: str
    tone: str
    variant: str
    language: str
    brief: str
    template: str
    buttons: tuple[ButtonSpec, ...]  # as the campaign file gives them: a link's URL is a template
    offer: Offer | None
    products: tuple[CatalogProduct, ...]
    max_length: int  # the smallest text limit of the target channel(s) and the campaign's max_length
    shop_name: str = "our shop"
    shop_url: str | None = None

    def as_data(self) -> dict[str, Any]:
        """The brief as plain data (what a cached draft is keyed by)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["buttons"] = [b.model_dump() for b in self.buttons]
        data["offer"] = self.offer.model_dump() if self.offer else None
        data["products"] = [p.shown() for p in self.products]
        return data


@dataclass(frozen=True)
class Recipient:
    """One customer the copy is for, with the products recommended to them."""

    customer_id: int
    name: str
    language: str
    products: tuple[CatalogProduct, ...] = ()
    channel: str | None = None  # where the text goes: values are written for that channel (see ``render``)


@dataclass(frozen=True)
class Copy:
    """The text and buttons of one message, who wrote it, and why it is not the model's when it is not."""

    text: str
    buttons: tuple[Button, ...]
    source: Literal["template", "model", "fallback"]
    note: str | None = None


@dataclass(frozen=True)
class Draft:
    """A writer's answer: a text template with slots, button labels, and the tokens it cost."""

    text_template: str
    button_labels: tuple[str, ...]
    tokens: int = 0


class DraftFailed(ChatcastError):
    """A writer could not give a usable draft; ``reason`` goes into the copy's note."""

    def __init__(self, reason: str, tokens: int = 0) -> None:
        super().__init__(reason)
        self.reason, self.tokens = reason, tokens


@dataclass(frozen=True)
class _Customer:
    name: str
    first_name: str
    language: str


@dataclass(frozen=True)
class _Shop:
    name: str
    url: str | None


Quote = Callable[[str], str]  # a value from data as a channel's text must carry it to show as it is
_ENV = template_env()


@lru_cache(maxsize=8)
def _quoting(quote: Quote) -> Environment:
    """The sandbox with every printed value (``{{ ... }}``, never the template's own text) passed through ``quote``.
    ``str`` first: an :class:`~campaigns.file.templates.Unset` value still fails as it does unquoted."""
    return _ENV.overlay(finalize=lambda value: quote(str(value)))


@lru_cache(maxsize=512)
def _compile(source: str, quote: Quote | None = None) -> Template:
    return (_quoting(quote) if quote else _ENV).from_string(source)


def context(brief: Brief, recipient: Recipient, unsubscribe: str) -> dict[str, Any]:
    """The variables a template sees for ``recipient``."""
    products = list(recipient.products or brief.products)
    first_name = recipient.name.split()[0] if recipient.name.strip() else ""
    return {
        "customer": _Customer(recipient.name, first_name, recipient.language),
        "products": products,
        "product": products[0] if products else None,
        "offer": brief.offer,
        "shop": _Shop(brief.shop_name, brief.shop_url),
        "unsubscribe": unsubscribe,
    }


def render(source: str, variables: dict[str, Any], quote: Quote | None = None) -> str:
    """``source`` rendered with ``variables``, stripped, each printed value through ``quote`` when given; raises
    ValueError naming what went wrong."""
    try:
        text = _compile(source, quote).render(variables)
    except Exception as exc:  # any template error (syntax, undefined, sandbox, a failing filter) is the same case
        raise ValueError(f"{type(exc).__name__}: {exc}") from exc
    if len(text) > MAX_OUTPUT:
        raise ValueError(f"the template produced {len(text)} characters")
    return text.strip()


def buttons(
    brief: Brief, variables: dict[str, Any], labels: tuple[str, ...] = ()
) -> tuple[tuple[Button, ...], list[str]]:
    """The brief's buttons with URLs rendered (``labels`` replace theirs); a button whose URL fails is left out."""
    made, errors = [], []
    for index, spec in enumerate(brief.buttons):
        text = labels[index] if index < len(labels) else spec.text
        if spec.url is None:
            made.append(Button(text=text, action=spec.action))
            continue
        try:
            made.append(Button(text=text, url=render(spec.url, variables)))
        except ValueError as exc:
            errors.append(f"button {spec.text!r}: {exc}")
    return tuple(made), errors


def safe_text(brief: Brief, unsubscribe: str) -> str:
    """The text sent when even the template fails: the offer, the shop's link and the opt-out hint."""
    lines = []
    if brief.offer is not None:
        until = f" until {brief.offer.expires.isoformat()}" if brief.offer.expires else ""
        lines.append(f"{brief.shop_name}: use code {brief.offer.code} for {brief.offer.discount} off{until}.")
    else:
        lines.append(f"News from {brief.shop_name}.")
    if brief.shop_url:
        lines.append(brief.shop_url)
    lines.append(unsubscribe)
    return "\n".join(lines)
