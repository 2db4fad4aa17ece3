"""Opt-out in words: a customer who writes "stop" or "unsubscribe" (or the same in the shop's languages) is opted
out at once, as if they had pressed Unsubscribe.

Only a message that is nothing but such a request counts ("stop", "STOP!", "please unsubscribe me", "abmelden"),
so that "stop my order" or "don't stop the offers" reach the assistant as questions.
"""

from __future__ import annotations

import re
import unicodedata

WORDS = {
    # en
    "stop", "unsubscribe", "opt out", "optout", "opt-out", "opt me out", "stop all", "remove me", "stop messages",
    "stop messaging me", "stop sending", "stop sending me messages", "stop sending me offers", "stop texting me",
    "no more messages", "unsubscribe me", "unsubscribe me from your list", "i want to unsubscribe",
    "i'd like to unsubscribe", "leave me alone", "stop all messages", "no more offers",
    # de
    "stopp", "abmelden", "abbestellen", "austragen", "keine nachrichten mehr", "abmelden bitte",
    # fr
    "arret", "arreter", "desabonner", "se desabonner", "desinscrire", "me desinscrire", "desabonnement",
    "desinscription",
    # es
    "baja", "darme de baja", "cancelar suscripcion", "parar", "no mas mensajes", "desuscribir",
    # pt
    "descadastrar", "cancelar inscricao", "parar de receber",
    # it
    "disiscrivimi", "cancellami", "annulla iscrizione",
    # ja
    "配信停止", "停止", "購読解除", "配信停止してください", "配信を停止してください",
}  # fmt: skip
_POLITE = re.compile(r"^(please|pls|plz|bitte|por favor|s'il vous plait|per favore)\s+|\s+(please|pls|plz|bitte)$")
_THANKS = re.compile(r"\s+(thanks|thank you|thx|danke|merci|gracias|obrigado|grazie)$")


def normalise(text: str) -> str:
    """Lower case, accents and punctuation gone, spaces single."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    plain = re.sub(r"[^\w\s'-]", " ", plain)
    return " ".join(plain.split())


def is_opt_out(text: str) -> bool:
    """Whether the whole message asks to stop getting messages."""
    said = normalise(text)
    if len(said) > 40:
        return False
    said = _THANKS.sub("", said)
    said = _POLITE.sub("", said).strip()
    words = said.split()
    if len(words) > 1 and len(set(words)) == 1:  # "STOP STOP"
        said = words[0]
    return said in _NORMALISED


_NORMALISED = {normalise(w) for w in WORDS}  # compared as the customer's text is: accents (and dakuten) folded
