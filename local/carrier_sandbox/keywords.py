"""Twilio's own answers to keywords on long codes: its default texts, or a Messaging Service's Advanced Opt-Out
texts (set here per receiving number, since a number belongs to at most one service), which also add
`OptOutType` to the inbound webhook."""

from __future__ import annotations

from typing import Any

from local.carrier_sandbox import phones

HELP_WORDS = frozenset({"HELP", "INFO"})
DEFAULT_REPLIES = {
    "STOP": "You have successfully been unsubscribed. You will not receive any more messages from this number. "
            "Reply START to resubscribe.",
    "START": "You have successfully been re-subscribed to messages from this number. Reply HELP for help. "
             "Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
    "HELP": "Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
}


def opt_out_type(body: str) -> str | None:
    word = phones.keyword(body)
    if word in phones.STOP_WORDS:
        return "STOP"
    if word in phones.START_WORDS:
        return "START"
    return "HELP" if word in HELP_WORDS else None


def advanced_opt_out(state: dict[str, Any], number: str) -> dict[str, str] | None:
    """The Advanced Opt-Out texts ({"STOP", "START", "HELP"}) of the service `number` is in; None when off."""
    return state.setdefault("advanced_opt_out", {}).get(number)


def set_advanced_opt_out(state: dict[str, Any], number: str, texts: dict[str, str] | None) -> None:
    settings = state.setdefault("advanced_opt_out", {})
    if texts is None:
        settings.pop(number, None)
    else:
        settings[number] = {kind: str(texts.get(kind.lower()) or DEFAULT_REPLIES[kind]) for kind in DEFAULT_REPLIES}


def answer(state: dict[str, Any], *, number: str, patient: str, body: str) -> tuple[str | None, str | None, bool]:
    """What Twilio does with a keyword text: (its OptOutType, the text it answers with, whether the webhook gets
    OptOutType). STOP blocks the pair and is confirmed once; START/UNSTOP/YES unblocks a blocked pair."""
    kind = opt_out_type(body)
    pair = f"{number}|{patient}"
    custom = advanced_opt_out(state, number)
    if kind == "STOP":
        if pair in state["opt_outs"]:
            return kind, None, custom is not None
        state["opt_outs"].append(pair)
    elif kind == "START":
        if pair not in state["opt_outs"]:
            return kind, None, custom is not None
        state["opt_outs"].remove(pair)
    if kind is None:
        return None, None, False
    return kind, (custom or DEFAULT_REPLIES)[kind], custom is not None
