"""A small Python client for the HCS send API; it imports only the standard library and httpx.

    from hcs.client import Client

    with Client("https://hcs.example.com", api_key) as hcs:
        sent = hcs.send("order-confirmation", "email", {"email": "ana@example.com"},
                        {"order_id": "A-1001"}, reference="order-A-1001")
        for message in hcs.list(reference="order-A-1001"):
            print(message["id"], message["status"])

Every send carries an `Idempotency-Key` (one per call, the same on each retry), so a retried
send never sends twice. 429 and 503 answers are retried after their `Retry-After`, within
`max_wait` seconds; connection errors and other 5xx after a short backoff.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

__all__ = ["Client", "HCSError", "WebhookVerificationError", "verify_webhook"]

RETRY_AFTER_STATUSES = frozenset({429, 503})
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


class HCSError(Exception):
    """An answer HCS refused or failed: its status, and the fields it names (`errors`)."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        self.errors: dict[str, Any] = body.get("errors", {}) if isinstance(body, dict) else {}
        message = body.get("message") or body.get("status") if isinstance(body, dict) else body
        super().__init__(f"HCS answered {status}: {message} {self.errors or ''}".rstrip())


class WebhookVerificationError(Exception):
    """A status callback whose signature or timestamp does not check out."""


def _retry_after(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds (a number or an HTTP date), or None without one."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _moment(value: datetime | str | None) -> str | None:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("send_at needs a timezone (RFC 3339)")
        return value.isoformat()
    return value


def _without_none(**fields: Any) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}


