"""What the application asks of a channel: one registry entry per channel, one outlet per provider.

An entry (`ChannelEntry`) holds what needs no configuration: the recipient's field and its key,
the issues and extras of a preview, the extras a message renders with. `entry.outlet(settings,
name)` builds the provider `name` from the channel's provider registry once, with its settings
object; the outlet (`Outlet`) finishes messages into their exact output and sends them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from channels.core import Category, Issue, SendResult
from channels.errors import ChannelError
from hcs.infrastructure.config import Settings
from hcs.infrastructure.delivery import ChannelOptions, NoSettings, ProviderConfig
from hcs.infrastructure.environment import missing
from templates_store.composing import Rendered
from templates_store.models import TemplateVersion

P = TypeVar("P")


@dataclass(frozen=True)
class Outgoing:
    """One message as its channel sees it."""

    reference: str
    recipient: str
    to: Mapping[str, Any]
    category: str
    created_at: datetime
    # The finishing rules to reproduce (an archived output finished again); None: the current.
    finishing: int | None = None


@dataclass(frozen=True)
class Finishing:
    """What an outlet made of a message: the channel's prepared object and its exact bytes."""

    prepared: object
    output: bytes


class Outlet(Protocol):
    """A channel with one configured provider, built once per process."""

    @property
    def name(self) -> str:
        """The provider's name (`outbox`, `smtp`, `twilio`, ...)."""
        ...

    @property
    def content_type(self) -> str:
        """The media type of the exact output (what the archive stores)."""
        ...

    def finish(
        self, session: Session, version: TemplateVersion, message: Outgoing, rendered: Rendered
    ) -> Finishing:
        """The message's exact output; raises ChannelError when it cannot be made."""
        ...

    def send(self, prepared: Any) -> SendResult:
        """Hand a prepared message to the provider."""
        ...


class ChannelEntry(Protocol):
    """One channel in the registry."""

    @property
    def name(self) -> str:
        """The channel's name in templates, messages and settings."""
        ...

    @property
    def recipient_field(self) -> str:
        """The field of a message's `to` that holds its address."""
        ...

    @property
    def renders_isolated(self) -> bool:
        """Whether its messages render in the pool of child processes (slow layouts: letters)."""
        ...

    @property
    def displays_html(self) -> bool:
        """Whether the recipient's own software displays its HTML (so no active content in it)."""
        ...

    def options(self, settings: Settings) -> ChannelOptions:
        """The channel's settings: its provider, its secondary."""
        ...

    def outlet(self, settings: Settings, provider: str) -> Outlet:
        """The channel sending through the provider named `provider`, built now."""
        ...

    def recipient_key(self, to: Mapping[str, Any]) -> str:
        """The address, normalised; raises ValidationFailed naming the `to` field."""
        ...

    def issues(self, category: Category, parts: Mapping[str, Any]) -> list[Issue]:
        """What an author is warned of in a preview of rendered parts."""
        ...

    def preview_extras(self, rendered: Rendered) -> dict[str, Any]:
        """What a preview shows over the rendered parts (e.g. SMS segments)."""
        ...

    def render_extras(self, message: Outgoing, settings: Settings) -> dict[str, Any]:
        """Variables a message of this channel renders with (e.g. its unsubscribe link)."""
        ...


def build_provider(
    registry: Mapping[str, type[P]],
    configs: Mapping[str, ProviderConfig],
    name: str,
    settings: Settings,
    *,
    channel: str,
    title: str,
) -> P:
    """The provider `name` of a channel's registry, built with its settings object's arguments."""
    if name not in registry:
        raise ChannelError(f"unknown {title} provider {name!r}")
    more = settings.delivery.more.get(channel, {})
    config = more.get(name) or configs.get(name) or NoSettings()
    if absent := missing(config):
        raise ChannelError(f"the {name} {title} provider needs {', '.join(absent)}")
    return registry[name](**config.arguments(settings))
