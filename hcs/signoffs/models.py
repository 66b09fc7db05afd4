"""One sign-off item per message carrying AI text."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from templates_store.orm import Base, utcnow

PENDING, APPROVED, REJECTED, EXPIRED = "pending", "approved", "rejected", "expired"


class SignoffItem(Base):
    """The AI text of one message, what it saw, what the guardrails found, and the decision."""

    __tablename__ = "signoffs"
    __table_args__ = (Index("ix_signoffs_queue", "status", "template_key", "version_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), unique=True)
    template_key: Mapped[str] = mapped_column(String(100))
    version_number: Mapped[int]
    status: Mapped[str] = mapped_column(String(12), default=PENDING)
    # {slot name: {"text", "generated", "used_fallback", "inputs": {name: digest}, "findings",
    #              "provider", "model", "parameters", "prompt_digest", "raw", "latency_ms"}}
    slots: Mapped[dict[str, Any]] = mapped_column(JSON)
    is_flagged: Mapped[bool] = mapped_column(default=False)
    edits: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    decided_by: Mapped[str | None] = mapped_column(String(254))
    decided_at: Mapped[datetime | None]
    comment: Mapped[str] = mapped_column(Text, default="")
    batch: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
