"""Inbound chat events: opting in (by a shop link or not), opting out, button presses, languages and text."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bots.inbound.acts import BAD_LINK, LINKED, STOPPED, UNSUBSCRIBE, WELCOME, Inbound, Reply
from bots.inbound.links import make_token
from campaigns.ports import InboundEvent, InboundHandler, InboundKind
from storage.models import Campaign, ChannelIdentity, ChatMessage, Customer, Delivery, Event
from tests.fakes.clock import Clock

SECRET = "link-secret"
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def inbound(clock: Clock[datetime] | None = None) -> Inbound:
    return Inbound(SECRET, clock=clock or Clock(T0))


def event(kind: InboundKind, address: str = "42", text: str = "", **payload: str) -> InboundEvent:
    return InboundEvent("telegram", address, kind, text=text, payload=payload, user_name="Ada", language="de")


async def events(type: str) -> list[Event]:
    return await Event.filter(type=type).order_by("id")


def test_inbound_is_what_the_channels_call() -> None:
    handler: InboundHandler = Inbound(None)  # mypy checks the protocol; the bots depend only on it
    assert callable(handler.handle)


async def test_start_makes_a_customer_who_consents(database: str) -> None:
    reply = await inbound().handle(event("start"))
    assert reply == Reply(WELCOME, (UNSUBSCRIBE,)) and "/stop" in reply.text
    customer = await Customer.get(external_id="telegram:42")
    assert (customer.name, customer.language) == ("Ada", "de")
    assert (customer.opted_in_at, customer.opted_out_at, customer.consent_source) == (T0, None, "telegram:start")
    identity = await ChannelIdentity.get(channel="telegram", address="42")
    assert identity.customer_id == customer.id and identity.reachable
    [opted_in] = await events("opted_in")
    assert (opted_in.customer_id, opted_in.at, opted_in.data) == (
        customer.id,
        T0,
        {"channel": "telegram", "source": "start"},
    )


async def test_a_shop_link_ties_the_chat_to_the_shops_customer_once(database: str) -> None:
    shop = await Customer.create(external_id="C-1001", name="Grace Hopper", language="en")
    clock = Clock(T0)
    handler = inbound(clock)
    token = make_token("C-1001", SECRET, now=T0 - timedelta(days=2))
    assert await handler.handle(event("start", token=token)) == Reply(LINKED, (UNSUBSCRIBE,))
    clock.now = T0 + timedelta(minutes=5)
    await handler.handle(event("start", token=token))
    await handler.handle(event("start"))
    assert await Customer.all().count() == 1 and await ChannelIdentity.all().count() == 1
    identity = await ChannelIdentity.get(address="42").prefetch_related("customer")
    assert identity.customer.id == shop.id
    shop = await Customer.get(id=shop.id)
    assert (shop.name, shop.language, shop.opted_in_at) == ("Grace Hopper", "en", clock.now)
    assert shop.consent_source == "telegram:start"  # the last /start was a bare one
    assert [e.data["source"] for e in await events("opted_in")] == ["link", "link", "start"]


async def test_a_link_after_a_bare_start_folds_the_chat_made_customer_into_the_shops(database: str) -> None:
    shop = await Customer.create(external_id="C-7", name="Grace", language="en")
    handler = inbound()
    await handler.handle(event("start"))
    await handler.handle(event("text", text="hello"))
    reply = await handler.handle(event("start", token=make_token("C-7", SECRET, now=T0)))
    assert reply is not None and reply.text == LINKED
    assert [c.external_id for c in await Customer.all()] == ["C-7"]
    shop = await Customer.get(id=shop.id)
    assert (shop.name, shop.language, shop.consent_source) == ("Grace", "en", "telegram:link")
    assert {m.customer_id for m in await ChatMessage.all()} == {shop.id}
    assert {e.customer_id for e in await Event.all()} == {shop.id}
    assert await ChannelIdentity.filter(customer_id=shop.id, address="42").exists()


async def test_a_bad_link_still_opts_in_but_links_nothing_and_tells_nothing(database: str) -> None:
    await Customer.create(external_id="C-1", name="Grace Hopper")
    expired = make_token("C-1", SECRET, now=T0 - timedelta(days=31))
    good = make_token("C-1", SECRET, now=T0)
    tampered = good[:-2] + ("AA" if good[-2:] != "AA" else "BB")
    other_key = make_token("C-1", "someone-else", now=T0)
    unknown = make_token("C-404", SECRET, now=T0)
    for n, token in enumerate([expired, tampered, other_key, unknown, "not a token!", "x" * 500]):
        reply = await inbound().handle(event("start", address=f"chat{n}", token=token))
        assert reply == Reply(BAD_LINK, (UNSUBSCRIBE,))
        assert "Grace" not in reply.text and "C-1" not in reply.text
        identity = await ChannelIdentity.get(address=f"chat{n}").prefetch_related("customer")
        assert identity.customer.external_id == f"telegram:chat{n}"
        assert identity.customer.opted_in_at == T0 and identity.customer.consent_source == "telegram:start"
    assert await ChannelIdentity.filter(customer__external_id="C-1").count() == 0


async def test_without_a_link_secret_a_token_is_not_used(database: str) -> None:
    await Customer.create(external_id="C-1")
    reply = await Inbound(None, clock=Clock(T0)).handle(event("start", token=make_token("C-1", SECRET, now=T0)))
    assert reply is not None and reply.text == BAD_LINK
    assert await ChannelIdentity.filter(customer__external_id="C-1").count() == 0


async def test_stop_and_start_again(database: str) -> None:
    clock = Clock(T0)
    handler = inbound(clock)
    await handler.handle(event("start"))
    clock.now = T0 + timedelta(days=1)
    assert await handler.handle(event("stop")) == Reply(STOPPED)
    assert "/start" in STOPPED
    clock.now = T0 + timedelta(days=2)
    assert await handler.handle(event("stop")) == Reply(STOPPED)  # again: nothing new to record
    customer = await Customer.get(external_id="telegram:42")
    assert (customer.opted_in_at, customer.opted_out_at) == (T0, T0 + timedelta(days=1))
    assert [e.at for e in await events("opted_out")] == [T0 + timedelta(days=1)]
    clock.now = T0 + timedelta(days=3)
    await handler.handle(event("start"))
    customer = await Customer.get(external_id="telegram:42")
    assert (customer.opted_in_at, customer.opted_out_at) == (clock.now, None)
    assert len(await events("opted_in")) == 2 and await Customer.all().count() == 1


async def test_stop_from_an_unknown_chat_creates_nothing(database: str) -> None:
    handler = inbound()
    assert await handler.handle(event("stop")) == Reply(STOPPED)
    assert await handler.handle(event("click", campaign_id="1", step="main", action="stop")) == Reply(STOPPED)
    assert await handler.handle(event("click", campaign_id="1", step="main", action="open")) is None
    assert await Customer.all().count() == 0 and await Event.all().count() == 0


async def _campaign_for(address: str = "42") -> tuple[Customer, Campaign, Delivery]:
    await inbound().handle(event("start", address=address))
    customer = await Customer.get(external_id=f"telegram:{address}")
    campaign = await Campaign.create(key="spring", yaml="id: spring", yaml_hash="h")
    delivery = await Delivery.create(campaign=campaign, step="main", customer=customer, channel="telegram")
    return customer, campaign, delivery


async def test_a_click_is_recorded_against_its_campaign_and_delivery(database: str) -> None:
    customer, campaign, delivery = await _campaign_for()
    clock = Clock(T0)
    clock.now = T0 + timedelta(hours=1)
    reply = await inbound(clock).handle(event("click", campaign_id=str(campaign.id), step="main", action="shop"))
    assert reply is None
    [clicked] = await events("clicked")
    assert (clicked.customer_id, clicked.campaign_id, clicked.delivery_id) == (
        customer.id,
        campaign.id,
        delivery.id,
    )
    assert clicked.at == clock.now
    assert clicked.data == {"step": "main", "action": "shop", "channel": "telegram", "via": "button"}


async def test_a_click_never_reaches_another_customers_delivery_or_a_missing_campaign(database: str) -> None:
    _, campaign, _ = await _campaign_for("other")
    await inbound().handle(event("start"))
    handler = inbound()
    await handler.handle(event("click", campaign_id=str(campaign.id), step="main", action="shop"))
    for campaign_id in ("999", "abc", "", "-1", "²", "9" * 30):
        await handler.handle(event("click", campaign_id=campaign_id, step="main", action="shop"))
    found = [(e.campaign_id, e.delivery_id) for e in await events("clicked")]
    assert found == [(campaign.id, None)] + [(None, None)] * 6


async def test_an_unsubscribe_button_opts_out_and_is_no_click(database: str) -> None:
    customer, campaign, delivery = await _campaign_for()
    reply = await inbound().handle(event("click", campaign_id=str(campaign.id), step="main", action="stop"))
    assert reply == Reply(STOPPED)
    assert (await Customer.get(id=customer.id)).opted_out_at == T0
    [opted_out] = await events("opted_out")
    assert (opted_out.campaign_id, opted_out.delivery_id) == (campaign.id, delivery.id)
    assert opted_out.data == {"channel": "telegram", "step": "main", "via": "button"}
    assert await events("clicked") == [] and await events("snoozed") == []


async def test_not_now_is_a_snooze_not_a_click(database: str) -> None:
    customer, campaign, delivery = await _campaign_for()
    assert await inbound().handle(event("click", campaign_id=str(campaign.id), step="main", action="snooze")) is None
    [snoozed] = await events("snoozed")
    assert (snoozed.customer_id, snoozed.campaign_id, snoozed.delivery_id) == (customer.id, campaign.id, delivery.id)
    assert snoozed.data == {"step": "main", "action": "snooze", "channel": "telegram", "via": "button"}
    assert await events("clicked") == [] and (await Customer.get(id=customer.id)).opted_out_at is None


async def test_a_reported_link_press_counts_only_where_the_link_was_not_tracked(database: str) -> None:
    """A platform that reports a link button's press (``open``): a click when the link went out as it was; when it
    went out tracked, the redirect counts the opening, and the report would count it twice."""
    _, campaign, delivery = await _campaign_for()
    press = event("click", campaign_id=str(campaign.id), step="main", action="open", url="https://shop.example/a")
    await inbound().handle(press)
    [clicked] = await events("clicked")
    assert clicked.delivery_id == delivery.id
    assert clicked.data == {"step": "main", "action": "open", "channel": "telegram", "via": "link",
                            "url": "https://shop.example/a"}  # fmt: skip
    await Delivery.filter(id=delivery.id).update(links_tracked=True)
    await inbound().handle(press)
    assert len(await events("clicked")) == 1


async def test_choosing_a_language(database: str) -> None:
    handler = inbound()
    reply = await handler.handle(event("language", language="fr"))
    assert reply is not None and "/start" in reply.text and await Customer.all().count() == 0
    await handler.handle(event("start"))
    reply = await handler.handle(event("language", language="pt-BR"))
    assert reply is not None and "pt-BR" in reply.text
    assert (await Customer.get(external_id="telegram:42")).language == "pt-BR"
    for bad in ("", "english please", "x" * 40, "<b>de</b>"):
        reply = await handler.handle(event("language", language=bad))
        assert reply is not None and "not a language" in reply.text
    assert (await Customer.get(external_id="telegram:42")).language == "pt-BR"


async def test_text_is_kept_as_written_and_counts_as_a_reply(database: str) -> None:
    clock = Clock(T0)
    handler = inbound(clock)
    await handler.handle(event("start"))
    clock.now = T0 + timedelta(minutes=3)
    written = "<b>Where's my order?</b> '; DROP TABLE customer; -- {name} \u202e ✓"
    assert await handler.handle(event("text", text=written)) is None
    [message] = await ChatMessage.all()
    assert (message.text, message.role, message.channel, message.at) == (written, "customer", "telegram", clock.now)
    [replied] = await events("replied")
    assert replied.data == {"channel": "telegram"} and replied.at == clock.now


async def test_text_from_an_unknown_chat_makes_a_customer_without_consent(database: str) -> None:
    assert await inbound().handle(event("text", address="7", text="hi")) is None
    customer = await Customer.get(external_id="telegram:7")
    assert (customer.opted_in_at, customer.consent_source, customer.name) == (None, None, "Ada")
    assert await ChatMessage.filter(customer_id=customer.id).count() == 1
    assert await Event.filter(type="opted_in").count() == 0


async def test_a_start_makes_a_blocked_chat_reachable_again(database: str) -> None:
    from storage import identities

    await inbound().handle(event("start"))
    assert await identities.mark_unreachable("telegram", "42", "Forbidden: bot was blocked by the user")
    await inbound().handle(event("start"))
    identity = await ChannelIdentity.get(address="42")
    assert identity.reachable and identity.last_error is None


async def test_the_same_start_twice_at_once_makes_one_customer(database: str) -> None:
    handler = inbound()
    replies = await asyncio.gather(*(handler.handle(event("start")) for _ in range(3)))
    assert all(r is not None and r.text == WELCOME for r in replies)
    assert await Customer.all().count() == 1 and await ChannelIdentity.all().count() == 1
    assert len(await events("opted_in")) == 3


async def test_nul_characters_from_a_client_do_not_break_postgresql(database: str) -> None:
    handler = inbound()
    await handler.handle(event("text", text="a\x00b"))
    await handler.handle(event("click", campaign_id="1", step="ma\x00in", action="\x00"))
    assert [m.text for m in await ChatMessage.all()] == ["a\ufffdb"]
    assert [e.data["step"] for e in await events("clicked")] == ["ma\ufffdin"]
