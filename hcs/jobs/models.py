"""One row per job: long work started from a page and run in the background."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from templates_store.orm import Base, utcnow

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"


class Job(Base):
    """Who started what, how far it got (`done` of `total`), and how it ended."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "import", "export", "signoff_batch" or "red_team".
    kind: Mapped[str] = mapped_column(String(30))
    owner: Mapped[str] = mapped_column(String(254), index=True)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(12), default=QUEUED)
    # What it is doing now, e.g. "Checking files".
    step: Mapped[str] = mapped_column(String(100), default="")
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    # A file the job made (an export's zip), downloaded by its owner; read only when asked for.
    output: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    output_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    @property
    def is_finished(self) -> bool:
        """Succeeded or failed: nothing more will happen to it."""
        return self.status in (SUCCEEDED, FAILED)

    @property
    def percent(self) -> int:
        """How far it got, 0 to 100."""
        if self.status == SUCCEEDED:
            return 100
        return min(100, self.done * 100 // self.total) if self.total else 0
