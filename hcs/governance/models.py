"""Approval decisions and the policies that say which stages each category needs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from templates_store.orm import Base, utcnow

SUBJECTS = ("template", "block", "theme")


class Approval(Base):
    """One stage's decision on one version; a stage is decided once (a unique constraint)."""

    __tablename__ = "approvals"
    # Two reviewers deciding the same stage at once: the database keeps exactly one decision.
    __table_args__ = (UniqueConstraint("subject_type", "subject_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int]
    stage: Mapped[str] = mapped_column(String(50))
    reviewer: Mapped[str] = mapped_column(String(254))
    decision: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # The closure hash this decision was about, kept apart from the version row: a row whose
    # content and stored hash were both rewritten still disagrees with what was approved.
    closure_hash: Mapped[str | None] = mapped_column(String(80))


class ApprovalPolicy(Base):
    """What a category's versions need: ordered stages, checks, re-review period."""

    __tablename__ = "approval_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(20), unique=True)
    # [{"name": "legal", "role": "reviewer"}, ...] in the order they must approve.
    stages: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    review_days: Mapped[int]
    # {check name: "error" | "warning" | "off"}
    checks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    link_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The AI guardrail's forbidden topics for this category; NULL keeps the built-in defaults.
    forbidden_topics: Mapped[list[str] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(254), default="system")


class RedTeamRun(Base):
    """One red-team check of a template version's AI slots: who ran it, on what, each case."""

    __tablename__ = "red_team_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_version_id: Mapped[int] = mapped_column(
        ForeignKey("template_versions.id", ondelete="CASCADE"), index=True
    )
    run_by: Mapped[str] = mapped_column(String(254))
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    provider: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(200), default="")
    judge: Mapped[str] = mapped_column(String(200), default="")
    # "model" when a model wrote the texts; "deterministic" when the offline provider did.
    mode: Mapped[str] = mapped_column(String(16))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    cases: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
