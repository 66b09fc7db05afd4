"""`/api/v1/account`: the calling person's own phone, proven by a one-time code; and test sends.

Only a key that acts as a person (`hcs apikeys create --user E`) has an account: tests go to
that person and nobody else. The code is never part of an answer.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields

from hcs.dispatch.codes import code_secret, code_sender
from hcs.dispatch.proofs import send_test
from hcs.dispatch.providers import build_providers
from hcs.errors import CodeRefused, PermissionDenied
from hcs.http.api.blueprint import Blueprint
from hcs.http.auth import allow, caller
from hcs.http.extensions import db_session, services
from hcs.identity.models import User
from hcs.identity.phones import confirm_code, is_verified, request_code
from hcs.identity.users import get_user

blp = Blueprint(
    "account",
    __name__,
    url_prefix="/api/v1",
    description="The calling person's own phone (verified by a code) and tests sent to them.",
)


class PhoneIn(Schema):
    phone = fields.String(required=True, metadata={"description": "E.164, e.g. +447400123456"})


class CodeIn(Schema):
    code = fields.String(required=True, metadata={"description": "the 6 digits texted"})


class AccountOut(Schema):
    email = fields.String()
    phone = fields.String(allow_none=True)
    phone_verified = fields.Boolean()
    phone_verified_at = fields.DateTime(allow_none=True)
    code_expires_at = fields.DateTime(allow_none=True)


class TestIn(Schema):
    channel = fields.String(required=True, metadata={"description": "email, sms, chat, letter"})
    locale = fields.String(load_default="")
    sample = fields.String(load_default=None, metadata={"description": "a named sample set"})


class TestOut(Schema):
    channel = fields.String()
    locale = fields.String()
    to = fields.String()
    provider = fields.String()
    provider_id = fields.String()


def _person() -> str:
    """The calling person's email; a system key has no one to send a test or a code to."""
    who = caller()
    if not who.is_person:
        raise PermissionDenied("this needs a key that acts as a person (hcs apikeys --user)")
    return who.email


def _shown(user: User, expires: Any = None) -> dict[str, Any]:
    return {
        "email": user.email,
        "phone": user.phone,
        "phone_verified": is_verified(user),
        "phone_verified_at": user.phone_verified_at,
        "code_expires_at": expires,
    }


@blp.route("/account")
class Account(MethodView):
    @allow("read")
    @blp.response(200, AccountOut)
    def get(self) -> dict[str, Any]:
        """Your phone and whether it is verified."""
        return _shown(get_user(db_session(), _person()))


@blp.route("/account/phone")
class Phone(MethodView):
    @allow("read")
    @blp.arguments(PhoneIn)
    @blp.response(202, AccountOut)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Set your phone (a new number is unverified) and text a code to it; 429 too soon."""
        session, email, settings = db_session(), _person(), services().settings
        sent = request_code(
            session,
            email,
            body["phone"],
            secret=code_secret(settings),
            send=code_sender(settings),
            actor=email,
        )
        session.commit()
        return _shown(get_user(session, email), sent.expires_at)


@blp.route("/account/phone/verify")
class Verify(MethodView):
    @allow("read")
    @blp.arguments(CodeIn)
    @blp.response(200, AccountOut)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Prove your phone with the code; 422 naming `code` when it is wrong, expired or spent."""
        session, email = db_session(), _person()
        secret = code_secret(services().settings)
        try:
            user = confirm_code(session, email, body["code"], secret=secret, actor=email)
        except CodeRefused:
            session.commit()  # the refused try counts towards the limit
            raise
        session.commit()
        return _shown(user)


@blp.route("/templates/<key>/versions/<int:number>/test")
class SendTest(MethodView):
    @allow("templates", "author", "reviewer")
    @blp.arguments(TestIn)
    @blp.response(200, TestOut)
    def post(self, body: dict[str, Any], key: str, number: int) -> dict[str, Any]:
        """Send the version to yourself, marked as a test (SMS and chat: your verified phone)."""
        session, email = db_session(), _person()
        providers = build_providers(services().settings)
        where, sample = (body["channel"], body["locale"]), body["sample"]
        done = send_test(session, (key, number), where, providers, actor=email, sample=sample)
        session.commit()
        return asdict(done)
