"""Disclosure of AI text on every channel that carries it, proven per part and per branch.

A body is what one recipient reads (an email's HTML and its text alternative, an SMS, a chat
message, a letter). When any part of a channel can carry AI text (a slot, or a block that reads
one), each of its bodies must include the `ai-disclosure` block wherever that text can render:
in the same branch or above it, and unconditionally when the text is in another part (a
subject). Checked statically over every branch at submission, on the rendered output with the
sample data at submission, and on each message's own output at send.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from hcs.errors import DisclosureMissing
from hcs.governance.visibility import visible_text
from templates_store.analysis import used_variables
from templates_store.closure import Closure, resolve_closure
from templates_store.composing import (
    Rendered,
    block_sources,
    brand_of,
    preview_extras,
    render_channel,
)
from templates_store.models import TemplateVersion
from templates_store.parts import PART_FIELDS, part_name
from templates_store.reach import Chain, Reach, reach
from templates_store.rendering import render
from templates_store.variables import load_payload

DISCLOSURE_BLOCK = "ai-disclosure"
# What a recipient reads of each channel; an email without a text part gets one from its HTML.
BODIES: dict[str, tuple[str, ...]] = {
    "email": ("html", "text"),
    "sms": ("body",),
    "chat": ("body",),
    "letter": ("html",),
}
INCLUDE = f"{{{{ block('{DISCLOSURE_BLOCK}') }}}}"
_SPACE = re.compile(r"\s+")
# Stand-ins for slot texts that no filter of ours changes beyond case.
_MARK = "zqaislot{}qz"
# Whether a channel and locale of a closure can carry AI text: parsed once per closure.
_CARRIES: dict[tuple[str | None, str, str], bool] = {}
# The readable text of a disclosure block that reads no data, by its source, locale, form, brand.
_STATIC: dict[tuple[str, str, str, str], str] = {}


def slot_names(version: TemplateVersion) -> set[str]:
    """The names of the version's AI slots."""
    return {slot["name"] for slot in version.ai_slots}


def _ai_blocks(closure: Closure, slots: set[str]) -> set[str]:
    """Blocks whose own sources read a slot: including one carries AI text too."""
    found = set()
    for key, block in closure.blocks.items():
        for kind, by_locale in block.content.items():
            for locale, source in by_locale.items():
                if used_variables(source, part=f"block {key!r} {kind} {locale}") & slots:
                    found.add(key)
    return found


def _field_reach(
    version: TemplateVersion, channel: str, locale: str, slots: set[str]
) -> dict[str, Reach]:
    reaches = {}
    for field, value in version.parts[channel][locale].items():
        name = part_name(channel, field, locale)
        sources = value if PART_FIELDS[channel][field] == "list" else [value]
        merged = Reach()
        for source in sources:
            found = reach(source, part=name, names=slots)
            merged.uses += found.uses
            for key, chains in found.blocks.items():
                merged.blocks.setdefault(key, []).extend(chains)
        reaches[field] = merged
    return reaches


def _uses(found: Reach, ai_blocks: set[str]) -> list[Chain]:
    return found.uses + [chain for key in ai_blocks for chain in found.blocks.get(key, [])]


def static_gaps(
    version: TemplateVersion, channel: str, locale: str, closure: Closure
) -> Iterator[tuple[str, str]]:
    """(field, why) for each body where AI text could render without the disclosure."""
    slots = slot_names(version)
    reaches = _field_reach(version, channel, locale, slots)
    ai_blocks = _ai_blocks(closure, slots) - {DISCLOSURE_BLOCK}
    uses = {field: _uses(found, ai_blocks) for field, found in reaches.items()}
    for body in BODIES[channel]:
        if body not in reaches or not any(uses.values()):
            continue
        elsewhere = any(chains for field, chains in uses.items() if field != body)
        needed = uses[body] + ([()] if elsewhere else [])
        if not reaches[body].blocks.get(DISCLOSURE_BLOCK):
            yield body, f"this {channel} part carries AI text: disclose it with {INCLUDE}"
        elif not all(reaches[body].covers(DISCLOSURE_BLOCK, chain) for chain in needed):
            yield (
                body,
                (
                    f"AI text can render here in a branch without the disclosure: put {INCLUDE} "
                    "where it always renders with the AI text (outside any branch, or in the same "
                    "branch)"
                ),
            )


def carries_ai(version: TemplateVersion, channel: str, locale: str, closure: Closure) -> bool:
    """Whether any part of this channel and locale can carry AI text (cached per closure)."""
    key = (version.closure_hash, channel, locale)
    if version.closure_hash is not None and key in _CARRIES:
        return _CARRIES[key]
    slots = slot_names(version)
    ai_blocks = _ai_blocks(closure, slots) - {DISCLOSURE_BLOCK}
    reaches = _field_reach(version, channel, locale, slots)
    carries = any(_uses(part, ai_blocks) for part in reaches.values())
    if version.closure_hash is not None:
        if len(_CARRIES) >= 4096:
            _CARRIES.clear()
        _CARRIES[key] = carries
    return carries


def readable(value: str, *, is_html: bool, css: str = "") -> str:
    """Text as a reader sees it: for HTML only what shows (`visible_text`); spaces collapsed."""
    return visible_text(value, css) if is_html else _SPACE.sub(" ", value).strip()


