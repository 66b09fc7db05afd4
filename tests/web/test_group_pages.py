"""The admin page for reviewer groups: admins only, CSRF, audited, the CLI's domain function."""

from __future__ import annotations

from sqlalchemy import select

from hcs.audit import AuditEntry
from hcs.identity.groups import groups_of
from hcs.infrastructure.db import transaction
from tests.support.web import Person
from tests.support.world import World

LEE = "/admin/groups/lee@example.com"


def _groups(world: World, email: str) -> set[str]:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        return groups_of(session, email)


def test_an_admin_sees_each_group_with_the_stages_it_holds_and_its_members(
    sqlite_world: World,
) -> None:
    page = Person(sqlite_world.app, "root@example.com").get("/admin/groups")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    legal = page.text[page.text.index('id="group-legal"') :]
    legal = legal[: legal.index("</tr>")]
    assert "marketing: legal" in legal and "component: legal" in legal
    assert "lee@example.com" in legal and "ana@example.com" not in legal


def test_an_admin_moves_a_reviewer_between_groups_and_it_is_audited(sqlite_world: World) -> None:
    root = Person(sqlite_world.app, "root@example.com")
    answer = root.post(LEE, {"add": "privacy, claims", "remove": "legal"})
    assert answer.status_code == 302
    assert _groups(sqlite_world, "lee@example.com") == {
        "brand",
        "claims",
        "component",
        "privacy",
        "security",
    }
    assert "privacy" in root.get("/admin/groups").text
    with transaction(sqlite_world.app.extensions["hcs"].sessions) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.groups")).one()
    assert entry.actor == "root@example.com" and entry.target == "lee@example.com"
    assert entry.after == {"groups": ["brand", "claims", "component", "privacy", "security"]}


def test_a_bad_group_name_is_shown_on_the_page_and_changes_nothing(sqlite_world: World) -> None:
    before = _groups(sqlite_world, "lee@example.com")
    answer = Person(sqlite_world.app, "root@example.com").post(
        LEE, {"add": "Not/A Group", "remove": "legal"}
    )
    assert answer.status_code == 422 and 'id="groups-error"' in answer.text
    assert "cannot be a group name" in answer.text
    assert _groups(sqlite_world, "lee@example.com") == before


def test_only_an_admin_with_the_forms_token_changes_groups(sqlite_world: World) -> None:
    before = _groups(sqlite_world, "lee@example.com")
    lee = Person(sqlite_world.app, "lee@example.com")
    assert lee.get("/admin/groups").status_code == 403
    assert lee.post(LEE, {"remove": "legal"}).status_code == 403
    root = Person(sqlite_world.app, "root@example.com")
    assert root.post(LEE, {"remove": "legal"}, csrf=False).status_code == 400
    assert _groups(sqlite_world, "lee@example.com") == before
