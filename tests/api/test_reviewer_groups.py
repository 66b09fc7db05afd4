"""Reviewer groups: a stage is decided only by a member of the group that holds it."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import select

from hcs.audit import AuditEntry
from hcs.identity import create_api_key, create_user
from hcs.identity.users import get_user
from hcs.infrastructure import migrate
from hcs.infrastructure.db import make_engine, transaction
from tests.support.databases import committed_session
from tests.support.flows import new_template
from tests.support.world import ALL_SCOPES, World


def _reviewer(world: World, email: str, groups: list[str]) -> None:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        create_user(
            session, email=email, roles=["reviewer"], groups=groups, password="x" * 12, actor="t"
        )
        _, world.keys[email] = create_api_key(
            session, name=email.split("@")[0], scopes=ALL_SCOPES, user_email=email, actor="t"
        )


def test_only_a_member_of_the_stage_group_decides_it(world: World) -> None:
    _reviewer(world, "brandy@example.com", ["brand"])
    _reviewer(world, "lexi@example.com", ["legal"])
    new_template(world)  # transactional: one stage, legal
    world.as_("ana@example.com").post("/templates/order-confirmation/versions/1/submit")
    refused = world.as_("brandy@example.com").post(
        "/templates/order-confirmation/versions/1/approve", {"comment": "looks fine"}
    )
    assert refused.status_code == 403
    assert refused.get_json()["rule"] == "ReviewerGroup"
    assert "'legal'" in refused.get_json()["message"]
    queue = world.as_("brandy@example.com").get("/reviews").get_json()
    assert all(item["key"] != "order-confirmation" for item in queue)
    assert any(
        item["key"] == "order-confirmation"
        for item in world.as_("lexi@example.com").get("/reviews").get_json()
    )
    approved = world.as_("lexi@example.com").post(
        "/templates/order-confirmation/versions/1/approve", {"comment": "ok"}
    )
    assert approved.status_code == 200 and approved.get_json()["status"] == "approved"


def test_an_admin_manages_people_and_groups_under_the_api(world: World) -> None:
    root = world.as_("root@example.com")
    created = root.post(
        "/users", {"email": "lou@example.com", "roles": ["reviewer"], "groups": ["legal"]}
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["groups"] == ["legal"]
    changed = root.post("/users/lou@example.com/groups", {"add": ["privacy"], "remove": ["legal"]})
    assert changed.status_code == 200 and changed.get_json()["groups"] == ["privacy"]
    bad = root.post("/users/lou@example.com/groups", {"add": ["Not A Group!"]})
    assert bad.status_code == 422 and "add" in bad.get_json()["errors"]
    assert world.as_("lee@example.com").get("/users").status_code == 403
    listed = {u["email"]: u["groups"] for u in root.get("/users").get_json()}
    assert listed["lou@example.com"] == ["privacy"]
    with transaction(world.app.extensions["hcs"].sessions) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.groups")).one()
        assert entry.actor == "root@example.com"
        assert entry.before == {"groups": ["legal"]} and entry.after == {"groups": ["privacy"]}


def test_upgrading_gives_existing_reviewers_the_groups_of_the_stages(
    fresh_database_url: str, tmp_path: Path
) -> None:
    migrate.upgrade(fresh_database_url, "0021")
    engine = make_engine(fresh_database_url)
    users = sa.table(
        "users",
        sa.column("email"),
        sa.column("roles", sa.JSON),
        sa.column("password_hash"),
        sa.column("name"),
        sa.column("is_active"),
        sa.column("created_at"),
        sa.column("session_generation"),
    )
    policies = sa.table(
        "approval_policies",
        sa.column("category"),
        sa.column("stages", sa.JSON),
        sa.column("review_days"),
        sa.column("checks", sa.JSON),
        sa.column("link_domains", sa.JSON),
        sa.column("updated_at"),
        sa.column("updated_by"),
    )
    now = sa.func.current_timestamp()
    with engine.begin() as conn:
        for email, roles in (("lee@example.com", ["reviewer"]), ("ana@example.com", ["author"])):
            conn.execute(
                users.insert().values(
                    email=email,
                    roles=roles,
                    password_hash="-",
                    name="",
                    is_active=True,
                    created_at=now,
                    session_generation=0,
                )
            )
        conn.execute(
            policies.insert().values(
                category="marketing",
                stages=[{"name": "privacy", "role": "reviewer"}],
                review_days=180,
                checks={},
                link_domains=[],
                updated_at=now,
                updated_by="t",
            )
        )
    engine.dispose()
    migrate.upgrade(fresh_database_url)
    with committed_session(fresh_database_url) as session:
        assert get_user(session, "lee@example.com").groups == ["legal", "privacy", "security"]
        assert get_user(session, "ana@example.com").groups == []
