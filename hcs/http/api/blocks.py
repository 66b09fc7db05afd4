"""`/api/v1/blocks` and `/api/v1/themes`: blocks and brand themes, reviewed like templates."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema
from sqlalchemy import select

from hcs.governance import authoring
from hcs.governance.kinds import COMPONENT_KINDS
from hcs.http.api import schemas
from hcs.http.api.blueprint import Blueprint, ListPage
from hcs.http.api.presenters import component, component_version
from hcs.http.auth import allow, caller
from hcs.http.extensions import db_session
from hcs.http.idempotent import idempotent


def component_blueprint(kind: str, version_in: type[Schema]) -> Blueprint:
    """The same endpoints for blocks and themes."""
    blp = Blueprint(
        f"{kind}s",
        __name__,
        url_prefix=f"/api/v1/{kind}s",
        description=f"{kind.title()}s, versioned and approved like templates.",
    )
    found = COMPONENT_KINDS[kind]

    @blp.route("")
    class Collection(MethodView):
        @allow("read")
        @blp.response(200, schemas.ComponentOut(many=True))
        @blp.paginate(ListPage)
        def get(self) -> list[dict[str, Any]]:
            """Every one, by key."""
            model = found.model
            return [component(i) for i in db_session().scalars(select(model).order_by(model.key))]

        @allow("templates", "author")
        @blp.arguments(schemas.BlockIn)
        @idempotent()
        @blp.response(201, schemas.ComponentOut)
        def post(self, body: dict[str, Any]) -> dict[str, Any]:
            """Create one (no versions yet)."""
            session = db_session()
            created = authoring.create(session, kind, body, actor=caller().email)
            session.commit()
            return component(created)

    @blp.route("/<key>")
    class One(MethodView):
        @allow("read")
        @blp.response(200, schemas.ComponentOut)
        def get(self, key: str) -> dict[str, Any]:
            """One, with its versions."""
            return component(found.get(db_session(), key))

    @blp.route("/<key>/versions")
    class Versions(MethodView):
        @allow("templates", "author")
        @blp.arguments(version_in)
        @idempotent()
        @blp.response(201, schemas.ComponentVersionOut)
        def post(self, body: dict[str, Any], key: str) -> dict[str, Any]:
            """A new draft."""
            session = db_session()
            draft = authoring.draft(session, kind, key, body, actor=caller().email)
            session.commit()
            return component_version(session, kind, draft)

    @blp.route("/<key>/versions/<int:number>")
    class OneVersion(MethodView):
        @allow("read")
        @blp.response(200, schemas.ComponentVersionOut)
        def get(self, key: str, number: int) -> dict[str, Any]:
            """One version."""
            session = db_session()
            return component_version(session, kind, found.get_version(session, key, number))

        @allow("templates", "author")
        @blp.arguments(version_in)
        @blp.response(200, schemas.ComponentVersionOut)
        def patch(self, body: dict[str, Any], key: str, number: int) -> dict[str, Any]:
            """Edit a draft; a submitted version answers 409."""
            session = db_session()
            edited = authoring.edit(session, kind, key, number, body, actor=caller().email)
            session.commit()
            return component_version(session, kind, edited)

    @blp.route("/<key>/versions/<int:number>/submit")
    class Submit(MethodView):
        @allow("templates", "author")
        @blp.response(200, schemas.ComponentVersionOut)
        def post(self, key: str, number: int) -> dict[str, Any]:
            """Draft → in review."""
            session = db_session()
            submitted = authoring.submit(session, kind, key, number, actor=caller().email)
            session.commit()
            return component_version(session, kind, submitted)

    @blp.route("/<key>/versions/<int:number>/approve")
    class Approve(MethodView):
        @allow("review", "reviewer")
        @blp.arguments(schemas.Decision)
        @blp.response(200, schemas.ComponentVersionOut)
        def post(self, body: dict[str, Any], key: str, number: int) -> dict[str, Any]:
            """The next stage approves."""
            session, who = db_session(), caller()
            decided = authoring.decide(
                session, kind, key, number, approve=True, actor=who.email, roles=who.roles, **body
            )
            session.commit()
            return component_version(session, kind, decided)

    @blp.route("/<key>/versions/<int:number>/reject")
    class Reject(MethodView):
        @allow("review", "reviewer")
        @blp.arguments(schemas.Decision)
        @blp.response(200, schemas.ComponentVersionOut)
        def post(self, body: dict[str, Any], key: str, number: int) -> dict[str, Any]:
            """The next stage rejects, with a comment."""
            session, who = db_session(), caller()
            decided = authoring.decide(
                session, kind, key, number, approve=False, actor=who.email, roles=who.roles, **body
            )
            session.commit()
            return component_version(session, kind, decided)

    @blp.route("/<key>/versions/<int:number>/publish")
    class Publish(MethodView):
        @allow("review", "reviewer", "admin")
        @blp.response(200, schemas.ComponentVersionOut)
        def post(self, key: str, number: int) -> dict[str, Any]:
            """Approved → published: new template versions pin this one."""
            session = db_session()
            published = authoring.publish(session, kind, key, number, actor=caller().email)
            session.commit()
            return component_version(session, kind, published)

    return blp


blp = component_blueprint("block", schemas.BlockVersionIn)
theme_blp = component_blueprint("theme", schemas.ThemeVersionIn)
