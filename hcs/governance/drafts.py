"""What an author should correct in a saved draft before it can be submitted."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hcs.ai.slots import slot_errors
from hcs.governance.policies import policy_for
from templates_store.models import TemplateVersion


def slot_problems(session: Session, version: TemplateVersion) -> dict[str, list[str]]:
    """Every field of every AI slot that submitting would refuse, at once."""
    policy = policy_for(session, version.template.category)
    return slot_errors(
        version.ai_slots,
        version.variables,
        version.template.category,
        **policy.guardrail_options(),
    )
