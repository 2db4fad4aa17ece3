"""The writer: what the planner calls to turn a brief into each recipient's copy, checked by the guardrails.

Without a model (the default) the brief's Jinja2 template is rendered per recipient. With one, persona mode
asks the model once per brief (persona, variant, language) for a template with slots and fills it per
recipient, so calls do not grow with the audience; recipient mode asks once per recipient, at most
``concurrency`` at a time, until ``token_budget`` would be exceeded. Accepted drafts are cached by a sha256 of
the writer, its model and prompt, and the brief, in the database (``storage.copy_cache``) and in process. A
failed draft (API error, refusal, malformed answer, template error, guardrail) is asked for once more, then the
template is used (``source`` "fallback", ``note`` why). The template's own failures go into the note only.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol

from campaigns.content import copy as templating
from campaigns.content.copy import Brief, Copy, Draft, DraftFailed, Quote, Recipient
from campaigns.content.guardrails import Verdict, check, failures
from campaigns.content.writer_openai import CopyDraft, OpenAIWriter
from storage import copy_cache

__all__ = [
    "Brief", "Copy", "CopyDraft", "CopyWriter", "Draft", "DraftFailed", "DraftStore", "OpenAIWriter", "Recipient",
    "TemplateWriter", "Verdict", "Writer", "WriterStats",
]  # fmt: skip


class Writer(Protocol):
    """Drafts a text template and button labels for a brief (and, in recipient mode, one recipient)."""

    name: str
    fingerprint: str  # what else decides its answers (model, prompt): part of the cache key

    async def draft(self, brief: Brief, recipient: Recipient | None = None, *, feedback: str | None = None) -> Draft:
        """A draft for ``brief``; ``feedback`` says why the previous one was rejected. Raises DraftFailed."""
        ...


class DraftStore(Protocol):
    """Where accepted drafts are kept between runs (``storage.copy_cache`` by default)."""

    async def get(self, key: str) -> dict[str, Any] | None: ...  # the value kept under ``key``, or None

    async def put(self, key: str, value: dict[str, Any]) -> None: ...  # keep ``value`` under ``key``


class TemplateWriter:
    """The brief's own template and button labels: no model, no cost."""

    name = "template"
    fingerprint = ""

    async def draft(self, brief: Brief, recipient: Recipient | None = None, *, feedback: str | None = None) -> Draft:
        """The brief's template as the draft."""
        return Draft(brief.template, tuple(b.text for b in brief.buttons))


class BudgetSpent(DraftFailed):
    """The token budget would be exceeded by another call."""


@dataclass
class WriterStats:
    """Model calls made (regenerations included), drafts read from the cache, tokens used, fallback copies."""

    calls: int = 0
    cached: int = 0
    tokens: int = 0
    fallbacks: int = 0


