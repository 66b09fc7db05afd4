"""The providers each channel sends through, built once from the settings through the registry.

Switching to SMTP, SendGrid, Twilio or a chat webhook is configuration: the `HCS_*_PROVIDER`
variables and each provider's own settings (`hcs.infrastructure.delivery`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from hcs.ai.providers import AIProvider
from hcs.ai.providers import build_provider as build_ai_provider
from hcs.channels.entry import Outlet
from hcs.channels.registry import CHANNELS
from hcs.infrastructure.config import Settings


@dataclass(frozen=True)
class Providers:
    """Each channel's outlet (its configured provider), the secondaries, and the AI personalizer."""

    settings: Settings
    outlets: Mapping[str, Outlet]
    # The secondary per channel (`HCS_<CHANNEL>_FALLBACK_PROVIDER`), by channel.
    fallbacks: Mapping[str, Outlet] = field(default_factory=dict)
    failover_after: int = 3
    # The AI personalizer for template versions with AI slots (`HCS_AI_PROVIDER`).
    ai: AIProvider | None = None

    def outlet(self, channel: str) -> Outlet:
        """The channel with the provider it sends through."""
        return self.outlets[channel]

    def name(self, channel: str) -> str:
        """The name of the provider a channel sends through."""
        return self.outlets[channel].name

    def for_attempt(self, channel: str, refusals: int) -> Providers:
        """These providers, or with the channel's secondary once the primary refused this often.

        Only definite refusals count (a 4xx other than 408/429, a refused connection): a timeout
        or a 5xx may have been a send, and a second provider would make it two.
        """
        if channel not in self.fallbacks or refusals < self.failover_after:
            return self
        return replace(self, outlets={**self.outlets, channel: self.fallbacks[channel]})

    def as_sent(self, channel: str, name: str | None) -> Providers:
        """These providers, or with the channel's secondary when `name` (the sender) is it."""
        secondary = self.fallbacks.get(channel)
        if secondary is None or name == self.name(channel) or name != secondary.name:
            return self
        return self.for_attempt(channel, self.failover_after)


def build_providers(settings: Settings) -> Providers:
    """Every channel's provider from the settings; raises ChannelError for an unknown one."""
    outlets, fallbacks = {}, {}
    for name, entry in CHANNELS.items():
        options = entry.options(settings)
        outlets[name] = entry.outlet(settings, options.provider)
        if options.fallback:
            fallbacks[name] = entry.outlet(settings, options.fallback)
    return Providers(
        settings=settings,
        outlets=outlets,
        fallbacks=fallbacks,
        failover_after=settings.delivery.failover_after,
        ai=build_ai_provider(settings),
    )
