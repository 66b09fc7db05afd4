"""`/api/v1/policies`: the approval policy of each category, changed by admins."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from hcs.governance.policies import Policy, all_policies, policy_for, update_policy
from hcs.http.api import schemas
from hcs.http.api.blueprint import Blueprint
from hcs.http.auth import allow, caller
from hcs.http.extensions import db_session

blp = Blueprint(
    "policies",
    __name__,
    url_prefix="/api/v1/policies",
    description="Approval policies: stages, checks and re-review period per category.",
)


@blp.route("")
class Policies(MethodView):
    @allow("read")
    @blp.response(200, schemas.PolicyOut(many=True))
    def get(self) -> list[Policy]:
        """Every category's policy in force (`component` covers blocks and themes)."""
        return all_policies(db_session())


@blp.route("/<category>")
class OnePolicy(MethodView):
    @allow("read")
    @blp.response(200, schemas.PolicyOut)
    def get(self, category: str) -> Policy:
        """One category's policy."""
        return policy_for(db_session(), category)

    @allow("admin", "admin")
    @blp.arguments(schemas.PolicyPatch)
    @blp.response(200, schemas.PolicyOut)
    def patch(self, body: dict[str, Any], category: str) -> Policy:
        """Change stages, checks, link allowlist or re-review period (audited)."""
        session = db_session()
        changed = update_policy(session, category, body, actor=caller().email)
        session.commit()
        return changed
