"""``segments.yaml``: the ordered personas and the named segments, loaded and checked as a whole."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from segments.rules import Condition, Group, Problem, Reader, Rule, item_line, key_line
from storage.errors import ChatcastError

NAME = re.compile(r"[a-z][a-z0-9_-]{0,63}")


class DefinitionsError(ChatcastError):
    """A definitions file with mistakes; ``problems`` lists each with its file, line and rule."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{problems[0]}{more}")


@dataclass(frozen=True)
class Persona:
    """Who a customer is, for the writer: the first persona whose rule holds is theirs."""

    id: str
    description: str
    tone: str
    when: Rule | None
    line: int


@dataclass(frozen=True)
class Segment:
    """A named audience; a customer can be in many."""

    id: str
    description: str
    when: Rule
    line: int


@dataclass(frozen=True)
class Definitions:
    """Everything one ``segments.yaml`` defines."""

    file: str
    personas: tuple[Persona, ...]
    segments: dict[str, Segment]
    text: str = field(default="", repr=False, compare=False)  # the YAML it was read from (kept by a refresh)

    def persona_ids(self) -> list[str]:
        """Persona ids in their order of precedence."""
        return [p.id for p in self.personas]


def load(path: Path, channels: Collection[str] | None = None) -> Definitions:
    """Read and check ``path``; raise :class:`DefinitionsError` naming every mistake. ``channel`` rules may name
    only ``channels`` (any name when not given)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DefinitionsError([Problem(str(path), 1, "file", f"not UTF-8 text ({exc.reason})")]) from None
    return parse(text, str(path), channels)


def parse(text: str, file: str = "segments.yaml", channels: Collection[str] | None = None) -> Definitions:
    """Check the YAML ``text`` of a definitions file (``channel`` rules against ``channels`` where given)."""
    try:
        doc = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise DefinitionsError([Problem(file, line, "file", f"not valid YAML: {exc.problem}")]) from None
    except YAMLError as exc:  # e.g. a control character the YAML reader refuses: no mark
        line = text.count("\n", 0, getattr(exc, "position", 0) or 0) + 1
        raise DefinitionsError([Problem(file, line, "file", f"not valid YAML: {exc}".splitlines()[0])]) from None
    reader = Reader(file, channels=channels)
    if not isinstance(doc, dict):
        raise DefinitionsError([Problem(file, 1, "file", "expected a mapping with personas and segments")])
    for key in doc:
        if key not in ("personas", "segments"):
            reader.problem(key_line(doc, key, 1), str(key), "unknown section (sections: personas, segments)")
    personas = _personas(reader, doc)
    segments = _segments(reader, doc)
    _check_references(reader, personas, segments)
    if reader.problems:
        raise DefinitionsError(reader.problems)
    return Definitions(file, tuple(personas), {s.id: s for s in segments}, text)


def _entries(reader: Reader, doc: dict[str, Any], section: str) -> list[tuple[int, str, dict[str, Any]]]:
    items = doc.get(section)
    line = key_line(doc, section, 1)
    if items is None:
        return []
    if not isinstance(items, list):
        reader.problem(line, section, "expected a list")
        return []
    out, seen = [], set()
    for i, item in enumerate(items):
        at = item_line(items, i, line)
        where = f"{section}[{i}]"
        if not isinstance(item, dict):
            reader.problem(at, where, "expected a mapping with an id")
            continue
        ident = item.get("id")
        if not isinstance(ident, str) or not NAME.fullmatch(ident):
            reader.problem(at, where, "id must be lower-case letters, digits, - or _ (e.g. vip, lapsed_90d)")
            continue
        if ident in seen:
            reader.problem(at, f"{section}[{ident}]", "the same id twice")
            continue
        seen.add(ident)
        out.append((at, ident, item))
    return out


def _text(reader: Reader, item: dict[str, Any], key: str, at: int, where: str, required: bool) -> str:
    value = item.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        reader.problem(key_line(item, key, at), where, f"{key} must be {'non-empty ' if required else ''}text")
        return ""
    return value.strip()


def _personas(reader: Reader, doc: dict[str, Any]) -> list[Persona]:
    entries = _entries(reader, doc, "personas")
    if not entries:
        reader.problem(key_line(doc, "personas", 1), "personas", "at least one persona is needed (the catch-all)")
    out = []
    for n, (at, ident, item) in enumerate(entries):
        where = f"personas[{ident}]"
        for key in item:
            if key not in ("id", "description", "tone", "when"):
                reader.problem(
                    key_line(item, key, at), where, f"unknown key {key!r} (keys: id, description, tone, when)"
                )
        description = _text(reader, item, "description", at, where, True)
        tone = _text(reader, item, "tone", at, where, True)
        last = n == len(entries) - 1
        when = None
        if "when" in item:
            when = reader.rule(item["when"], key_line(item, "when", at), f"{where}.when")
            if last and when is not None:
                reader.problem(at, where, "the last persona is the catch-all: it takes no `when`")
        elif not last:
            reader.problem(at, where, "needs a `when` rule (only the last persona, the catch-all, has none)")
        out.append(Persona(ident, description, tone, when, at))
    return out


def _segments(reader: Reader, doc: dict[str, Any]) -> list[Segment]:
    out = []
    for at, ident, item in _entries(reader, doc, "segments"):
        where = f"segments[{ident}]"
        for key in item:
            if key not in ("id", "description", "when"):
                reader.problem(key_line(item, key, at), where, f"unknown key {key!r} (keys: id, description, when)")
        description = _text(reader, item, "description", at, where, False)
        if "when" not in item:
            reader.problem(at, where, "needs a `when` rule")
            continue
        when = reader.rule(item["when"], key_line(item, "when", at), f"{where}.when")
        if when is not None:
            out.append(Segment(ident, description, when, at))
    return out


def conditions(rule: Rule) -> list[Condition]:
    """Every condition in a rule, depth first."""
    if isinstance(rule, Condition):
        return [rule]
    return [c for child in rule.children for c in conditions(child)]


def _check_references(reader: Reader, personas: list[Persona], segments: list[Segment]) -> None:
    by_id = {s.id: s for s in segments}
    for persona in personas:
        for cond in conditions(persona.when) if persona.when else []:
            if cond.field in ("persona", "segment"):
                reader.problem(cond.line, cond.path, f"a persona rule cannot use {cond.field} (it would be circular)")
    for segment in segments:
        for cond in conditions(segment.when):
            if cond.field == "segment" and cond.ops[0][1] not in by_id:
                reader.problem(cond.line, cond.path, f"unknown segment {cond.ops[0][1]!r}")
        if _cycle(segment.id, by_id, []):
            reader.problem(segment.line, f"segments[{segment.id}]", "refers to itself through `segment`")


def _cycle(ident: str, by_id: dict[str, Segment], stack: list[str]) -> bool:
    if ident in stack:
        return True
    seg = by_id.get(ident)
    refs = [str(c.ops[0][1]) for c in conditions(seg.when) if c.field == "segment"] if seg else []
    return any(_cycle(r, by_id, [*stack, ident]) for r in refs)


def walk(rule: Rule) -> list[Rule]:
    """Every node of a rule, depth first, parents before children."""
    if isinstance(rule, Group):
        return [rule, *(n for child in rule.children for n in walk(child))]
    return [rule]
