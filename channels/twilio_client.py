"""A Twilio SDK client built from settings, with an optional base URL (for loopback tests)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from requests import ConnectTimeout, RequestException
from twilio.base.exceptions import (  # type: ignore[import-untyped]
    TwilioException,
    TwilioRestException,
)
from twilio.http.http_client import TwilioHttpClient  # type: ignore[import-untyped]
from twilio.rest import Client  # type: ignore[import-untyped]

from channels.core import DeliveryEvent
from channels.errors import (
    ChannelError,
    InvalidRecipient,
    TransientChannelError,
    UnreachableRecipient,
    is_transient_status,
    wait_asked,
    was_refused,
)
from channels.twilio_webhooks import STATUS_KINDS

# Twilio error codes that are about the recipient: invalid "To", not a mobile number,
# unsubscribed (replied STOP), not a WhatsApp user.
RECIPIENT_ERRORS = frozenset({21211, 21614, 21610, 63003})
# The recipient replied STOP to the carrier: nothing will reach them until they send START.
UNSUBSCRIBED = 21610


class _BaseUrlHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """Sends every Twilio API request to one base URL instead of *.twilio.com."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(url)
        query = f"?{parts.query}" if parts.query else ""
        return super().request(method, f"{self.base_url}{parts.path}{query}", *args, **kwargs)


def make_twilio_client(
    account_sid: str, auth_token: str, *, base_url: str | None = None, timeout: float = 10.0
) -> Any:
    """A twilio.rest.Client with a timeout; `base_url` replaces Twilio's hosts when given."""
    http_client = (
        _BaseUrlHttpClient(base_url, timeout) if base_url else TwilioHttpClient(timeout=timeout)
    )
    return Client(account_sid, auth_token, http_client=http_client)


def _retry_after(client: Any) -> float | None:
    """How long Twilio's last answer asked us to wait (`Retry-After`, `X-RateLimit-Reset`)."""
    response = getattr(getattr(client, "http_client", None), "last_response", None)
    return wait_asked(getattr(response, "headers", None) or {})


REFERENCE_PARAMETER = "hcs_reference"


def callback_for(url: str, reference: str) -> str:
    """The status callback URL carrying our message id, so that a report can name the message
    even when the create call's answer (and Twilio's SID) was lost; Twilio signs the whole URL.
    """
    joiner = "&" if urlsplit(url).query else "?"
    return f"{url}{joiner}{urlencode({REFERENCE_PARAMETER: reference})}"


def create_message(client: Any, **params: Any) -> str:
    """Create one Twilio message and return its SID, mapping errors to the channel tree."""
    try:
        message = client.messages.create(**params)
    except TwilioRestException as exc:
        status = int(exc.status)
        kind: type[ChannelError] = ChannelError
        if is_transient_status(status):
            kind = TransientChannelError
        elif exc.code == UNSUBSCRIBED:
            kind = UnreachableRecipient
        elif exc.code in RECIPIENT_ERRORS:
            kind = InvalidRecipient
        reason = f"{exc.code}: {exc.msg}" if exc.code else str(exc.msg)
        message = f"Twilio answered {status}: {reason}"
        if kind is TransientChannelError:
            wait = _retry_after(client) if status in (429, 503) else None
            raise TransientChannelError(
                message, status=status, reason=reason, retry_after=wait
            ) from exc
        raise kind(message, status=status, reason=reason) from exc
    except RequestException as exc:
        # Never connected (refused, unresolved, timed out opening): nothing went out.
        # A read timeout, or a reset after the request was written, may have been a send.
        refused = isinstance(exc, ConnectTimeout) or was_refused(exc)
        raise TransientChannelError(
            f"Twilio unreachable: {exc}", reason=str(exc), refused=refused
        ) from exc
    return str(message.sid)


# How many of the recipient's recent messages a lookup by number reads, at most.
LOOKUP_LIMIT = 50
# Twilio's clock and ours may disagree a little; a message may also wait in Twilio's queue.
LOOKUP_SLACK = timedelta(minutes=5)


def look_up_message(
    client: Any, *, sid: str | None, to: str, body: str, since: datetime, reference: str
) -> list[DeliveryEvent]:
    """What Twilio holds of one message: fetched by its SID when we have it, else found among
    the messages sent to `to` since `since` with exactly this body (the SID of a create whose
    answer was lost is known only to Twilio), oldest first. Empty when Twilio holds nothing.
    """
    try:
        if sid:
            found = [client.messages(sid).fetch()]
        else:
            after = since - LOOKUP_SLACK
            listed = client.messages.list(to=to, date_sent_after=after, limit=LOOKUP_LIMIT)
            found = [m for m in listed if _is_ours(m, to, body)]
    except TwilioRestException as exc:
        if int(exc.status) == 404:
            return []
        status = int(exc.status)
        kind = TransientChannelError if is_transient_status(status) else ChannelError
        raise kind(f"Twilio lookup answered {status}: {exc.msg}", status=status) from exc
    except (RequestException, TwilioException) as exc:  # unreachable, or an unreadable answer
        raise TransientChannelError(f"Twilio lookup failed: {exc}", reason=str(exc)) from exc
    return [_as_event(message, reference) for message in reversed(found)]  # Twilio: newest first


def _is_ours(message: Any, to: str, body: str) -> bool:
    """The same recipient and exactly the body we would have sent, outbound."""
    outbound = str(message.direction or "").startswith("outbound")
    return outbound and message.to == to and message.body == body


def _as_event(message: Any, reference: str) -> DeliveryEvent:
    status = str(message.status or "")
    code = str(message.error_code or "")
    return DeliveryEvent(
        kind=STATUS_KINDS.get(status.lower(), STATUS_KINDS["sent"]),
        provider="twilio",
        provider_message_id=str(message.sid),
        recipient=str(message.to).partition(":")[2] or str(message.to),
        occurred_at=None,
        reason=f"Twilio error {code}" if code else None,
        reference=reference,
        data={"status": status, "error_code": code, "evidence": "lookup"},
    )
