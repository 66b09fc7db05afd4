"""Provider webhooks and the unsubscribe link: verified by signatures, not sessions.

Every view here is CSRF-exempt: SendGrid and Twilio sign their requests, an RFC 8058 one-click
POST comes from a mail provider with no session, and the unsubscribe page's button is bound to
the signed token in its URL (someone who can forge that POST holds the token already).

Twilio signs the URL it called, so verification uses `HCS_PUBLIC_URL` plus the path, never the
Host header: behind a TLS-terminating proxy set `HCS_PUBLIC_URL` to the public https address.
(Werkzeug's `ProxyFix` is only needed by code that reads `request.url` itself.)
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from flask import Blueprint, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from channels.core import DeliveryEvent
from channels.email import (
    SendGridEventVerifier,
    UnsubscribeClaim,
    is_one_click_post,
    verify_unsubscribe_token,
)
from channels.errors import ChannelError, SignatureError
from channels.twilio_client import REFERENCE_PARAMETER
from channels.twilio_webhooks import (
    TwilioWebhookVerifier,
    parse_inbound,
    parse_status_callback,
)
from hcs import archive
from hcs.channels.email import unsubscribe_secret
from hcs.http.auth import csrf
from hcs.http.error_handlers import error_body
from hcs.http.extensions import db_session, services
from hcs.infrastructure.db import committed_with_retries
from hcs.infrastructure.delivery import Delivery, TwilioSettings
from hcs.infrastructure.environment import variable
from hcs.messages.events import record_delivery_events
from hcs.messages.optouts import (
    LINK_SOURCE,
    PAGE_SOURCE,
    categories_left,
    record_keyword,
    unsubscribe,
)

bp = Blueprint("webhooks", __name__, template_folder="web/templates")
csrf.exempt(bp)

SENDGRID_KEY = variable(Delivery, "sendgrid_webhook_key")
TWILIO_TOKEN = variable(TwilioSettings, "auth_token")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@lru_cache(maxsize=4)
def _sendgrid(public_key: str) -> SendGridEventVerifier:
    return SendGridEventVerifier(public_key)


def _secret(value: str, name: str) -> str:
    if not value:  # unconfigured: nothing can be verified, so nothing is accepted
        raise SignatureError(f"{name} is not configured")
    return value


@bp.errorhandler(SignatureError)
def _refused(exc: SignatureError) -> ResponseReturnValue:
    return jsonify(error_body(403, message=str(exc))), 403


@bp.errorhandler(ChannelError)
def _unreadable(exc: ChannelError) -> ResponseReturnValue:
    return jsonify(error_body(400, message=str(exc))), 400


@bp.post("/webhooks/sendgrid")
def sendgrid() -> ResponseReturnValue:
    """SendGrid's signed event webhook: each event recorded on its message."""
    events = _sendgrid(
        _secret(services().settings.delivery.sendgrid_webhook_key, SENDGRID_KEY)
    ).events(request.get_data(), request.headers)
    matched = _record(events, "sendgrid")
    return {"events": len(events), "matched": matched}


def _record(events: Sequence[DeliveryEvent], provider: str) -> int:
    """Record reports in one transaction, run again after a deadlock; how many matched."""
    session, keys = db_session(), archive.keyring(services().settings)

    def work() -> int:
        found = record_delivery_events(session, events, provider=provider, keys=keys)
        return sum(message is not None for message in found)

    return committed_with_retries(session, work)


def _twilio_params() -> dict[str, str]:
    """The POSTed parameters, once X-Twilio-Signature matches them and the public URL."""
    query = request.query_string.decode("ascii", "replace")
    url = services().settings.public_url + request.path + (f"?{query}" if query else "")
    params = request.form.to_dict()
    TwilioWebhookVerifier(
        _secret(services().settings.delivery.twilio.auth_token, TWILIO_TOKEN)
    ).verify(url, params, request.headers)
    return params


@bp.post("/webhooks/twilio/status")
def twilio_status() -> ResponseReturnValue:
    """A message status callback (SMS or WhatsApp), idempotent on (MessageSid, status)."""
    params = _twilio_params()  # the query is part of the signed URL: its reference is Twilio's
    _record([parse_status_callback(params, request.args.get(REFERENCE_PARAMETER))], "twilio")
    return "", 204


@bp.post("/webhooks/twilio/inbound")
def twilio_inbound() -> ResponseReturnValue:
    """An inbound text: STOP and START change consent; the answer is empty TwiML."""
    event = parse_inbound(_twilio_params())
    session = db_session()
    record_keyword(session, event, actor="webhook:twilio")
    session.commit()
    return EMPTY_TWIML, 200, {"Content-Type": "text/xml; charset=utf-8"}


def _page(status: int = 200, **context: object) -> ResponseReturnValue:
    html = render_template("unsubscribe.html", token=request.args.get("token", ""), **context)
    return html, status, {"Cache-Control": "no-store"}


def _claim(one_click: bool) -> UnsubscribeClaim | ResponseReturnValue:
    token = request.args.get("token", "")
    try:
        return verify_unsubscribe_token(unsubscribe_secret(services().settings), token)
    except SignatureError as exc:
        if one_click:
            return jsonify(error_body(400, {"token": [str(exc)]})), 400
        return _page(400, error=str(exc))


@bp.route("/unsubscribe", methods=["GET", "POST"])
def unsubscribe_link() -> ResponseReturnValue:
    """GET shows a confirmation (mail scanners follow links); POST unsubscribes.

    An RFC 8058 one-click POST (`List-Unsubscribe=One-Click`) gets an empty 200.
    """
    one_click = request.method == "POST" and is_one_click_post(request.get_data())
    claim = _claim(one_click)
    if not isinstance(claim, UnsubscribeClaim):
        return claim
    categories = categories_left(claim)
    if request.method != "POST":  # GET and HEAD
        return _page(claim=claim, categories=categories)
    if not one_click and request.form.get("confirm") != "yes":
        return _page(400, claim=claim, categories=categories, error="Use the button.")
    session = db_session()
    unsubscribe(session, claim, source=LINK_SOURCE if one_click else PAGE_SOURCE)
    session.commit()
    return ("", 200) if one_click else _page(claim=claim, categories=categories, done=True)
