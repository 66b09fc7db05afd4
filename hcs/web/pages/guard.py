"""Who may see a page or take an action: a signed-in person holding one of the roles."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import redirect, request, url_for
from flask_login import current_user

from hcs.exceptions import PermissionDenied
from hcs.identity.principal import Principal

F = TypeVar("F", bound=Callable[..., Any])


def person() -> Principal:
    """The signed-in person (only inside a view guarded by `roles`)."""
    return current_user.principal  # type: ignore[no-any-return]


def roles(*needed: str) -> Callable[[F], F]:
    """Sign-in first; then a 403 page unless the person holds one of `needed` (any role if none)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            held = current_user.principal.roles
            if not (set(needed) & held if needed else held):
                wanted = " or ".join(needed) if needed else "a role"
                raise PermissionDenied(f"This page needs {wanted}.")
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate
