"""Who a page is for: the signed-in person, htmx requests, and the way to the sign-in form.

htmx requests (the job's progress, the live preview) swap their answer into part of a page, so
they get no sign-in page to swap in: a 401 whose `HX-Redirect` htmx follows with the whole page.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from hcs.identity.principal import Principal


def person() -> Principal:
    """The signed-in person (only inside a view guarded by `hcs.http.auth.allow`)."""
    return current_user.principal  # type: ignore[no-any-return]


def is_htmx() -> bool:
    """Whether htmx sent the request, to swap the answer into the page it came from."""
    return request.headers.get("HX-Request") == "true"


def _page_shown() -> str:
    """The page an htmx request came from (`HX-Current-URL`) if it is here, else the request."""
    shown = urlsplit(request.headers.get("HX-Current-URL", ""))
    if shown.netloc == request.host and shown.path.startswith("/"):
        return shown.path + (f"?{shown.query}" if shown.query else "")
    return request.full_path.rstrip("?")


def sign_in_first() -> ResponseReturnValue:
    """To the sign-in form and back: a redirect, or for htmx a 401 whose header it follows."""
    if not is_htmx():
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    target = url_for("auth.login", next=_page_shown())
    return Response(status=401, headers={"HX-Redirect": target, "Cache-Control": "no-store"})
