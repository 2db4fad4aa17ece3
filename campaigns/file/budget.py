"""The budget a campaign template renders within, enforced while it renders, not after.

Jinja2's sandbox keeps a template away from Python's insides but not from the machine's memory and time: two
nested ``range(99999)`` loops, a string doubled forty times in a ``namespace``, ``"x"|center(10**9)``. Here every
compiled template counts as it goes, per rendering: each loop iteration and each call is a step (at most
:data:`MAX_STEPS`, within :data:`MAX_SECONDS`), a ``range`` holds at most :data:`MAX_RANGE` numbers, no value
built while rendering (a string, a list, a dict) grows past :data:`MAX_SIZE`, checked before the operations that
could allocate more (``+ * % ~``, widths and padding, ``join``, ``replace``, lists that extend themselves), and
the text produced, in the output and in the buffers of macros and ``{% set %}`` blocks, is counted as it is
produced. Going past any of them raises :class:`OverBudget` at the template's line.
"""

from __future__ import annotations

import functools
import re
import string
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Template, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context, markup_join, str_join
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from jinja2.utils import _PassArg, generate_lorem_ipsum

MAX_STEPS = 100_000  # loop iterations and calls in one rendering
MAX_RANGE = 1_000  # numbers one range() may hold
MAX_SIZE = 20_000  # characters (or items) of any one value built while rendering
MAX_OUTPUT = 20_000  # characters a rendering may print
MAX_PRODUCED = 5 * MAX_OUTPUT  # characters produced in all, macros' and {% set %} blocks' buffers included
MAX_SECONDS = 2.0  # wall time of one rendering

_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(\*|\d+)?(?:\.(\*|\d+))?")
_NUMBER = re.compile(r"\d+")
_WIDTHS = frozenset({"ljust", "rjust", "center", "zfill"})  # str methods whose first argument is a width
_KEY = "_chatcast_budget"  # where a rendering's context keeps its budget
_GROWING = frozenset({"extend", "update"})  # container methods that add a whole other container


class OverBudget(SecurityError):
    """A rendering went past its budget (steps, time, a value's size or the output's); the message says which."""


@dataclass
class _Budget:
    """What one rendering has spent."""

    clock: Callable[[], float]
    steps: int = 0
    produced: int = 0
    printed: int = 0
    deadline: float = field(init=False)

    def __post_init__(self) -> None:
        self.deadline = self.clock() + MAX_SECONDS

    def step(self) -> None:
        """One loop iteration or call."""
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise OverBudget(f"the template takes more than {MAX_STEPS:,} steps (loop iterations and calls)")
        if self.steps % 64 == 0 and self.clock() > self.deadline:
            raise OverBudget(f"the template takes more than {MAX_SECONDS:g} seconds to render")


def size(value: Any, limit: int = MAX_SIZE) -> int:
    """How big ``value`` is when printed, roughly: a string's length, a container's items and their sizes (an item
    held twice counted twice, as printing repeats it), 1 for anything else; counting stops once past ``limit``."""
    total, stack, visited = 0, [value], 0
    while stack:
        item = stack.pop()
        visited += 1
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, list | tuple | set | frozenset | dict):
            total += len(item)
            if total <= limit:
                stack.extend(item)
                if isinstance(item, dict):
                    stack.extend(item.values())
        else:
            total += 1
        if total > limit or visited > 2 * limit:  # visited: a container that holds itself
            return max(total, limit + 1)
    return total


def _refuse_size(estimate: int, what: str) -> None:
    if estimate > MAX_SIZE:
        raise OverBudget(f"{what} would hold {estimate:,} characters or items (at most {MAX_SIZE:,})")


def _sized(value: Any, what: str) -> Any:
    _refuse_size(size(value), what)
    return value


def bounded_range(*args: int) -> range:
    """``range`` with at most :data:`MAX_RANGE` numbers."""
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise OverBudget(f"range() of {len(numbers):,} numbers (at most {MAX_RANGE:,})")
    return numbers


def _check_printf(fmt: str, values: Any) -> None:
    """``fmt % values`` within the budget: no width or precision beyond :data:`MAX_SIZE`."""
    numbers = values if isinstance(values, tuple) else (values,)
    for found in _PRINTF.finditer(fmt):
        for part in found.groups():
            if part == "*":
                _refuse_size(max((abs(n) for n in numbers if type(n) is int), default=0), "a '*' width")
            elif part is not None:
                _refuse_size(int(part), f"the format {found.group()!r}")
    _refuse_size(len(fmt) + size(values), "the formatted text")


