"""What the Flask app holds for its requests: the engine, the session factory, the settings."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from hcs.identity.keycache import KeyCache
from hcs.infrastructure.config import Settings, pool
from hcs.infrastructure.db import make_engine, session_factory


@dataclass
class Services:
    """The app's long-lived parts, built once by the factory."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    keys: KeyCache  # API keys this process checked recently


def init_app(app: Flask, settings: Settings) -> Services:
    """Build the engine and session factory; close each request's session at teardown."""
    engine = make_engine(settings.database_url, **pool(settings, 5, 10))
    keys = KeyCache(settings.api_key_cache_seconds)
    services = Services(settings, engine, session_factory(engine), keys)
    app.extensions["hcs"] = services
    app.teardown_appcontext(_close_session)
    return services


def services() -> Services:
    """The current app's services."""
    return current_app.extensions["hcs"]  # type: ignore[no-any-return]


def db_session() -> Session:
    """The request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = services().sessions()
    return g.db_session  # type: ignore[no-any-return]


def _close_session(exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def notify_dispatcher(message_ids: list[str]) -> None:
    """Tell the worker (in-process or Celery) that these messages are ready, after the commit."""
    dispatcher = current_app.extensions.get("hcs.dispatcher")
    if dispatcher is not None:
        dispatcher(message_ids)
