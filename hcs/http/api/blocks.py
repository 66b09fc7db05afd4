"""`/api/v1/blocks` and `/api/v1/themes`: blocks and brand themes, reviewed like templates."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import select

from hcs.audit import record
from hcs.governance import components
from hcs.http.api import schemas
from hcs.http.api.access import allow, caller
from hcs.http.api.blueprint import Blueprint, ListPage
from hcs.http.api.presenters import component, component_version
from hcs.http.extensions import db_session
from templates_store import blocks as store
from templates_store.lookup import get_block, get_block_version, get_theme, get_theme_version
from templates_store.models import ContentBlock, Theme

KINDS: dict[str, dict[str, Any]] = {
    "block": {"model": ContentBlock, "get": get_block, "get_version": get_block_version},
    "theme": {"model": Theme, "get": get_theme, "get_version": get_theme_version},
}


def _create(kind: str, body: dict[str, Any]) -> Any:
    session = db_session()
    if kind == "block":
        return store.create_block(session, **body)
    return store.create_theme(session, key=body["key"], name=body["name"])


def _draft(kind: str, key: str, body: dict[str, Any]) -> Any:
    session, author = db_session(), caller().email
    if kind == "block":
        return store.create_block_draft(session, key, author=author, content=body["content"])
    return store.create_theme_draft(session, key, author=author, **body)


def _edit(kind: str, key: str, number: int, body: dict[str, Any]) -> Any:
    session = db_session()
    if kind == "block":
        return store.update_block_draft(session, key, number, body["content"])
    return store.update_theme_draft(session, key, number, **body)


def _shown(kind: str, key: str, number: int) -> dict[str, Any]:
    session = db_session()
    session.commit()
    return component_version(session, kind, KINDS[kind]["get_version"](session, key, number))


def component_blueprint(kind: str, version_in: type[schemas.Schema]) -> Blueprint:
    """The same endpoints for blocks and themes."""
    blp = Blueprint(
        f"{kind}s",
        __name__,
        url_prefix=f"/api/v1/{kind}s",
        description=f"{kind.title()}s, versioned and approved like templates.",
    )
    found = KINDS[kind]

    @blp.route("")
    class Collection(MethodView):
        @allow("read")
        @blp.response(200, schemas.ComponentOut(many=True))
        @blp.paginate(ListPage)
        def get(self) -> list[dict[str, Any]]:
            """Every one, by key."""
            model = found["model"]
            return [component(i) for i in db_session().scalars(select(model).order_by(model.key))]

        @allow("templates", "author")
        @blp.arguments(schemas.BlockIn)
        @blp.response(201, schemas.ComponentOut)
        def post(self, body: dict[str, Any]) -> dict[str, Any]:
            """Create one (no versions yet)."""
            created = _create(kind, body)
            record(
                db_session(),
                actor=caller().email,
                action=f"{kind}.create",
                target_type=kind,
                target=created.key,
            )
            db_session().commit()
            return component(created)

    @blp.route("/<key>")
    class One(MethodView):
        @allow("read")
        @blp.response(200, schemas.ComponentOut)
        def get(self, key: str) -> dict[str, Any]:
            """One, with its versions."""
            return component(found["get"](db_session(), key))

    @blp.route("/<key>/versions")
    class Versions(MethodView):
        @allow("templates", "author")
        @blp.arguments(version_in)
        @blp.response(201, schemas.ComponentVersionOut)
        def post(self, body: dict[str, Any], key: str) -> dict[str, Any]:
            """A new draft."""
            draft = _draft(kind, key, body)
            record(
                db_session(),
                actor=caller().email,
                action=f"{kind}.draft",
                target_type=kind,
                target=f"{key} v{draft.number}",
            )
            return _shown(kind, key, draft.number)

    @blp.route("/<key>/versions/<int:number>")
    class OneVersion(MethodView):
        @allow("read")
        @blp.response(200, schemas.ComponentVersionOut)
        def get(self, key: str, number: int) -> dict[str, Any]:
            """One version."""
            session = db_session()
            return component_version(session, kind, found["get_version"](session, key, number))

        @allow("templates", "author")
        @blp.arguments(version_in)
        @blp.response(200, schemas.ComponentVersionOut)
        def patch(self, body: dict[str, Any], key: str, number: int) -> dict[str, Any]:
            """Edit a draft; a submitted version answers 409."""
            _edit(kind, key, number, body)
            record(
                db_session(),
                actor=caller().email,
                action=f"{kind}.edit",
                target_type=kind,
                target=f"{key} v{number}",
            )
            return _shown(kind, key, number)

    @blp.route("/<key>/versions/<int:number>/submit")
    class Submit(MethodView):
        @allow("templates", "author")
        @blp.response(200, schemas.ComponentVersionOut)
        def post(self, key: str, number: int) -> dict[str, Any]:
            """Draft → in review."""
            components.submit(db_session(), kind, key, number, actor=caller().email)
            return _shown(kind, key, number)

    @blp.route("/<key>/versions/<int:number>/approve")
    class Approve(MethodView):
        @allow("review", "reviewer")
        @blp.arguments(schemas.Decision)
        @blp.response(200, schemas.ComponentVersionOut)
        def post(self, body: dict[str, Any], key: str, number: int) -> dict[str, Any]:
            """The next stage approves."""
            who = caller()
            components.approve(
                db_session(), kind, key, number, reviewer=who.email, roles=who.roles, **body
            )
            return _shown(kind, key, number)

    @blp.route("/<key>/versions/<int:number>/reject")
    class Reject(MethodView):
        @allow("review", "reviewer")
        @blp.arguments(schemas.Decision)
        @blp.response(200, schemas.ComponentVersionOut)
        def post(self, body: dict[str, Any], key: str, number: int) -> dict[str, Any]:
            """The next stage rejects, with a comment."""
            who = caller()
            components.reject(
                db_session(), kind, key, number, reviewer=who.email, roles=who.roles, **body
            )
            return _shown(kind, key, number)

    @blp.route("/<key>/versions/<int:number>/publish")
    class Publish(MethodView):
        @allow("review", "reviewer", "admin")
        @blp.response(200, schemas.ComponentVersionOut)
        def post(self, key: str, number: int) -> dict[str, Any]:
            """Approved → published: new template versions pin this one."""
            components.publish(db_session(), kind, key, number, actor=caller().email)
            return _shown(kind, key, number)

    return blp


blp = component_blueprint("block", schemas.BlockVersionIn)
theme_blp = component_blueprint("theme", schemas.ThemeVersionIn)
