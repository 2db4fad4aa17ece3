"""``chatcast campaign preview | test-send``: what customers of the planned audience will get, shown or sent to you."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from chatcast.cli._checks import required_definitions as definitions  # --segments, the settings', the database's
from chatcast.cli._launch import SegmentsOption, load
from chatcast.console import UserError, fail, out, run, state

if TYPE_CHECKING:
    from campaigns.content.preview import Preview
    from campaigns.content.proof import Proof
    from campaigns.file.definition import Campaign, Image

StepOption = Annotated[str | None, typer.Option("--step", help="Only this step: main or a follow-up's id.")]


def targets() -> str:
    """How people write a chat of each channel: ``telegram:CHAT_ID or slack:TEAM/USER``."""
    from bots.registry import CHANNELS

    return " or ".join(f"{spec.name}:{spec.address.example}" for spec in CHANNELS)


def recipient(value: str, source: str) -> tuple[str, str]:
    """The channel and address of the marketer's chat written as ``CHANNEL:CHAT`` (each channel's form:
    :func:`targets`)."""
    from bots.registry import CHANNELS

    name, _, target = value.partition(":")
    spec = next((spec for spec in CHANNELS if spec.name == name), None)
    address = spec.address.parse(target) if spec is not None and target else None
    if address is None:
        raise UserError(f"{source}: give {targets()}, not {value!r}")
    return name, address


def _picture(image: Image) -> str:
    """A message's picture in words: ``[picture: URL — alt]``."""
    return f"[picture: {image.url} — {image.alt}]"


