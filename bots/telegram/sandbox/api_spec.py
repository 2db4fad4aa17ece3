"""Request validation: against the Bot API spec file, or against aiogram's own method models without one.

The spec file is PaulSonOfLars/telegram-bot-api-spec's ``api.json`` format: ``methods`` and ``types``, each
with ``fields`` (``name``, ``types``, ``required``, ``description``); a few types list ``subtypes`` instead.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from types import NoneType
from typing import Any, Protocol, get_args

from aiogram import methods
from aiogram.client.default import Default
from aiogram.methods.base import TelegramMethod

from bots.telegram.sandbox.limits import Problem, handles, length_problem, missing

_DISCRIMINATOR = re.compile(r'(?:always|must be) "?([a-z_]+)"?')
_LIMIT = re.compile(r"(\d+)-(\d+) (characters|bytes)")
_INTEGER = re.compile(r"-?\d{1,19}")


@dataclass(frozen=True)
class Upload:
    """A file uploaded in a multipart request."""

    name: str
    filename: str
    data: bytes


class Validator(Protocol):
    """What the sandbox asks of a validator."""

    def method(self, name: str) -> str | None:
        """The method's canonical name (names are case-insensitive), or None when there is no such method."""

    def returns(self, method: str) -> str:
        """The type the method returns ("Message", "Boolean", ...)."""

    def check(self, method: str, params: dict[str, Any], form: bool) -> tuple[dict[str, Any], list[Problem]]:
        """The params with form strings decoded to their types, and every problem found in them."""


