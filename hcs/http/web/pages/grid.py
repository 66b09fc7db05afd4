"""The preview grid: one version on every channel and locale at once, with its sample data."""

from __future__ import annotations

from flask import Response, render_template
from flask.typing import ResponseReturnValue

from hcs.http.auth import allow
from hcs.http.extensions import db_session
from hcs.http.web.pages import bp
from hcs.http.web.pages.editor import FRAME_POLICY
from hcs.previews.drafts import preview_saved, render_saved
from templates_store.lookup import get_version


@bp.get("/templates/<key>/versions/<int:number>/grid")
@allow("read")
def grid(key: str, number: int) -> ResponseReturnValue:
    """Every channel and locale of a saved version side by side."""
    session = db_session()
    version = get_version(session, key, number)
    found = preview_saved(session, key, number)
    return render_template("pages/grid.html", version=version, item=version.template, found=found)


@bp.get("/templates/<key>/versions/<int:number>/rendered/<channel>/<locale>")
@allow("read")
def rendered(key: str, number: int, channel: str, locale: str) -> ResponseReturnValue:
    """A saved version's email or letter alone, for a sandboxed frame with its own policy."""
    shown = render_saved(db_session(), key, number, channel, locale)
    html = render_template("pages/_frame.html", shown=shown, errors={})
    return Response(html, headers={"Content-Security-Policy": FRAME_POLICY})
