"""Chat finishing and validation (pure): a body and optional quick replies."""

from __future__ import annotations

from dataclasses import dataclass

from channels.core import Issue, error, warning
from channels.errors import InvalidContent, InvalidRecipient
from channels.invisible import strip_invisible
from channels.sms.numbers import normalise_phone


@dataclass(frozen=True)
class ChatContent:
    """The rendered chat message."""

    body: str
    quick_replies: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChatSettings:
    """Limits for chat messages (WhatsApp allows 4,096 characters and 3 reply buttons)."""

    max_body_chars: int = 4096
    max_quick_replies: int = 10
    max_quick_reply_chars: int = 20
    default_region: str | None = None


@dataclass(frozen=True)
class PreparedChat:
    """Exactly what will be sent: the conversation (or E.164 number), body and quick replies."""

    reference: str
    recipient: str
    body: str
    quick_replies: tuple[str, ...] = ()

    def as_record(self) -> dict[str, object]:
        """A JSON-ready record of exactly what is sent, for the outbox and the archive."""
        return {
            "reference": self.reference,
            "to": self.recipient,
            "body": self.body,
            "quick_replies": list(self.quick_replies),
        }


def validate_chat(settings: ChatSettings, content: ChatContent) -> list[Issue]:
    """Warnings and errors for a chat message."""
    issues: list[Issue] = []
    if not content.body.strip():
        issues.append(error("empty_body", "the message is empty", "body"))
    if len(content.body) > settings.max_body_chars:
        message = f"{len(content.body)} characters; at most {settings.max_body_chars}"
        issues.append(error("body_too_long", message, "body"))
    if len(content.quick_replies) > settings.max_quick_replies:
        count, limit = len(content.quick_replies), settings.max_quick_replies
        message = f"{count} quick replies; at most {limit}"
        issues.append(error("too_many_quick_replies", message, "quick_replies"))
    for reply in content.quick_replies:
        if not reply.strip():
            issues.append(error("empty_quick_reply", "a quick reply is empty", "quick_replies"))
        elif len(reply) > settings.max_quick_reply_chars:
            message = f"quick reply {reply!r} is over {settings.max_quick_reply_chars} characters"
            issues.append(warning("quick_reply_too_long", message, "quick_replies"))
    return issues


def prepare_chat(
    settings: ChatSettings,
    content: ChatContent,
    recipient: str,
    *,
    reference: str,
    phone: bool = False,
) -> PreparedChat:
    """Check the message and the recipient (a phone number in E.164 when `phone`)."""
    # bidi controls and zero-width text never go out
    replies = tuple(strip_invisible(reply) for reply in content.quick_replies)
    content = ChatContent(strip_invisible(content.body), replies)
    blocking = [issue for issue in validate_chat(settings, content) if issue.level == "error"]
    if blocking:
        raise InvalidContent("; ".join(issue.message for issue in blocking))
    if phone:
        recipient = normalise_phone(recipient, settings.default_region)
    elif not recipient.strip() or any(ord(c) < 32 for c in recipient):
        raise InvalidRecipient(f"not a conversation id: {recipient!r}")
    return PreparedChat(reference, recipient, content.body, tuple(content.quick_replies))
