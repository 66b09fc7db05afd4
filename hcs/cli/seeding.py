"""First-run set-up: an admin when there is none, and the demo set, loaded and published once."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hcs.governance import authoring
from hcs.governance.kinds import policy_of
from hcs.identity import create_user, ensure_admin
from hcs.identity.groups import change_groups
from hcs.identity.users import find_user, get_user
from templates_store.files import import_all
from templates_store.models import Template

DEMO_AUTHOR = "demo@hcs.example"
ADMIN_EMAIL = "admin@hcs.example"
# One person per role for a first hour with the demo: (email, roles, reviewer groups, name).
DEMO_PEOPLE: tuple[tuple[str, list[str], list[str], str], ...] = (
    ("author@hcs.example", ["author"], [], "Demo author"),
    ("legal.reviewer@hcs.example", ["reviewer"], ["legal"], "Demo legal reviewer"),
    ("brand.reviewer@hcs.example", ["reviewer"], ["brand"], "Demo brand reviewer"),
    ("signoff@hcs.example", ["signoff"], [], "Demo sign-off agent"),
    ("auditor@hcs.example", ["auditor"], [], "Demo auditor"),
)


def demo_directory() -> Path:
    """The demo set shipped inside the `templates_store` package."""
    return Path(str(resources.files("templates_store") / "demo"))


def login_line(email: str, roles: list[str], password: str) -> str:
    """How `hcs init` shows a login it created: once, with its generated password."""
    return f"{'/'.join(roles)}: sign in as {email} with password {password} (shown once)"


def demo_people(session: Session) -> Iterator[str]:
    """A login line for each demo person created now; nothing for those already there."""
    for email, roles, groups, name in DEMO_PEOPLE:
        if find_user(session, email) is not None:
            continue
        _, password = create_user(
            session, email=email, roles=roles, name=name, groups=groups, actor="hcs init"
        )
        yield login_line(email, roles, password or "")


def _reviewer(session: Session, stage: str, group: str) -> str:
    """The demo reviewer of a stage, a member of the group that holds it."""
    email = f"{stage}.reviewer@hcs.example"
    if find_user(session, email) is None:
        create_user(
            session,
            email=email,
            roles=["reviewer"],
            name=f"Demo {stage} reviewer",
            groups=[group],
            actor="hcs init",
        )
    elif group not in get_user(session, email).groups:
        change_groups(session, email, add=[group], actor="hcs init")
    return email


def _through_review(session: Session, kind: str, key: str, number: int) -> None:
    """Submit, approve each stage with its own demo reviewer, and publish."""
    version = authoring.submit(session, kind, key, number, actor=DEMO_AUTHOR)
    policy = policy_of(session, kind, version)
    for stage in policy.stage_names:
        authoring.decide(
            session,
            kind,
            key,
            number,
            approve=True,
            comment="Demo content, reviewed.",
            actor=_reviewer(session, stage, policy.group_of(stage)),
            roles={"reviewer"},
        )
    authoring.publish(
        session, kind, key, number, actor=f"{policy.stage_names[0]}.reviewer@hcs.example"
    )


def load_demo(session: Session) -> list[str]:
    """Import the demo set and take it through review to published, as demo reviewers."""
    report = import_all(session, demo_directory(), author=DEMO_AUTHOR)
    for entry in report.drafts:
        key, number = entry.rsplit(" v", 1)
        kind = "template"
        for prefix in ("_blocks/", "_themes/"):
            if key.startswith(prefix):
                kind, key = prefix[1:-2], key.removeprefix(prefix)
        _through_review(session, kind, key, int(number))
    return report.drafts


def initialise(session: Session, *, demo: bool) -> Iterator[str]:
    """Lines describing what was set up; the demo set loads only into an empty repository."""
    password = ensure_admin(session, ADMIN_EMAIL, actor="hcs init")
    if password:
        yield login_line(ADMIN_EMAIL, ["admin"], password)
    else:
        yield "admin: already present"
    if demo:
        yield from demo_people(session)
        if session.scalar(select(func.count()).select_from(Template)):
            yield "demo templates: already loaded"
        else:
            loaded = load_demo(session)
            yield f"demo templates: loaded {len(loaded)} themes, blocks and templates"
