"""Every page and API endpoint says who may call it, through the one decorator (`allow`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from hcs.http.app import create_app
from hcs.infrastructure.config import Settings

# Open by design: sign-in, health, provider webhooks (signed by the provider), one-click
# unsubscribe (a signed token), metrics (its own token), the API's description, static files.
PUBLIC = {
    "static",
    "ops.healthz",
    "ops.readyz",
    "auth.login",
    "auth.logout",
    "auth.home",
    "webhooks.sendgrid",
    "webhooks.twilio_status",
    "webhooks.twilio_inbound",
    "webhooks.unsubscribe_link",
    "api-docs.openapi_json",
    "api-docs.openapi_swagger_ui",
    "api_docs.page",  # the API's documentation (Swagger UI) and its files, as before
    "api_docs.asset",
    "metrics.metrics",
}


def _allows(view: Callable[..., Any] | None) -> tuple[str, tuple[str, ...]] | None:
    """The scope and roles `allow` put on a view, through the decorators around it."""
    while view is not None:
        if hasattr(view, "allows"):
            return view.allows  # type: ignore[no-any-return]
        view = getattr(view, "__wrapped__", None)
    return None


def test_every_endpoint_but_the_public_ones_is_guarded_by_allow(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'hcs.db'}", var_dir=tmp_path))
    unguarded, guarded = [], 0
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        handlers = [getattr(getattr(view, "view_class", None), m.lower(), view) for m in methods]
        for method, handler in zip(methods, handlers, strict=True):
            if _allows(handler) is not None:
                guarded += 1
            elif rule.endpoint not in PUBLIC:
                unguarded.append(f"{method} {rule.rule}")
    assert unguarded == []
    assert guarded > 100  # the pages and the API, not a handful


def test_pages_and_their_api_twins_ask_the_same() -> None:
    from hcs.http.api import versions
    from hcs.http.web.pages import catalogue, editor, review

    assert _allows(catalogue.new_template) == ("templates", ("author",))
    assert _allows(editor.save) == _allows(versions.OneVersion.patch)
    assert _allows(review.decide) == _allows(versions.Approve.post) == ("review", ("reviewer",))
