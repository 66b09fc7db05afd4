"""The REST API (`/api/v1`): flask-smorest blueprints over the same domain functions."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from flask_smorest import Api

API_SPEC: dict[str, Any] = {
    "info": {
        "description": "Governed customer communications: templates, reviews, sends, archive.",
    },
    "components": {
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "description": "an HCS API key"},
            "session": {"type": "apiKey", "in": "cookie", "name": "session"},
        }
    },
    "security": [{"bearerAuth": []}, {"session": []}],
}


class _DocumentedWhenRead(Api):  # type: ignore[misc]
    """flask-smorest's `Api`, documenting its blueprints when the document is first read.

    flask-smorest writes each blueprint into the OpenAPI document as it is registered: every
    schema converted, every path deep-copied, a third of an app's start-up (30 ms), paid by
    every process, and by every test's app, for a document few of them ever serve. Here the
    routes are registered at once and their documentation waits, in the same order, for the
    first reading of `spec` (`/api/openapi.json`, the docs page), so the document is the same.
    """

    def __init__(self, app: Flask, **options: Any) -> None:
        self._spec: Any = None
        self._undocumented: list[tuple[Any, str, Any]] = []
        self._documenting = threading.Lock()
        self._documenter: int | None = None
        super().__init__(app, **options)

    @property
    def spec(self) -> Any:
        undocumented = self._undocumented
        if undocumented and self._documenter != threading.get_ident():
            # The first reader writes it all; a reader in another thread waits for the whole
            # document rather than take what is written so far (the servers run two threads).
            with self._documenting:
                self._documenter = threading.get_ident()  # a read while writing is its own
                try:
                    while undocumented:
                        blp, name, parameters = undocumented[0]
                        blp.register_views_in_doc(
                            self, self._app, self._spec, name=name, parameters=parameters
                        )
                        self._spec.tag({"name": name, "description": blp.description})
                        undocumented.pop(0)
                finally:
                    self._documenter = None
        return self._spec

    @spec.setter
    def spec(self, value: Any) -> None:
        self._spec = value

    def register_blueprint(self, blp: Any, *, parameters: Any = None, **options: Any) -> None:
        """Register `blp`'s routes now and its documentation for the first reading."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._undocumented.append((blp, name, parameters))


def init_app(app: Flask) -> Api:
    """Register every API blueprint and serve `/api/openapi.json` and `/api/docs`."""
    from hcs.http.api import (
        account,
        audit,
        batches,
        blocks,
        docs,
        messages,
        policies,
        recipients,
        red_team,
        reviews,
        signoffs,
        templates,
        users,
        versions,
        webhooks,
    )
    from hcs.http.api import archive as archive_api

    app.config.update(
        API_TITLE="HCS",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        # `/api/docs` is ours (hcs.http.api.docs): Swagger UI from the package, no CDN.
        API_SPEC_OPTIONS=API_SPEC,
    )
    api = _DocumentedWhenRead(app)
    for module in (
        account,
        templates,
        versions,
        red_team,
        blocks,
        policies,
        reviews,
        audit,
        messages,
        batches,
        recipients,
        signoffs,
        users,
        webhooks,
    ):
        api.register_blueprint(module.blp)
    api.register_blueprint(blocks.theme_blp)
    api.register_blueprint(archive_api.blp)
    app.register_blueprint(docs.bp)
    return api
