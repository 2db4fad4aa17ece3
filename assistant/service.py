"""The shop assistant as the engine meets it: a :class:`~campaigns.ports.Responder` for customers' words and for
staff replies in a hand-off thread.

Per customer message: its sentiment is noted; feedback is kept when it answers a feedback question or a
campaign; while a person holds the chat the message goes to their thread and the assistant stays quiet;
otherwise the model (or the offline assistant) answers through the tools, the guard checks the answer, and a
hand-off starts when the customer asks for a person, when two messages in a row go unanswered, or when the
message is strongly negative.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from openai import OpenAIError

from assistant import complaints as complaint_rules
from assistant import guard
from assistant.complaints import NEGATIVE
from assistant.feedback import capture
from assistant.knowledge import Knowledge
from assistant.llm import OpenAIAssistant
from assistant.offline import Answer, OfflineAssistant
from assistant.sentiment import LexiconSentiment, SentimentModel
from assistant.tools import Toolbox
from campaigns.ports import Channel, ChannelError, InboundEvent, OutboundMessage, Reply, StaffAlerts
from storage import complaints, conversations, identities
from storage.errors import ChatcastError
from storage.models import Conversation

log = logging.getLogger(__name__)
WINDOW = 12  # messages the assistant rereads; older ones live in the summary
SUMMARY_BATCH = 8  # summarise when this many have left the window
UNANSWERED = 2  # messages in a row the assistant could not answer before a person is asked
HANDED_OFF = "I've asked a person from our team to take over; they'll answer you here."
FALLBACK = 'Sorry, I can\'t help with that here. Write "talk to a person" and someone from our team will answer.'
REASONS = {
    "asked": "asked for a person",
    "unanswered": "the assistant could not answer",
    "negative": "the customer is unhappy",
}
BACK_WORDS = {"done", "/done", "close", "/close", "resolved", "handback", "hand back"}


@dataclass(frozen=True)
class AssistantConfig:
    """What the assistant needs to know about the shop and its limits."""

    shop_name: str = "our shop"
    answer_limit: int = 1500  # characters: under Telegram's 4,096 and Slack's 3,000 per section
    public_url: str | None = None  # where the conversation page is (the dashboard), for the staff's link


class Assistant:
    """One assistant for every channel: the model's when a client is given, else the offline one."""

    def __init__(
        self,
        knowledge: Knowledge,
        *,
        model: OpenAIAssistant | None = None,
        sentiment: SentimentModel | None = None,
        staff: StaffAlerts | None = None,
        channels: Mapping[str, Channel] | None = None,
        config: AssistantConfig | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.knowledge, self.model, self.staff = knowledge, model, staff
        self.sentiment: SentimentModel = sentiment or LexiconSentiment()
        self.channels: Mapping[str, Channel] = channels if channels is not None else {}
        self.config = config or AssistantConfig(shop_name=knowledge.shop.name)
        self.offline = OfflineAssistant()
        self.clock = clock
        self.on_answer: Callable[[str], None] = lambda how: None  # the root counts answers here (metrics)

    async def respond(self, event: InboundEvent, customer_id: int, message_id: int) -> Reply | None:
        """Answer a customer's words (recorded as message ``message_id``); None while a person holds the chat."""
        now = self.clock()
        text = event.text
        chat = await conversations.conversation(customer_id, event.channel, event.address)
        score = await self.sentiment.rate(text)
        await conversations.set_sentiment(message_id, score)
        feedback = await capture(customer_id, event.channel, text, score, now)
        await complaint_rules.note(customer_id, text, score, feedback, now)
        if chat.holder == "human":
            await self._to_staff(chat, f"Customer: {text}")
            self.on_answer("person")
            return None
        tools = Toolbox(customer_id, event.channel, self.knowledge, now)
        answer, withheld = await self._answer(chat, text, tools)
        if tools.unsubscribed:
            return await self._say(chat, now, "Done: you won't get news or offers from us any more.")
        failures = await conversations.note_answered(chat.id, answer.understood and not withheld)
        reason = tools.handoff or (
            "negative" if score <= NEGATIVE else "unanswered" if failures >= UNANSWERED else None
        )
        if reason is not None:
            self.on_answer("handed_off")
            return await self._say(chat, now, await self._hand_off(chat, reason, now))
        self.on_answer("withheld" if withheld else "model" if self.model is not None else "offline")
        return await self._say(chat, now, answer.text)

    async def _answer(self, chat: Conversation, text: str, tools: Toolbox) -> tuple[Answer, bool]:
        """The model's answer if it passes the guard, else the offline one (and whether one was withheld)."""
        self._policy_facts(tools)
        if self.model is None:
            return await self.offline.answer(text, tools), False
        history = await conversations.recent(chat.customer_id, after=chat.summarised_until, limit=WINDOW + 1)
        history = history[:-1]  # the newest is the message being answered
        try:
            answer = await self.model.answer(text, tools, history, chat.summary)
        except Exception as exc:  # an API error, a refusal, nonsense: the customer still gets an answer
            log.warning(
                "assistant model failed (%s): the offline assistant answers",
                type(exc).__name__,
                exc_info=_unexpected(exc),
            )
            fresh = Toolbox(tools.customer_id, tools.channel, self.knowledge, tools.now)
            self._policy_facts(fresh)
            answer = await self.offline.answer(text, fresh)
            tools.handoff, tools.unsubscribed = tools.handoff or fresh.handoff, tools.unsubscribed or fresh.unsubscribed
            return answer, False
        found = guard.problems(answer.text, tools.facts, instructions=self.model.instructions, canary=self.model.canary)
        if found:
            log.warning("assistant answer withheld: %s", "; ".join(found))
            await identities.add_event(
                "guarded", at=tools.now, customer_id=tools.customer_id, data={"problems": found[:10]}
            )
            fresh = Toolbox(tools.customer_id, tools.channel, self.knowledge, tools.now)
            self._policy_facts(fresh)
            offline = await self.offline.answer(text, fresh)
            tools.handoff, tools.unsubscribed = tools.handoff or fresh.handoff, tools.unsubscribed or fresh.unsubscribed
            if not offline.understood or guard.problems(offline.text, fresh.facts):
                return Answer(FALLBACK, understood=False), True
            return offline, True
        await self._summarise(chat)
        return answer, False

    def _policy_facts(self, tools: Toolbox) -> None:
        """The shop's own facts are always quotable: its site, and every policy's figures, emails and links."""
        if self.knowledge.shop.website:
            tools.facts.urls.add(self.knowledge.shop.website)
        for policy in self.knowledge.policies.values():
            tools.facts.add_text(policy.text)

    async def _summarise(self, chat: Conversation) -> None:
        """Fold the messages that left the window into the summary, in batches."""
        gone = await conversations.older_than_window(chat.customer_id, after=chat.summarised_until, keep=WINDOW)
        if len(gone) < SUMMARY_BATCH:
            return
        if self.model is not None:
            try:
                summary = await self.model.summarise(chat.summary, gone)
            except Exception as exc:
                log.warning(
                    "conversation summary failed (%s): kept as it was", type(exc).__name__, exc_info=_unexpected(exc)
                )
                return
        else:
            summary = offline_summary(chat.summary, gone)
        await conversations.save_summary(chat.id, summary, gone[-1].at)

    async def _say(self, chat: Conversation, now: datetime, text: str) -> Reply:
        """Record the assistant's answer and return it, cut to the channel's limit."""
        limit = self.config.answer_limit
        channel = self.channels.get(chat.channel)
        if channel is not None:
            limit = min(limit, channel.limits.text_max)
        text = guard.fit(text, limit)
        await identities.add_chat_message(chat.customer_id, channel=chat.channel, role="assistant", text=text, at=now)
        return Reply(text)

    async def _hand_off(self, chat: Conversation, reason: str, now: datetime) -> str:
        """A person takes over: the staff get a summary and a link. What to tell the customer."""
        if self.staff is None:
            log.warning("hand-off (%s) for customer %s, but no staff channel is set", reason, chat.customer_id)
            contact = self.knowledge.policies.get("contact")
            return f"A person from our team can help. {contact.text}" if contact else FALLBACK
        if not await conversations.hand_to_human(chat.id, reason, now):
            return HANDED_OFF  # a person took it a moment ago (two messages at once): one alert, one thread
        await identities.add_event("handoff", at=now, customer_id=chat.customer_id, data={"reason": reason})
        customer = await conversations.customer(chat.customer_id)
        lines = await conversations.recent(chat.customer_id, after=None, limit=6)
        transcript = "\n".join(f"{line.role}: {line.text[:300]}" for line in lines)
        text = (
            f"Hand-off: {customer.name or customer.external_id} on {chat.channel} ({REASONS.get(reason, reason)}).\n"
            f"Summary: {chat.summary or 'no earlier summary'}\nLast messages:\n{transcript}\n"
            'Reply in this thread to answer the customer; write "done" here to hand back to the assistant'
            " (and to mark the customer's complaint resolved)."
        )
        base = self.config.public_url
        link = f"{base.rstrip('/')}/dashboard/conversations/{chat.customer_id}" if base else None
        try:
            thread = await self.staff.alert(text, link=link)
        except ChannelError as exc:
            log.warning("the staff channel could not be told of a hand-off: %s", exc)
            await conversations.hand_back(chat.id)
            contact = self.knowledge.policies.get("contact")
            return f"Sorry, I couldn't reach our team just now. {contact.text}" if contact else FALLBACK
        await conversations.set_staff_thread(chat.id, thread)
        return HANDED_OFF

    async def _to_staff(self, chat: Conversation, text: str) -> None:
        if chat.staff_thread:
            await self._post(chat.staff_thread, text)
        await conversations.touch(chat.id)

    async def _post(self, thread: str, text: str) -> None:
        """Post in a staff thread; a failure is logged (the staff channel being down must not fail a customer)."""
        if self.staff is None:
            return
        try:
            await self.staff.post(thread, text)
        except ChannelError as exc:
            log.warning("could not post in the staff thread: %s", exc)

    async def staff_reply(self, event: InboundEvent) -> None:
        """A person wrote in a hand-off thread: to the customer on their channel, or ``done`` hands back. A reply in
        the thread of a hand-off that was handed back takes the chat again."""
        thread = event.payload.get("thread", "")
        chat = await conversations.by_staff_thread(thread) if thread else None
        if chat is None or self.staff is None:
            return
        now = self.clock()
        if event.text.strip().casefold().rstrip(".!") in BACK_WORDS:
            if await conversations.hand_back(chat.id):
                await self._post(thread, "Handed back: the assistant answers this customer again.")
            # "done" ends any hand-off: it clears the customer's words only when a complaint was open
            if await complaints.resolve(chat.customer_id, at=now, how="staff", only_open=True):
                await self._post(thread, "The customer's complaint is marked resolved: offers may reach them again.")
            return
        channel = self.channels.get(chat.channel)
        if channel is None:
            await self._post(thread, f"Not sent: the {chat.channel} channel is not configured here.")
            return
        if chat.holder != "human":
            await conversations.hand_to_human(chat.id, "staff", now)
        message = OutboundMessage(address=chat.address, text=guard.fit(event.text, channel.limits.text_max))
        try:
            await channel.send(message)
        except ChannelError as exc:
            await self._post(thread, f"Not delivered to the customer: {exc}")
            return
        await identities.add_chat_message(chat.customer_id, channel=chat.channel, role="staff", text=message.text,
                                          at=now)  # fmt: skip
        await conversations.touch(chat.id)


def offline_summary(summary: str, lines: list[conversations.Line]) -> str:
    """A plain summary without a model: what the customer asked, newest last, within 600 characters."""
    asked = [line.text.strip().split("\n")[0][:100] for line in lines if line.role == "customer"]
    text = (summary + " " if summary else "") + "Customer asked: " + " | ".join(asked)
    return text[-600:]


async def release_stale_handoffs(hours: float, *, now: datetime | None = None) -> int:
    """Give chats back to the assistant when a hand-off saw no activity for ``hours``: a scheduled job."""
    return await conversations.release_stale((now or datetime.now(UTC)) - timedelta(hours=hours))


def _unexpected(exc: Exception) -> Exception | None:
    """``exc`` when it is neither the API's error nor ours (a bug: logged with its traceback), else None."""
    return None if isinstance(exc, OpenAIError | ChatcastError) else exc
