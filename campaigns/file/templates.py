"""Campaign templates (Jinja2): the variables a message has, the shared sandbox, and checks of a template's source."""

from __future__ import annotations

import difflib
import operator
from collections.abc import Collection, Mapping
from types import SimpleNamespace, TracebackType
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from campaigns.file.budget import MAX_OUTPUT as MAX_OUTPUT  # what a message may print; the writer checks by it
from campaigns.file.budget import BudgetedEnvironment, OverBudget, render_within_budget

PRODUCT_FIELDS = frozenset({"sku", "name", "price", "currency", "url", "category", "short"})  # short: approved, or None
TEMPLATE_VARIABLES: dict[str, frozenset[str] | None] = {
    "customer": frozenset({"name", "first_name", "language"}),
    "products": None,  # a list of products, each with PRODUCT_FIELDS
    "product": PRODUCT_FIELDS,  # the first of them
    "offer": frozenset({"code", "discount", "expires"}),
    "shop": frozenset({"name", "url"}),
    "unsubscribe": None,  # the hint text: how to stop these messages
}
ALWAYS = frozenset({"customer", "shop", "unsubscribe"})


class Unset(StrictUndefined):
    """A value with nothing behind it (no shop URL, an offer without expiry, a product without a link): false in
    ``{% if %}`` and replaced by ``| default(...)``, an error when printed, so no message ever reads ``None``."""

    __slots__ = ()

    def __bool__(self) -> bool:  # type: ignore[override]  # StrictUndefined raises; an unset value is false
        return False


class _Environment(BudgetedEnvironment):
    """The sandbox within its budget (:mod:`campaigns.file.budget`), also refusing powers that compute without
    bound (9**9**9), and reading a field that is None as :class:`Unset`."""

    intercepted_binops = BudgetedEnvironment.intercepted_binops | {"**"}

    def getattr(self, obj: Any, attribute: str) -> Any:
        """The field, or :class:`Unset` naming it when it is None."""
        value = super().getattr(obj, attribute)
        if value is None:
            # _Shop, Offer, CatalogProduct: shop, offer, product
            owner = type(obj).__name__.lstrip("_").removeprefix("Catalog").lower()
            return Unset(hint=f"{owner}.{attribute} has no value")
        return value

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        """Raise to a power within small bounds; the other operators within the budget."""
        if operator_ == "**":
            if isinstance(right, int | float) and abs(right) > 64:
                raise SecurityError("exponent too large")
            return operator.pow(left, right)
        return super().call_binop(context, operator_, left, right)


_ENV = _Environment(undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True)


def template_env() -> SandboxedEnvironment:
    """The sandbox campaign templates are checked and rendered in: strict about undefined names, no autoescape
    (channel adapters escape), no unbounded arithmetic; one instance, shared."""
    return _ENV


def available(has_offer: bool, has_products: bool) -> frozenset[str]:
    """The variables a campaign's templates can use: ``offer`` and ``product(s)`` only when it has them."""
    return ALWAYS | ({"offer"} if has_offer else set()) | ({"product", "products"} if has_products else set())


def template_problems(
    source: str, names: Collection[str] = TEMPLATE_VARIABLES.keys(), unset: Mapping[str, str] | None = None
) -> list[tuple[int, str]]:
    """Mistakes in a template, each with its line in ``source``: syntax, unknown variables or fields, and a field
    of ``unset`` (``"shop.url"``: why it has no value, how to give it one) printed where it will have none."""
    env = template_env()
    try:
        tree = env.parse(source)
        env.compile(tree)  # also finds unknown filters and tests
    except TemplateSyntaxError as exc:
        return [(exc.lineno, f"template syntax error: {exc.message}")]
    undeclared = meta.find_undeclared_variables(tree)
    problems, seen = [], set()
    for node in tree.find_all(nodes.Name):
        if node.name not in undeclared or node.name in seen:
            continue
        seen.add(node.name)
        if node.name in TEMPLATE_VARIABLES and node.name not in names:
            block = "products" if node.name.startswith("product") else node.name
            problems.append((node.lineno, f"the template uses {node.name!r} but the campaign has no {block}"))
        elif node.name not in TEMPLATE_VARIABLES:
            hint = _hint(node.name, list(TEMPLATE_VARIABLES))
            problems.append((node.lineno, f"unknown template variable {node.name!r} {hint}"))
    loops = {  # {% for p in products %}: p is a product
        loop.target.name
        for loop in tree.find_all(nodes.For)
        if isinstance(loop.iter, nodes.Name) and loop.iter.name == "products" and isinstance(loop.target, nodes.Name)
    }
    for attr in tree.find_all(nodes.Getattr):
        if isinstance(attr.node, nodes.Name):
            name = attr.node.name
            fields = PRODUCT_FIELDS if name in loops else TEMPLATE_VARIABLES.get(name) if name in undeclared else None
            if fields is not None and attr.attr not in fields:
                hint = _hint(attr.attr, sorted(fields))
                problems.append((attr.lineno, f"{name} has no field {attr.attr!r} {hint}"))
    if not problems:
        problems.extend(_trial(source, names, unset or {}))
    return sorted(problems)


def _sample(name: str, fields: frozenset[str], unset: Mapping[str, str]) -> SimpleNamespace:
    values = {f: Unset(hint=unset[f"{name}.{f}"]) if f"{name}.{f}" in unset else f"sample-{f}" for f in fields}
    return SimpleNamespace(**(values | ({"price": 9.99} if "price" in fields else {})))


def _trial(source: str, names: Collection[str], unset: Mapping[str, str]) -> list[tuple[int, str]]:
    """Render with sample values, as a send would: what the sandbox refuses (unsafe attributes, huge ranges or
    repetitions), and a value of ``unset`` printed, is a mistake to name now, not a fallback text at send time."""
    product = _sample("product", PRODUCT_FIELDS, unset)
    variables: dict[str, Any] = {"products": [product], "product": product, "unsubscribe": "Reply STOP to stop."}
    for name, fields in TEMPLATE_VARIABLES.items():
        if fields is not None and name not in variables:
            variables[name] = _sample(name, fields, unset)
    template = template_env().from_string(source)
    try:
        render_within_budget(template, {k: v for k, v in variables.items() if k in names})
    except UndefinedError as exc:
        if str(exc) in unset.values():
            return [(_template_line(exc.__traceback__), str(exc))]
        return [(_template_line(exc.__traceback__), f"the template cannot be rendered: UndefinedError: {exc}")]
    except OverBudget as exc:  # too many steps, too long, a value or the output too big
        return [(_template_line(exc.__traceback__), f"the template exceeds its rendering budget: {exc}")]
    except Exception as exc:  # the sandbox's SecurityError, a failing filter...
        line = getattr(exc, "lineno", None) or _template_line(exc.__traceback__)
        return [(line, f"the template cannot be rendered: {type(exc).__name__}: {exc}")]
    return []


def _template_line(tb: TracebackType | None) -> int:
    """The line of the template where rendering stopped (Jinja2 gives its frames the template's line numbers)."""
    line = 1
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _hint(value: str, known: list[str]) -> str:
    close = difflib.get_close_matches(value, known, n=1)
    return f"(did you mean {close[0]!r}?)" if close else f"(known: {', '.join(known)})"
