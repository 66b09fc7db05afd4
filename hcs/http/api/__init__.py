"""The REST API (`/api/v1`): flask-smorest blueprints over the same domain functions."""

from __future__ import annotations

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
    api = Api(app)
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
