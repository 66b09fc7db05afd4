"""Test sends ("proofs"): a version sent to the signed-in person's own address or phone only.

SMS and chat go only to the person's verified phone (`hcs.identity.phones`); a letter is mailed
to their own address as its watermarked PDF (`hcs.dispatch.letter_proofs`).

Rendered and finished exactly as a send would be (the same closure, extras and outlet), then
marked as a test; no message, outbox row, archive entry or metric is written, so it is never a
customer message. The audit log records who sent what to where, and the provider's answer.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from channels.errors import ChannelError, InvalidContent, InvalidRecipient
from hcs.channels.entry import Outgoing
from hcs.channels.registry import CHANNELS
from hcs.dispatch.letter_proofs import send_test_letter
from hcs.dispatch.proof_rendering import SentTest, record_test, render_test
from hcs.dispatch.providers import Providers
from hcs.errors import SendTestFailed, ValidationFailed
from hcs.identity.phones import verified_phone
from hcs.identity.users import get_user
from templates_store.lookup import get_version

TEST_CHANNELS = ("email", "sms", "chat", "letter")


def own_address(session: Session, email: str, channel: str) -> dict[str, str]:
    """The signed-in person's own address for `channel`, from their user record only."""
    if channel not in TEST_CHANNELS:
        raise ValidationFailed({"channel": [f"a test is sent by {', '.join(TEST_CHANNELS)}"]})
    user = get_user(session, email)
    if channel in ("email", "letter"):  # a test letter is mailed as a PDF
        return {"email": user.email}
    phone = verified_phone(session, user.email)
    return {"phone": phone} if channel == "sms" else {"chat": phone}


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
    if channel == "letter":
        return send_test_letter(session, version, locale, providers, actor=actor, sample=sample)
    recipient = CHANNELS[channel].recipient_key(to)
    now = datetime.now(UTC)
    category = version.template.category
    sent = Outgoing(f"test_{secrets.token_hex(8)}", recipient, to, category, now)
    rendered = render_test(session, version, where, sent, providers, sample)
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
    record_test(session, version, done, actor=actor)
    return done
