"""A Twilio SDK client built from settings, with an optional base URL (for loopback tests)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from requests import ConnectTimeout, RequestException
from twilio.base.exceptions import TwilioRestException  # type: ignore[import-untyped]
from twilio.http.http_client import TwilioHttpClient  # type: ignore[import-untyped]
from twilio.rest import Client  # type: ignore[import-untyped]

from channels.errors import (
    ChannelError,
    InvalidRecipient,
    TransientChannelError,
    UnreachableRecipient,
    is_transient_status,
    retry_after_seconds,
    was_refused,
)

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
    """The `Retry-After` of Twilio's last answer, in seconds."""
    response = getattr(getattr(client, "http_client", None), "last_response", None)
    headers = getattr(response, "headers", None) or {}
    return retry_after_seconds(headers.get("Retry-After"))


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
