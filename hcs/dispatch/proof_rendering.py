"""A test send's content: the version rendered as a send renders it, then marked as a test."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from hcs import audit
from hcs.channels.entry import Outgoing
from hcs.channels.registry import CHANNELS
from hcs.dispatch.providers import Providers
from templates_store.composing import Rendered, render_channel
from templates_store.models import TemplateVersion
from templates_store.samples import sample_named
from templates_store.variables import load_payload

TEST_BANNER = (
    '<div role="note" style="background:#5b2a86;color:#fff;padding:8px;'
    'font:bold 14px sans-serif;text-align:center">TEST MESSAGE sent to you from the editor: '
    "not sent to any customer</div>"
)


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


def render_test(
    session: Session,
    version: TemplateVersion,
    where: tuple[str, str],
    sent: Outgoing,
    providers: Providers,
    sample: str | None,
) -> Rendered:
    """The version on channel and locale `where`, with sample data, marked as a test."""
    channel, locale = where
    data = load_payload(version.variables, sample_named(version.sample_data, sample))
    extra: dict[str, Any] = {"recipient": {"name": ""}, "unsubscribe_url": ""}
    extra |= CHANNELS[channel].render_extras(sent, providers.settings)
    # No model writes for a test: each AI slot shows its approved fallback.
    extra |= {slot["name"]: slot["fallback"] for slot in version.ai_slots}
    rendered = render_channel(session, version, channel, locale, data, extra=extra)
    return replace(rendered, parts=mark_test(rendered.parts))


def record_test(
    session: Session, version: TemplateVersion, done: SentTest, *, actor: str, **more: Any
) -> None:
    """The audit entry of one test send (never its content)."""
    audit.record(
        session,
        actor=actor,
        action="template.test_send",
        target_type="template",
        target=f"{version.template.key} v{version.number}",
        detail={
            "channel": done.channel,
            "locale": done.locale,
            "to": done.to,
            "provider": done.provider,
            "provider_id": done.provider_id,
            "status": version.status.value,
            **more,
        },
    )
