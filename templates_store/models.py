"""Templates, content blocks and brand themes, each with numbered, immutable versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from templates_store.orm import Base, utcnow
from templates_store.status import Status, check_transition

CATEGORIES = ("transactional", "service", "marketing", "sensitive")
CHANNELS = ("email", "sms", "chat", "letter")

StatusType = Enum(
    Status, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]
)


class VersionMixin:
    """Number, status, author and timestamps shared by every versioned thing."""

    # Columns that may never change once the version has left draft.
    content_fields: ClassVar[tuple[str, ...]] = ()

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int]
    status: Mapped[Status] = mapped_column(StatusType, default=Status.DRAFT)
    author: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]
    # Everyone who changed the version (its creator, each editor, its submitter), in order.
    contributors: Mapped[list[str]] = mapped_column(JSON, default=list)

    @property
    def changed_by(self) -> list[str]:
        """The author and every contributor, each once, in the order they came."""
        seen: dict[str, None] = {self.author: None}
        seen.update(dict.fromkeys(self.contributors or []))
        return list(seen)

    def add_contributor(self, who: str) -> None:
        """Record that `who` changed (or submitted) this version."""
        self.contributors = list(dict.fromkeys([*self.changed_by, who]))

    @property
    def is_frozen(self) -> bool:
        """Whether the version has been submitted and can no longer change."""
        return self.status is not Status.DRAFT

    def move_to(self, target: Status) -> None:
        """Change status along the state table, stamping submission."""
        check_transition(self.status, target)
        if target is Status.IN_REVIEW:
            self.submitted_at = utcnow()
        self.status = target

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Any, ...]:
        owner = cls.owner_column  # type: ignore[attr-defined]
        return (
            UniqueConstraint(owner, "number"),
            # At most one published version per owner: the one that sends.
            Index(
                f"uq_{cls.__tablename__}_published",  # type: ignore[attr-defined]
                owner,
                unique=True,
                sqlite_where=Status.PUBLISHED.value == cls.status,
                postgresql_where=Status.PUBLISHED.value == cls.status,
            ),
        )


class Template(Base):
    """A message template: a stable key and the channels it serves."""

    __tablename__ = "templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(20))
    channels: Mapped[list[str]] = mapped_column(JSON)
    default_locale: Mapped[str] = mapped_column(String(20), default="en")
    owner_team: Mapped[str] = mapped_column(String(100), default="")
    theme_key: Mapped[str] = mapped_column(String(100), default="default")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]

    versions: Mapped[list[TemplateVersion]] = relationship(
        back_populates="template", order_by="TemplateVersion.number"
    )


class TemplateVersion(VersionMixin, Base):
    """One numbered version of a template: its parts per channel and locale, schema and slots."""

    __tablename__ = "template_versions"
    owner_column = "template_id"
    content_fields = (
        "number",
        "template_id",
        "author",
        "parts",
        "variables",
        "sample_data",
        "ai_slots",
        "translation_sources",
        "closure",
        "closure_hash",
        "based_on",
    )

    template_id: Mapped[int] = mapped_column(ForeignKey("templates.id", ondelete="CASCADE"))
    based_on: Mapped[int | None]
    parts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    variables: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    sample_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ai_slots: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # For each translated part, the hash of the default-locale source it was translated from.
    translation_sources: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    closure: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    closure_hash: Mapped[str | None] = mapped_column(String(80))
    # Set by publishing; the version must be reviewed again by `review_due_at`.
    published_at: Mapped[datetime | None]
    review_due_at: Mapped[datetime | None]
    # A recall: while set, the version sends nothing and its unsent messages are held.
    suspended_at: Mapped[datetime | None]

    template: Mapped[Template] = relationship(back_populates="versions")


class ContentBlock(Base):
    """A reusable piece of content (footer, disclaimer, brand header) included by key."""

    __tablename__ = "content_blocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[BlockVersion]] = relationship(
        back_populates="block", order_by="BlockVersion.number"
    )


class BlockVersion(VersionMixin, Base):
    """One version of a block: `{"html": {locale: source}, "text": {locale: source}}`."""

    __tablename__ = "block_versions"
    owner_column = "block_id"
    content_fields = ("number", "block_id", "author", "content", "closure_hash")

    block_id: Mapped[int] = mapped_column(ForeignKey("content_blocks.id", ondelete="CASCADE"))
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Set at submission: the hash of exactly this content, which the reviewers approve.
    closure_hash: Mapped[str | None] = mapped_column(String(80))

    block: Mapped[ContentBlock] = relationship(back_populates="versions")


class Theme(Base):
    """A brand theme: colours, fonts, logo and sender identity every channel may use."""

    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[ThemeVersion]] = relationship(
        back_populates="theme", order_by="ThemeVersion.number"
    )


class ThemeVersion(VersionMixin, Base):
    """One version of a theme: `settings` (colours, fonts, names) and `assets` (base64 files)."""

    __tablename__ = "theme_versions"
    owner_column = "theme_id"
    content_fields = ("number", "theme_id", "author", "settings", "assets", "closure_hash")

    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id", ondelete="CASCADE"))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    assets: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Set at submission: the hash of exactly these settings and files.
    closure_hash: Mapped[str | None] = mapped_column(String(80))

    theme: Mapped[Theme] = relationship(back_populates="versions")


from templates_store import guard as _guard  # noqa: E402, F401  (registers the guard)
