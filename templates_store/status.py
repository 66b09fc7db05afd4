"""The life of a version: its statuses and the one table of allowed moves."""

from __future__ import annotations

from enum import StrEnum

from templates_store.errors import InvalidTransition


class Status(StrEnum):
    """Where a template, block or theme version stands."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"
    RETIRED = "retired"


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.DRAFT: frozenset({Status.IN_REVIEW}),
    Status.IN_REVIEW: frozenset({Status.APPROVED, Status.REJECTED}),
    Status.APPROVED: frozenset({Status.PUBLISHED, Status.RETIRED}),
    Status.PUBLISHED: frozenset({Status.SUPERSEDED, Status.RETIRED}),
    # Rollback publishes an earlier approved version again.
    Status.SUPERSEDED: frozenset({Status.PUBLISHED, Status.RETIRED}),
    Status.REJECTED: frozenset(),
    Status.RETIRED: frozenset(),
}

# Versions that passed review: the only ones a send may pin.
SENDABLE = frozenset({Status.APPROVED, Status.PUBLISHED, Status.SUPERSEDED})


def check_transition(current: Status, target: Status) -> None:
    """Raise `InvalidTransition` unless the table allows `current` → `target`."""
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(f"a {current.value} version cannot become {target.value}")
