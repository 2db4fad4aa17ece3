"""The description writer: a product's long description and its short one for chat, from its facts only.

Without a model the template writer makes a plain description from the facts. With one, the model's text is
checked by :mod:`campaigns.content.claims`; a text that fails (or an API error, a refusal, a malformed answer) is asked
for once more, told why, and then the template's text is used, the reason kept in ``note``, as the campaign
writer does with a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from assistant.descriptions.facts import ProductFacts, attribute_name, attribute_phrase
from campaigns.content.claims import SHORT_LIMIT, check
from campaigns.content.copy import DraftFailed
from campaigns.content.guardrails import failures

# The template's words per language; a language missing here gets English, and the note says so.
WORDING: dict[str, dict[str, str]] = {
    "en": {
        "intro": "{name}, from our {category} range.", "plain": "{name}.", "details": "Details",
        "price": "Price", "praise": "Customers praise its {themes}", "rated": "{rating} of 5 from {n} reviews",
        "and": "and", "for": "praised for its {theme}",
    },
    "de": {
        "intro": "{name} aus unserem Sortiment {category}.", "plain": "{name}.", "details": "Details",
        "price": "Preis", "praise": "Kundschaft lobt: {themes}", "rated": "{rating} von 5 aus {n} Bewertungen",
        "and": "und", "for": "gelobt für: {theme}",
    },
    "fr": {
        "intro": "{name}, de notre gamme {category}.", "plain": "{name}.", "details": "Détails",
        "price": "Prix", "praise": "Nos clients apprécient : {themes}", "rated": "{rating} sur 5 pour {n} avis",
        "and": "et", "for": "apprécié pour : {theme}",
    },
    "es": {
        "intro": "{name}, de nuestra gama {category}.", "plain": "{name}.", "details": "Detalles",
        "price": "Precio", "praise": "Nuestros clientes valoran: {themes}", "rated": "{rating} de 5 en {n} reseñas",
        "and": "y", "for": "valorado por: {theme}",
    },
}  # fmt: skip
Source = Literal["model", "template", "fallback"]


@dataclass(frozen=True)
class Text:
    """A description as a writer gives it: the long text, and the short one for chat messages."""

    long: str
    short: str
    tokens: int = 0


@dataclass(frozen=True)
class Description:
    """A description as it is kept: its texts, who wrote them, and why not the model when it was not."""

    language: str
    long: str
    short: str
    source: Source
    note: str | None = None


class DescriptionWriter(Protocol):
    """Writes a description of a product from its facts; raises DraftFailed with the reason when it cannot."""

    name: str

    async def describe(self, facts: ProductFacts, language: str, *, feedback: str | None = None) -> Text:
        """A description of ``facts`` in ``language``; ``feedback`` says why the previous one was rejected."""
        ...


def _join(items: list[str], word: str) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {word} {items[-1]}"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def template(facts: ProductFacts, language: str) -> tuple[Text, str | None]:
    """The plain description of ``facts``, and a note when ``language`` has no template wording."""
    words = WORDING.get(language) or WORDING.get(language.split("-")[0]) or WORDING["en"]
    note = None if words is not WORDING["en"] or language.startswith("en") else f"no template wording in {language}"
    lines = [(words["intro"] if facts.category else words["plain"]).format(name=facts.name, category=facts.category)]
    stated = [(attribute_name(k), phrase) for k, v in facts.attributes.items() if (phrase := attribute_phrase(k, v))]
    if stated:  # a true flag is its name ("waterproof"), a denied one is left out, a key's unit follows its number
        details = "; ".join(name if name == phrase else f"{name}: {phrase}" for name, phrase in stated)
        lines.append(f"{words['details']}: {details}.")
    lines.append(f"{words['price']}: {facts.price:.2f} {facts.currency}.")
    praise = words["praise"].format(themes=_join(list(facts.praised[:3]), words["and"])) if facts.praised else ""
    if facts.rating is not None and facts.reviews:
        rated = words["rated"].format(rating=f"{facts.rating:.1f}", n=facts.reviews)
        praise = f"{praise} ({rated})" if praise else rated
    if praise:
        lines.append(praise + ".")
    short = facts.name
    if stated:
        short += " (" + ", ".join(phrase for _, phrase in stated[:2]) + ")"
    if facts.praised:
        short += ", " + words["for"].format(theme=facts.praised[0])
    return Text(" ".join(lines), _cut(short, SHORT_LIMIT)), note


@dataclass
class DescriberStats:
    """Model calls made, tokens used, and descriptions that fell back to the template."""

    calls: int = 0
    tokens: int = 0
    fallbacks: int = 0


class Describer:
    """Describes products with the model when given one, always under the claims check; else by template."""

    def __init__(self, writer: DescriptionWriter | None = None, *, banned: tuple[str, ...] = ()) -> None:
        self.writer, self.banned = writer, banned
        self.stats = DescriberStats()

    async def describe(self, facts: ProductFacts, language: str) -> Description:
        """The description of ``facts`` in ``language``."""
        if self.writer is None:
            text, note = template(facts, language)
            return Description(language, text.long, text.short, "template", note)
        problem, feedback = "", None
        for _ in range(2):
            self.stats.calls += 1
            try:
                text = await self.writer.describe(facts, language, feedback=feedback)
            except DraftFailed as exc:
                self.stats.tokens += exc.tokens
                problem, feedback = exc.reason, None  # the same request again: nothing to tell the model
                continue
            self.stats.tokens += text.tokens
            problem = feedback = failures(check(text.long, text.short, facts, language=language, banned=self.banned))
            if not problem:
                return Description(language, text.long.strip(), text.short.strip(), "model")
        self.stats.fallbacks += 1
        plain, note = template(facts, language)
        reason = f"model text failed: {problem} (regenerated once); used the template"
        return Description(language, plain.long, plain.short, "fallback", f"{reason}; {note}" if note else reason)
