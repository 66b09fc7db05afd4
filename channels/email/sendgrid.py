"""SendGrid's v3 Mail Send through the official SDK."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any
from urllib.error import URLError

from python_http_client.exceptions import HTTPError  # type: ignore[import-untyped]
from sendgrid import SendGridAPIClient  # type: ignore[import-untyped]

from channels.core import DeliveryEvent, EventKind, SendResult
from channels.email.message import PreparedEmail
from channels.errors import (
    ChannelError,
    LookupUnavailable,
    TransientChannelError,
    is_transient_status,
    retry_after_seconds,
    was_refused,
)

# The Email Activity API's statuses; any other (`processed`) means SendGrid took the message.
ACTIVITY_KINDS = {"delivered": EventKind.DELIVERED, "not_delivered": EventKind.BOUNCED}

# SendGrid sets these itself (or refuses them as custom headers).
_OWN_HEADERS = {"from", "to", "subject", "reply-to", "date", "message-id"}


def _mailbox(address: str, name: str | None) -> dict[str, str]:
    return {"email": address, "name": name} if name else {"email": address}


def mail_body(prepared: PreparedEmail) -> dict[str, Any]:
    """The JSON body of POST /v3/mail/send for one prepared email."""
    body: dict[str, Any] = {
        "personalizations": [{"to": [_mailbox(prepared.recipient, prepared.recipient_name)]}],
        "from": _mailbox(prepared.from_address, prepared.from_name),
        "subject": prepared.subject,
        "content": [
            {"type": "text/plain", "value": prepared.text},
            {"type": "text/html", "value": prepared.html},
        ],
        "custom_args": {"hcs_reference": prepared.reference},
    }
    extra = {k: v for k, v in prepared.headers if k.lower() not in _OWN_HEADERS}
    if extra:
        body["headers"] = extra
    if prepared.reply_to:
        body["reply_to"] = {"email": prepared.reply_to}
    if prepared.attachments:
        body["attachments"] = [
            {
                "content": base64.b64encode(a.data).decode("ascii"),
                "filename": a.filename,
                "type": a.content_type,
                "disposition": "attachment",
            }
            for a in prepared.attachments
        ]
    return body


def _answered(exc: HTTPError) -> ChannelError:
    """SendGrid's error answer as a channel error; 429 and 503 carry their `Retry-After`."""
    status = int(exc.status_code)
    reason = exc.body.decode("utf-8", "replace") if exc.body else str(exc.reason)
    message = f"SendGrid answered {status}: {reason}"
    if not is_transient_status(status):
        return ChannelError(message, status=status, reason=reason)
    headers = exc.headers or {}
    wait = retry_after_seconds(headers.get("Retry-After")) if status in (429, 503) else None
    return TransientChannelError(message, status=status, reason=reason, retry_after=wait)


class SendGridEmail:
    """Sends through SendGrid; the id is SendGrid's X-Message-Id."""

    name = "sendgrid"

    def __init__(
        self, api_key: str, *, host: str = "https://api.sendgrid.com", timeout: float = 10.0
    ) -> None:
        self.client = SendGridAPIClient(api_key, host=host)
        # The SDK has no timeout by default.
        self.client.client.timeout = timeout

    def send(self, prepared: PreparedEmail) -> SendResult:
        """POST the message to /v3/mail/send."""
        try:
            response = self.client.client.mail.send.post(request_body=mail_body(prepared))
        except HTTPError as exc:
            raise _answered(exc) from exc
        except (URLError, TimeoutError, ConnectionError) as exc:
            # Refused before sending: nothing went out. A timeout may have been a send.
            refused = was_refused(exc)
            what = "unreachable" if refused else "did not answer in time or dropped the connection"
            message = f"SendGrid {what}: {exc}"
            raise TransientChannelError(message, reason=str(exc), refused=refused) from exc
        message_id = response.headers.get("X-Message-Id") or prepared.reference
        return SendResult(self.name, str(message_id), status=int(response.status_code))

    def look_up(
        self, prepared: PreparedEmail, *, provider_message_id: str | None, since: datetime
    ) -> list[DeliveryEvent]:
        """What SendGrid's Email Activity API holds of this message, found by our reference.

        The API is an add-on: without it SendGrid answers 403 (or 404), `LookupUnavailable`.
        """
        query = f"unique_args['hcs_reference']=\"{prepared.reference}\""
        try:
            response = self.client.client.messages.get(query_params={"query": query, "limit": 10})
        except HTTPError as exc:
            if int(exc.status_code) in (401, 403, 404):
                raise LookupUnavailable(
                    f"SendGrid's Email Activity API: {exc.status_code}"
                ) from exc
            raise _answered(exc) from exc
        except (URLError, TimeoutError, ConnectionError) as exc:
            raise TransientChannelError(f"SendGrid lookup failed: {exc}", reason=str(exc)) from exc
        return [_activity_event(found, prepared.reference) for found in _activity(response.body)]


def _activity(body: bytes | str) -> list[dict[str, Any]]:
    """The messages of an Email Activity answer; an answer of another shape holds none."""
    try:
        messages = json.loads(body or b"{}").get("messages") or []
    except (ValueError, AttributeError):
        return []
    return [m for m in messages if isinstance(m, dict)]


def _activity_event(found: dict[str, Any], reference: str) -> DeliveryEvent:
    status = str(found.get("status") or "processed")
    return DeliveryEvent(
        kind=ACTIVITY_KINDS.get(status, EventKind.SENT),
        provider="sendgrid",
        provider_message_id=str(found.get("msg_id") or "") or None,
        recipient=str(found.get("to_email") or "") or None,
        occurred_at=None,
        reason="SendGrid: not delivered" if status == "not_delivered" else None,
        reference=reference,
        data={"status": status, "evidence": "lookup"},
    )