def preview_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The campaign file.")],
    persona: Annotated[list[str] | None, typer.Option("--persona", help="Only this persona (repeatable).")] = None,
    customer: Annotated[str | None, typer.Option("--customer", help="Preview for this customer (shop id).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=50, help="Customers per persona and variant.")] = 1,
    step: StepOption = None,
    segments: SegmentsOption = None,
) -> None:
    """Show what customers of the planned audience get, every step, on their channel, with the guardrails' verdicts.
    Writes and sends nothing."""
    from campaigns.content.preview import previews
    from chatcast.engine import build_writer, unhappy
    from storage import db

    settings = state(ctx).settings
    defs = definitions(ctx, segments)
    campaign = load(file, defs)
    writer = build_writer(settings)

    async def go() -> list[Preview]:
        async with db.database(settings.db_url):
            return await previews(
                campaign, defs, writer, as_of=datetime.now(UTC), personas=persona or (), customer=customer,
                limit=limit, step=step, shop_name=settings.shop_name, shop_url=settings.shop_url,
                unhappy=unhappy(settings),
            )  # fmt: skip

    shown = run(ctx, go())
    current = None
    for p in shown:
        if p.step != current:
            current = p.step
            out.print(f"[bold]{escape(_step_line(campaign, p.step))}[/]")
        _panel(p)
    if customer is None:
        for line in _gaps(campaign, shown, persona or ()):
            out.print(f"[dim]{escape(line)}[/]")


def _step_line(campaign: Campaign, step: str) -> str:
    """How a step is reached: the main message, or a follow-up's delay and condition."""
    previous = "main"
    for follow_up in campaign.follow_ups:
        if follow_up.id == step:
            when = ", ".join(str(w) if isinstance(w, str) else "any of " + "/".join(w.any) for w in follow_up.when)
            return f"step {step}: {follow_up.after} after {previous}" + (f", when {when}" if when else "")
        previous = follow_up.id
    return "step main"


def _panel(p: Preview) -> None:
    from rich.panel import Panel

    verdicts = "\n".join(f"{'✓' if v.ok else '✗'} {v.rule}{': ' + v.detail if v.detail else ''}" for v in p.verdicts)
    buttons = "\n".join(f"[{b.text}] → {b.url}" if b.url else f"[{b.text}] (action {b.action})" for b in p.copy.buttons)
    body = f"{escape(p.copy.text)}\n\n{escape(buttons)}\n\n[dim]{escape(verdicts)}[/]"
    if p.image:  # sent first, the text as its caption
        body = f"{escape(_picture(p.image))}\n\n{body}"
    title = (
        f"{p.step} · {p.persona or '(no persona)'} · variant {p.variant} · {p.channel} · {p.customer} · {p.copy.source}"
    )
    out.print(Panel(body, title=escape(title), title_align="left"))
    for note in (p.shortfall, p.copy.note):
        if note:
            out.print(f"[yellow]note:[/] {escape(note)}")


def _gaps(campaign: Campaign, shown: list[Preview], personas: list[str] | tuple[str, ...]) -> list[str]:
    """The personas and variants the preview could not show, because nobody in the audience gets them."""
    from campaigns.content.proof import variants

    seen: dict[str, set[str]] = {}
    for p in shown:
        seen.setdefault(p.persona, set()).add(p.variant)
    lines = [
        f"persona {x}: nobody in the planned audience" for x in personas or campaign.audience.personas if x not in seen
    ]
    for who, got in seen.items():
        for variant in (v for v in variants(campaign) if v not in got):
            lines.append(
                f"variant {variant}: no {who or 'persona-less'} customer of the audience gets it"
                f" (test-send --variant {variant} shows its text)"
            )
    return lines


def test_send_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The campaign file.")],
    to: Annotated[
        str | None,
        typer.Option("--to", help="Your chat, CHANNEL:ADDRESS as above (default: CHATCAST_TEST_RECIPIENT)."),
    ] = None,
    customer: Annotated[
        str | None,
        typer.Option("--customer", help="Send what this customer (shop id) gets (default: one of the audience)."),
    ] = None,
    persona: Annotated[
        str | None, typer.Option(help="Without --customer: pick the customer from this persona.")
    ] = None,
    step: StepOption = None,
    variant: Annotated[str | None, typer.Option("--variant", help="This variant instead of the customer's.")] = None,
    segments: SegmentsOption = None,
) -> None:
    """Send yourself exactly the message one customer of the audience gets, marked as a test. Never to the
    customer; no delivery is stored and nothing counts in reports. Your chat is written telegram:CHAT_ID or
    slack:TEAM/USER."""
    from campaigns.content.proof import proof
    from campaigns.ports import ChannelError
    from chatcast.engine import build_writer, open_channels, paced, unhappy
    from storage import db

    settings = state(ctx).settings
    target = to or settings.test_recipient
    if not target:
        fail(f"give --to {targets()} (your own chat), or set CHATCAST_TEST_RECIPIENT")
    try:
        channel_name, address = recipient(target, "--to" if to else "CHATCAST_TEST_RECIPIENT")
    except UserError as exc:
        fail(str(exc))
    defs = definitions(ctx, segments)
    campaign = load(file, defs)
    writer = build_writer(settings)

    async def go() -> tuple[Proof, str]:
        async with db.database(settings.db_url), open_channels(settings) as channels:
            if channel_name not in channels:
                raise UserError(f"{channel_name} is not configured: set its token (see `chatcast config show`)")
            channel = paced(settings, channels)[channel_name]  # under the limits every sender shares
            made = await proof(
                campaign, defs, writer, as_of=datetime.now(UTC), customer=customer, persona=persona, step=step,
                variant=variant, channel=channel_name,
                shop_name=settings.shop_name, shop_url=settings.shop_url, unhappy=unhappy(settings),
            )  # fmt: skip
            message = made.message(channel_name, address)
            try:
                return made, (await channel.send(message)).message_id
            except ChannelError as exc:  # e.g. a button's URL the platform refuses: the launch would fail alike
                links = "; ".join(f"[{b.text}] → {b.url}" for b in message.buttons if b.url)
                seen = f" (picture: {message.image_url})" if message.image_url else ""
                raise UserError(
                    f"{channel_name} refused the test message: {exc}" + (f" (links: {links})" if links else "") + seen
                ) from None

    made, message_id = run(ctx, go())
    who = made.member
    if customer is None:
        out.print(f"picked {who.external_id} ({who.name}, persona {who.persona or 'none'}) from the audience")
    with_picture = f", with its picture {made.image.url}" if made.image else ""
    out.print(
        f"sent a test of {campaign.id} (step {made.step}, variant {made.variant}) as {who.external_id} gets it on"
        f" {who.channel}, to {target}{with_picture}: message {message_id}"
    )
    for note in (made.shortfall, made.copy.note):
        if note:
            out.print(f"[yellow]note:[/] {escape(note)}")
