"""A request's environ holds what the client and the server sent, never the process's environment.

Granian (the recommended server) starts each WSGI environ from a copy of the process
environment, as CGI does. So a variable named `HTTP_AUTHORIZATION` read as every request's
`Authorization` header (an API key the caller never sent), `HTTP_X_FORWARDED_FOR` as a client
address, and every secret the process was given (`HCS_SECRET_KEY`, `SENDGRID_API_KEY`) sat in
each request's environ, where an error reporter copies it. The app takes them out before Flask
reads the request: every inherited variable whose value is still the process's, except the
request's own CGI and WSGI keys. A header the caller sent with another value is kept.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

# What a server sets for the request itself (RFC 3875's meta-variables, and common extras).
REQUEST_KEYS = frozenset(
    {
        "AUTH_TYPE", "CONTENT_LENGTH", "CONTENT_TYPE", "GATEWAY_INTERFACE", "PATH_INFO",
        "PATH_TRANSLATED", "QUERY_STRING", "REMOTE_ADDR", "REMOTE_HOST", "REMOTE_IDENT",
        "REMOTE_USER", "REQUEST_METHOD", "SCRIPT_NAME", "SERVER_NAME", "SERVER_PORT",
        "SERVER_PROTOCOL", "SERVER_SOFTWARE", "REQUEST_URI", "RAW_URI", "REMOTE_PORT", "HTTPS",
    }
)  # fmt: skip

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class WithoutProcessEnvironment:
    """WSGI middleware: drops from each environ the variables it inherited from the process."""

    def __init__(self, app: WSGIApp, environment: Mapping[str, str] = os.environ) -> None:
        self.app = app
        self.inherited = {
            name: value
            for name, value in environment.items()
            if name not in REQUEST_KEYS and not name.startswith("wsgi.")
        }

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        for name, value in self.inherited.items():
            if environ.get(name) == value:
                del environ[name]
        return self.app(environ, start_response)
