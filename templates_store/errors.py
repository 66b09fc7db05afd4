"""The template repository's exception tree; `hcs.errors` maps it to HTTP."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class TemplateStoreError(Exception):
    """Base of every error the template repository raises."""


class NotFound(TemplateStoreError):
    """A template, version, block or theme that does not exist."""


class Conflict(TemplateStoreError):
    """A request that contradicts the current state (a duplicate key, a wrong status)."""


class ImmutableVersion(Conflict):
    """A change to a version (or block or theme version) that is no longer a draft."""


class InvalidTransition(Conflict):
    """A status move the state table does not allow."""


class ValidationFailed(TemplateStoreError):
    """Input that breaks a rule; `errors` maps each field to its messages."""

    def __init__(self, errors: Mapping[str, Sequence[str]]) -> None:
        self.errors = {field: list(messages) for field, messages in errors.items()}
        first = next(iter(self.errors.items()), ("", [""]))
        super().__init__(f"{first[0]}: {first[1][0]}" if first[0] else "invalid input")


class TemplateProblem(TemplateStoreError):
    """A template part that cannot be compiled or rendered; names the part, line and cause."""

    #: a machine-readable reason for the answer, where one is defined
    reason: str | None = None

    def __init__(self, part: str, cause: str, line: int | None = None) -> None:
        self.part = part
        self.cause = cause
        self.line = line
        where = f"{part}, line {line}" if line else part
        super().__init__(f"{where}: {cause}")


class TemplateSyntaxProblem(TemplateProblem):
    """A part whose source is not valid template syntax (caught at save time)."""


class RenderError(TemplateProblem):
    """A part that failed while rendering: an undefined name, a refused operation, a limit."""


class SandboxViolation(RenderError):
    """A template that tried something the sandbox refuses (unsafe attribute, unbounded cost)."""


class RenderTimeout(RenderError):
    """A render that ran past its wall-clock deadline (its child process was killed)."""

    reason = "render_timeout"


class RenderLimit(RenderError):
    """A render that exhausted its memory or CPU allowance, or crashed its child process."""

    reason = "render_limit"
