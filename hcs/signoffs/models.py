"""One sign-off item per message carrying AI text."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from templates_store.orm import Base, utcnow

PENDING, APPROVED, REJECTED, EXPIRED = "pending", "approved", "rejected", "expired"
# Its message was cancelled by its sender: nobody is asked to decide on it any more.
WITHDRAWN = "withdrawn"


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
    # The finding codes (failed checks) a person acknowledged when approving a flagged item.
    acknowledged: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


OPEN, BATCH_APPROVED, REFUSED = "open", "approved", "refused"


class SignoffBatch(Base):
    """A named set of pending items and the sample the server drew from its clean ones."""

    __tablename__ = "signoff_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_key: Mapped[str] = mapped_column(String(100))
    version_number: Mapped[int]
    up_to: Mapped[datetime]
    # The set: every item pending at the draw, clean and flagged; only these are covered.
    item_ids: Mapped[list[int]] = mapped_column(JSON)
    sample_ids: Mapped[list[int]] = mapped_column(JSON)
    # {"standard", "inspection_level", "code", "lot", "sample", "minimum", "acceptance"}
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default=OPEN)
    drawn_by: Mapped[str] = mapped_column(String(254))
    drawn_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(254))
    decided_at: Mapped[datetime | None]