def disclosure_texts(
    closure: Closure, rendered: Rendered, default_locale: str, context: Mapping[str, Any]
) -> dict[str, str]:
    """The disclosure block as rendered for this message, readable, in the forms its bodies use."""
    if DISCLOSURE_BLOCK not in closure.blocks:
        return {}
    blocks = block_sources(closure, rendered.locale, default_locale)
    texts = {}
    for kind in _kinds(rendered):
        source = getattr(blocks[DISCLOSURE_BLOCK], kind)
        if source is None:
            continue
        # A block that reads no data renders the same for every message with the same brand.
        brand = brand_of(closure)
        key = (source, rendered.locale, kind, json.dumps(brand, sort_keys=True, default=str))
        if key not in _STATIC:
            shown = render(
                INCLUDE,
                part=f"block {DISCLOSURE_BLOCK!r}",
                html=kind == "html",
                data=context,
                locale=rendered.locale,
                brand=brand,
                blocks=blocks,
            )
            text = readable(shown, is_html=kind == "html")
            if used_variables(source, part=f"block {DISCLOSURE_BLOCK!r}"):
                texts[kind] = text
                continue
            if len(_STATIC) >= 1024:
                _STATIC.clear()
            _STATIC[key] = text
        texts[kind] = _STATIC[key]
    return texts


def _kinds(rendered: Rendered) -> set[str]:
    """The forms of a block a channel's bodies include: `html` or `text`."""
    return {
        "html" if _is_html(rendered.channel, body) else "text"
        for body in BODIES[rendered.channel]
        if body in rendered.unmarked
    }


def _is_html(channel: str, field: str) -> bool:
    return PART_FIELDS[channel][field] == "html"


def missing_in(rendered: Rendered, texts: Mapping[str, str]) -> list[str]:
    """The bodies of a rendered channel that do not show the (non-empty) disclosure."""
    missing = []
    for body in BODIES[rendered.channel]:
        value = rendered.unmarked.get(body)
        if not isinstance(value, str):
            continue
        is_html = _is_html(rendered.channel, body)
        wanted = texts.get("html" if is_html else "text", "")
        css = str(rendered.unmarked.get("css") or "")
        seen = readable(value, is_html=is_html, css=css)
        if not wanted or wanted.casefold() not in seen.casefold():
            missing.append(body)
    return missing


def marks(version: TemplateVersion) -> dict[str, str]:
    """A stand-in text per slot, to find where AI text lands in a render."""
    return {name: _MARK.format(i) for i, name in enumerate(sorted(slot_names(version)))}


def shows_marks(rendered: Rendered, stand_ins: Mapping[str, str]) -> bool:
    """Whether any slot's stand-in text reached the rendered output."""
    text = repr(rendered.unmarked).casefold()
    return any(mark in text for mark in stand_ins.values())


@dataclass(frozen=True)
class Disclosed:
    """What a message showed of the disclosure on its channel, for the archive."""

    channel: str
    locale: str
    carries_ai: bool
    block: str | None
    version: int | None
    parts: dict[str, str]

    def record(self) -> dict[str, Any]:
        """As the archive stores it."""
        return {
            "channel": self.channel,
            "locale": self.locale,
            "carries_ai": self.carries_ai,
            "block": self.block,
            "version": self.version,
            "parts": self.parts,
        }


def check_at_send(
    version: TemplateVersion,
    closure: Closure,
    rendered: Rendered,
    context: Mapping[str, Any],
    rerender: Callable[[Mapping[str, str]], Rendered],
) -> Disclosed:
    """Refuse (DisclosureMissing) a message whose AI text is not disclosed in each body.

    When a body lacks the disclosure, the message is rendered again with stand-ins for the
    slot texts: only a message that shows none of them (its AI branch not taken) may go.
    """
    channel, locale = rendered.channel, rendered.locale
    block = closure.blocks.get(DISCLOSURE_BLOCK)
    number = block.number if block is not None else None
    if not carries_ai(version, channel, locale, closure):
        return Disclosed(channel, locale, False, None, None, {})
    texts = disclosure_texts(closure, rendered, version.template.default_locale, context)
    missing = missing_in(rendered, texts)
    if missing:
        if shows_marks(rerender(marks(version)), marks(version)):
            parts = ", ".join(f"{channel}.{body}" for body in missing)
            raise DisclosureMissing(f"AI text is not disclosed in {parts}")
        return Disclosed(channel, locale, False, None, None, {})
    shown = {
        body: texts["html" if _is_html(channel, body) else "text"]
        for body in BODIES[channel]
        if isinstance(rendered.unmarked.get(body), str)
    }
    return Disclosed(channel, locale, True, DISCLOSURE_BLOCK, number, shown)


def _rendered_gaps(
    session: Session, version: TemplateVersion, channel: str, locale: str, closure: Closure
) -> Iterator[tuple[str, str]]:
    """With the sample data, bodies where AI text shows and the disclosure does not."""
    data = load_payload(version.variables, version.sample_data)
    extra = {**preview_extras(version), **marks(version)}
    rendered = render_channel(session, version, channel, locale, data, extra=extra, closure=closure)
    if not shows_marks(rendered, marks(version)):
        return
    texts = disclosure_texts(closure, rendered, version.template.default_locale, {**data, **extra})
    for body in missing_in(rendered, texts):
        yield body, "with the sample data, AI text shows in this message without the disclosure"


def submission_gaps(session: Session, version: TemplateVersion) -> Iterator[tuple[str, str]]:
    """(part, why) for each body of each channel and locale that does not disclose AI text."""
    if not version.ai_slots:
        return
    closure = resolve_closure(session, version)
    for channel in sorted(version.parts):
        for locale in sorted(version.parts[channel]):
            seen = set()
            for body, why in static_gaps(version, channel, locale, closure):
                seen.add(body)
                yield part_name(channel, body, locale), why
            for body, why in _rendered_gaps(session, version, channel, locale, closure):
                if body not in seen:
                    yield part_name(channel, body, locale), why
