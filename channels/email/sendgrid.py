"""SendGrid's v3 Mail Send through the official SDK."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Sequence
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
    wait_asked,
    was_refused,
)

# The Email Activity API's statuses; any other (`processed`) means SendGrid took the message.
ACTIVITY_KINDS = {"delivered": EventKind.DELIVERED, "not_delivered": EventKind.BOUNCED}

# SendGrid sets these itself (or refuses them as custom headers).
_OWN_HEADERS = {"from", "to", "subject", "reply-to", "date", "message-id"}
# SendGrid's limits on one Mail Send request: 1,000 personalizations, and at most 10,000 bytes
# of substitutions in each (a larger email goes in a call of its own).
MAX_PERSONALIZATIONS = 1000
MAX_SUBSTITUTION_BYTES = 10_000


def _mailbox(address: str, name: str | None) -> dict[str, str]:
    return {"email": address, "name": name} if name else {"email": address}


def _extra_headers(prepared: PreparedEmail) -> dict[str, str]:
    return {k: v for k, v in prepared.headers if k.lower() not in _OWN_HEADERS}


def _sender(prepared: PreparedEmail) -> dict[str, Any]:
    """The parts of a request every message of it shares: the sender and reply address."""
    shared: dict[str, Any] = {"from": _mailbox(prepared.from_address, prepared.from_name)}
    if prepared.reply_to:
        shared["reply_to"] = {"email": prepared.reply_to}
    return shared


def mail_body(prepared: PreparedEmail) -> dict[str, Any]:
    """The JSON body of POST /v3/mail/send for one prepared email."""
    body: dict[str, Any] = {
        "personalizations": [{"to": [_mailbox(prepared.recipient, prepared.recipient_name)]}],
        **_sender(prepared),
        "subject": prepared.subject,
        "content": [
            {"type": "text/plain", "value": prepared.text},
            {"type": "text/html", "value": prepared.html},
        ],
        "custom_args": {"hcs_reference": prepared.reference},
    }
    if extra := _extra_headers(prepared):
        body["headers"] = extra
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


def _tags(nonce: str) -> tuple[str, str]:
    return f"[hcs-{nonce}-text]", f"[hcs-{nonce}-html]"


def fits_a_batch(prepared: PreparedEmail) -> bool:
    """Whether the email's text and HTML fit one personalization's substitutions."""
    text, html = _tags("0" * 32)
    size = sum(len(part.encode()) for part in (text, html, prepared.text, prepared.html))
    return size <= MAX_SUBSTITUTION_BYTES


def batch_body(batch: Sequence[PreparedEmail], nonce: str) -> dict[str, Any]:
    """One request for several emails of one sender: a personalization each.

    Each email's exact text and HTML travel as substitutions of two tags that make up the
    request's content, named with a nonce of this call so no content can contain them.
    """
    text_tag, html_tag = _tags(nonce)
    personalizations = []
    for prepared in batch:
        one: dict[str, Any] = {
            "to": [_mailbox(prepared.recipient, prepared.recipient_name)],
            "subject": prepared.subject,
            "substitutions": {text_tag: prepared.text, html_tag: prepared.html},
            "custom_args": {"hcs_reference": prepared.reference},
        }
        if extra := _extra_headers(prepared):
            one["headers"] = extra
        personalizations.append(one)
    return {
        "personalizations": personalizations,
        **_sender(batch[0]),
        "content": [
            {"type": "text/plain", "value": text_tag},
            {"type": "text/html", "value": html_tag},
        ],
    }


def _answered(exc: HTTPError) -> ChannelError:
    """SendGrid's error answer as a channel error; 429 and 503 carry the wait they asked for
    (`Retry-After`, else `X-RateLimit-Reset`, the moment SendGrid's rate limit resets)."""
    status = int(exc.status_code)
    reason = exc.body.decode("utf-8", "replace") if exc.body else str(exc.reason)
    message = f"SendGrid answered {status}: {reason}"
    if not is_transient_status(status):
        return ChannelError(message, status=status, reason=reason)
    headers = exc.headers or {}
    wait = wait_asked(headers) if status in (429, 503) else None
    return TransientChannelError(message, status=status, reason=reason, retry_after=wait)


class SendGridEmail:
    """Sends through SendGrid; the id is SendGrid's X-Message-Id."""

    name = "sendgrid"
    batch_size = MAX_PERSONALIZATIONS

    def __init__(
        self, api_key: str, *, host: str = "https://api.sendgrid.com", timeout: float = 10.0
    ) -> None:
        self.client = SendGridAPIClient(api_key, host=host)
        # The SDK has no timeout by default.
        self.client.client.timeout = timeout

    def send(self, prepared: PreparedEmail) -> SendResult:
        """POST the message to /v3/mail/send."""
        response = self._post(mail_body(prepared))
        message_id = response.headers.get("X-Message-Id") or prepared.reference
        return SendResult(self.name, str(message_id), status=int(response.status_code))

    def batch_key(self, prepared: PreparedEmail) -> object | None:
        """Emails of one sender share a call, when they fit a personalization (and carry no
        attachment: attachments belong to a whole request)."""
        if prepared.attachments or not fits_a_batch(prepared):
            return None
        return (prepared.from_address, prepared.from_name, prepared.reply_to)

    def send_many(self, prepared: Sequence[PreparedEmail]) -> list[SendResult]:
        """POST several emails of one sender in one request (one personalization each).

        SendGrid's X-Message-Id names the request; its events name each message by the
        `hcs_reference` custom argument.
        """
        if len(prepared) == 1:
            return [self.send(prepared[0])]
        if len(prepared) > MAX_PERSONALIZATIONS or len({self.batch_key(p) for p in prepared}) > 1:
            raise ValueError("one SendGrid call takes up to 1,000 emails of one sender")
        response = self._post(batch_body(prepared, secrets.token_hex(16)))
        request_id = str(response.headers.get("X-Message-Id") or "")
        status = int(response.status_code)
        return [SendResult(self.name, request_id or p.reference, status=status) for p in prepared]

    def _post(self, body: dict[str, Any]) -> Any:
        try:
            return self.client.client.mail.send.post(request_body=body)
        except HTTPError as exc:
            raise _answered(exc) from exc
        except (URLError, TimeoutError, ConnectionError) as exc:
            # Refused before sending: nothing went out. A timeout may have been a send.
            refused = was_refused(exc)
            what = "unreachable" if refused else "did not answer in time or dropped the connection"
            message = f"SendGrid {what}: {exc}"
            raise TransientChannelError(message, reason=str(exc), refused=refused) from exc

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
