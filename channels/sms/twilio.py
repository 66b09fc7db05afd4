"""SMS through Twilio's Messages API with the official SDK."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from channels.core import DeliveryEvent, SendResult
from channels.errors import ChannelError
from channels.sms.message import PreparedSms
from channels.twilio_client import (
    callback_for,
    create_message,
    look_up_message,
    make_twilio_client,
)


class TwilioSms:
    """Sends from a number or a messaging service; the id is Twilio's message SID."""

    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        status_callback: str | None = None,
        base_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not (from_number or messaging_service_sid):
            raise ChannelError("Twilio SMS needs a from number or a messaging service SID")
        self.client = make_twilio_client(
            account_sid, auth_token, base_url=base_url, timeout=timeout
        )
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.status_callback = status_callback

    def send(self, prepared: PreparedSms) -> SendResult:
        """Create the message at Twilio."""
        params: dict[str, Any] = {"to": prepared.recipient, "body": prepared.body}
        if self.messaging_service_sid:
            params["messaging_service_sid"] = self.messaging_service_sid
        else:
            params["from_"] = self.from_number
        if self.status_callback:
            params["status_callback"] = callback_for(self.status_callback, prepared.reference)
        return SendResult(self.name, create_message(self.client, **params))

    def look_up(
        self, prepared: PreparedSms, *, provider_message_id: str | None, since: datetime
    ) -> list[DeliveryEvent]:
        """What Twilio holds of this SMS: by its SID, else by number and exact body."""
        return look_up_message(
            self.client,
            sid=provider_message_id,
            to=prepared.recipient,
            body=prepared.body,
            since=since,
            reference=prepared.reference,
        )
