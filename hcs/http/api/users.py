"""`/api/v1/users`: people, their roles and reviewer groups, managed by admins."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from hcs.http.api.blueprint import Blueprint
from hcs.http.auth import allow, caller
from hcs.http.extensions import db_session
from hcs.http.idempotent import idempotent
from hcs.identity import ROLES, User, create_user, list_users
from hcs.identity.groups import change_groups

blp = Blueprint(
    "users",
    __name__,
    url_prefix="/api/v1/users",
    description="People, their roles and the reviewer groups that hold approval stages.",
)


class UserIn(Schema):
    email = fields.String(required=True)
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), required=True)
    groups = fields.List(fields.String(), load_default=list)
    name = fields.String(load_default="")
    password = fields.String(load_default=None, load_only=True)


class UserOut(Schema):
    email = fields.String()
    name = fields.String()
    roles = fields.List(fields.String())
    groups = fields.List(fields.String())
    is_active = fields.Boolean()
    password = fields.String(metadata={"description": "a generated password, shown once"})


class GroupsIn(Schema):
    add = fields.List(fields.String(), load_default=list)
    remove = fields.List(fields.String(), load_default=list)


def _shown(user: User, password: str | None = None) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "email": user.email,
        "name": user.name,
        "roles": user.roles,
        "groups": user.groups or [],
        "is_active": user.is_active,
    }
    if password:
        shown["password"] = password
    return shown


@blp.route("")
class Users(MethodView):
    @allow("admin", "admin")
    @blp.response(200, UserOut(many=True))
    def get(self) -> list[dict[str, Any]]:
        """Every person with their roles and groups."""
        return [_shown(user) for user in list_users(db_session())]

    @allow("admin", "admin")
    @blp.arguments(UserIn)
    @idempotent(secrets=("password",))
    @blp.response(201, UserOut)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Add a person; a generated password is answered once when none is given."""
        session = db_session()
        user, generated = create_user(session, **body, actor=caller().email)
        session.commit()
        return _shown(user, generated)


@blp.route("/<email>/groups")
class Groups(MethodView):
    @allow("admin", "admin")
    @blp.arguments(GroupsIn)
    @blp.response(200, UserOut)
    def post(self, body: dict[str, Any], email: str) -> dict[str, Any]:
        """Add the person to groups and take them out of others (audited)."""
        session = db_session()
        user = change_groups(session, email, **body, actor=caller().email)
        session.commit()
        return _shown(user)
