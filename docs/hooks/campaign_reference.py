"""MkDocs hook: the campaign file reference (``campaigns/reference.md``), written from the campaign JSON Schema.

The page is not kept in the repository. Every build renders it from
:func:`campaigns.file.definition.campaign_schema`, the schema ``chatcast campaign schema`` prints and
``chatcast campaign validate`` enforces, so the reference cannot drift from what Chatcast accepts.
``python docs/hooks/campaign_reference.py`` prints the page.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PAGE = "campaigns/reference.md"
Schema = dict[str, Any]

INTRO = """\
# Campaign file reference

Every key a campaign file may hold, generated from the JSON Schema that `chatcast campaign validate` checks
files against (`chatcast campaign schema` prints it). What the keys mean together, with a full example, is in
[Writing a campaign](writing.md). Unknown keys are mistakes: `validate` refuses them, naming the line and the
nearest known key.

Point your editor's YAML plugin at the schema for completion and inline errors:

```bash
chatcast campaign schema > campaign.schema.json
```

and put `# yaml-language-server: $schema=campaign.schema.json` at the top of each campaign file.

Beyond the schema, `validate` checks what a schema cannot: that personas, segments and products exist in the
shop, that templates print only values that are set, and that the campaign can still go out as written now (see
[Checks against the shop and the clock](writing.md#checks-against-the-shop-and-the-clock)).
"""

FORMATS = {
    "date": "date (`2027-04-30`)",
    "date-time": "date and time (`2027-04-05T09:00:00Z`)",
    "time": "time (`09:00`)",
}


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _anchor(name: str) -> str:
    return name.lower()


def _code(text: object) -> str:
    """Inline code (Python-Markdown's tables keep a pipe inside a code span in its cell)."""
    return f"`{text}`"


def _yaml(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return _code(str(value).lower())
    if value == [] or value == {}:
        return "empty"
    return _code(value)


def _kind(schema: Schema) -> str:
    """A schema's type in words, with links to the sections of referenced objects."""
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        return f"[{name}](#{_anchor(name)})"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            kinds = [_kind(s) for s in schema[key] if s.get("type") != "null"]
            return " or ".join(dict.fromkeys(kinds))
    if "enum" in schema:
        return "one of " + ", ".join(_code(v) for v in schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        return "list of " + _kind(schema.get("items", {}))
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return "map of names to " + _kind(schema["additionalProperties"])
    if kind == "string" and "format" in schema:
        return FORMATS.get(schema["format"], str(schema["format"]))
    words = {"string": "text", "integer": "whole number", "number": "number", "boolean": "`true` or `false`"}
    return words.get(str(kind), str(kind or "any value"))


def _limits(schema: Schema) -> list[str]:
    """The constraints of a schema and of the choices it offers, in words."""
    found: list[str] = []
    for choice in [schema, *schema.get("anyOf", []), *schema.get("oneOf", [])]:
        if "pattern" in choice:
            found.append(f"matches {_code(choice['pattern'])}")
        bounds = [
            (">=", choice.get("minimum")),
            (">", choice.get("exclusiveMinimum")),
            ("<=", choice.get("maximum")),
            ("<", choice.get("exclusiveMaximum")),
        ]
        found += [f"{sign} {value:g}" for sign, value in bounds if value is not None]
        if choice.get("minLength") == 1:
            found.append("not empty")
        elif "minLength" in choice:
            found.append(f"at least {choice['minLength']} characters")
        if "maxLength" in choice:
            found.append(f"at most {choice['maxLength']} characters")
        if choice.get("minItems") == 1:
            found.append("at least one")
        elif "minItems" in choice:
            found.append(f"at least {choice['minItems']} items")
        if "maxItems" in choice:
            found.append(f"at most {choice['maxItems']} items")
        items = choice.get("items")
        if isinstance(items, dict) and "pattern" in items:
            found.append(f"each matches {_code(items['pattern'])}")
    return found


def _table(schema: Schema) -> Iterator[str]:
    required = set(schema.get("required", []))
    yield "| key | type | default | meaning |"
    yield "| --- | --- | --- | --- |"
    for name, prop in schema.get("properties", {}).items():
        default = "**required**" if name in required else _yaml(prop.get("default"))
        if name not in required and "default" not in prop:
            default = "empty" if prop.get("type") in ("array", "object") else "its own defaults"
        meaning = " ".join(prop.get("description", "").split()).replace("|", "\\|")
        limits = _limits(prop)
        if limits:
            meaning = (meaning + " " if meaning else "") + "(" + "; ".join(limits) + ")"
        yield f"| {_code(name)} | {_kind(prop)} | {default} | {meaning} |"


def _refs(schema: Any) -> Iterator[str]:
    """The names of the objects ``schema`` refers to, in the order they appear."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            yield _ref_name(schema["$ref"])
        for value in schema.values():
            yield from _refs(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _refs(value)


def _order(schema: Schema) -> list[str]:
    """The objects in the order a reader meets them: breadth first from the file's top level."""
    defs = schema.get("$defs", {})
    order: list[str] = []
    queue = list(_refs(schema.get("properties", {})))
    while queue:
        name = queue.pop(0)
        if name in order or name not in defs:
            continue
        order.append(name)
        queue += list(_refs(defs[name].get("properties", {})))
    return order + sorted(set(defs) - set(order))


def _users(schema: Schema, name: str) -> list[str]:
    """Where an object is used: ``audience`` of the file, ``message`` of FollowUp, ..."""
    places = []
    for owner, owner_schema in [("the file", schema), *schema.get("$defs", {}).items()]:
        for key, prop in owner_schema.get("properties", {}).items():
            if name in _refs(prop):
                where = "the file" if owner == "the file" else f"[{owner}](#{_anchor(owner)})"
                places.append(f"{_code(key)} of {where}")
    return places


def reference(schema: Schema) -> str:
    """The reference page for a campaign JSON Schema, as markdown."""
    lines = [INTRO, "## The file {#the-file}", "", schema.get("description", ""), "", *_table(schema), ""]
    defs = schema.get("$defs", {})
    for name in _order(schema):
        definition = defs[name]
        lines += [f"## {name} {{#{_anchor(name)}}}", ""]
        if definition.get("description"):
            lines += [" ".join(definition["description"].split()), ""]
        users = _users(schema, name)
        if users:
            lines += ["Used as " + ", ".join(users) + ".", ""]
        lines += [*_table(definition), ""]
    return "\n".join(lines)


def campaign_reference() -> str:
    """The page for Chatcast's own campaign schema."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from bots.registry import names
    from campaigns.file.definition import campaign_schema

    return reference(campaign_schema(names()))  # the channels a campaign may name: the registry's


def on_files(files: Any, config: Any) -> Any:
    """Add the generated reference page to the site's files."""
    from mkdocs.structure.files import File

    files.append(File.generated(config, PAGE, content=campaign_reference()))
    return files


if __name__ == "__main__":
    print(campaign_reference())