def _check_format_spec(fmt: str, args: Iterable[Any]) -> None:
    """``fmt.format(...)`` within the budget: no width or precision beyond :data:`MAX_SIZE`."""
    try:
        fields = list(string.Formatter().parse(fmt))
    except ValueError:
        return  # the call itself says what is wrong
    for _, _, spec, _ in fields:
        for number in _NUMBER.findall(spec or ""):
            _refuse_size(int(number), f"the format spec {spec!r}")
        if spec and "{" in spec:  # a nested width ({:{w}}): the arguments are the widths
            _refuse_size(max((abs(n) for n in args if type(n) is int), default=0), "a nested width")


def _filter_estimate(name: str, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """Characters (or items) the filter ``name`` could make of ``value``, where it can make more than it is given;
    0 for the rest (their result is checked afterwards)."""

    def arg(index: int, key: str, default: Any) -> Any:
        return args[index] if len(args) > index else kwargs.get(key, default)

    text = value if isinstance(value, str) else ""
    if name == "center":
        return max(len(text), _int(arg(0, "width", 80)))
    if name == "indent":
        width = arg(0, "width", 4)
        per_line = len(width) if isinstance(width, str) else _int(width)
        return len(text) + per_line * (text.count("\n") + 1)
    if name == "wordwrap":
        width, wrap = max(_int(arg(0, "width", 79)), 1), arg(2, "wrapstring", None)
        return len(text) + size(wrap or "\n") * (len(text) // width + 1)
    if name == "replace":
        old, new = str(arg(0, "old", "")), str(arg(1, "new", ""))
        count = text.count(old) if old else len(text) + 1
        return len(text) + count * max(len(new) - len(old), 0)
    if name == "join":
        sep = arg(0, "d", "")
        return size(value) + size(sep) * (len(value) if hasattr(value, "__len__") else 1)
    if name == "sum":
        return size(value) + size(arg(1, "start", 0))
    if name == "tojson":
        return size(value) * (1 + _int(arg(0, "indent", 0) or 0))
    if name in ("batch", "slice"):
        return _int(arg(0, "linecount" if name == "batch" else "slices", 1))
    if name == "format":
        _check_printf(text, args or kwargs)
    return 0


def _int(value: Any) -> int:
    return abs(value) if type(value) is int else 0


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` (the filter ``name``) refusing what would grow past the budget, before and after it runs."""
    skip = 1 if _PassArg.from_obj(function) is not None else 0  # the context, eval context or environment

    @functools.wraps(function)  # keeps jinja_pass_arg
    def bounded(*args: Any, **kwargs: Any) -> Any:
        if len(args) > skip:
            value = args[skip]
            if name in ("join", "sum") and not hasattr(value, "__len__"):  # a generator: they read it whole anyway
                value = list(value)
                args = (*args[:skip], value, *args[skip + 1 :])
            _refuse_size(_filter_estimate(name, value, args[skip + 1 :], kwargs), f"the filter {name!r}")
        return _sized(function(*args, **kwargs), f"the filter {name!r}")

    return bounded


class _BudgetCodeGenerator(CodeGenerator):
    """Jinja2's compiler, writing the budget's counting into the template: loops, output, ``~``."""

    printing = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.counted: set[int] = set()  # the loops' iterables (by id), each written inside environment.steps()

    def visit(self, node: nodes.Node, *args: Any, **kwargs: Any) -> Any:
        if id(node) not in self.counted:
            return super().visit(node, *args, **kwargs)
        self.counted.discard(id(node))
        self.write("environment.steps(context, ")
        super().visit(node, *args, **kwargs)
        self.write(")")
        return None

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        if not node.recursive:  # a recursive loop's inner levels come through loop(...), a call: counted there
            self.counted.add(id(node.iter))
        super().visit_For(node, frame)

    def visit_Output(self, node: nodes.Output, frame: Frame) -> None:
        self.printing = frame.buffer is None
        super().visit_Output(node, frame)

    def _output_const_repr(self, group: Iterable[Any]) -> str:
        return f"environment.produced(context, {super()._output_const_repr(group)}, {int(self.printing)})"

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        self.write("environment.produced(context, ")
        super()._output_child_pre(node, frame, finalize)
        self.write("environment.sized(")

    def _output_child_post(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        self.write(")")
        super()._output_child_post(node, frame, finalize)
        self.write(f", {int(self.printing)})")

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.joined(context, (")
        for part in node.nodes:
            self.visit(part, frame)
            self.write(", ")
        self.write("))")


class BudgetedEnvironment(SandboxedEnvironment):
    """Jinja2's sandbox, rendering every template within the budget of this module."""

    intercepted_binops = frozenset({"*", "+", "%"})
    code_generator_class = _BudgetCodeGenerator
    clock: Callable[[], float] = staticmethod(time.monotonic)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.globals["range"] = bounded_range
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}

    def budget(self, context: Context) -> _Budget:
        """What the rendering that ``context`` belongs to has spent (kept on the context: one per rendering)."""
        try:
            found: _Budget = context.__dict__[_KEY]
        except KeyError:
            found = context.__dict__[_KEY] = _Budget(type(self).clock)
        return found

    # the compiled templates call these (see _BudgetCodeGenerator)

    def steps(self, context: Context, iterable: Any) -> Iterator[Any]:
        """``iterable``, each item a step."""
        budget = self.budget(context)
        for item in iterable:
            budget.step()
            yield item

    def produced(self, context: Context, text: str, printed: int) -> str:
        """``text``, counted as produced (and as printed when ``printed``: it goes to the output itself)."""
        budget = self.budget(context)
        budget.produced += len(text)
        if budget.produced > MAX_PRODUCED:
            raise OverBudget(f"the template produces more than {MAX_PRODUCED:,} characters (macros and blocks too)")
        if printed:
            budget.printed += len(text)
            if budget.printed > MAX_OUTPUT:
                raise OverBudget(f"the template prints more than {MAX_OUTPUT:,} characters")
        return text

    def sized(self, value: Any) -> Any:
        """``value``, when printing it stays within the budget."""
        return _sized(value, "a printed value")

    def joined(self, context: Context, parts: tuple[Any, ...]) -> str:
        """``a ~ b ~ ...`` within the budget."""
        _refuse_size(sum(size(part) for part in parts), "the joined text (~)")
        join = markup_join if context.eval_ctx.autoescape else str_join
        return join(parts)

    # the sandbox's own hooks

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """``+ * %`` refusing results past the budget before they are built."""
        if operator == "+" and not (isinstance(left, int | float) and isinstance(right, int | float)):
            _refuse_size(size(left) + size(right), "the sum (+)")
        elif operator == "*":
            counts = [x for x in (left, right) if type(x) is int]
            sequences = [x for x in (left, right) if isinstance(x, str | list | tuple)]
            if counts and sequences:
                _refuse_size(size(sequences[0]) * max(counts[0], 0), "the repetition (*)")
        elif operator == "%" and isinstance(left, str):
            _check_printf(left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """A call from the template: a step, refused when it would build a value past the budget."""
        __self.budget(__context).step()
        owner, name = getattr(__obj, "__self__", None), getattr(__obj, "__name__", "")
        if isinstance(owner, str):
            if name in _WIDTHS and args:
                _refuse_size(max(len(owner), _int(args[0])), f"str.{name}()")
            elif name == "expandtabs":
                tab = _int(args[0]) if args else _int(kwargs.get("tabsize", 8))
                _refuse_size(len(owner) + owner.count("\t") * tab, "str.expandtabs()")
            elif name == "replace" and len(args) >= 2:
                old, new = str(args[0]), str(args[1])
                count = owner.count(old) if old else len(owner) + 1
                _refuse_size(len(owner) + count * max(len(new) - len(old), 0), "str.replace()")
            elif name == "join" and args:
                items = args[0] if hasattr(args[0], "__len__") else list(args[0])
                args = (items, *args[1:])
                _refuse_size(size(items) + len(owner) * len(items), "str.join()")
        elif isinstance(owner, list | dict | set) and name in _GROWING and args:
            _refuse_size(size(owner) + size(args[0]), f"{type(owner).__name__}.{name}()")
        elif __obj is generate_lorem_ipsum:
            _refuse_size(_int(args[0] if args else kwargs.get("n", 5)) * 100, "lipsum()")
        result = super().call(__context, __obj, *args, **kwargs)
        if isinstance(owner, list | dict | set):
            _sized(owner, f"the {type(owner).__name__}")  # it may have grown in place
        return _sized(result, f"the result of {name or 'a call'}()")

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``str.format`` and ``format_map`` as the sandbox makes them, also refusing widths past the budget."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt: str = value.__self__

        @functools.wraps(wrapped)
        def bounded(*args: Any, **kwargs: Any) -> str:
            given = [*args, *kwargs.values()]
            if args and isinstance(args[0], dict):  # format_map
                given += list(args[0].values())
            _check_format_spec(fmt, given)
            return _sized(wrapped(*args, **kwargs), "the formatted text")

        return bounded


def render_within_budget(template: Template, variables: Mapping[str, Any]) -> str:
    """``template`` rendered with ``variables``, its output gathered as it comes: the rendering stops as soon as
    it has printed more than :data:`MAX_OUTPUT` characters (OverBudget), whatever else it would still do."""
    parts, length = [], 0
    for part in template.generate(variables):
        length += len(part)
        if length > MAX_OUTPUT:
            raise OverBudget(f"the template prints more than {MAX_OUTPUT:,} characters")
        parts.append(part)
    return "".join(parts)
