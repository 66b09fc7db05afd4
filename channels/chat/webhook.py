"""Chat through the company's chat platform: a signed JSON POST (see channels.chat.signing)."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.error import HTTPError, URLError

from channels.chat.message import PreparedChat
from channels.chat.signing import signed_headers
from channels.core import SendResult
from channels.errors import (
    ChannelError,
    TransientChannelError,
    is_transient_status,
    wait_asked,
    was_refused,
)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would resend the signed body elsewhere: treat it as an error."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def request_body(prepared: PreparedChat) -> bytes:
    """The exact JSON body that is signed and sent."""
    payload = {
        "id": prepared.reference,
        "conversation": prepared.recipient,
        "text": prepared.body,
        "quick_replies": list(prepared.quick_replies),
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class WebhookChat:
    """POSTs each message, signed, to the chat platform's URL."""

    name = "webhook"
    addresses_phones = False

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        opener: urllib.request.OpenerDirector | None = None,
    ) -> None:
        if not url.startswith(("https://", "http://")) or not secret:
            raise ChannelError("the chat webhook needs an http(s) URL and a secret")
        self.url, self.secret, self.timeout, self.clock = url, secret, timeout, clock
        # The application passes an opener that connects only to checked addresses.
        self.opener = opener or _OPENER

    def _post(self, body: bytes) -> tuple[int, bytes]:
        headers = signed_headers(self.secret, int(self.clock()), body)
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        with self.opener.open(request, timeout=self.timeout) as response:
            return int(response.status), response.read(65536)

    def send(self, prepared: PreparedChat) -> SendResult:
        """Deliver; the id is the platform's `id` from the JSON answer, else the reference."""
        try:
            status, answer = self._post(request_body(prepared))
        except HTTPError as exc:
            reason = exc.read(2048).decode("utf-8", "replace") or str(exc.reason)
            message = f"chat webhook answered {exc.code}: {reason}"
            if not is_transient_status(exc.code):
                raise ChannelError(message, status=exc.code, reason=reason) from exc
            wait = wait_asked(exc.headers)
            raise TransientChannelError(
                message, status=exc.code, reason=reason, retry_after=wait
            ) from exc
        except URLError as exc:
            if isinstance(exc.reason, PermissionError):  # the destination was refused
                raise ChannelError(f"chat webhook refused: {exc.reason}") from exc
            raise TransientChannelError(
                f"chat webhook unreachable: {exc}", reason=str(exc), refused=was_refused(exc)
            ) from exc
        except (TimeoutError, ConnectionError) as exc:
            message = f"chat webhook unreachable: {exc}"
            refused = was_refused(exc)  # a timeout may have been a send
            raise TransientChannelError(message, reason=str(exc), refused=refused) from exc
        try:
            message_id = str(json.loads(answer).get("id") or prepared.reference)
        except (ValueError, AttributeError):
            message_id = prepared.reference
        return SendResult(self.name, message_id, status=status)
