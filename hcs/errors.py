"""The application's one error tree; not-found, conflict and validation reuse the repository's.

Every error the application raises is defined here (the modules that raise one re-export it).
`hcs.http.error_handlers.STATUS_FOR` gives each its HTTP status; the CLI prints them as one line.
"""

from __future__ import annotations

# Raised at the bottom layer (no upward import there), re-exported as members of the tree.
from hcs.infrastructure.destinations import DestinationRefused, RefusedConnection
from templates_store.errors import (
    Conflict,
    ImmutableVersion,
    InvalidTransition,
    NotFound,
    RenderError,
    SandboxViolation,
    TemplateProblem,
    TemplateStoreError,
    TemplateSyntaxProblem,
    ValidationFailed,
)


class HcsError(Exception):
    """Base of the errors the application itself raises."""


class AuthenticationFailed(HcsError):
    """No credentials, or credentials that do not identify an active user or key (401)."""


class PermissionDenied(HcsError):
    """An identified caller without the role or scope for the action (403)."""


class MissingRole(PermissionDenied):
    """A caller holding none of the roles (a key: not the scope) an action needs (403)."""

    def __init__(self, scope: str, roles: tuple[str, ...]) -> None:
        self.scope = scope
        self.needed = " or ".join(roles) if roles else "a role"
        super().__init__(f"this needs the {scope!r} scope and {self.needed}")


class SeparationOfDuties(PermissionDenied):
    """An approval the four-eyes rule forbids: a version one changed, or a second stage."""

    rule = "SeparationOfDuties"

    def __init__(self, message: str) -> None:
        super().__init__(f"SeparationOfDuties: {message}")


class NotInGroup(PermissionDenied):
    """A reviewer deciding a stage held by a group they do not belong to (403)."""

    rule = "ReviewerGroup"


class SignoffRequired(HcsError):
    """An attempt to finish a message with AI text that no person has signed off (409)."""


class AppendOnlyViolation(HcsError):
    """An attempt to change or delete an entry of a sealed, append-only log (409)."""


class AIUnavailable(HcsError):
    """The model gave no usable answer: unreachable, too slow, refused, or misconfigured (503)."""


class JudgeFailed(AIUnavailable):
    """The semantic judge gave no valid verdict (the guardrails then fail closed)."""


class ArchiveKeyError(HcsError):
    """An archive key that is missing, malformed, or does not open what it should (500)."""


class DispatchUnavailable(HcsError):
    """The worker could not reach the database; the sweep queues the entry again (503)."""


class EntryNotFound(NotFound):
    """No archive entry with that id or message id."""


class DisclosureMissing(Conflict):
    """A message whose AI text would go out without the disclosure on its channel (409)."""


class OnLegalHold(Conflict):
    """An erasure or purge that would touch entries under legal hold."""


class UnreadableEvaluation(HcsError):
    """A labelled file for `hcs ai evaluate` that cannot be read (422)."""


class NoteError(HcsError):
    """A signed note or key that cannot be read, or whose signature does not verify (422)."""


class NoCheckpoint(NotFound):
    """No signed checkpoint yet (no signing key configured, or nothing sealed)."""


class AlreadyArchived(Conflict):
    """A second archive entry for a message that already has one."""


class SendTestFailed(HcsError):
    """The provider refused or did not answer a test send from the editor (502)."""


class CodeRefused(ValidationFailed):
    """A wrong, expired or locked one-time code (422); the try is recorded: commit it."""


class TooSoon(HcsError):
    """A request repeated sooner than its limit allows, e.g. another code to a phone (429)."""


DomainError = (HcsError, TemplateStoreError)

__all__ = [
    "SendTestFailed",
    "AIUnavailable",
    "CodeRefused",
    "TooSoon",
    "AlreadyArchived",
    "AppendOnlyViolation",
    "ArchiveKeyError",
    "AuthenticationFailed",
    "Conflict",
    "DestinationRefused",
    "DispatchUnavailable",
    "DomainError",
    "EntryNotFound",
    "HcsError",
    "JudgeFailed",
    "ImmutableVersion",
    "InvalidTransition",
    "MissingRole",
    "NoCheckpoint",
    "NotFound",
    "NoteError",
    "OnLegalHold",
    "PermissionDenied",
    "RefusedConnection",
    "RenderError",
    "SandboxViolation",
    "NotInGroup",
    "SeparationOfDuties",
    "SignoffRequired",
    "TemplateProblem",
    "TemplateStoreError",
    "TemplateSyntaxProblem",
    "UnreadableEvaluation",
    "ValidationFailed",
]
