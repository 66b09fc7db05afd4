"""Chat: a signed JSON webhook to the company's chat platform, or WhatsApp through Twilio."""

from __future__ import annotations

from typing import Protocol

from channels.chat.message import (
    ChatContent,
    ChatSettings,
    PreparedChat,
    prepare_chat,
    validate_chat,
)
from channels.chat.outbox import OutboxChat
from channels.chat.signing import verify_chat_signature
from channels.chat.twilio import TwilioWhatsApp
from channels.chat.webhook import WebhookChat
from channels.core import Issue, Preview, SendResult

__all__ = [
    "CHAT_PROVIDERS",
    "ChatChannel",
    "ChatContent",
    "ChatProvider",
    "ChatSettings",
    "PreparedChat",
    "validate_chat",
    "verify_chat_signature",
]


class ChatProvider(Protocol):
    """Something that delivers a prepared chat message."""

    name: str
    addresses_phones: bool

    def send(self, prepared: PreparedChat) -> SendResult:
        """Deliver one message."""
        ...


CHAT_PROVIDERS: dict[str, type[ChatProvider]] = {
    "outbox": OutboxChat,
    "webhook": WebhookChat,
    "twilio": TwilioWhatsApp,
}


class ChatChannel:
    """The chat channel: settings plus one provider."""

    def __init__(self, settings: ChatSettings, provider: ChatProvider) -> None:
        self.settings = settings
        self.provider = provider

    def prepare(self, content: ChatContent, recipient: str, *, reference: str) -> PreparedChat:
        """Check the message and address it as the provider needs (pure)."""
        return prepare_chat(
            self.settings,
            content,
            recipient,
            reference=reference,
            phone=self.provider.addresses_phones,
        )

    def validate(self, content: ChatContent) -> list[Issue]:
        """Warnings and errors for preview."""
        return validate_chat(self.settings, content)

    def preview(self, content: ChatContent) -> Preview:
        """The body and quick replies, with the issues."""
        output = {"body": content.body, "quick_replies": list(content.quick_replies)}
        return Preview(output, tuple(self.validate(content)))

    def send(self, prepared: PreparedChat) -> SendResult:
        """Deliver through the configured provider."""
        return self.provider.send(prepared)
