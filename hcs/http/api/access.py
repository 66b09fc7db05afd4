"""Who may call an endpoint: a scope for keys and the roles for people, checked on every call."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g

from hcs.errors import AuthenticationFailed, PermissionDenied
from hcs.http.auth import current_principal
from hcs.identity.models import ROLES
from hcs.identity.principal import Principal

F = TypeVar("F", bound=Callable[..., Any])


def allow(scope: str, *roles: str) -> Callable[[F], F]:
    """Let a caller through when one of `roles` (default: any role) may act with `scope`."""
    permitted = roles or ROLES

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal is None:
                raise AuthenticationFailed("sign in or send an API key as a Bearer token")
            if not any(principal.may(role, scope) for role in permitted):
                needed = " or ".join(permitted) if roles else "a role"
                raise PermissionDenied(f"this needs the {scope!r} scope and {needed}")
            g.principal = principal
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate


def caller() -> Principal:
    """The principal the current request acts as (set by `allow`)."""
    return g.principal  # type: ignore[no-any-return]
