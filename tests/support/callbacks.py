"""Status callbacks in tests: an independent Standard Webhooks check, and a delivery round."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import replace
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request

from hcs import archive
from hcs.dispatch.callbacks import CallbackOptions, deliver_due
from tests.support.world import World


def verified(request: Request, *secrets: str) -> dict[str, Any]:
    """The body of a callback whose signature one of `secrets` makes, checked by hand here.

    Written from the Standard Webhooks specification, not with HCS's code: HMAC-SHA256 over
    `id.timestamp.body` keyed with the base64-decoded `whsec_` secret, `v1,` + base64 of it.
    """
    msg_id = request.headers["webhook-id"]
    stamp = request.headers["webhook-timestamp"]
    assert abs(time.time() - int(stamp)) < 300
    offered = request.headers["webhook-signature"].split(" ")
    raw = request.get_data()
    for secret in secrets:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        mac = hmac.new(key, f"{msg_id}.{stamp}.".encode() + raw, hashlib.sha256).digest()
        if "v1," + base64.b64encode(mac).decode() in offered:
            return dict(json.loads(raw))
    raise AssertionError("no offered signature matches the secret")


def received(server: HTTPServer, path: str = "/hook") -> list[Request]:
    """The requests the receiver got at `path`, in order."""
    return [request for request, _ in server.log if request.path == path]


def deliver(world: World, **options: Any) -> int:
    """One round of callback deliveries, as a worker makes it (with these options' changes)."""
    services = world.app.extensions["hcs"]
    chosen = replace(CallbackOptions.of(services.settings), **options)
    keys = archive.keyring(services.settings)
    return deliver_due(services.sessions, keys, chosen, owner="test-worker")


def receiver_url(server: HTTPServer, path: str = "/hook") -> str:
    """The receiver's URL on 127.0.0.1 (the address the development allowlist names)."""
    return f"http://127.0.0.1:{server.port}{path}"
