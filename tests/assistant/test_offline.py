"""The offline assistant through the engine (Inbound with the assistant as responder), on SQLite and PostgreSQL:
orders (theirs only), products, recommendations, policies, offers, opt-out in words, hand-off and its staff side."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from assistant.service import HANDED_OFF, Assistant
from campaigns.ports import ChannelLimits, InboundEvent, TransientChannelError
from storage.models import Campaign, ChatMessage, Conversation, Customer, Delivery, Event, Feedback, Order
from tests.fakes.assistant_shop import BOB_CHAT, BOB_SECRETS, MIA_CHAT, NOW, Outbox, Staff, engine, say, seed


async def test_a_customer_gets_their_own_order_and_not_anyone_elses(database: str) -> None:
    await seed()
    inbound, _ = engine()
    mine = await say(inbound, "Where is my order?")
    assert mine and "A1001" in mine.text and "shipped" in mine.text and "Trail Runner 2" in mine.text
    theirs = await say(inbound, "What is the status of order B2002?")
    assert theirs and "can't find an order B2002 among your orders" in theirs.text
    for secret in BOB_SECRETS[1:]:
        assert secret not in theirs.text
    by_hash = await say(inbound, "#A1001 status please")
    assert by_hash and "A1001" in by_hash.text


async def test_recommendations_are_in_stock_and_never_what_they_bought(database: str) -> None:
    await seed()
    inbound, _ = engine()
    reply = await say(inbound, "What do you recommend for me?")
    assert reply and reply.text.startswith("Picked for you")
    assert "Trail Runner 2" not in reply.text  # bought
    assert "Classic Jogger" not in reply.text  # out of stock
    assert "Road Racer 5" in reply.text  # cross-sell: the same category as what she bought


async def test_product_search_by_words_category_and_price(database: str) -> None:
    await seed()
    inbound, _ = engine()
    shoes = await say(inbound, "do you have shoes under 100?")
    assert shoes and "Trail Runner 2" in shoes.text and "89.90 USD" in shoes.text
    assert "Road Racer 5" not in shoes.text and "Classic Jogger" not in shoes.text  # over the price; out of stock
    socks = await say(inbound, "Do you sell merino socks?")
    assert socks and "Merino Socks" in socks.text and "14.50" in socks.text


@pytest.mark.parametrize(
    ("question", "quoted"),
    [
        ("Can I return shoes I have worn?", "run them in"),
        ("How long does shipping take to the US?", "5-8 working days"),
        ("do you take paypal?", "PayPal"),
        ("is there a warranty on shoes", "2-year warranty"),
    ],
)
async def test_policies_are_answered_from_the_knowledge_file(database: str, question: str, quoted: str) -> None:
    await seed()
    inbound, _ = engine()
    reply = await say(inbound, question)
    assert reply and quoted in reply.text


async def test_the_offer_of_the_campaign_they_reply_to(database: str) -> None:
    shop = await seed()
    inbound, _ = engine()
    yaml = "id: spring\nname: Spring\noffer:\n  code: SPRING20\n  discount: 20%\n  expires: 2027-04-01\n"
    campaign = await Campaign.create(key="spring", name="Spring sale", yaml=yaml, yaml_hash="h", status="running")
    await Delivery.create(
        campaign=campaign, step="main", customer_id=shop.mia, channel="telegram", address=MIA_CHAT,
        status="sent", sent_at=NOW - timedelta(days=1), text="20% off",
    )  # fmt: skip
    reply = await say(inbound, "what was that offer again?")
    assert reply and "SPRING20" in reply.text and "20%" in reply.text and "2027-04-01" in reply.text
    replied = await Event.get(type="replied", customer_id=shop.mia)
    assert replied.campaign_id == campaign.id  # the reply counts for the campaign's follow-ups and reports
    bob = await say(inbound, "what was that offer again?", BOB_CHAT)
    assert bob and "SPRING20" not in bob.text and "don't see a current offer" in bob.text


@pytest.mark.parametrize("words", ["stop", "STOP!", "Unsubscribe", "please unsubscribe me", "abmelden", "désabonner"])
async def test_an_opt_out_in_words_is_honoured_at_once(database: str, words: str) -> None:
    shop = await seed()
    inbound, _ = engine()
    reply = await say(inbound, words)
    assert reply and "unsubscribed" in reply.text
    mia = await Customer.get(id=shop.mia)
    assert mia.opted_out_at is not None
    assert await Event.filter(type="opted_out", customer_id=shop.mia).count() == 1


@pytest.mark.parametrize("words", ["can you stop my order A1001?", "Cancel.", "end", "quit", "basta"])
async def test_a_question_or_an_ambiguous_word_does_not_opt_out(database: str, words: str) -> None:
    shop = await seed()
    inbound, _ = engine()
    await say(inbound, words)
    assert (await Customer.get(id=shop.mia)).opted_out_at is None


UNSUBSCRIBE = [
    "I want to unsubscribe", "opt me out", "please stop sending me offers", "STOP STOP", "配信停止してください",
    "I don't want your promotions, please",
]  # fmt: skip


@pytest.mark.parametrize("words", UNSUBSCRIBE)
async def test_asking_to_unsubscribe_in_a_sentence_opts_out(database: str, words: str) -> None:
    shop = await seed()
    inbound, _ = engine()
    reply = await say(inbound, words)
    assert reply and ("unsubscribed" in reply.text or "won't get news or offers" in reply.text)
    assert (await Customer.get(id=shop.mia)).opted_out_at is not None


@pytest.mark.parametrize(
    "words", ["Is the jacket good for people with wide feet?", "Can someone tell me if you sell socks?"]
)
async def test_a_question_mentioning_people_is_not_a_hand_off(database: str, words: str) -> None:
    shop = await seed()
    staff = Staff()
    inbound, _ = engine(staff=staff)
    await say(inbound, words)
    assert not staff.alerts and (await Conversation.get(customer_id=shop.mia)).holder == "assistant"


async def test_two_messages_at_once_make_one_conversation_and_one_hand_off(database: str) -> None:
    shop = await seed()
    staff = Staff()
    inbound, _ = engine(staff=staff)
    first, second = await asyncio.gather(say(inbound, "talk to a person"), say(inbound, "I need a human please"))
    assert first and second and first.text == second.text == HANDED_OFF
    assert await Conversation.filter(customer_id=shop.mia).count() == 1 and len(staff.alerts) == 1


async def test_a_staff_reply_after_hand_back_takes_the_chat_again_and_reaches_the_customer(database: str) -> None:
    shop = await seed()
    staff, outbox = Staff(), Outbox()
    inbound, _ = engine(staff=staff, channels={"telegram": outbox})
    await say(inbound, "talk to a person")
    thread = staff.alerts and "T0:C0STAFF:1.0001"
    await inbound.handle(staff_event(thread, "done"))
    assert (await Conversation.get(customer_id=shop.mia)).holder == "assistant"
    await inbound.handle(staff_event(thread, "One more thing: your parcel & receipt are on their way <3"))
    assert [m.text for m in outbox.sent] == ["One more thing: your parcel & receipt are on their way <3"]
    assert (await Conversation.get(customer_id=shop.mia)).holder == "human"


async def test_the_staff_channel_being_down_fails_nobody(database: str) -> None:
    await seed()

    class Down(Staff):
        async def post(self, thread: str, text: str) -> None:
            raise TransientChannelError("slack is down")

    staff, outbox = Down(), Outbox()
    inbound, _ = engine(staff=staff, channels={"telegram": outbox})
    await say(inbound, "talk to a person")
    assert await say(inbound, "hello?") is None  # the thread could not hear it; the customer gets no traceback
    await inbound.handle(staff_event("T0:C0STAFF:1.0001", "done"))
    await inbound.handle(staff_event("T0:C0STAFF:1.0001", "hi"))


async def test_asking_for_a_person_hands_off_and_the_staff_reply_reaches_the_customer(database: str) -> None:
    shop = await seed()
    staff, outbox = Staff(), Outbox()
    inbound, _ = engine(staff=staff, channels={"telegram": outbox})
    await say(inbound, "Where is my order?")
    reply = await say(inbound, "I want to talk to a person")
    assert reply and reply.text == HANDED_OFF
    (alert, link) = staff.alerts[0]
    assert "Mia Berg on telegram (asked for a person)" in alert and "Where is my order?" in alert
    assert link == f"https://admin.shop.example/dashboard/conversations/{shop.mia}"
    chat = await Conversation.get(customer_id=shop.mia)
    assert chat.holder == "human" and chat.staff_thread == "T0:C0STAFF:1.0001"
    # while a person holds the chat the assistant is quiet, and the customer's words go to the thread
    assert await say(inbound, "hello? my parcel is late") is None
    assert staff.posts == [("T0:C0STAFF:1.0001", "Customer: hello? my parcel is late")]
    await inbound.handle(staff_event("T0:C0STAFF:1.0001", "Hi Mia, I'm Jo: it leaves the depot today."))
    assert [(m.address, m.text) for m in outbox.sent] == [(MIA_CHAT, "Hi Mia, I'm Jo: it leaves the depot today.")]
    assert await ChatMessage.filter(customer_id=shop.mia, role="staff").count() == 1
    await inbound.handle(staff_event("T0:C0STAFF:1.0001", "done"))
    assert (await Conversation.get(customer_id=shop.mia)).holder == "assistant"
    back = await say(inbound, "thanks!")
    assert back and "welcome" in back.text


async def test_a_staff_reply_in_an_unknown_thread_sends_nothing(database: str) -> None:
    await seed()
    staff, outbox = Staff(), Outbox()
    inbound, _ = engine(staff=staff, channels={"telegram": outbox})
    await inbound.handle(staff_event("T0:C0STAFF:9.9999", "hello"))
    assert outbox.sent == []


async def test_two_unanswered_messages_in_a_row_hand_off(database: str) -> None:
    shop = await seed()
    staff = Staff()
    inbound, _ = engine(staff=staff)
    first = await say(inbound, "blorp zzz")
    assert first and "didn't understand" in first.text and not staff.alerts
    second = await say(inbound, "qwerty asdf")
    assert second and second.text == HANDED_OFF
    assert "(the assistant could not answer)" in staff.alerts[0][0]
    assert (await Conversation.get(customer_id=shop.mia)).handoff_reason == "unanswered"


async def test_a_strongly_negative_message_hands_off_and_is_scored(database: str) -> None:
    shop = await seed()
    staff = Staff()
    inbound, _ = engine(staff=staff)
    reply = await say(inbound, "This is the worst shop ever, terrible service, I am furious and disgusted!")
    assert reply and reply.text == HANDED_OFF and "(the customer is unhappy)" in staff.alerts[0][0]
    message = await ChatMessage.get(customer_id=shop.mia, role="customer")
    assert message.sentiment is not None and message.sentiment <= -0.6


async def test_without_a_staff_channel_a_person_is_offered_by_contact_details(database: str) -> None:
    shop = await seed()
    inbound, _ = engine()
    reply = await say(inbound, "can I speak to a human")
    assert reply and "help@shop.example.com" in reply.text
    assert (await Conversation.get(customer_id=shop.mia)).holder == "assistant"


async def test_an_answer_to_the_feedback_question_is_feedback_on_the_order(database: str) -> None:
    shop = await seed()
    inbound, _ = engine()
    await Order.filter(external_id="A1001").update(feedback_asked_at=NOW - timedelta(days=1))
    await say(inbound, "Love them, they fit perfectly and are very comfy on long runs")
    (feedback,) = await Feedback.filter(customer_id=shop.mia)
    assert feedback.products == ["RUN-TR1"] and feedback.sentiment > 0.5
    assert "size & fit" in feedback.themes and "comfort" in feedback.themes


async def test_answers_respect_the_channel_length_limit(database: str) -> None:
    await seed()
    small = Outbox()
    small.limits = ChannelLimits(120, None, None, 30, 1)
    inbound, _ = engine(channels={"telegram": small})
    reply = await say(inbound, "Can I return shoes I have worn?")
    assert reply and len(reply.text) <= 120 and reply.text.endswith("…")


def staff_event(thread: str, text: str) -> InboundEvent:
    return InboundEvent("slack", "T0:U0STAFF", "staff", text=text, payload={"thread": thread, "user": "U0STAFF"})


def test_the_assistant_is_the_engines_responder() -> None:
    inbound, assistant = engine()
    assert isinstance(assistant, Assistant) and inbound.responder is assistant
