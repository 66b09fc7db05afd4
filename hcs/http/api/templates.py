"""`/api/v1/templates`: list, create, read, retire and preview templates."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from hcs.dispatch import recall
from hcs.governance import authoring
from hcs.governance.components import templates_needing_update
from hcs.http.api import message_schemas, schemas
from hcs.http.api.blueprint import Blueprint, ListPage
from hcs.http.api.presenters import template
from hcs.http.auth import READS_ON, allow, caller
from hcs.http.extensions import db_session
from hcs.http.idempotent import idempotent
from hcs.previews import channel as previews
from templates_store.lookup import get_template, search_templates

blp = Blueprint(
    "templates",
    __name__,
    url_prefix="/api/v1/templates",
    description="Templates: the stable keys messages are sent by.",
)


@blp.route("")
class Templates(MethodView):
    @allow("read")
    @blp.arguments(schemas.TemplateQuery, location="query")
    @blp.response(200, schemas.TemplateOut(many=True))
    @blp.paginate(ListPage)
    def get(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        """Search templates by key or name, category and channel."""
        found = search_templates(db_session(), **query)
        return [template(item) for item in found]

    @allow("templates", "author")
    @blp.arguments(schemas.TemplateIn)
    @idempotent()
    @blp.response(201, schemas.TemplateOut)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a template (no versions yet: add a draft next)."""
        session = db_session()
        created = authoring.create(session, "template", body, actor=caller().email)
        session.commit()
        return template(created)


@blp.route("/needs-update")
class NeedsUpdate(MethodView):
    @allow("read")
    @blp.response(200, schemas.StalePin(many=True))
    def get(self) -> list[Any]:
        """Published versions pinning an older block than the one now published."""
        return templates_needing_update(db_session())


@blp.route("/<key>")
class OneTemplate(MethodView):
    @allow("read")
    @blp.response(200, schemas.TemplateOut)
    def get(self, key: str) -> dict[str, Any]:
        """One template, its published version number and its versions."""
        return template(get_template(db_session(), key))


@blp.route("/<key>/retire")
class Retire(MethodView):
    @allow("review", "reviewer", "admin")
    @blp.response(200, schemas.TemplateOut)
    def post(self, key: str) -> dict[str, Any]:
        """Retire a template: every send of it stops."""
        session = db_session()
        retired = authoring.retire(session, key, actor=caller().email)
        session.commit()
        return template(retired)


# A preview only reads: it keeps the key check's read transaction, so a slow render holds no
# write lock (on SQLite) while it runs.
READS_ON.add("templates.Preview")


@blp.route("/<key>/preview")
class Preview(MethodView):
    @allow("read")
    @blp.arguments(schemas.PreviewIn)
    @blp.response(200, schemas.PreviewOut)
    def post(self, body: dict[str, Any], key: str) -> dict[str, Any]:
        """Render what a send would send (the published version), or a named version watermarked."""
        result = previews.preview(
            db_session(),
            key,
            body["channel"],
            locale=body.get("locale"),
            data=body.get("data"),
            version=body.get("version"),
        )
        rendered = result.rendered
        return {
            "channel": rendered.channel,
            "locale": rendered.locale,
            "version": rendered.version,
            "is_preview": rendered.is_preview,
            "closure_hash": rendered.closure_hash,
            "output": result.output,
            "warnings": result.warnings,
        }


@blp.route("/<key>/impact")
class Impact(MethodView):
    @allow("read", "auditor", "admin")
    @blp.arguments(message_schemas.ImpactQuery, location="query")
    @blp.response(200, message_schemas.ImpactRow(many=True))
    @blp.paginate(ListPage)
    def get(self, query: dict[str, Any], key: str) -> list[dict[str, Any]]:
        """Who received which version of this template, per channel, in a date range."""
        get_template(db_session(), key)
        return recall.impact(db_session(), key, **query)
