"""`/api/v1/archive`: search what was sent, read one entry with its exact output, export."""

from __future__ import annotations

import io
from datetime import UTC
from typing import Any

from flask import Response, send_file
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters
from marshmallow import Schema, fields, validate

from hcs import archive
from hcs.archive.errors import NoCheckpoint
from hcs.errors import PermissionDenied
from hcs.http.api.blueprint import Blueprint
from hcs.http.auth import allow, caller
from hcs.http.extensions import db_session, services
from hcs.sealing import checkpoints
from templates_store.models import CATEGORIES, CHANNELS

blp = Blueprint(
    "archive",
    __name__,
    url_prefix="/api/v1/archive",
    description="The archive of every output sent, for auditors.",
)
ZIP_DOC = {"format": "binary", "type": "string"}


class ArchiveQuery(Schema):
    recipient = fields.String(
        validate=validate.Length(min=1, max=320),
        metadata={"description": "the normalised address: email, E.164 phone, chat id"},
    )
    template = fields.String(validate=validate.Length(min=1, max=100))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    message_id = fields.String(validate=validate.Length(min=1, max=64))
    since = fields.AwareDateTime(default_timezone=UTC)
    until = fields.AwareDateTime(default_timezone=UTC, metadata={"description": "exclusive"})
    test = fields.Boolean(
        metadata={"description": "true: only test keys' messages; false: only live ones"}
    )


class ArchiveEntryOut(Schema):
    id = fields.Integer()
    message_id = fields.String()
    template = fields.String()
    version = fields.Integer()
    closure_hash = fields.String()
    channel = fields.String()
    locale = fields.String()
    category = fields.String()
    content_type = fields.String()
    output_size = fields.Integer()
    provider = fields.String()
    provider_message_id = fields.String(allow_none=True)
    data_digest = fields.String()
    has_ai = fields.Boolean()
    sent_at = fields.DateTime()
    archived_at = fields.DateTime()
    seq = fields.Integer(allow_none=True)
    sealed = fields.Boolean()
    test = fields.Boolean(metadata={"description": "sent with a test key: no provider saw it"})


class DeliveryEventOut(Schema):
    kind = fields.String()
    at = fields.DateTime()
    provider = fields.String()
    detail = fields.Dict(allow_none=True)
    sealed = fields.Boolean()


class ArchiveEntryDetail(ArchiveEntryOut):
    state = fields.String(metadata={"description": "readable, erased or purged"})
    erased = fields.Boolean()
    purged = fields.Boolean()
    intact = fields.Boolean(metadata={"description": "the entry matches its seal"})
    recipient = fields.Dict(allow_none=True)
    data = fields.Dict(allow_none=True)
    ai = fields.Dict(allow_none=True)
    events = fields.List(fields.Nested(DeliveryEventOut))
    output = fields.String(allow_none=True)
    output_encoding = fields.String(allow_none=True, metadata={"description": "text or base64"})


def _keys() -> archive.Keyring:
    return archive.keyring(services().settings)


def _auditor() -> str:
    """The person reading: the archive holds personal data, so system keys do not read it."""
    who = caller()
    if not who.is_person:
        raise PermissionDenied(
            "the archive is read by a person (auditor or admin), not a system key"
        )
    return who.email


@blp.route("")
class Entries(MethodView):
    @allow("read", "auditor", "admin")
    @blp.arguments(ArchiveQuery, location="query")
    @blp.response(200, ArchiveEntryOut(many=True))
    @blp.paginate()
    def get(self, query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
        """Entries matching every filter, newest first (no personal data in the list). Audited."""
        session, actor = db_session(), _auditor()
        entries, total = archive.search(
            session,
            archive.ArchiveFilters(**query),
            actor=actor,
            limit=pagination_parameters.page_size,
            offset=min(pagination_parameters.first_item, 2**31 - 1),
            keys=_keys(),
        )
        session.commit()
        pagination_parameters.item_count = total
        return [archive.clear_fields(entry) for entry in entries]


class CheckpointOut(Schema):
    log = fields.String()
    size = fields.Integer()
    root = fields.String(metadata={"description": "hex SHA-256 of the RFC 9162 tree"})
    signed_at = fields.DateTime()
    checkpoint = fields.String(metadata={"description": "the C2SP signed note, verbatim"})


@blp.route("/checkpoint")
class LatestCheckpoint(MethodView):
    @allow("read", "auditor", "admin")
    @blp.response(200, CheckpointOut)
    def get(self) -> dict[str, Any]:
        """The archive's latest signed checkpoint (tree size, root, time, Ed25519 signature)."""
        latest = checkpoints.latest_checkpoint(db_session(), archive.ArchiveEntry.seal_log)
        if latest is None:
            raise NoCheckpoint("the archive has no signed checkpoint yet (HCS_SEAL_SIGNING_KEY)")
        return {
            "log": latest.log,
            "size": latest.size,
            "root": latest.root,
            "signed_at": latest.signed_at,
            "checkpoint": latest.note,
        }


@blp.route("/<int:entry_id>")
class Entry(MethodView):
    @allow("read", "auditor", "admin")
    @blp.response(200, ArchiveEntryDetail)
    def get(self, entry_id: int) -> dict[str, Any]:
        """One entry: its exact output, delivery events, AI provenance, integrity. Audited."""
        session = db_session()
        opened = archive.read_entry(session, entry_id, actor=_auditor(), keys=_keys())
        session.commit()
        return archive.describe(opened)


@blp.route("/export")
class Export(MethodView):
    @allow("read", "auditor", "admin")
    @blp.arguments(ArchiveQuery, location="query")
    @blp.response(200, ZIP_DOC, content_type="application/zip")
    def get(self, query: dict[str, Any]) -> Response:
        """A zip of what a search finds: entries.jsonl and each output as a file. Audited."""
        session, out, actor = db_session(), io.BytesIO(), _auditor()
        filters = archive.ArchiveFilters(**query)
        archive.export_search(session, filters, out, actor=actor, keys=_keys())
        session.commit()
        out.seek(0)
        return send_file(
            out, mimetype="application/zip", as_attachment=True, download_name="archive.zip"
        )
