"""Loopback fakes of Twilio's Messages API and SendGrid (mail send, Email Activity) for lookups."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.support.httpservers import LoopbackServer

ACCOUNT = "AC" + "1" * 32
MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT}/Messages"


@dataclass
class FakeProviders:
    """What the fake providers hold, how they answer lookups, and what they were asked."""

    server: HTTPServer
    twilio: list[dict[str, Any]] = field(default_factory=list)
    twilio_status: str = "delivered"
    activity: list[dict[str, Any]] = field(default_factory=list)
    activity_status: int = 200
    lookups: list[str] = field(default_factory=list)
    stall: float = 0.0  # seconds each lookup waits before answering
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def create(self, request: Request) -> Response:
        """Twilio's message create: it holds the message from now on."""
        form = request.form
        sid = f"SM{len(self.twilio) + 1:032d}"
        held = {
            "sid": sid,
            "to": form["To"],
            "from": form.get("From"),
            "body": form["Body"],
            "status": self.twilio_status,
            "direction": "outbound-api",
            "error_code": 30005 if self.twilio_status == "undelivered" else None,
            "date_created": format_datetime(datetime.now(UTC), usegmt=True),
        }
        with self.lock:
            self.twilio.append(held)
        return _json(held, 201)

    def listing(self, request: Request) -> Response:
        """Twilio's message list, filtered by `To`."""
        self._asked(f"list {request.query_string.decode()}")
        found = [m for m in self.twilio if m["to"] == request.args.get("To")]
        page = {"messages": found, "next_page_uri": None, "page": 0, "page_size": 50}
        return _json(page, 200)

    def fetch(self, request: Request) -> Response:
        """One Twilio message by its SID, or Twilio's 404."""
        sid = request.path.rsplit("/", 1)[1].removesuffix(".json")
        self._asked(f"fetch {sid}")
        found = [m for m in self.twilio if m["sid"] == sid]
        if not found:
            return _json({"code": 20404, "message": "not found", "status": 404}, 404)
        return _json(found[0], 200)

    def mail_send(self, request: Request) -> Response:
        """SendGrid's mail send."""
        return Response(status=202, headers={"X-Message-Id": "sg-1"})

    def messages(self, request: Request) -> Response:
        """SendGrid's Email Activity API (403 when the add-on is not enabled)."""
        self._asked(f"activity {request.args.get('query')}")
        if self.activity_status != 200:
            body = {"errors": [{"message": "authorization required"}]}
            return _json(body, self.activity_status)
        return _json({"messages": self.activity}, 200)

    def _asked(self, what: str) -> None:
        self.lookups.append(what)
        if self.stall:
            time.sleep(self.stall)


def _json(body: Any, status: int) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


@contextmanager
def fake_providers() -> Iterator[FakeProviders]:
    """Both fakes on one loopback server for the block's duration."""
    server = LoopbackServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    fake = FakeProviders(server)
    server.expect_request(f"{MESSAGES}.json", method="POST").respond_with_handler(fake.create)
    server.expect_request(f"{MESSAGES}.json", method="GET").respond_with_handler(fake.listing)
    server.expect_request(_sid_path(), method="GET").respond_with_handler(fake.fetch)
    server.expect_request("/v3/mail/send", method="POST").respond_with_handler(fake.mail_send)
    server.expect_request("/v3/messages", method="GET").respond_with_handler(fake.messages)
    try:
        yield fake
    finally:
        server.clear()
        server.stop()


def _sid_path() -> re.Pattern[str]:
    return re.compile(rf"{MESSAGES}/SM\w+\.json")
