"""Finishing: a message rendered from its pinned closure and turned into its channel's exact output.

Pure but for the letter renderer's child process: the same message and version give the same
bytes, which is what the archive stores and `hcs archive rerender` checks.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from channels.chat import ChatContent, prepare_chat
from channels.core import Category
from channels.email import EmailContent, prepare_email, to_eml
from channels.email.unsubscribe import unsubscribe_url
from channels.letter import LetterChannel, LetterContent, LetterRenderer, LetterSettings
from channels.sms import SmsContent, prepare_sms
from hcs.dispatch.providers import Providers, unsubscribe_secret
from hcs.errors import SignoffRequired
from hcs.infrastructure.config import Settings
from hcs.messages.models import Message
from hcs.messages.recipients import address_lines
from templates_store.closure import resolve_closure
from templates_store.composing import Rendered, brand_of, render_channel
from templates_store.models import TemplateVersion
from templates_store.variables import load_payload

CONTENT_TYPES = {
    "email": "message/rfc822",
    "sms": "text/plain; charset=utf-8",
    "chat": "application/json",
    "letter": "application/pdf",
}


@dataclass(frozen=True)
class Finished:
    """What will be sent: the channel's prepared object and its exact bytes."""

    channel: str
    prepared: Any
    output: bytes
    content_type: str
    rendered: Rendered


def _extras(message: Message, settings: Settings, version: TemplateVersion) -> dict[str, Any]:
    extras: dict[str, Any] = {"recipient": {"name": message.to.get("name", "")}}
    if message.channel == "email":
        extras["unsubscribe_url"] = unsubscribe_url(
            f"{settings.public_url}/unsubscribe",
            unsubscribe_secret(settings),
            message.recipient_key,
            message.category,
            now=message.created_at,
        )
    else:
        extras["unsubscribe_url"] = ""
    return extras


def render_message(
    session: Session,
    message: Message,
    settings: Settings,
    *,
    slot_text: Mapping[str, str] | None = None,
) -> Rendered:
    """The message's parts, rendered from its version's pinned closure."""
    version = session.get_one(TemplateVersion, message.version_id)
    if version.ai_slots and set(slot_text or {}) != {s["name"] for s in version.ai_slots}:
        # No path renders AI slots for sending without the texts a person signed off.
        raise SignoffRequired(f"message {message.id} carries AI text that is not signed off")
    data = load_payload(version.variables, message.data)
    extra = {**_extras(message, settings, version), **(slot_text or {})}
    # An approved version already rendered under the hard limits when it was submitted, and
    # in-process is several times faster (README, "Rendering in isolation"); letters, whose
    # layout can take long, render in the pool of child processes as previews do.
    isolated = message.channel == "letter"
    return render_channel(
        session, version, message.channel, message.locale, data, extra=extra, isolated=isolated
    )


_RENDERERS: dict[tuple[str, int | None, str], LetterRenderer] = {}
_RENDERERS_LOCK = threading.Lock()


def brand_letter(
    session: Session,
    version: TemplateVersion,
    settings: LetterSettings,
    *,
    purpose: str = "send",
) -> tuple[LetterSettings, LetterRenderer]:
    """The version's brand files in `settings`, and the renderer process its letters share.

    Previews (`purpose="preview"`) get processes of their own: a draft that times out or
    crashes its renderer must not hold up letters being sent.
    """
    theme = resolve_closure(session, version).theme
    assets = {n: base64.b64decode(a["data"]) for n, a in (theme.assets if theme else {}).items()}
    settings = replace(settings, brand_assets=assets)
    key = (purpose, theme.id if theme else None, settings.page_size)
    with _RENDERERS_LOCK:
        if key not in _RENDERERS:
            _RENDERERS[key] = LetterRenderer(settings)
        return settings, _RENDERERS[key]


def _letter(session: Session, message: Message, rendered: Rendered, providers: Providers) -> Any:
    version = session.get_one(TemplateVersion, message.version_id)
    paper = providers.letter_settings({}, rendered.locale)
    settings, renderer = brand_letter(session, version, paper)
    channel = LetterChannel(settings, providers.letter, renderer)
    content = LetterContent(rendered.parts["html"], rendered.parts.get("css", ""))
    return channel.prepare(content, address_lines(message.to), reference=message.id)


def close_renderers() -> None:
    """Stop every letter renderer process (at worker shutdown)."""
    with _RENDERERS_LOCK:
        renderers = list(_RENDERERS.values())
        _RENDERERS.clear()
    for renderer in renderers:
        renderer.close()


def finish(
    session: Session,
    message: Message,
    providers: Providers,
    slot_text: Mapping[str, str] | None = None,
) -> Finished:
    """Render and finish one message into exactly what its channel will send."""
    rendered = render_message(session, message, providers.settings, slot_text=slot_text)
    parts, channel = rendered.parts, message.channel
    if channel == "email":
        version = session.get_one(TemplateVersion, message.version_id)
        brand = brand_of(resolve_closure(session, version))
        content = EmailContent(parts["subject"], parts["html"], parts.get("text"))
        prepared = prepare_email(
            providers.email_settings(brand),
            content,
            message.recipient_key,
            Category(message.category),
            reference=message.id,
            now=message.created_at,
            recipient_name=message.to.get("name"),
        )
        output = to_eml(prepared)
    elif channel == "sms":
        prepared = prepare_sms(
            providers.sms_settings,
            SmsContent(parts["body"]),
            message.recipient_key,
            reference=message.id,
        )
        output = prepared.body.encode("utf-8")
    elif channel == "chat":
        content = ChatContent(parts["body"], tuple(parts.get("quick_replies") or ()))
        prepared = prepare_chat(
            providers.chat_settings,
            content,
            message.recipient_key,
            reference=message.id,
            phone=providers.name("chat") == "twilio",
        )
        output = json.dumps(prepared.as_record(), sort_keys=True).encode("utf-8")
    else:
        prepared = _letter(session, message, rendered, providers)
        output = prepared.pdf
    return Finished(channel, prepared, output, CONTENT_TYPES[channel], rendered)
