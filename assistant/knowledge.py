"""The shop's knowledge file (``knowledge.yaml``): its name, site and languages, and one text per policy topic.

The assistant quotes these texts; it never makes a policy up. A mistake in the file names the file, line and
field, like every YAML file of the shop.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from storage.errors import ChatcastError

# words that point at each usual policy topic (a shop may add topics; they match by their key and title)
TOPIC_WORDS: dict[str, tuple[str, ...]] = {
    "shipping": ("ship", "shipping", "deliver", "delivery", "dispatch", "courier", "express", "arrive", "how long"),
    "returns": ("return", "refund", "exchange", "send back", "money back", "wrong size", "swap"),
    "payment": ("pay", "payment", "card", "paypal", "apple pay", "google pay", "vat", "duty", "duties", "charged"),
    "discounts": ("discount", "code", "coupon", "voucher", "promo", "combine"),
    "warranty": ("warranty", "guarantee", "defect", "defective", "broken", "faulty"),
    "contact": ("contact", "phone", "email", "e-mail", "call", "opening hours", "hours", "address"),
}


class KnowledgeError(ChatcastError, ValueError):
    """The knowledge file cannot be used: the message names the file, line and field."""


class Shop(BaseModel):
    """Who the shop is."""

    model_config = ConfigDict(extra="forbid")

    name: str = "our shop"
    website: str | None = None
    currency: str = "USD"
    languages: list[str] = Field(default_factory=lambda: ["en"])


class Policy(BaseModel):
    """One topic's text, as customers may be told it."""

    model_config = ConfigDict(extra="forbid")

    title: str
    text: str = Field(min_length=1)


class Knowledge(BaseModel):
    """The whole file."""

    model_config = ConfigDict(extra="forbid")

    shop: Shop = Field(default_factory=Shop)
    policies: dict[str, Policy] = Field(default_factory=dict)

    def topic(self, question: str) -> str | None:
        """The policy topic a question is about (the most matching words), or None."""
        text = question.casefold()
        best, score = None, 0
        for key, policy in self.policies.items():
            words = (*TOPIC_WORDS.get(key, ()), key.casefold(), policy.title.casefold())
            hits = sum(1 for w in words if re.search(rf"\b{re.escape(w)}", text))
            if hits > score:
                best, score = key, hits
        return best


def load(path: Path) -> Knowledge:
    """Read and check ``path``; :class:`KnowledgeError` names the file, line and field of a mistake."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KnowledgeError(f"{path}: cannot read the knowledge file: {exc.strerror or exc}") from exc
    try:
        data = YAML(typ="rt").load(text) or {}
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise KnowledgeError(f"{where}: not valid YAML: {exc.problem}") from exc
    except YAMLError as exc:
        raise KnowledgeError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from exc
    try:
        return Knowledge.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"])
        raise KnowledgeError(f"{path}:{_line(data, error['loc'])}: {field}: {error['msg']}") from exc


def _line(data: object, loc: tuple[int | str, ...]) -> int:
    """The 1-based line of the deepest node of ``loc`` that the YAML has (ruamel keeps positions)."""
    line, node = 1, data
    for key in loc:
        lc = getattr(node, "lc", None)
        try:
            if lc is not None and isinstance(key, str) and key in node:  # type: ignore[operator]
                line = lc.key(key)[0] + 1
            elif lc is not None and isinstance(key, int):
                line = lc.item(key)[0] + 1
            node = node[key]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            break
    return line
