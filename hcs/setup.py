"""First-run set-up: an admin when there is none, and the demo set of templates, loaded once."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hcs.identity import ensure_admin
from templates_store.blocks import submit_block, submit_theme
from templates_store.files import import_all
from templates_store.models import Template
from templates_store.versioning import submit

DEMO_AUTHOR = "demo@hcs.example"
ADMIN_EMAIL = "admin@hcs.example"


def demo_directory() -> Path:
    """The demo set shipped inside the `templates_store` package."""
    return Path(str(resources.files("templates_store") / "demo"))


def load_demo(session: Session) -> list[str]:
    """Import the demo themes, blocks and templates and submit each for review."""
    report = import_all(session, demo_directory(), author=DEMO_AUTHOR)
    for entry in report.drafts:
        key, number = entry.rsplit(" v", 1)
        if key.startswith("_blocks/"):
            submit_block(session, key.removeprefix("_blocks/"), int(number))
        elif key.startswith("_themes/"):
            submit_theme(session, key.removeprefix("_themes/"), int(number))
        else:
            submit(session, key, int(number))
    return report.drafts


def initialise(session: Session, *, demo: bool) -> Iterator[str]:
    """Lines describing what was set up; the demo set loads only into an empty repository."""
    password = ensure_admin(session, ADMIN_EMAIL, actor="hcs init")
    if password:
        yield f"admin: sign in as {ADMIN_EMAIL} with password {password} (shown once)"
    else:
        yield "admin: already present"
    if demo:
        if session.scalar(select(func.count()).select_from(Template)):
            yield "demo templates: already loaded"
        else:
            loaded = load_demo(session)
            yield f"demo templates: loaded {len(loaded)} themes, blocks and templates"
