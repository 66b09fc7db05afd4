"""Test sends ("proofs"): a version sent to the signed-in person's own address or phone only.

Rendered and finished exactly as a send would be (the same closure, extras and outlet), then
marked as a test; no message, outbox row, archive entry or metric is written, so it is never a
customer message. The audit log records who sent what to where, and the provider's answer.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from channels.errors import ChannelError, InvalidContent, InvalidRecipient
from hcs import audit
from hcs.channels.entry import Outgoing
from hcs.channels.registry import CHANNELS
from hcs.dispatch.providers import Providers
from hcs.errors import SendTestFailed, ValidationFailed
from hcs.identity.phones import verified_phone
from hcs.identity.users import get_user
from templates_store.composing import Rendered, render_channel
from templates_store.lookup import get_version
from templates_store.models import TemplateVersion
from templates_store.samples import sample_named
from templates_store.variables import load_payload

TEST_BANNER = (
    '<div role="note" style="background:#5b2a86;color:#fff;padding:8px;'
    'font:bold 14px sans-serif;text-align:center">TEST MESSAGE sent to you from the editor: '
    "not sent to any customer</div>"
)
TEST_CHANNELS = ("email", "sms", "chat")


@dataclass(frozen=True)
class SentTest:
    """Where a test went, through which provider, and the provider's id for it."""

    channel: str
    locale: str
    to: str
    provider: str
    provider_id: str


def mark_test(parts: dict[str, Any]) -> dict[str, Any]:
    """The parts with the test mark: a banner atop the HTML, `[TEST]` before the texts."""
    marked = dict(parts)
    for field, value in parts.items():
        if field == "html":
            marked[field] = value.replace("<body>", "<body>" + TEST_BANNER, 1)
            if marked[field] == value:
                marked[field] = TEST_BANNER + value
        elif field in ("subject", "body", "text"):
            marked[field] = "[TEST] " + value
    return marked


def own_address(session: Session, email: str, channel: str) -> dict[str, str]:
    """The signed-in person's own address for `channel`, from their user record only."""
    if channel not in TEST_CHANNELS:
        raise ValidationFailed({"channel": [f"a test is sent by {', '.join(TEST_CHANNELS)}"]})
    user = get_user(session, email)
    if channel == "email":
        return {"email": user.email}
    phone = verified_phone(session, user.email)
    return {"phone": phone} if channel == "sms" else {"chat": phone}


def _rendered(
    session: Session,
    version: TemplateVersion,
    where: tuple[str, str],
    sent: Outgoing,
    providers: Providers,
    sample: str | None,
) -> Rendered:
    channel, locale = where
    data = load_payload(version.variables, sample_named(version.sample_data, sample))
    extra: dict[str, Any] = {"recipient": {"name": ""}, "unsubscribe_url": ""}
    extra |= CHANNELS[channel].render_extras(sent, providers.settings)
    # No model writes for a test: each AI slot shows its approved fallback.
    extra |= {slot["name"]: slot["fallback"] for slot in version.ai_slots}
    rendered = render_channel(session, version, channel, locale, data, extra=extra)
    return replace(rendered, parts=mark_test(rendered.parts))


def send_test(
    session: Session,
    version_ref: tuple[str, int],
    where: tuple[str, str],
    providers: Providers,
    *,
    actor: str,
    sample: str | None = None,
) -> SentTest:
    """Send version `version_ref` on channel and locale `where` to `actor` themself."""
    key, number = version_ref
    channel, locale = where
    version = get_version(session, key, number)
    to = own_address(session, actor, channel)
    recipient = CHANNELS[channel].recipient_key(to)
    now = datetime.now(UTC)
    category = version.template.category
    sent = Outgoing(f"test_{secrets.token_hex(8)}", recipient, to, category, now)
    rendered = _rendered(session, version, where, sent, providers, sample)
    outlet = providers.outlet(channel)
    try:
        made = outlet.finish(session, version, sent, rendered)
        result = outlet.send(made.prepared)
    except InvalidRecipient as exc:
        raise ValidationFailed({"to": [str(exc)]}) from exc
    except InvalidContent as exc:
        raise ValidationFailed({f"parts.{channel}": [str(exc)]}) from exc
    except ChannelError as exc:
        raise SendTestFailed(f"{outlet.name} did not take the test: {exc}") from exc
    done = SentTest(channel, rendered.locale, recipient, outlet.name, result.message_id)
    audit.record(
        session,
        actor=actor,
        action="template.test_send",
        target_type="template",
        target=f"{key} v{number}",
        detail={
            "channel": channel,
            "locale": done.locale,
            "to": recipient,
            "provider": done.provider,
            "provider_id": done.provider_id,
            "status": version.status.value,
        },
    )
    return done
