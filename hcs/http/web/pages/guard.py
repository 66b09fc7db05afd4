"""Who may see a page or take an action: a signed-in person holding one of the roles.

htmx requests (the job's progress, the live preview) swap their answer into part of a page, so
they get no sign-in page to swap in: a 401 whose `HX-Redirect` htmx follows with the whole page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Response, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from hcs.errors import PermissionDenied
from hcs.identity.principal import Principal

F = TypeVar("F", bound=Callable[..., Any])


def person() -> Principal:
    """The signed-in person (only inside a view guarded by `roles`)."""
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


def roles(*needed: str) -> Callable[[F], F]:
    """Sign-in first; then a 403 page unless the person holds one of `needed` (any role if none)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return sign_in_first()
            held = current_user.principal.roles
            if not (set(needed) & held if needed else held):
                wanted = " or ".join(needed) if needed else "a role"
                raise PermissionDenied(f"This page needs {wanted}.")
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate
