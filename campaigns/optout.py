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
    "stop", "unsubscribe", "opt out", "optout", "opt-out", "stop all", "cancel", "end", "quit", "remove me",
    "stop messages", "stop messaging me", "stop sending", "stop sending me messages", "stop texting me",
    "no more messages", "unsubscribe me", "stop it", "leave me alone",
    # de
    "stopp", "abmelden", "abbestellen", "austragen", "keine nachrichten mehr", "abmelden bitte",
    # fr
    "arret", "arreter", "desabonner", "se desabonner", "desinscrire", "me desinscrire", "desabonnement",
    # es
    "baja", "darme de baja", "cancelar suscripcion", "parar", "no mas mensajes", "desuscribir",
    # pt
    "sair", "descadastrar", "cancelar inscricao", "parar de receber",
    # it
    "disiscrivimi", "cancellami", "annulla iscrizione", "basta",
    # ja
    "配信停止", "停止", "解除", "購読解除", "やめて",
}  # fmt: skip
_POLITE = re.compile(r"^(please|pls|plz|bitte|por favor|s'il vous plait|per favore)\s+|\s+(please|pls|plz|bitte)$")


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
    said = _POLITE.sub("", said).strip()
    return said in WORDS
