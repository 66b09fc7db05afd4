"""Callback endpoints, the deliveries owed to them (an outbox) and each attempt at one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from templates_store.orm import Base, utcnow


class WebhookEndpoint(Base):
    """An HTTPS URL that receives a caller's message events, signed with its own secret."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_owner", "owner"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # The principal whose messages it hears of: a person's email, or `apikey:<name>`.
    owner: Mapped[str] = mapped_column(String(254))
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(String(200), default="")
    # The chosen events, space-separated with a space at each end: matched with LIKE by the
    # one INSERT ... SELECT that writes deliveries beside a status move (hcs.messages.callbacks).
    events: Mapped[str] = mapped_column(String(300))
    enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    # The `whsec_` secret, AES-GCM sealed under a key derived from the archive's master key.
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    secret_master_id: Mapped[str] = mapped_column(String(16))
    # After a rotation the old secret signs too, until `previous_until`: receivers switch over.
    previous_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    previous_until: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WebhookDelivery(Base):
    """One event owed to one endpoint: written in the transaction of the move it reports."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "done_at", "available_at"),
        Index("ix_webhook_deliveries_endpoint_id", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    message_id: Mapped[str | None] = mapped_column(String(40))  # None for a test event
    event: Mapped[str] = mapped_column(String(30))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    leased_until: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    # pending, delivered, or failed (no 2xx answer within the retry horizon)
    state: Mapped[str] = mapped_column(String(12), default="pending", server_default="pending")
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    done_at: Mapped[datetime | None]


class WebhookAttempt(Base):
    """One HTTP request made for a delivery, and how the endpoint answered."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_endpoint_id", "endpoint_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    endpoint_id: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None]
    succeeded: Mapped[bool]
    error: Mapped[str] = mapped_column(Text, default="")
    duration_ms: Mapped[int] = mapped_column(default=0)
