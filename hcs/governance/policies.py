"""Approval policies per category: defaults in code, an admin's changes in the database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hcs.ai.topics import TOPICS
from hcs.audit import record
from hcs.governance.models import ApprovalPolicy
from hcs.identity.models import ROLES, bad_groups
from templates_store.errors import NotFound, ValidationFailed
from templates_store.models import CATEGORIES

# Blocks and themes are approved under this pseudo-category.
COMPONENTS = "component"
POLICY_KEYS = (*CATEGORIES, COMPONENTS)
CHECKS = (
    "required_blocks",
    "link_domains",
    "image_alt",
    "html_lang",
    "sms_segments",
    "stale_translations",
)
SEVERITIES = ("error", "warning", "off")


@dataclass(frozen=True)
class Policy:
    """What a category's versions need before they may be published."""

    category: str
    stages: list[dict[str, str]]
    review_days: int
    checks: dict[str, str] = field(default_factory=dict)
    link_domains: list[str] = field(default_factory=list)
    forbidden_topics: list[str] | None = None

    def guardrail_options(self) -> dict[str, Any]:
        """What AI text of this category is checked against: link allowlist, forbidden topics."""
        return {"link_domains": self.link_domains, "forbidden": self.forbidden_topics}

    @property
    def stage_names(self) -> list[str]:
        """The stages in the order they must approve."""
        return [stage["name"] for stage in self.stages]

    def group_of(self, name: str) -> str:
        """The reviewer group that holds a stage (by default, the group named like it)."""
        stage = self.stage(name)
        return stage.get("group") or stage["name"]

    def stage(self, name: str) -> dict[str, str]:
        """One stage by name, or `NotFound`."""
        for stage in self.stages:
            if stage["name"] == name:
                return stage
        raise NotFound(f"the {self.category} policy has no stage {name!r}")


def _stages(*names: str) -> list[dict[str, str]]:
    return [{"name": name, "role": "reviewer", "group": name} for name in names]


_STRICT = {
    "required_blocks": "error",
    "link_domains": "error",
    "image_alt": "warning",
    "html_lang": "warning",
    "sms_segments": "warning",
    "stale_translations": "warning",
}
DEFAULTS: dict[str, Policy] = {
    "marketing": Policy("marketing", _stages("legal", "brand"), 180, dict(_STRICT)),
    "transactional": Policy("transactional", _stages("legal"), 365, dict(_STRICT)),
    "service": Policy("service", _stages("legal"), 365, dict(_STRICT)),
    "sensitive": Policy(
        "sensitive",
        _stages("legal", "security"),
        180,
        {**_STRICT, "stale_translations": "error", "sms_segments": "error"},
    ),
    COMPONENTS: Policy(COMPONENTS, _stages("legal"), 365, {}),
}


def _from_row(row: ApprovalPolicy) -> Policy:
    stages = [{**stage, "group": stage.get("group") or stage["name"]} for stage in row.stages]
    return Policy(
        row.category,
        stages,
        row.review_days,
        row.checks,
        row.link_domains,
        row.forbidden_topics,
    )


def policy_for(session: Session, category: str) -> Policy:
    """The policy in force for a category: the admin's, else the default."""
    if category not in DEFAULTS:
        raise NotFound(f"no policy for category {category!r}")
    row = session.scalar(select(ApprovalPolicy).where(ApprovalPolicy.category == category))
    return _from_row(row) if row else DEFAULTS[category]


def all_policies(session: Session) -> list[Policy]:
    """Every category's policy in force."""
    return [policy_for(session, category) for category in POLICY_KEYS]


def _check_stages(stages: Any) -> list[dict[str, str]]:
    if not isinstance(stages, list) or not stages:
        raise ValidationFailed({"stages": ["needs at least one stage"]})
    names = set()
    for index, stage in enumerate(stages):
        if not isinstance(stage, dict) or not str(stage.get("name", "")).strip():
            raise ValidationFailed({f"stages.{index}.name": ["is required"]})
        if stage.get("role") not in ROLES:
            raise ValidationFailed({f"stages.{index}.role": [f"must be one of {', '.join(ROLES)}"]})
        if stage["name"] in names:
            raise ValidationFailed({f"stages.{index}.name": ["appears twice"]})
        if bad_groups([stage.get("group") or str(stage["name"]).strip()]):
            message = "a group name: lower-case letters, digits, - and _ (default: the name)"
            raise ValidationFailed({f"stages.{index}.group": [message]})
        names.add(stage["name"])
    return [
        {
            "name": str(s["name"]).strip(),
            "role": s["role"],
            "group": s.get("group") or str(s["name"]).strip(),
        }
        for s in stages
    ]


def _check_checks(checks: Any) -> dict[str, str]:
    if not isinstance(checks, dict):
        raise ValidationFailed({"checks": ["must map check names to error, warning or off"]})
    for name, severity in checks.items():
        if name not in CHECKS:
            raise ValidationFailed(
                {f"checks.{name}": [f"unknown check; known: {', '.join(CHECKS)}"]}
            )
        if severity not in SEVERITIES:
            raise ValidationFailed({f"checks.{name}": ["must be error, warning or off"]})
    return dict(checks)


def _check_topics(topics: Any) -> list[str] | None:
    if topics is None:
        return None
    if not isinstance(topics, list) or any(t not in TOPICS for t in topics):
        raise ValidationFailed(
            {"forbidden_topics": [f"must be a list of topics among {', '.join(TOPICS)}"]}
        )
    return sorted(set(topics))


def update_policy(
    session: Session, category: str, changes: Mapping[str, Any], *, actor: str
) -> Policy:
    """Change a category's stages, re-review period, checks or link allowlist (audited)."""
    before = policy_for(session, category)
    row = session.scalar(select(ApprovalPolicy).where(ApprovalPolicy.category == category))
    if row is None:
        row = ApprovalPolicy(
            category=category,
            stages=before.stages,
            review_days=before.review_days,
            checks=before.checks,
            link_domains=before.link_domains,
            forbidden_topics=before.forbidden_topics,
        )
        session.add(row)
    if "stages" in changes:
        row.stages = _check_stages(changes["stages"])
    if "review_days" in changes:
        days = changes["review_days"]
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3650:
            raise ValidationFailed({"review_days": ["must be a whole number of days, 1 to 3650"]})
        row.review_days = days
    if "checks" in changes:
        row.checks = {**row.checks, **_check_checks(changes["checks"])}
    if "link_domains" in changes:
        domains = changes["link_domains"]
        if not isinstance(domains, list) or not all(isinstance(d, str) and d for d in domains):
            raise ValidationFailed({"link_domains": ["must be a list of domain names"]})
        row.link_domains = sorted({d.lower().strip(".") for d in domains})
    if "forbidden_topics" in changes:
        row.forbidden_topics = _check_topics(changes["forbidden_topics"])
    row.updated_by = actor
    session.flush()
    after = _from_row(row)
    record(
        session,
        actor=actor,
        action="policy.update",
        target_type="policy",
        target=category,
        before=_as_dict(before),
        after=_as_dict(after),
    )
    return after


def _as_dict(policy: Policy) -> dict[str, Any]:
    return {
        "stages": policy.stages,
        "review_days": policy.review_days,
        "checks": policy.checks,
        "link_domains": policy.link_domains,
        "forbidden_topics": policy.forbidden_topics,
    }