class CopyWriter:
    """Turns briefs into each recipient's copy, with the model when given one, always under the guardrails."""

    def __init__(
        self,
        writer: Writer | None = None,
        *,
        mode: Literal["persona", "recipient"] = "persona",
        banned: Sequence[str] = (),
        token_budget: int | None = None,
        concurrency: int = 8,
        unsubscribe_hint: str = "Reply STOP to unsubscribe.",
        store: DraftStore | None = copy_cache,
        text_limits: Mapping[str, int] | None = None,
        data_texts: Mapping[str, Quote] | None = None,
    ) -> None:
        self.writer: Writer = writer or TemplateWriter()
        self.text_limits: Mapping[str, int] = dict(text_limits or {})  # the longest text, per channel
        # how a value is written into a text for a channel whose format would read it as formatting (Slack)
        self.data_texts: Mapping[str, Quote] = dict(data_texts or {})
        self.mode, self.banned, self.token_budget = mode, tuple(banned), token_budget
        self.concurrency, self.unsubscribe_hint, self.store = max(concurrency, 1), unsubscribe_hint, store
        self.stats = WriterStats()
        self._model = not isinstance(self.writer, TemplateWriter)
        self._memo: dict[Brief, Draft | str] = {}  # persona mode: the outcome per brief
        self._locks: dict[Brief, asyncio.Lock] = {}
        self._calls = asyncio.Semaphore(self.concurrency)
        self._budget = asyncio.Condition()
        self._reserved, self._in_flight = 0, 0
        self._estimate: int | None = None  # tokens a call uses, learnt from the first one

    async def compose(self, brief: Brief, recipient: Recipient) -> Copy:
        """The copy for ``recipient``."""
        return (await self.preview(brief, recipient))[0]

    async def compose_many(self, brief: Brief, recipients: Sequence[Recipient]) -> list[Copy]:
        """The copy for each recipient, in order; in recipient mode ``concurrency`` are written at a time."""
        if self.mode != "recipient" or not self._model:
            return [await self.compose(brief, r) for r in recipients]
        results: dict[int, Copy] = {}
        queue = iter(enumerate(recipients))

        async def work() -> None:
            for index, recipient in queue:
                results[index] = await self.compose(brief, recipient)

        async with asyncio.TaskGroup() as group:
            for _ in range(min(self.concurrency, len(recipients))):
                group.create_task(work())
        return [results[i] for i in range(len(recipients))]

    async def preview(self, brief: Brief, recipient: Recipient) -> tuple[Copy, list[Verdict]]:
        """The copy for ``recipient`` and the guardrails' verdicts on it."""
        copy, verdicts = await self._write(brief, recipient)
        if copy.source == "fallback":
            self.stats.fallbacks += 1
        return copy, verdicts

    async def _write(self, brief: Brief, recipient: Recipient) -> tuple[Copy, list[Verdict]]:
        if not self._model:
            return self._template(brief, recipient, None)
        outcome = await self._outcome(brief, recipient)
        if isinstance(outcome, str):
            return self._template(brief, recipient, outcome)
        copy, verdicts, problem = self._fill(outcome, brief, recipient)
        return (copy, verdicts) if not problem else self._template(brief, recipient, f"model copy failed: {problem}")

    def _check(self, text: str, brief: Brief, recipient: Recipient, *, label: bool = False) -> list[Verdict]:
        limit, hint = (64, None) if label else (None, self.unsubscribe_hint)
        return check(text, brief=brief, recipient=recipient, limit=limit, banned=self.banned, unsubscribe_hint=hint)

    def _fill(self, draft: Draft, brief: Brief, recipient: Recipient) -> tuple[Copy, list[Verdict], str]:
        """The model's draft filled for ``recipient``, the verdicts, and what is wrong with it ('' if nothing)."""
        variables = templating.context(brief, recipient, self.unsubscribe_hint)
        try:
            text = templating.render(draft.text_template, variables)
            sent = self._for_channel(text, draft.text_template, variables, recipient)
        except ValueError as exc:
            return Copy("", (), "model"), [], f"template error: {exc}"
        labels = draft.button_labels
        if len(labels) != len(brief.buttons) or any(
            failures(self._check(x, brief, recipient, label=True)) for x in labels
        ):
            labels = ()  # the brief's own labels
        buttons, errors = templating.buttons(brief, variables, labels)
        verdicts = self._check(text, brief, recipient)
        return Copy(sent, buttons, "model"), verdicts, "; ".join(x for x in [*errors, failures(verdicts)] if x)

    def _template(self, brief: Brief, recipient: Recipient, reason: str | None) -> tuple[Copy, list[Verdict]]:
        """The brief's template for ``recipient``; ``reason``: why the model's copy was not used."""
        notes = [f"{reason}; fell back to the template"] if reason else []
        variables = templating.context(brief, recipient, self.unsubscribe_hint)
        try:
            text = templating.render(brief.template, variables)
            sent = self._for_channel(text, brief.template, variables, recipient)
        except ValueError as exc:
            text = templating.safe_text(brief, self.unsubscribe_hint)
            sent = self._for_channel(text, None, variables, recipient)  # facts only: all of it is data
            notes.append(f"template error: {exc}; sent the safe default text")
        buttons, errors = templating.buttons(brief, variables)
        notes.extend(errors)
        fallback = bool(notes)  # the model's copy or the template itself could not be used as it is
        verdicts = self._check(text, brief, recipient)
        if problem := failures(verdicts):
            notes.append(f"guardrails: {problem}")
        return Copy(sent, buttons, "fallback" if fallback else "template", "; ".join(notes) or None), verdicts

    def _for_channel(self, text: str, source: str | None, variables: dict[str, Any], recipient: Recipient) -> str:
        """The text as the recipient's channel carries it: ``source`` rendered again with each value quoted (the
        guardrails read ``text``, the words as people read them), or the whole ``text`` quoted without a source."""
        quote = self.data_texts.get(recipient.channel or "")
        if quote is None:
            return text
        return templating.render(source, variables, quote) if source is not None else quote(text)

    def _key(self, brief: Brief, recipient: Recipient | None) -> str:
        sent = None if recipient is None else [recipient.name.split()[:1], [p.shown() for p in recipient.products]]
        inputs = [self.writer.name, self.writer.fingerprint, brief.as_data(), sent, self.banned, self.unsubscribe_hint]
        return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()

    async def _outcome(self, brief: Brief, recipient: Recipient) -> Draft | str:
        """The accepted draft for this brief (and recipient, in recipient mode), or why there is none."""
        if self.mode == "recipient":
            return await self._resolve(self._key(brief, recipient), brief, recipient, recipient)
        if brief not in self._memo:  # a frozen Brief is its own in-process key: cheaper than hashing it each time
            async with self._locks.setdefault(brief, asyncio.Lock()):
                if brief not in self._memo:
                    self._memo[brief] = await self._resolve(self._key(brief, None), brief, None, recipient)
            self._locks.pop(brief, None)
        return self._memo[brief]

    async def _resolve(self, key: str, brief: Brief, sent: Recipient | None, probe: Recipient) -> Draft | str:
        """From the cache, else asked (once more if it fails, told why); checked as filled for ``probe``."""
        if self.store and (kept := await self.store.get(key)):
            self.stats.cached += 1
            return Draft(kept["text_template"], tuple(kept["button_labels"]))
        feedback: str | None = None
        for _ in range(2):
            try:
                draft = await self._call(brief, sent, feedback)
            except BudgetSpent as exc:
                return exc.reason
            except DraftFailed as exc:
                problem, feedback = exc.reason, None  # the same request again: nothing to tell the model
            else:
                problem = feedback = self._fill(draft, brief, probe)[2]
                if not problem:
                    if self.store:
                        await self.store.put(key, asdict(draft))
                    return draft
        return f"{problem} (regenerated once)"

    async def _call(self, brief: Brief, recipient: Recipient | None, feedback: str | None) -> Draft:
        """One model call, within the concurrency bound and the token budget."""
        async with self._calls:
            estimate = await self._reserve()
            tokens = 0
            try:
                self.stats.calls += 1
                draft = await self.writer.draft(brief, recipient, feedback=feedback)
                tokens = draft.tokens
                return draft
            except DraftFailed as exc:
                tokens = exc.tokens
                raise
            finally:
                await self._settle(estimate, tokens)

    async def _reserve(self) -> int:
        """Reserve the tokens a call is expected to use; the first call runs alone to learn how many that is."""
        if self.token_budget is None:
            return 0
        async with self._budget:
            await self._budget.wait_for(lambda: self._estimate is not None or not self._in_flight)
            estimate = self._estimate or 0
            used = self.stats.tokens + self._reserved
            if used >= self.token_budget or used + estimate > self.token_budget:
                raise BudgetSpent("token budget spent")
            self._reserved, self._in_flight = self._reserved + estimate, self._in_flight + 1
            return estimate

    async def _settle(self, estimate: int, tokens: int) -> None:
        self.stats.tokens += tokens
        if self.token_budget is None:
            return
        async with self._budget:
            self._reserved, self._in_flight = self._reserved - estimate, self._in_flight - 1
            self._estimate = max(self._estimate or 0, tokens)
            self._budget.notify_all()
