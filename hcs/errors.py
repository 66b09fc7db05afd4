"""The application's own errors; not-found, conflict and validation reuse the repository's tree.

`hcs.http.error_handlers` maps all of them to HTTP; the CLI prints them as one line.
"""

from __future__ import annotations

from templates_store.errors import Conflict, NotFound, TemplateStoreError, ValidationFailed


class HcsError(Exception):
    """Base of the errors the application itself raises."""


class AuthenticationFailed(HcsError):
    """No credentials, or credentials that do not identify an active user or key (401)."""


class PermissionDenied(HcsError):
    """An identified caller without the role or scope for the action (403)."""


class SeparationOfDuties(PermissionDenied):
    """An approval the four-eyes rule forbids: one's own version, or a second stage."""


class SignoffRequired(HcsError):
    """An attempt to finish a message with AI text that no person has signed off."""


DomainError = (HcsError, TemplateStoreError)

__all__ = [
    "AuthenticationFailed",
    "Conflict",
    "DomainError",
    "HcsError",
    "NotFound",
    "PermissionDenied",
    "SeparationOfDuties",
    "ValidationFailed",
]