def _parse_json(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


class SpecValidator:
    """Checks requests field by field against the spec: names, required fields, types, nested objects, limits."""

    def __init__(self, path: Path) -> None:
        spec = json.loads(path.read_text(encoding="utf-8"))
        self.version: str = spec.get("version", "")
        self.methods: dict[str, dict[str, Any]] = spec["methods"]
        self.types: dict[str, dict[str, Any]] = spec["types"]
        self._names = {name.lower(): name for name in self.methods}

    def method(self, name: str) -> str | None:
        """The method's canonical name, or None."""
        return self._names.get(name.lower())

    def returns(self, method: str) -> str:
        """The first type the method returns."""
        return str(self.methods[method].get("returns", ["Boolean"])[0])

    def check(self, method: str, params: dict[str, Any], form: bool) -> tuple[dict[str, Any], list[Problem]]:
        """The decoded params and the problems in them."""
        problems: list[Problem] = []
        fields = self.methods[method].get("fields", [])
        return self._object(method, fields, params, "", form, problems), problems

    def _object(
        self, owner: str, fields: list[dict[str, Any]], value: dict[str, Any], path: str, form: bool, out: list[Problem]
    ) -> dict[str, Any]:
        known = {field["name"]: field for field in fields}
        result = dict(value)
        out.extend(Problem(f"unknown field '{path}{key}'") for key in value if key not in known)
        for name, field in known.items():
            if name not in value:
                if field["required"]:
                    out.append(missing(path, name))
                continue
            where = f"{path}{name}"
            result[name], problems = self._union(value[name], field["types"], where, form)
            out.extend(problems)
            limit = _LIMIT.search(field.get("description", ""))
            if limit and not problems and isinstance(result[name], str) and not handles(owner, name):
                low, high, unit = int(limit[1]), int(limit[2]), limit[3]
                mode = value.get("quote_parse_mode" if name == "quote" else "parse_mode")
                parsed = "after entities parsing" in field.get("description", "")
                out.extend(length_problem(where, result[name], low, high, unit, mode if parsed else None))
        return result

    def _union(self, value: Any, types: list[str], path: str, form: bool) -> tuple[Any, list[Problem]]:
        tried = []
        for expected in types:
            candidate = self._match(value, expected, path, form)
            if not candidate[1]:
                return candidate
            tried.append(candidate)
        shaped = [c for c in tried if not (len(c[1]) == 1 and c[1][0].detail.startswith(f"field '{path}' must be "))]
        if not shaped:  # the value is not even the right kind of thing for any of the types
            return value, [Problem(f"field '{path}' must be {' or '.join(types)}")]
        return min(shaped, key=lambda c: len(c[1]))

    def _match(self, value: Any, expected: str, path: str, form: bool) -> tuple[Any, list[Problem]]:
        wrong = [Problem(f"field '{path}' must be {expected}")]
        if expected == "String":
            return value, [] if isinstance(value, str) else wrong
        if expected == "InputFile":
            return value, [] if isinstance(value, Upload) else wrong
        if expected in ("Integer", "Float", "Boolean"):
            return _scalar(value, expected, form, wrong)
        if form and isinstance(value, str):
            value = _parse_json(value)
        if expected.startswith("Array of "):
            if not isinstance(value, list):
                return value, wrong
            items = [self._match(item, expected[9:], f"{path}[{i}]", False) for i, item in enumerate(value)]
            return [item for item, _ in items], [p for _, problems in items for p in problems]
        kind = self.types.get(expected)
        if kind is None:
            return value, []
        if kind.get("subtypes"):
            return self._union(value, self._subtypes(kind["subtypes"], value), path, False)
        if not isinstance(value, dict):
            return value, wrong
        problems: list[Problem] = []
        return self._object(expected, kind.get("fields", []), value, f"{path}.", False, problems), problems

    def _subtypes(self, subtypes: list[str], value: Any) -> list[str]:
        """The subtype a dict names by its "type" (or "status", "source") field, else every subtype."""
        for subtype in subtypes if isinstance(value, dict) else []:
            for field in self.types.get(subtype, {}).get("fields", []):
                tag = (
                    _DISCRIMINATOR.search(field["description"])
                    if field["name"] in ("type", "status", "source")
                    else None
                )
                if tag and value.get(field["name"]) == tag[1]:
                    return [subtype]
        return subtypes


def _scalar(value: Any, expected: str, form: bool, wrong: list[Problem]) -> tuple[Any, list[Problem]]:
    if form and isinstance(value, str):
        text = value.strip()
        if expected == "Boolean" and text.lower() in ("true", "false", "1", "0"):
            return text.lower() in ("true", "1"), []
        if expected == "Integer" and _INTEGER.fullmatch(text):
            return int(text), []
        if expected == "Float":
            try:
                return float(text), []
            except ValueError:
                return value, wrong
        return value, wrong
    if isinstance(value, bool):
        return value, [] if expected == "Boolean" else wrong
    if expected == "Integer":
        return value, [] if isinstance(value, int) else wrong
    return value, [] if expected == "Float" and isinstance(value, int | float) else wrong


class ModelValidator:
    """Checks method names, unknown and required fields against aiogram's own method models (no spec file)."""

    def __init__(self) -> None:
        found = (getattr(methods, name) for name in dir(methods))
        self.models: dict[str, type[TelegramMethod[Any]]] = {
            model.__api_method__: model
            for model in found
            if isinstance(model, type) and issubclass(model, TelegramMethod) and isinstance(model.__api_method__, str)
        }
        self._names = {name.lower(): name for name in self.models}

    def method(self, name: str) -> str | None:
        """The method's canonical name, or None."""
        return self._names.get(name.lower())

    def returns(self, method: str) -> str:
        """The name of the type the method returns ("Message", "Boolean", ...)."""
        name = getattr(self.models[method].__returning__, "__name__", "")
        return {"bool": "Boolean", "list": "Array"}.get(name, name)

    def check(self, method: str, params: dict[str, Any], form: bool) -> tuple[dict[str, Any], list[Problem]]:
        """The params (form strings that are not plain strings decoded as JSON) and the problems in them."""
        fields = {info.alias or name: info for name, info in self.models[method].model_fields.items()}
        problems = [Problem(f"unknown field '{key}'") for key in params if key not in fields]
        problems += [missing("", name) for name, info in fields.items() if info.is_required() and name not in params]
        decoded = {
            key: _parse_json(value) if form and isinstance(value, str) and not _text_only(fields.get(key)) else value
            for key, value in params.items()
        }
        return decoded, problems


def _text_only(info: Any) -> bool:
    """Whether a model field holds only strings (so a form value stays as it is)."""
    if info is None:
        return True
    kinds = [kind for kind in get_args(info.annotation) or (info.annotation,) if kind not in (NoneType, Default)]
    return all(kind is str for kind in kinds)
