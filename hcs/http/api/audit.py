"""`/api/v1/audit`: the tamper-evident log of governance actions, newest first."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from hcs import audit
from hcs.http.api import schemas
from hcs.http.api.blueprint import Blueprint
from hcs.http.auth import allow
from hcs.http.extensions import db_session

blp = Blueprint(
    "audit", __name__, url_prefix="/api/v1/audit", description="The audit log, for auditors."
)


@blp.route("")
class AuditLog(MethodView):
    @allow("read", "auditor", "admin")
    @blp.arguments(schemas.AuditQuery, location="query")
    @blp.response(200, schemas.AuditEntry(many=True))
    @blp.paginate()
    def get(self, query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
        """Governance actions, newest first, filtered by actor, action, target and time."""
        entries, total = audit.list_entries(
            db_session(),
            limit=pagination_parameters.page_size,
            # A page far past the end is simply empty (and must not overflow the database).
            offset=min(pagination_parameters.first_item, 2**31 - 1),
            **query,
        )
        pagination_parameters.item_count = total
        return [{**_fields(e), "sealed": e.seq is not None} for e in entries]


def _fields(entry: Any) -> dict[str, Any]:
    names = (
        "id",
        "at",
        "actor",
        "action",
        "target_type",
        "target",
        "before",
        "after",
        "detail",
        "seq",
    )
    return {name: getattr(entry, name) for name in names}
