"""SMS in the registry: Twilio or the outbox; E.164 numbers and segment counts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from channels.core import Category, Issue, SendResult
from channels.sms import (
    SMS_PROVIDERS,
    PreparedSms,
    SmsChannel,
    SmsContent,
    SmsSettings,
    analyse_sms,
    gsm_safe,
    validate_sms,
)
from hcs.channels.addresses import normal_phone, required
from hcs.channels.entry import Finishing, Outgoing, build_provider
from hcs.infrastructure.config import Settings
from hcs.infrastructure.delivery import ProviderConfig, SmsOptions
from templates_store.composing import Rendered
from templates_store.models import TemplateVersion

# Previews check the author's content against the default limits.
PREVIEW_SETTINGS = SmsSettings()


@dataclass(frozen=True)
class SmsOutlet:
    """SMS through one provider."""

    name: str
    channel: SmsChannel
    content_type: str = "text/plain; charset=utf-8"

    def finish(
        self, session: Session, version: TemplateVersion, message: Outgoing, rendered: Rendered
    ) -> Finishing:
        """The number in E.164 and the body, checked against the segment limit."""
        content = SmsContent(rendered.parts["body"])
        prepared = self.channel.prepare(content, message.recipient, reference=message.reference)
        return Finishing(prepared, prepared.body.encode("utf-8"))

    def send(self, prepared: PreparedSms) -> SendResult:
        """Hand the SMS to the provider."""
        return self.channel.send(prepared)

    def send_text(self, phone: str, text: str, reference: str) -> SendResult:
        """Send one platform text (not a template's), such as a one-time code, to `phone`."""
        prepared = self.channel.prepare(SmsContent(text), phone, reference=reference)
        return self.channel.send(prepared)


def text_sender(settings: Settings) -> SmsOutlet:
    """The configured SMS provider (`HCS_SMS_PROVIDER`), for the platform's own texts."""
    return SmsEntry().outlet(settings, settings.delivery.sms.provider)


class SmsEntry:
    """The SMS channel."""

    name = "sms"
    recipient_field = "phone"
    renders_isolated = False
    displays_html = False

    def options(self, settings: Settings) -> SmsOptions:
        """`HCS_SMS_PROVIDER`, `HCS_SMS_FALLBACK_PROVIDER`, `HCS_SMS_REGION`."""
        return settings.delivery.sms

    def outlet(self, settings: Settings, provider: str) -> SmsOutlet:
        """SMS through `provider`, numbers without a country code read in the configured region."""
        configs: dict[str, ProviderConfig] = {
            "outbox": settings.delivery.outbox,
            "twilio": settings.delivery.twilio,
        }
        built = build_provider(
            SMS_PROVIDERS, configs, provider, settings, channel=self.name, title="SMS"
        )
        sms = SmsSettings(default_region=settings.delivery.sms.region)
        return SmsOutlet(provider, SmsChannel(sms, built))

    def recipient_key(self, to: Mapping[str, Any]) -> str:
        """The number in E.164."""
        return normal_phone(required(to, "phone", self.name))

    def issues(self, category: Category, parts: Mapping[str, Any]) -> list[Issue]:
        """Segments, UCS-2 and opt-out wording."""
        return validate_sms(PREVIEW_SETTINGS, SmsContent(parts["body"]), category)

    def preview_extras(self, rendered: Rendered) -> dict[str, Any]:
        """The body as a send sends it, its encoding, segments and what forced UCS-2."""
        # Typography with a GSM-7 equivalent is replaced before counting and sending.
        safe = gsm_safe(rendered.unmarked["body"])
        analysis = analyse_sms(safe.text)
        return {
            "body": gsm_safe(rendered.parts["body"]).text,
            "gsm_substitutions": [f"U+{ord(c):04X}" for c in safe.replaced],
            "encoding": analysis.encoding.value,
            "segments": analysis.segments,
            "ucs2_characters": list(analysis.ucs2_characters),
        }

    def render_extras(self, message: Outgoing, settings: Settings) -> dict[str, Any]:
        """No unsubscribe link: replying STOP opts out."""
        return {}
