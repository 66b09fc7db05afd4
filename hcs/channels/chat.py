"""Chat in the registry: a signed webhook, WhatsApp through Twilio, or the outbox."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from channels.chat import (
    CHAT_PROVIDERS,
    ChatChannel,
    ChatContent,
    ChatSettings,
    PreparedChat,
    validate_chat,
)
from channels.core import Category, Issue, SendResult
from hcs.channels.addresses import normal_phone, required
from hcs.channels.entry import Finishing, Outgoing, build_provider
from hcs.infrastructure.config import Settings
from hcs.infrastructure.delivery import ChannelOptions, ProviderConfig
from templates_store.composing import Rendered
from templates_store.models import TemplateVersion

LIMITS = ChatSettings()


def content_of(parts: Mapping[str, Any]) -> ChatContent:
    """The rendered body and quick replies."""
    return ChatContent(parts["body"], tuple(parts.get("quick_replies") or ()))


@dataclass(frozen=True)
class ChatOutlet:
    """Chat through one provider; WhatsApp addresses phone numbers, the others conversations."""

    name: str
    channel: ChatChannel
    content_type: str = "application/json"

    def finish(
        self, session: Session, version: TemplateVersion, message: Outgoing, rendered: Rendered
    ) -> Finishing:
        """The message as the JSON record the archive keeps."""
        prepared = self.channel.prepare(
            content_of(rendered.parts), message.recipient, reference=message.reference
        )
        output = json.dumps(prepared.as_record(), sort_keys=True).encode("utf-8")
        return Finishing(prepared, output)

    def send(self, prepared: PreparedChat) -> SendResult:
        """Hand the message to the provider."""
        return self.channel.send(prepared)


class ChatEntry:
    """The chat channel."""

    name = "chat"
    recipient_field = "chat"
    renders_isolated = False
    displays_html = False

    def options(self, settings: Settings) -> ChannelOptions:
        """`HCS_CHAT_PROVIDER`, `HCS_CHAT_FALLBACK_PROVIDER`."""
        return settings.delivery.chat

    def outlet(self, settings: Settings, provider: str) -> ChatOutlet:
        """Chat through `provider`."""
        delivery = settings.delivery
        configs: dict[str, ProviderConfig] = {
            "outbox": delivery.outbox,
            "webhook": delivery.chat_webhook,
            "twilio": delivery.whatsapp,
        }
        built = build_provider(
            CHAT_PROVIDERS, configs, provider, settings, channel=self.name, title="chat"
        )
        return ChatOutlet(provider, ChatChannel(LIMITS, built))

    def recipient_key(self, to: Mapping[str, Any]) -> str:
        """A conversation id as given, or a WhatsApp number in E.164."""
        value = required(to, "chat", self.name)
        if value.startswith("whatsapp:") or value.startswith("+"):
            return normal_phone(value.removeprefix("whatsapp:"))
        return value.strip()

    def issues(self, category: Category, parts: Mapping[str, Any]) -> list[Issue]:
        """Body length and quick replies."""
        return validate_chat(LIMITS, content_of(parts))

    def preview_extras(self, rendered: Rendered) -> dict[str, Any]:
        """Nothing beyond the parts."""
        return {}

    def render_extras(self, message: Outgoing, settings: Settings) -> dict[str, Any]:
        """No unsubscribe link."""
        return {}
