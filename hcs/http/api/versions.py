"""`/api/v1/templates/{key}/versions`: drafts, edits, the review workflow and diffs."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from hcs.dispatch import recall
from hcs.governance import authoring
from hcs.governance.checks import run_checks
from hcs.governance.policies import policy_for
from hcs.http.api import message_schemas, schemas
from hcs.http.api.blueprint import Blueprint
from hcs.http.api.presenters import version
from hcs.http.auth import allow, caller
from hcs.http.extensions import db_session, notify_dispatcher
from hcs.http.idempotent import idempotent
from templates_store.diffing import diff_versions
from templates_store.lookup import get_version

blp = Blueprint(
    "versions",
    __name__,
    url_prefix="/api/v1/templates/<key>/versions",
    description="Template versions and their review workflow.",
)


@blp.route("")
class Versions(MethodView):
    @allow("templates", "author")
    @blp.arguments(schemas.VersionIn)
    @idempotent()
    @blp.response(201, schemas.VersionOut)
    def post(self, body: dict[str, Any], key: str) -> dict[str, Any]:
        """A new draft: a copy of `from_version` (default: the newest), then the given fields."""
        session = db_session()
        draft = authoring.draft(session, "template", key, body, actor=caller().email)
        session.commit()
        return version(session, draft)


@blp.route("/<int:number>")
class OneVersion(MethodView):
    @allow("read")
    @blp.response(200, schemas.VersionOut)
    def get(self, key: str, number: int) -> dict[str, Any]:
        """One version with its parts, schema, approvals and closure hash."""
        session = db_session()
        return version(session, get_version(session, key, number))

    @allow("templates", "author")
    @blp.arguments(schemas.VersionContent)
    @blp.response(200, schemas.VersionOut)
    def patch(self, body: dict[str, Any], key: str, number: int) -> dict[str, Any]:
        """Edit a draft; a submitted version answers 409."""
        session = db_session()
        edited = authoring.edit(session, "template", key, number, body, actor=caller().email)
        session.commit()
        return version(session, edited)


@blp.route("/<int:number>/submit")
class Submit(MethodView):
    @allow("templates", "author")
    @blp.response(200, schemas.VersionOut)
    def post(self, key: str, number: int) -> dict[str, Any]:
        """Draft → in review, after the policy's checks; the version is frozen from now on."""
        session = db_session()
        submitted = authoring.submit(session, "template", key, number, actor=caller().email)
        session.commit()
        return version(session, submitted)


@blp.route("/<int:number>/approve")
class Approve(MethodView):
    @allow("review", "reviewer")
    @blp.arguments(schemas.Decision)
    @blp.response(200, schemas.VersionOut)
    def post(self, body: dict[str, Any], key: str, number: int) -> dict[str, Any]:
        """The next stage of the category's policy approves; never the version's author."""
        session, who = db_session(), caller()
        decided = authoring.decide(
            session, "template", key, number, approve=True, actor=who.email, roles=who.roles, **body
        )
        session.commit()
        return version(session, decided)


@blp.route("/<int:number>/reject")
class Reject(MethodView):
    @allow("review", "reviewer")
    @blp.arguments(schemas.Decision)
    @blp.response(200, schemas.VersionOut)
    def post(self, body: dict[str, Any], key: str, number: int) -> dict[str, Any]:
        """The next stage rejects, with a comment; the author starts a new draft from it."""
        session, who = db_session(), caller()
        decided = authoring.decide(
            session,
            "template",
            key,
            number,
            approve=False,
            actor=who.email,
            roles=who.roles,
            **body,
        )
        session.commit()
        return version(session, decided)


@blp.route("/<int:number>/publish")
class Publish(MethodView):
    @allow("review", "reviewer", "admin")
    @blp.arguments(schemas.PublishIn)
    @blp.response(200, schemas.VersionOut)
    def post(self, body: dict[str, Any], key: str, number: int) -> dict[str, Any]:
        """Approved → published; the previous one is superseded. An older one: a rollback.

        `replaces`, when given, is the published version the caller saw: 409 when another is.
        """
        session = db_session()
        published = authoring.publish(
            session, "template", key, number, actor=caller().email, **body
        )
        session.commit()
        return version(session, published)


@blp.route("/<int:number>/diff")
class Diff(MethodView):
    @allow("read")
    @blp.arguments(schemas.DiffQuery, location="query")
    @blp.response(200, schemas.DiffOut)
    def get(self, query: dict[str, Any], key: str, number: int) -> dict[str, Any]:
        """The per-part diff from version `against` to this one."""
        session = db_session()
        old = get_version(session, key, query["against"])
        new = get_version(session, key, number)
        return {"old": old.number, "new": new.number, "parts": diff_versions(old, new)}


@blp.route("/<int:number>/checks")
class Checks(MethodView):
    @allow("read")
    @blp.response(200, schemas.Finding(many=True))
    def get(self, key: str, number: int) -> list[Any]:
        """The pre-submission checks' findings: errors block submitting, warnings inform."""
        session = db_session()
        item = get_version(session, key, number)
        return run_checks(session, item, policy_for(session, item.template.category))


@blp.route("/<int:number>/suspend")
class Suspend(MethodView):
    @allow("review", "reviewer", "admin")
    @blp.arguments(message_schemas.SuspendIn)
    @blp.response(200, message_schemas.RecallOut)
    def post(self, body: dict[str, Any], key: str, number: int) -> dict[str, Any]:
        """Recall: the version sends nothing more and its unsent messages are held."""
        session = db_session()
        held = recall.suspend(session, key, number, actor=caller().email, reason=body["reason"])
        session.commit()
        return {"held": held}


@blp.route("/<int:number>/resume")
class Resume(MethodView):
    @allow("review", "reviewer", "admin")
    @blp.response(200, message_schemas.RecallOut)
    def post(self, key: str, number: int) -> dict[str, Any]:
        """Lift a recall: held messages are sent (or go back to their sign-off)."""
        session = db_session()
        released = recall.resume(session, key, number, actor=caller().email)
        session.commit()
        notify_dispatcher(released)
        return {"released": len(released)}
