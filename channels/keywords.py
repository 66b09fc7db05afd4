"""Opt-out and opt-in keywords (STOP, START, ...) in inbound messages."""

from __future__ import annotations

import re

from channels.core import EventKind

# Twilio's default opt-out and opt-in keywords (carriers honour the same list).
OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN = frozenset({"START", "UNSTOP"})
_NOISE = re.compile(r"[\s.!]+")


def keyword_event(body: str) -> EventKind | None:
    """OPTED_OUT or OPTED_IN when the whole body is such a keyword, in any case and spacing."""
    word = _NOISE.sub("", body).upper()
    if word in OPT_OUT:
        return EventKind.OPTED_OUT
    if word in OPT_IN:
        return EventKind.OPTED_IN
    return None
