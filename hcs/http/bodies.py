"""The API's request bodies: strict JSON, checked before any view or schema reads them.

Python's parser takes the last of two equal keys (`{"to": A, "to": B}` would go to B), reads
`NaN`, and recurses into nesting until the interpreter gives up; a body of another type would
reach the schemas as "missing" fields. So every body sent to `/api/` with POST, PUT, PATCH or
DELETE is refused first when it is not JSON (415), holds a key twice in one object, a constant
JSON does not have, or nesting deeper than `MAX_DEPTH` (400). Bodies past `MAX_CONTENT_LENGTH`
are refused (413): by Werkzeug from their `Content-Length`, here when sent chunked. Types are
the schemas' business (422). The schemas read the body as parsed here (`parsed`), not parsed
again.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, jsonify, request

from hcs.http.error_handlers import error_body

MAX_DEPTH = 32
MAX_BYTES = 8 * 1024 * 1024
METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
INVALID = "Invalid JSON body."
# Where `refusal` leaves the body it parsed, in the request's WSGI environ.
_PARSED = "hcs.parsed_body"
NOT_PARSED = object()


class _Duplicate(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _Duplicate(key)
        found[key] = value
    return found


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def depth(value: Any) -> int:
    """How deeply arrays and objects nest in `value` (a scalar: 0), without recursion."""
    if not isinstance(value, dict | list):
        return 0
    deepest, stack = 1, [(value, 1)]
    while stack:  # only containers are stacked: a body's many scalars cost one check each
        item, level = stack.pop()
        deepest = max(deepest, level)
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def strict_loads(data: bytes) -> Any:
    """Parse JSON, refusing duplicate keys, NaN and Infinity, and nesting past `MAX_DEPTH`.

    :raises ValueError: with the message the API answers.
    """
    try:
        value = json.loads(data, object_pairs_hook=_unique, parse_constant=_no_constant)
    except _Duplicate as exc:
        raise ValueError(f"the key {exc.key!r} appears twice in one object") from None
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError):
        raise ValueError(INVALID) from None
    if depth(value) > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    return value


def _refused(code: int, field: str, message: str) -> Response:
    response = jsonify(error_body(code, {field: [message]}))
    response.status_code = code
    return response


def refusal() -> Response | None:
    """The answer to a body the API will not read, or None to go on."""
    if request.method not in METHODS or not request.path.startswith("/api/"):
        return None
    data = request.get_data(cache=True)  # a Content-Length past MAX_CONTENT_LENGTH: 413
    if not data:
        return None
    if request.content_length is None and len(data) >= MAX_BYTES:
        # Sent chunked, with no length: Werkzeug stops reading at the bound without a word,
        # and what it read may still parse. A body that reaches the bound is refused whole.
        return _refused(413, "body", f"the body is larger than {MAX_BYTES} bytes")
    if not request.is_json:
        return _refused(415, "Content-Type", "the body must be application/json")
    try:
        request.environ[_PARSED] = strict_loads(data)
    except ValueError as exc:
        return _refused(400, "json", str(exc))
    return None


def parsed() -> Any:
    """The request's body as `refusal` parsed it, or `NOT_PARSED` (no JSON body, not the API)."""
    return request.environ.get(_PARSED, NOT_PARSED)


def init_app(app: Flask) -> None:
    """Bound request bodies and check the API's JSON before any view."""
    app.config["MAX_CONTENT_LENGTH"] = MAX_BYTES
    app.before_request(refusal)
