"""Rendering an archived entry again from its pinned closure and decrypted data, byte for byte."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hcs import audit
from hcs.archive.crypto import Keyring, default_keyring
from hcs.archive.reading import get_entry, open_entry
from hcs.channels.email import finishing_of
from hcs.dispatch.finishing import finish
from hcs.dispatch.providers import Providers
from hcs.dispatch.suppressed import CONTENT_TYPE as SUPPRESSED
from hcs.messages.models import Message
from hcs.signoffs.gate import signed_off_texts
from templates_store.errors import Conflict, NotFound
from templates_store.models import Template, TemplateVersion

MAIL = "message/rfc822"


@dataclass(frozen=True)
class Rerendered:
    """An entry rendered again: whether the output is byte-identical, and where it first differs."""

    entry_id: int
    identical: bool
    same_closure: bool
    archived_size: int
    rendered_size: int
    first_difference: int | None


def _version_id(session: Session, template: str, number: int) -> int:
    query = (
        select(TemplateVersion.id)
        .join(Template, Template.id == TemplateVersion.template_id)
        .where(Template.key == template, TemplateVersion.number == number)
    )
    found = session.scalar(query)
    if found is None:
        raise NotFound(f"version {number} of {template!r} no longer exists")
    return found


def _message(
    session: Session, entry_id: int, keys: Keyring
) -> tuple[Message, bytes, str, int | None]:
    entry = get_entry(session, entry_id)
    if entry.content_type == SUPPRESSED:
        raise Conflict(f"archive entry {entry_id} records a suppressed message: nothing was sent")
    opened = open_entry(session, entry, keys)
    if opened.output is None or opened.recipient is None or opened.data is None:
        raise Conflict(f"archive entry {entry_id} is {opened.state}: nothing to render from")
    sent = session.get(Message, entry.message_id)
    if sent is None:
        raise NotFound(f"message {entry.message_id} is gone; its accept time dates the output")
    # A copy, never added to the session: the archived recipient and data, the message's clock.
    message = Message(
        id=entry.message_id,
        template_key=entry.template,
        version_id=_version_id(session, entry.template, entry.version),
        version_number=entry.version,
        channel=entry.channel,
        category=entry.category,
        locale=entry.locale,
        recipient_key=opened.recipient["key"],
        to=opened.recipient["to"],
        data=opened.data,
        created_at=sent.created_at,
    )
    # Mail names the finishing rules it was made with; other outputs have had one set of rules.
    finishing = finishing_of(opened.output) if entry.content_type == MAIL else None
    return message, opened.output, entry.closure_hash, finishing


def _first_difference(one: bytes, other: bytes) -> int | None:
    pairs = zip(one, other, strict=False)
    at = next((i for i, (a, b) in enumerate(pairs) if a != b), None)
    if at is None and len(one) != len(other):
        return min(len(one), len(other))
    return at


def rerender(
    session: Session,
    entry_id: int,
    *,
    providers: Providers,
    actor: str,
    keys: Keyring | None = None,
) -> Rerendered:
    """Render an entry again from its pinned closure and data; compare bytes. Audited."""
    opened = _message(session, entry_id, keys or default_keyring())
    message, archived, closure_hash, finishing = opened
    slot_text = signed_off_texts(session, message)
    finished = finish(
        session, message, providers, slot_text=slot_text, sending=False, finishing=finishing
    )
    output = finished.output
    differs = _first_difference(archived, output)
    result = Rerendered(
        entry_id,
        differs is None,
        finished.rendered.closure_hash == closure_hash,
        len(archived),
        len(output),
        differs,
    )
    audit.record(
        session,
        actor=actor,
        action="archive.rerender",
        target_type="archive_entry",
        target=str(entry_id),
        detail={"identical": result.identical, "same_closure": result.same_closure},
    )
    return result
