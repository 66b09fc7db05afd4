"""What a phone's one-time code is sent through and keyed with, from the settings."""

from __future__ import annotations

import hashlib

from channels.core import SendResult
from channels.errors import ChannelError
from hcs.channels.sms import text_sender
from hcs.errors import SendTestFailed
from hcs.identity.phones import CodeSender
from hcs.infrastructure.config import Settings


def code_secret(settings: Settings) -> bytes:
    """The key codes are hashed under, derived from the secret key."""
    return hashlib.sha256(b"hcs-phone-code\0" + settings.secret_key.encode()).digest()


def code_sender(settings: Settings) -> CodeSender:
    """Codes through the configured SMS provider; its refusal becomes SendTestFailed (502)."""
    outlet = text_sender(settings)

    def send(phone: str, text: str, reference: str) -> SendResult:
        try:
            return outlet.send_text(phone, text, reference)
        except ChannelError as exc:
            raise SendTestFailed(f"{outlet.name} did not take the code: {exc}") from exc

    return send