class Client:
    """HCS's `/api/v1` for a backend holding an API key."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        max_retries: int = 3,
        max_wait: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.max_retries, self.max_wait = max_retries, max_wait
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": "hcs-client/1"},
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def send(
        self,
        template: str,
        channel: str,
        to: Mapping[str, Any],
        data: Mapping[str, Any] | None = None,
        *,
        locale: str | None = None,
        reference: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        send_at: datetime | str | None = None,
        version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Send one message; `{"id", "status", "reference"}`."""
        body = _without_none(
            template=template,
            channel=channel,
            to=dict(to),
            data=dict(data or {}),
            locale=locale,
            reference=reference,
            metadata=dict(metadata) if metadata is not None else None,
            send_at=_moment(send_at),
            version=version,
        )
        return self._post("/messages", body, idempotency_key)

    def send_batch(
        self,
        template: str,
        channel: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        send_at: datetime | str | None = None,
        version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Send up to 1,000 messages of one template, all or none; `{"batch_id", "messages"}`."""
        body = _without_none(
            template=template,
            channel=channel,
            messages=[dict(m) for m in messages],
            send_at=_moment(send_at),
            version=version,
        )
        return self._post("/messages/batch", body, idempotency_key)

    def get(self, message_id: str) -> dict[str, Any]:
        """One message with its status and events."""
        return self._request("GET", f"/messages/{message_id}")  # type: ignore[no-any-return]

    def list(self, *, page_size: int = 50, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every message matching `filters` (status, template, channel, batch_id, reference,
        created_after, created_before), newest first, fetched a page at a time."""
        params = {k: _moment(v) if isinstance(v, datetime) else v for k, v in filters.items()}
        params["limit"] = page_size
        while True:
            page = self._request("GET", "/messages", params=params)
            yield from page["items"]
            if not page["next_cursor"]:
                return
            params["cursor"] = page["next_cursor"]

    def cancel(self, message_id: str) -> dict[str, Any]:
        """Cancel a message not yet sending; raises HCSError(409) after."""
        return self._post(f"/messages/{message_id}/cancel", None, None)

    def batch(self, batch_id: str) -> dict[str, Any]:
        """A batch's counts per status."""
        return self._request("GET", f"/batches/{batch_id}")  # type: ignore[no-any-return]

    def cancel_batch(self, batch_id: str) -> dict[str, Any]:
        """Cancel the messages of a batch not yet sending."""
        return self._post(f"/batches/{batch_id}/cancel", None, None)

    def add_webhook(
        self,
        url: str,
        events: Sequence[str],
        *,
        description: str = "",
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Register a status callback endpoint; the answer's `secret` is shown this once.

        Retried with one `Idempotency-Key`, so a lost answer never makes a second endpoint; a
        replayed answer has no `secret` (`not_replayed` says so): rotate it for a new one.
        """
        body = {"url": url, "events": list(events), "description": description}
        return self._post("/webhooks", body, idempotency_key)

    def webhooks(self) -> Sequence[dict[str, Any]]:
        """Your status callback endpoints."""
        return self._request("GET", "/webhooks")  # type: ignore[no-any-return]

    def update_webhook(self, webhook_id: str, **changes: Any) -> dict[str, Any]:
        """Change an endpoint's `url`, `events`, `description` or `enabled`."""
        path = f"/webhooks/{webhook_id}"
        return self._request("PATCH", path, json=changes)  # type: ignore[no-any-return]

    def rotate_webhook_secret(self, webhook_id: str, *, grace_seconds: int = 0) -> dict[str, Any]:
        """A new secret (in `secret`); the old one keeps signing for `grace_seconds`."""
        body = {"grace_seconds": grace_seconds}
        return self._request("POST", f"/webhooks/{webhook_id}/rotate", json=body)  # type: ignore[no-any-return]

    def send_test_event(self, webhook_id: str) -> dict[str, Any]:
        """Send a `webhook.test` event now; the attempt."""
        return self._request("POST", f"/webhooks/{webhook_id}/test")  # type: ignore[no-any-return]

    def webhook_attempts(self, webhook_id: str) -> Sequence[dict[str, Any]]:
        """An endpoint's latest delivery attempts, newest first."""
        return self._request("GET", f"/webhooks/{webhook_id}/attempts")  # type: ignore[no-any-return]

    def remove_webhook(self, webhook_id: str) -> None:
        """Delete an endpoint."""
        self._request("DELETE", f"/webhooks/{webhook_id}")

    def _post(self, path: str, body: Any, key: str | None) -> dict[str, Any]:
        headers = {"Idempotency-Key": key or f"hcs-client-{uuid.uuid4()}"}
        return self._request("POST", path, json=body, headers=headers)  # type: ignore[no-any-return]

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One call, retried on 429/5xx and lost connections; the decoded answer."""
        for attempt in range(self.max_retries + 1):
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError:
                if attempt == self.max_retries:
                    raise
                time.sleep(self._backoff(attempt))
                continue
            wait = self._wait_before_retry(response, attempt)
            if wait is None:
                return self._decoded(response)
            time.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait_before_retry(self, response: httpx.Response, attempt: int) -> float | None:
        """How long to wait before trying again, or None to take this answer."""
        if response.status_code not in RETRYABLE_STATUSES or attempt == self.max_retries:
            return None
        asked = _retry_after(response) if response.status_code in RETRY_AFTER_STATUSES else None
        if asked is None:
            return self._backoff(attempt)
        return asked if asked <= self.max_wait else None

    def _backoff(self, attempt: int) -> float:
        return float(min(self.max_wait, 0.25 * 2**attempt * random.uniform(1.0, 1.5)))

    @staticmethod
    def _decoded(response: httpx.Response) -> Any:
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if response.is_error:
            raise HCSError(response.status_code, body)
        return body


def _secret_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def verify_webhook(
    payload: bytes | str,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: float = 300.0,
    now: float | None = None,
) -> Any:
    """Check a callback's Standard Webhooks signature and timestamp; its decoded JSON body.

    `secret` is the `whsec_...` value shown when the endpoint was registered.
    """
    lower = {name.lower(): value for name, value in headers.items()}
    try:
        msg_id, stamp = lower["webhook-id"], lower["webhook-timestamp"]
        signatures = lower["webhook-signature"].split()
        sent_at = int(stamp)
    except (KeyError, ValueError):
        raise WebhookVerificationError("missing or malformed webhook headers") from None
    if abs((time.time() if now is None else now) - sent_at) > tolerance:
        raise WebhookVerificationError("timestamp outside the tolerance")
    body = payload.encode() if isinstance(payload, str) else payload
    signed = f"{msg_id}.{stamp}.".encode() + body
    expected = base64.b64encode(
        hmac.new(_secret_bytes(secret), signed, hashlib.sha256).digest()
    ).decode()
    for item in signatures:
        version, _, signature = item.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return json.loads(body)
    raise WebhookVerificationError("no signature matches")
