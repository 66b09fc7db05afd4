"""Messages, their outbox entries and events, idempotency records and consent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hcs.messages.status import MessageStatus
from templates_store.orm import Base, utcnow


class Message(Base):
    """One message to one recipient, from one template version, on one channel."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_recipient_key", "recipient_key"),
        # Webhooks find a message by the provider's id (Twilio's MessageSid, SendGrid's).
        Index("ix_messages_provider_message_id", "provider", "provider_message_id"),
        # Late archiving looks at the sends since its last look (hcs.dispatch.backfill).
        Index("ix_messages_sent_at", "sent_at"),
        # The message log: newest first in keyset pages, by batch, by the caller's reference.
        Index("ix_messages_created_at_id", "created_at", "id"),
        Index("ix_messages_requested_by_created_at", "requested_by", "created_at", "id"),
        Index("ix_messages_batch_id", "batch_id"),
        Index("ix_messages_reference", "reference"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    template_key: Mapped[str] = mapped_column(String(100))
    version_id: Mapped[int] = mapped_column(ForeignKey("template_versions.id"))
    version_number: Mapped[int]
    channel: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(String(20))
    locale: Mapped[str | None] = mapped_column(String(20))
    recipient_key: Mapped[str] = mapped_column(String(320))
    to: Mapped[dict[str, Any]] = mapped_column(JSON)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    # One of `hcs.messages.status.MessageStatus`, changed only by `hcs.messages.moves.move`.
    status: Mapped[str] = mapped_column(String(20), default=MessageStatus.ACCEPTED.value)
    reason: Mapped[str] = mapped_column(Text, default="")
    provider: Mapped[str | None] = mapped_column(String(40))
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    batch_id: Mapped[str | None] = mapped_column(String(40))
    requested_by: Mapped[str] = mapped_column(String(254))
    reference: Mapped[str | None] = mapped_column(String(255))
    # The caller's own JSON object: stored and returned, never rendered into a message.
    caller_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None]
    # What the caller asked for; the outbox entry's `available_at` holds it until it is due.
    send_at: Mapped[datetime | None]
    # Sent with a test key: recorded like a live message, never handed to a provider.
    is_test: Mapped[bool] = mapped_column(default=False, server_default=false())

    events: Mapped[list[MessageEvent]] = relationship(
        back_populates="message", order_by="MessageEvent.id"
    )


class OutboxEntry(Base):
    """Work for a dispatcher: written in the same transaction as the message it sends."""

    __tablename__ = "outbox"
    # The claim's queue: pending entries in due order. Read in that order until a round is
    # found, where a bitmap scan of (done_at, available_at) visited every version of every
    # entry sent since PostgreSQL last vacuumed (README, "How fast it accepts and sends").
    __table_args__ = (
        Index(
            "ix_outbox_pending",
            "available_at",
            "id",
            sqlite_where=text("done_at IS NULL"),
            postgresql_where=text("done_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), unique=True)
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    # Definite refusals by the provider (they alone lead to the channel's secondary), and when
    # the current run of retries began (they stop at the retry horizon).
    refusals: Mapped[int] = mapped_column(default=0, server_default="0")
    retrying_since: Mapped[datetime | None]
    leased_until: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    # The fencing token: raised by every claim, checked by every write the holder makes
    # (hcs.dispatch.claiming), so a worker that lost its lease records nothing.
    lease_token: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[datetime | None]


class MessageEvent(Base):
    """Something that happened to a message: accepted, sent, delivered, bounced, ..."""

    __tablename__ = "message_events"
    __table_args__ = (Index("ix_message_events_message_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"))
    kind: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    message: Mapped[Message] = relationship(back_populates="events")


class ParkedEvent(Base):
    """A provider report that came before its message's `sent`: kept until `sent` names its id."""

    __tablename__ = "parked_delivery_events"
    __table_args__ = (
        Index("ix_parked_delivery_events_provider_message_id", "provider", "provider_message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(40))
    provider_message_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    occurred_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class IdempotencyRecord(Base):
    """The first answer to a request with an `Idempotency-Key`, replayed for 24 hours or more."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("principal", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    principal: Mapped[str] = mapped_column(String(254))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Indexed: the hourly purge finds the expired keys without reading every key kept.
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Consent(Base):
    """A recipient's choice for one channel and category: opted in or out, and why."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("recipient_key", "channel", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_key: Mapped[str] = mapped_column(String(320))
    channel: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
