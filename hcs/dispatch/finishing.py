"""Finishing: a message rendered from its pinned closure and turned into its channel's exact output.

Pure but for the letter renderer's child process: the same message and version give the same
bytes, which is what the archive stores and `hcs archive rerender` checks. What differs per
channel is the channel's registry entry and outlet (`hcs.channels`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from hcs.channels.entry import Outgoing
from hcs.channels.registry import CHANNELS
from hcs.dispatch.providers import Providers
from hcs.errors import DisclosureMissing, SignoffRequired
from hcs.governance.disclosure import check_at_send
from hcs.infrastructure.config import Settings
from hcs.messages.models import Message
from templates_store.closure import Closure, resolve_closure
from templates_store.composing import Rendered, render_channel
from templates_store.models import TemplateVersion
from templates_store.variables import payload_loader


@dataclass(frozen=True)
class Finished:
    """What will be sent: the channel's prepared object and its exact bytes."""

    channel: str
    prepared: object
    output: bytes
    content_type: str
    rendered: Rendered
    # What the message showed of the AI disclosure on its channel (None: no AI slots).
    disclosure: dict[str, Any] | None = None


def outgoing(message: Message, finishing: int | None = None) -> Outgoing:
    """The message as its channel sees it (`finishing`: the rules to finish it by, if not now's)."""
    return Outgoing(
        message.id,
        message.recipient_key,
        message.to,
        message.category,
        message.created_at,
        finishing,
    )


def _extras(message: Message, sent: Outgoing, settings: Settings) -> dict[str, Any]:
    extras = {"recipient": {"name": message.to.get("name", "")}, "unsubscribe_url": ""}
    return extras | CHANNELS[message.channel].render_extras(sent, settings)


def render_message(
    session: Session,
    message: Message,
    settings: Settings,
    *,
    slot_text: Mapping[str, str] | None = None,
) -> Rendered:
    """The message's parts, rendered from its version's pinned closure."""
    version = session.get_one(TemplateVersion, message.version_id)
    base = _base(message, version, outgoing(message), settings)
    return _render(session, message, version, base, slot_text)


def _render(
    session: Session,
    message: Message,
    version: TemplateVersion,
    base: Mapping[str, Any],
    slot_text: Mapping[str, str] | None,
    closure: Closure | None = None,
) -> Rendered:
    if version.ai_slots and set(slot_text or {}) != {s["name"] for s in version.ai_slots}:
        # No path renders AI slots for sending without the texts a person signed off.
        raise SignoffRequired(f"message {message.id} carries AI text that is not signed off")
    # An approved version already rendered under the hard limits when it was submitted, and
    # in-process is several times faster (README, "Rendering in isolation"); channels whose
    # layout can take long (letters) render in the pool of child processes as previews do.
    isolated = CHANNELS[message.channel].renders_isolated
    data = {**base, **(slot_text or {})}
    return render_channel(
        session,
        version,
        message.channel,
        message.locale,
        data,
        closure=closure,
        isolated=isolated,
    )


Loader = Callable[[Mapping[str, Any]], dict[str, Any]]
# Each version's payload loader, by the very list of declarations it was made from (held here,
# so no other list takes its id): finding the schema by the declarations' JSON was a quarter of
# `load_payload`'s time. A sendable version's declarations never change in memory.
_LOADERS: dict[int, tuple[object, Loader]] = {}
_LOADERS_LIMIT = 256


def _loader(variables: list[dict[str, Any]]) -> Loader:
    """The payload loader of these declarations (every message is still checked against it)."""
    found = _LOADERS.get(id(variables))
    if found is None or found[0] is not variables:
        if len(_LOADERS) >= _LOADERS_LIMIT:
            _LOADERS.clear()
        found = _LOADERS[id(variables)] = (variables, payload_loader(variables))
    return found[1]


def _base(
    message: Message, version: TemplateVersion, sent: Outgoing, settings: Settings
) -> dict[str, Any]:
    """What the message's templates see but the slot texts: its data and the channel's extras."""
    data = _loader(version.variables)(message.data)
    return {**data, **_extras(message, sent, settings)}


def _disclosed(
    session: Session,
    message: Message,
    version: TemplateVersion,
    base: Mapping[str, Any],
    rendered: Rendered,
    slot_text: Mapping[str, str] | None,
    closure: Closure,
    sending: bool,
) -> dict[str, Any] | None:
    """Check the AI disclosure on this message's own output (DisclosureMissing: fail closed).

    A message already sent (archived late, rendered again) is only described: what it lacked.
    """

    def rerender(stand_ins: Mapping[str, str]) -> Rendered:
        return _render(session, message, version, base, stand_ins, closure)

    context = {**base, **(slot_text or {})}
    try:
        return check_at_send(version, closure, rendered, context, rerender).record()
    except DisclosureMissing as exc:
        if sending:
            raise
        return {"channel": message.channel, "carries_ai": True, "missing": str(exc)}


def finish(
    session: Session,
    message: Message,
    providers: Providers,
    slot_text: Mapping[str, str] | None = None,
    *,
    sending: bool = True,
    finishing: int | None = None,
) -> Finished:
    """Render and finish one message into exactly what its channel will send.

    `sending` false: the message went out already (archived late, rendered again to compare),
    by the finishing rules `finishing` it was sent with (None: the current ones).
    """
    version = session.get_one(TemplateVersion, message.version_id)
    sent = outgoing(message, finishing)
    base = _base(message, version, sent, providers.settings)
    disclosed = None
    if version.ai_slots:  # the closure is read once, for the render and the disclosure check
        closure = resolve_closure(session, version)
        rendered = _render(session, message, version, base, slot_text, closure)
        disclosed = _disclosed(
            session, message, version, base, rendered, slot_text, closure, sending
        )
    else:
        rendered = _render(session, message, version, base, slot_text)
    outlet = providers.outlet(message.channel)
    made = outlet.finish(session, version, sent, rendered)
    return Finished(
        message.channel, made.prepared, made.output, outlet.content_type, rendered, disclosed
    )
