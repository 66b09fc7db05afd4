"""What a dispatcher does after a send: hand the exact output to the archive."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hcs.delivery import telemetry
from hcs.delivery.finishing import Finished
from hcs.delivery.models import Message


def archive_sent(session: Session, message: Message, finished: Finished) -> None:
    """Archive the output of a sent message (in the transaction that marks it sent)."""
    from hcs import archive  # the archive package is optional until it lands

    archive.archive_output(
        session,
        message_id=message.id,
        template=message.template_key,
        version=message.version_number,
        closure_hash=finished.rendered.closure_hash or "",
        channel=message.channel,
        locale=finished.rendered.locale,
        category=message.category,
        recipient_key=message.recipient_key,
        recipient=message.to,
        data=message.data,
        output=finished.output,
        content_type=finished.content_type,
        provider=message.provider or "",
        provider_message_id=message.provider_message_id,
        ai=None,
        sent_at=message.sent_at or message.created_at,
    )
    telemetry.ARCHIVED.labels(message.channel).inc()
