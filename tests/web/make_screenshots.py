"""Screenshots of the editor, the review diff and the sign-off queue for the README.

Run `python -m tests.web.make_screenshots docs/screenshots` (needs /usr/bin/chromium).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page

from hcs.cli.seeding import load_demo
from hcs.governance import authoring
from hcs.infrastructure.db import transaction
from templates_store import versioning
from tests.support.flows import ai_template, dispatch, send_ai
from tests.support.server import serving
from tests.support.web import PASSWORD, choose_tab, chromium
from tests.support.world import World, databases_in, own_world


def _second_version(session, key: str, old: str, new: str) -> int:  # type: ignore[no-untyped-def]
    draft = versioning.create_draft(session, key, author="ana@example.com")
    parts = {
        channel: {
            locale: {
                field: value.replace(old, new) if isinstance(value, str) else value
                for field, value in fields.items()
            }
            for locale, fields in locales.items()
        }
        for channel, locales in draft.parts.items()
    }
    versioning.update_draft(session, key, draft.number, {"parts": parts})
    authoring.submit(session, "template", key, draft.number, actor="ana@example.com")
    return draft.number


def _text(*runs: str | dict[str, Any]) -> list[dict[str, Any]]:
    return [{"text": r} if isinstance(r, str) else r for r in runs]


ORDER_DESIGN = {
    "version": 1,
    "blocks": [
        {"type": "heading", "level": 1, "text": _text("Thank you, ", {"var": "first_name"}, "!")},
        {
            "type": "paragraph",
            "text": _text(
                "We have received your order ", {"var": "order_id"}, " and it is being packed."
            ),
        },
        {
            "type": "repeat",
            "variable": "items",
            "as": "item",
            "blocks": [
                {
                    "type": "paragraph",
                    "text": _text({"var": "item.name"}, " × ", {"var": "item.quantity"}),
                }
            ],
        },
        {
            "type": "columns",
            "left": [
                {
                    "type": "paragraph",
                    "text": _text(
                        {"text": "Total paid: ", "bold": True},
                        {"var": "order_total", "filter": "money"},
                    ),
                }
            ],
            "right": [
                {
                    "type": "button",
                    "label": _text("Track your order"),
                    "url": "https://www.northwind.example/orders",
                }
            ],
        },
        {
            "type": "if",
            "variable": "delivery_date",
            "blocks": [
                {
                    "type": "paragraph",
                    "text": _text(
                        "It should arrive on ", {"var": "delivery_date", "filter": "date"}, "."
                    ),
                }
            ],
        },
        {"type": "content", "key": "footer"},
    ],
}


def _visual_draft(session) -> int:  # type: ignore[no-untyped-def]
    """A draft of the order confirmation whose email is designed in the visual editor."""
    draft = versioning.create_draft(session, "order-confirmation", author="ana@example.com")
    email = {"subject": draft.parts["email"]["en"]["subject"], "blocks": ORDER_DESIGN}
    parts = {**draft.parts, "email": {"en": email}}
    versioning.update_draft(session, "order-confirmation", draft.number, {"parts": parts})
    return draft.number


def _sign_in(browser: Browser, base_url: str, email: str) -> Page:
    page = browser.new_page(base_url=base_url, viewport={"width": 1366, "height": 860})
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")
    return page


def main(out: Path) -> None:
    """Seed a world with the demo set and AI messages, serve it, and take the screenshots."""
    out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp())
    with own_world(databases_in(folder / "databases"), "sqlite", folder) as world:
        _shoot(world, out)


def _shoot(world: World, out: Path) -> None:
    """The editor, the review page and the sign-off queue, as Ana, Lee and Sam see them."""
    sessions = world.app.extensions["hcs"].sessions
    with transaction(sessions) as session:
        load_demo(session)
    ai_template(world)
    for name in ("Ana", "Bo"):
        send_ai(world, first_name=name)
    dispatch(world)
    with transaction(sessions) as session:
        review = _second_version(session, "order-confirmation", "is confirmed", "is on its way")
        draft = versioning.create_draft(session, "payment-due", author="ana@example.com").number
        visual = _visual_draft(session)
        ai_draft = versioning.create_draft(session, "delivery-delay", author="ana@example.com")
    with serving(world.app) as base_url, chromium() as browser:
        ana = _sign_in(browser, base_url, "ana@example.com")
        ana.goto(f"/templates/order-confirmation/versions/{visual}/edit")
        ana.locator("#preview section").first.wait_for()
        ana.wait_for_timeout(1500)
        ana.screenshot(path=str(out / "visual-editor.png"))
        ana.goto(f"/templates/payment-due/versions/{draft}/edit")
        ana.locator("iframe").first.wait_for()
        ana.wait_for_timeout(1500)  # the frames load after the preview swaps in
        ana.screenshot(path=str(out / "editor.png"))
        ana.wait_for_load_state("networkidle")  # the letter frames hold SQLite's write lock
        lee = _sign_in(browser, base_url, "lee@example.com")
        lee.goto(f"/templates/order-confirmation/versions/{review}?view=side")
        lee.screenshot(path=str(out / "review.png"), full_page=True)
        sam = _sign_in(browser, base_url, "sam@example.com")
        sam.goto("/signoffs")
        sam.screenshot(path=str(out / "signoff.png"))
        # The forms an author fills instead of JSON: variables, sample sets, an AI slot.
        ana.goto(f"/templates/delivery-delay/versions/{ai_draft.number}/edit")
        choose_tab(ana, "Variables and sample data")
        ana.wait_for_timeout(1000)
        ana.screenshot(path=str(out / "editor-forms.png"), full_page=True)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
