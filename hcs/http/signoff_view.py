"""A sign-off item's message on its channel, as the customer will get it, AI text marked.

Shared by the API's detail and the sign-off page: every part rendered from the message's pinned
closure with the item's current slot texts, each AI text inside `<mark data-ai-slot=...>`,
invisible characters shown as `⟨U+XXXX⟩`; an SMS with its encoding and segments, a letter with
its pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from hcs.ai.unicode import made_visible
from hcs.channels.registry import CHANNELS
from hcs.dispatch.finishing import render_message
from hcs.dispatch.letter_previews import LetterPages, preview_pages
from hcs.governance.disclosure import marks
from hcs.infrastructure.config import Settings
from hcs.messages.models import Message
from hcs.signoffs.models import SignoffItem
from templates_store.composing import Rendered
from templates_store.errors import TemplateProblem
from templates_store.models import TemplateVersion
from templates_store.parts import PART_FIELDS

BLOCKED = "[blocked by a guardrail]"


@dataclass(frozen=True)
class ChannelView:
    """The message's parts with AI text marked, and what its channel adds (segments, pages)."""

    channel: str
    locale: str
    parts: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)


def slot_texts(item: SignoffItem) -> dict[str, str]:
    """Each slot's current text (what approving now would send)."""
    return {name: slot.get("text") or BLOCKED for name, slot in item.slots.items()}


Marks = dict[str, tuple[str, str]]  # a stand-in (casefolded) → (slot name, slot text)


def _marker(stand_ins: dict[str, str]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(s) for s in stand_ins.values()), re.IGNORECASE)


def _marked(value: str, is_html: bool, found: re.Pattern[str], by_mark: Marks) -> Markup:
    """One part: text escaped (HTML kept), each stand-in replaced by its marked slot text."""
    safe = Markup(value) if is_html else escape(value)

    def mark(match: re.Match[str]) -> str:
        name, text = by_mark[match.group().casefold()]
        return f'<mark data-ai-slot="{escape(name)}">{escape(text)}</mark>'

    return Markup(made_visible(found.sub(mark, str(safe))))


def _details(
    session: Session, item: SignoffItem, channel: str, settings: Settings, pages: bool
) -> dict[str, Any]:
    """What the channel adds: an SMS's encoding and segments; a letter's pages (`pages`)."""
    if channel == "letter" and pages:
        shown = letter_pages(session, item, settings)
        total = shown.images.total if shown.images is not None else 0
        return {"pages": total, "problem": shown.problem or None}
    sent = as_sent(session, item, settings) if channel == "sms" else None
    if sent is not None:
        extras = CHANNELS["sms"].preview_extras(sent)
        body = extras["body"]
        return {
            "encoding": extras["encoding"],
            "segments": extras["segments"],
            "characters": len(body),
            "gsm_substitutions": extras["gsm_substitutions"],
            "ucs2_characters": extras["ucs2_characters"],
        }
    return {}


def as_sent(session: Session, item: SignoffItem, settings: Settings) -> Rendered | None:
    """The item's message rendered with its current slot texts, as approving would send it."""
    message = session.get_one(Message, item.message_id)
    try:
        return render_message(session, message, settings, slot_text=slot_texts(item))
    except TemplateProblem:
        return None


def letter_pages(session: Session, item: SignoffItem, settings: Settings) -> LetterPages:
    """A letter's pages as the printer will get them (to a sample address)."""
    sent = as_sent(session, item, settings)
    if sent is None:
        return LetterPages(problem="this letter cannot be rendered any more")
    return preview_pages(session, sent, settings)


def channel_view(
    session: Session, item: SignoffItem, settings: Settings, *, pages: bool = True
) -> ChannelView | None:
    """The item's message on its channel; None when it cannot render any more."""
    message = session.get_one(Message, item.message_id)
    version = session.get_one(TemplateVersion, message.version_id)
    texts = slot_texts(item)
    stand_ins = {name: mark for name, mark in marks(version).items() if name in texts}
    by_mark = {mark.casefold(): (name, texts[name]) for name, mark in stand_ins.items()}
    try:
        marked = render_message(session, message, settings, slot_text=stand_ins)
    except TemplateProblem:
        return None
    found, kinds = _marker(stand_ins), PART_FIELDS[marked.channel]
    parts: dict[str, Any] = {}
    for name, value in marked.parts.items():
        is_html = kinds[name] in ("html", "css")
        if isinstance(value, list):
            parts[name] = [_marked(v, False, found, by_mark) for v in value]
        else:
            parts[name] = _marked(value, is_html, found, by_mark)
    details = _details(session, item, marked.channel, settings, pages)
    return ChannelView(marked.channel, marked.locale, parts, details)
