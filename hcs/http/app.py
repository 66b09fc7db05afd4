"""The application factory: it wires parts together and does no work itself."""

from __future__ import annotations

from types import TracebackType

from flask import Flask, request

import hcs.schema  # noqa: F401  (every table mapped before the first query)
from hcs.http import api, auth, bodies, error_handlers, extensions, limits, metrics, ops, webhooks
from hcs.http.environ import WithoutProcessEnvironment
from hcs.http.web import auth as web_auth
from hcs.http.web import pages as web_pages
from hcs.infrastructure.config import Settings, load_settings

ExcInfo = tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]


class App(Flask):
    """Flask, logging a failed request by its route, never its path (which may hold an address)."""

    def log_exception(self, exc_info: ExcInfo) -> None:
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        self.logger.error("Exception on %s [%s]", route, request.method, exc_info=exc_info)


def create_app(settings: Settings | None = None) -> Flask:
    """Build the HCS web app and API for `settings` (default: the environment)."""
    settings = settings or load_settings()
    app = App(__name__)
    app.config.update(SECRET_KEY=settings.secret_key)
    bodies.init_app(app)
    extensions.init_app(app, settings)
    auth.init_app(app, settings)
    limits.init_app(app, settings)
    error_handlers.init_app(app, pages={"pages": web_pages.refusal, "auth": web_auth.refusal})
    app.register_blueprint(ops.bp)
    app.register_blueprint(web_auth.bp)
    app.register_blueprint(web_pages.bp)
    app.register_blueprint(webhooks.bp)
    api.init_app(app)
    metrics.init_app(app)
    app.wsgi_app = WithoutProcessEnvironment(app.wsgi_app)  # type: ignore[method-assign]
    if settings.broker_url:
        from hcs.worker.tasks import celery_init_app  # Celery is imported only when configured

        celery_init_app(app)
    return app
