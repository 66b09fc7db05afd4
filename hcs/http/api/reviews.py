"""`/api/v1/reviews`: what waits for reviewers, and published versions due for re-review."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from hcs.governance.reviews import PendingReview, overdue_versions, review_queue
from hcs.http.api import schemas
from hcs.http.api.blueprint import Blueprint, ListPage
from hcs.http.auth import allow, caller
from hcs.http.extensions import db_session
from hcs.identity.groups import groups_of

blp = Blueprint(
    "reviews",
    __name__,
    url_prefix="/api/v1/reviews",
    description="Review queues and periodic re-review.",
)


@blp.route("")
class Queue(MethodView):
    @allow("read")
    @blp.response(200, schemas.PendingReview(many=True))
    @blp.paginate(ListPage)
    def get(self) -> list[PendingReview]:
        """Versions in review whose next stage the caller may decide (roles, groups, four eyes)."""
        who, session = caller(), db_session()
        if not who.is_person:
            return review_queue(session)
        return review_queue(session, who.roles, groups_of(session, who.email), who.email)


@blp.route("/overdue")
class Overdue(MethodView):
    @allow("read")
    @blp.response(200, schemas.Overdue(many=True))
    @blp.paginate(ListPage)
    def get(self) -> list[dict[str, Any]]:
        """Published versions whose re-review date has passed."""
        return [
            {"template": v.template.key, "version": v.number, "review_due_at": v.review_due_at}
            for v in overdue_versions(db_session())
        ]
