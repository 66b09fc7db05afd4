"""The web pages' tests: signed-in people, drafts, Debian's Chromium, the demo letter."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from hcs.infrastructure.db import transaction
from templates_store import versioning
from tests.support.world import PASSWORD

SMS_PARTS = {"sms": {"en": {"body": "Order {{ order_id }} is confirmed."}}}
VARIABLES = [{"name": "order_id", "type": "string", "required": True, "example": "A-1001"}]


def make_draft(app: Flask, key: str, *, author: str = "ana@example.com", **content: Any) -> int:
    """A transactional SMS template with one draft by `author`; the draft's number."""
    with transaction(app.extensions["hcs"].sessions) as session:
        versioning.create_template(
            session, key=key, name=key.title(), category="transactional", channels=["sms"]
        )
        body = {"parts": SMS_PARTS, "variables": VARIABLES, "sample_data": {"order_id": "A-1"}}
        draft = versioning.create_draft(session, key, author=author, content=body | content)
        return draft.number


def ready(page: Any) -> None:
    """Wait until the page's scripts have set it up (`site.js` marks `<html data-ready>`)."""
    from playwright.sync_api import expect

    expect(page.locator("html[data-ready=true]")).to_have_count(1, timeout=15_000)


def choose_tab(page: Any, name: str) -> None:
    """Open an editor tab once the page is interactive, and see it chosen."""
    from playwright.sync_api import expect

    ready(page)
    tab = page.get_by_role("tab", name=name)
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")


def token(page_text: str) -> str:
    """The CSRF token a page carries in its `<meta name="csrf-token">`."""
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page_text)
    assert found, page_text
    return found[1]


def sign_in(client: FlaskClient, email: str) -> str:
    """Sign `email` in on `client`; the session's CSRF token."""
    page = client.get("/login")
    answer = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token(page.text)}
    )
    assert answer.status_code == 302, answer.text
    return token(client.get("/").text)


class Person:
    """A signed-in test client and its CSRF token, for the pages' tests."""

    def __init__(self, app: Flask, email: str) -> None:
        self.email = email
        self.client: FlaskClient = app.test_client()
        self.token = sign_in(self.client, email)

    def get(self, path: str) -> Any:
        return self.client.get(path)

    def post(self, path: str, data: dict[str, Any] | None = None, csrf: bool = True) -> Any:
        """A form post; a value `(BytesIO, filename)` uploads a file (multipart)."""
        form = dict(data or {})
        if csrf:
            form["csrf_token"] = self.token
        files = any(isinstance(v, tuple) for v in form.values())
        kind = "multipart/form-data" if files else "application/x-www-form-urlencoded"
        return self.client.post(path, data=form, content_type=kind)


# Debian's Chromium, never a browser a tool downloads; the flags the project runs it with.
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
NO_CHROMIUM = "Debian's Chromium (/usr/bin/chromium) is not installed"


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright, closed afterwards."""
    from playwright.sync_api import sync_playwright  # only the browser tests need it

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


# The demo payment-due letter's recipient and data.
LETTER_ADDRESS = ["Claire Martin", "12 rue des Lilas", "69003 Lyon", "France"]
PAYMENT = {
    "customer_name": "Claire Martin",
    "invoice_number": "INV-2026-0457",
    "amount_due": {"amount": "1249.90", "currency": "EUR"},
    "due_date": "2026-12-15",
    "iban": "GB33 BUKB 2020 1555 5555 55",
}


AXE = Path(__file__).parents[1] / "web" / "vendor" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def serious_violations(page: Any) -> list[str]:
    """The serious and critical WCAG A/AA violations axe-core finds on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    options = {"runOnly": {"type": "tag", "values": WCAG_AA}, "resultTypes": ["violations"]}
    found = page.evaluate("options => axe.run(document, options)", options)
    return [
        f"[{v['impact']}] {v['id']}: {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
        for v in found["violations"]
        if v["impact"] in ("serious", "critical")
    ]
