"""WhatsApp through Twilio's Messages API with the official SDK.

Free-form WhatsApp messages carry no buttons (those need pre-approved Content templates), so
quick replies are appended to the body as a numbered list the customer can answer with.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from channels.chat.message import PreparedChat
from channels.core import DeliveryEvent, SendResult
from channels.twilio_client import (
    callback_for,
    create_message,
    look_up_message,
    make_twilio_client,
)


def whatsapp_body(prepared: PreparedChat) -> str:
    """The body as sent, quick replies included."""
    if not prepared.quick_replies:
        return prepared.body
    options = "\n".join(f"{n}. {reply}" for n, reply in enumerate(prepared.quick_replies, 1))
    return f"{prepared.body}\n\n{options}"


class TwilioWhatsApp:
    """Sends WhatsApp messages from a Twilio WhatsApp sender; the id is the message SID."""

    name = "twilio"
    addresses_phones = True

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str,
        status_callback: str | None = None,
        base_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.client = make_twilio_client(
            account_sid, auth_token, base_url=base_url, timeout=timeout
        )
        self.from_number = from_number
        self.status_callback = status_callback

    def send(self, prepared: PreparedChat) -> SendResult:
        """Create the WhatsApp message at Twilio."""
        params: dict[str, Any] = {
            "to": f"whatsapp:{prepared.recipient}",
            "from_": f"whatsapp:{self.from_number}",
            "body": whatsapp_body(prepared),
        }
        if self.status_callback:
            params["status_callback"] = callback_for(self.status_callback, prepared.reference)
        return SendResult(self.name, create_message(self.client, **params))

    def look_up(
        self, prepared: PreparedChat, *, provider_message_id: str | None, since: datetime
    ) -> list[DeliveryEvent]:
        """What Twilio holds of this WhatsApp message: by its SID, else by number and body."""
        return look_up_message(
            self.client,
            sid=provider_message_id,
            to=f"whatsapp:{prepared.recipient}",
            body=whatsapp_body(prepared),
            since=since,
            reference=prepared.reference,
        )
