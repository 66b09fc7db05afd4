"""SMS: E.164 numbers, GSM-7/UCS-2 segment analysis, sending through outbox or Twilio."""

from __future__ import annotations

from typing import Protocol

from channels.core import Category, Issue, Preview, SendResult
from channels.sms.message import PreparedSms, SmsContent, SmsSettings, prepare_sms, validate_sms
from channels.sms.numbers import normalise_phone
from channels.sms.outbox import OutboxSms
from channels.sms.segments import Encoding, GsmSafe, SmsAnalysis, analyse_sms, gsm_safe
from channels.sms.twilio import TwilioSms

__all__ = [
    "SMS_PROVIDERS",
    "Encoding",
    "GsmSafe",
    "PreparedSms",
    "SmsAnalysis",
    "SmsChannel",
    "SmsContent",
    "SmsProvider",
    "SmsSettings",
    "analyse_sms",
    "gsm_safe",
    "normalise_phone",
    "validate_sms",
]


class SmsProvider(Protocol):
    """Something that delivers a prepared SMS."""

    name: str

    def send(self, prepared: PreparedSms) -> SendResult:
        """Deliver one message."""
        ...


SMS_PROVIDERS: dict[str, type[SmsProvider]] = {"outbox": OutboxSms, "twilio": TwilioSms}


class SmsChannel:
    """The SMS channel: settings plus one provider."""

    def __init__(self, settings: SmsSettings, provider: SmsProvider) -> None:
        self.settings = settings
        self.provider = provider

    def prepare(
        self,
        content: SmsContent,
        recipient: str,
        *,
        reference: str,
        max_segments: int | None = None,
    ) -> PreparedSms:
        """Normalise the number and analyse the body (pure)."""
        return prepare_sms(
            self.settings, content, recipient, reference=reference, max_segments=max_segments
        )

    def validate(
        self, content: SmsContent, category: Category, max_segments: int | None = None
    ) -> list[Issue]:
        """Warnings and errors for preview."""
        return validate_sms(self.settings, content, category, max_segments)

    def analyse(self, content: SmsContent) -> SmsAnalysis:
        """Encoding, segments and the characters that forced UCS-2, for preview."""
        return analyse_sms(content.body)

    def preview(
        self, content: SmsContent, category: Category, max_segments: int | None = None
    ) -> Preview:
        """The body with its encoding, segment count and UCS-2 culprits, and the issues."""
        analysis = analyse_sms(content.body)
        output = {
            "body": content.body,
            "encoding": str(analysis.encoding),
            "segments": analysis.segments,
            "characters": analysis.characters,
            "units": analysis.units,
            "per_segment": analysis.per_segment,
            "ucs2_characters": list(analysis.ucs2_characters),
        }
        return Preview(output, tuple(self.validate(content, category, max_segments)))

    def send(self, prepared: PreparedSms) -> SendResult:
        """Deliver through the configured provider."""
        return self.provider.send(prepared)
