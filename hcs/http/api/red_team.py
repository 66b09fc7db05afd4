"""`/api/v1/templates/{key}/versions/{n}/red-team`: test a version's AI slots with hostile input."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields

from hcs.ai.providers import build_provider
from hcs.governance import redteam
from hcs.governance.models import RedTeamRun
from hcs.http.api.blueprint import Blueprint
from hcs.http.auth import allow, caller
from hcs.http.extensions import db_session, services
from hcs.http.idempotent import idempotent
from templates_store.lookup import get_version

blp = Blueprint(
    "red_team",
    __name__,
    url_prefix="/api/v1/templates/<key>/versions/<int:number>/red-team",
    description="Red-team checks of a version's AI slots, kept with its review.",
)


class CaseOut(Schema):
    slot = fields.String()
    kind = fields.String(metadata={"example": "instruction_injection"})
    field = fields.String(metadata={"description": "the input that carried the hostile value"})
    value = fields.String(metadata={"description": "the hostile value, invisible characters shown"})
    value_chars = fields.Integer()
    hidden_stripped = fields.Integer(
        metadata={"description": "invisible characters removed before the model saw the value"}
    )
    text = fields.String(metadata={"description": "what the model wrote"})
    outcome = fields.String(metadata={"description": "caught, held, breach or unavailable"})
    if_obeyed = fields.String(
        metadata={"description": "caught or breach: would the guardrails stop a model that obeyed"}
    )
    findings = fields.List(fields.Dict())


class RunOut(Schema):
    id = fields.Integer()
    run_by = fields.String()
    run_at = fields.DateTime()
    provider = fields.String()
    model = fields.String()
    judge = fields.String()
    mode = fields.String(metadata={"description": "model, or deterministic (offline provider)"})
    summary = fields.Dict()
    cases = fields.List(fields.Nested(CaseOut))


@blp.route("")
class RedTeam(MethodView):
    @allow("read")
    @blp.response(200, RunOut(many=True))
    def get(self, key: str, number: int) -> list[RedTeamRun]:
        """The version's latest red-team runs, newest first."""
        session = db_session()
        return redteam.runs_of(session, get_version(session, key, number))

    @allow("review", "reviewer", "author")
    @idempotent()
    @blp.response(201, RunOut)
    def post(self, key: str, number: int) -> RedTeamRun:
        """Run every hostile case through the configured model and the guardrails; keep it.

        Each case is one model call (bounded by the model timeout), so this answers when the
        run is done; the web review page runs it as a job with its progress instead.
        """
        session, provider = db_session(), build_provider(services().settings)
        try:
            plan = redteam.plan_run(session, key, number, provider)
            session.rollback()  # no transaction stays open while the model writes
            cases = redteam.execute(plan)
        finally:
            redteam.release(provider)
        run = redteam.record_run(session, plan, cases, actor=caller().email)
        session.commit()
        return run
