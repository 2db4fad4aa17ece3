"""The words of order notices: fixed templates per language (en, de, fr, es; anything else reads English).

Never a model, never an offer: a notice says what happened to the order, when it is expected, where to track it,
and how to turn notices off. The same tables answer the chat words that switch notices off and on.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bots.inbound.optout import normalise
from campaigns.ports import Button
from storage.order_news import Notice

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "paid": "Thank you: we have received the payment for your order {order}. We'll tell you when it ships.",
        "shipped": "Your order {order} is on its way{carrier}.",
        "delayed": "Sorry: your order {order} is delayed.",
        "delivered": "Your order {order} has been delivered.",
        "refunded": "Your order {order} has been refunded. The money may take a few days to reach you.",
        "expected": "Expected delivery: {date}.",
        "new_date": "The new expected delivery date is {date}.",
        "carrier": " with {carrier}",
        "track": "Track your order",
        "footer": "Order updates: reply STOP NOTICES to turn them off.",
        "off": "Done: we won't send you order updates any more. Reply START NOTICES to get them again.",
        "on": "Done: you'll get updates about your orders here.",
    },
    "de": {
        "paid": "Danke: Wir haben die Zahlung für Ihre Bestellung {order} erhalten. Wir melden uns beim Versand.",
        "shipped": "Ihre Bestellung {order} ist unterwegs{carrier}.",
        "delayed": "Leider verzögert sich Ihre Bestellung {order}.",
        "delivered": "Ihre Bestellung {order} wurde zugestellt.",
        "refunded": "Ihre Bestellung {order} wurde erstattet. Das Geld kann einige Tage bis zu Ihnen brauchen.",
        "expected": "Voraussichtliche Zustellung: {date}.",
        "new_date": "Neuer voraussichtlicher Liefertermin: {date}.",
        "carrier": " mit {carrier}",
        "track": "Sendung verfolgen",
        "footer": "Bestell-Updates: Antworten Sie KEINE BENACHRICHTIGUNGEN, um sie abzustellen.",
        "off": "Erledigt: Sie erhalten keine Bestell-Updates mehr. Mit BENACHRICHTIGUNGEN AN wieder einschalten.",
        "on": "Erledigt: Sie erhalten hier wieder Updates zu Ihren Bestellungen.",
    },
    "fr": {
        "paid": "Merci : nous avons bien reçu le paiement de votre commande {order}. Nous vous dirons quand elle part.",
        "shipped": "Votre commande {order} est en route{carrier}.",
        "delayed": "Désolés : votre commande {order} a du retard.",
        "delivered": "Votre commande {order} a été livrée.",
        "refunded": "Votre commande {order} a été remboursée. L'argent peut mettre quelques jours à vous parvenir.",
        "expected": "Livraison prévue : {date}.",
        "new_date": "Nouvelle date de livraison prévue : {date}.",
        "carrier": " avec {carrier}",
        "track": "Suivre ma commande",
        "footer": "Suivi de commande : répondez STOP NOTIFICATIONS pour ne plus le recevoir.",
        "off": "C'est fait : plus de suivi de commande ici. Répondez ACTIVER NOTIFICATIONS pour le retrouver.",
        "on": "C'est fait : vous recevrez ici le suivi de vos commandes.",
    },
    "es": {
        "paid": "Gracias: hemos recibido el pago de tu pedido {order}. Te avisaremos cuando salga.",
        "shipped": "Tu pedido {order} está en camino{carrier}.",
        "delayed": "Lo sentimos: tu pedido {order} se ha retrasado.",
        "delivered": "Tu pedido {order} ha sido entregado.",
        "refunded": "Hemos reembolsado tu pedido {order}. El dinero puede tardar unos días en llegarte.",
        "expected": "Entrega prevista: {date}.",
        "new_date": "La nueva fecha de entrega prevista es el {date}.",
        "carrier": " con {carrier}",
        "track": "Seguir mi pedido",
        "footer": "Avisos de pedidos: responde PARAR AVISOS para dejar de recibirlos.",
        "off": "Hecho: ya no te enviaremos avisos de pedidos. Responde ACTIVAR AVISOS para recibirlos de nuevo.",
        "on": "Hecho: recibirás aquí los avisos de tus pedidos.",
    },
}
MONTHS = {
    "en": "January February March April May June July August September October November December",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
}
DATES = {"en": "{day} {month} {year}", "de": "{day}. {month} {year}", "fr": "{day} {month} {year}",
         "es": "{day} de {month} de {year}"}  # fmt: skip
SWITCH_OFF = ("stop notices", "stop order notices", "stop order updates", "no notices", "notices off",
              "keine benachrichtigungen", "benachrichtigungen aus", "stop notifications", "arreter les notifications",
              "parar avisos", "sin avisos")  # fmt: skip
SWITCH_ON = ("start notices", "notices on", "benachrichtigungen an", "activer notifications",
             "activer les notifications", "activar avisos")  # fmt: skip
_OFF, _ON = {normalise(w) for w in SWITCH_OFF}, {normalise(w) for w in SWITCH_ON}


def language_of(code: str | None) -> str:
    """The template language for a customer's language code (``de-AT`` reads German; unknown reads English)."""
    base = (code or "en").split("-")[0].lower()
    return base if base in TEXTS else "en"


def local_date(moment: datetime, language: str, zone: ZoneInfo) -> str:
    """``moment``'s date in ``zone`` (the shop's), written the language's way (12 April 2027, 12. April 2027)."""
    day = moment.astimezone(zone)
    month = MONTHS[language].split()[day.month - 1]
    return DATES[language].format(day=day.day, month=month, year=day.year)


def render(notice: Notice, language: str | None, zone: ZoneInfo) -> tuple[str, tuple[Button, ...]]:
    """The notice's text and its tracking button (when the shop gave a tracking link) in ``language``."""
    lang = language_of(language)
    words = TEXTS[lang]
    carrier = words["carrier"].format(carrier=notice.carrier) if notice.carrier else ""
    lines = [words[notice.status].format(order=notice.order, carrier=carrier)]
    if notice.expected_at is not None and notice.status in ("shipped", "delayed"):
        date = local_date(notice.expected_at, lang, zone)
        lines.append(words["expected" if notice.status == "shipped" else "new_date"].format(date=date))
    lines.append(words["footer"])
    buttons = (Button(words["track"], url=notice.tracking_url),) if notice.tracking_url else ()
    return "\n".join(lines), buttons


def switch(text: str) -> bool | None:
    """Whether a chat message turns notices on (True) or off (False); None for any other message."""
    said = normalise(text)
    return False if said in _OFF else True if said in _ON else None


def switched(language: str | None, on: bool) -> str:
    """The confirmation of a notices switch, in the customer's language."""
    return TEXTS[language_of(language)]["on" if on else "off"]
