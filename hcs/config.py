"""Settings from the environment (`HCS_` prefix; a `.env` file is read if present)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import load_dotenv

DEFAULT_DATABASE_URL = "sqlite:///var/hcs.db"


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


@dataclass(frozen=True)
class Settings:
    """Everything HCS reads from its environment, resolved once."""

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = field(default="", repr=False)
    broker_url: str = ""
    var_dir: Path = Path("var")
    email_provider: str = "outbox"
    sms_provider: str = "outbox"
    chat_provider: str = "outbox"
    letter_provider: str = "outbox"
    ai_provider: str = "offline"
    ai_base_url: str = ""
    ai_model: str = ""
    session_hours: float = 8.0
    insecure_cookies: bool = False
    ratelimit_storage_url: str = "memory://"

    @property
    def outbox_dir(self) -> Path:
        """Where the `outbox` providers write what they would have sent."""
        return self.var_dir / "outbox"


def load_settings(env_file: str | None = ".env") -> Settings:
    """Read settings from `HCS_*` variables, after loading `.env` when there is one."""
    if env_file and Path(env_file).is_file():
        load_dotenv(env_file, override=False)
    return Settings(
        database_url=_env("HCS_DATABASE_URL", DEFAULT_DATABASE_URL),
        # Without a configured key, sessions last as long as the process.
        secret_key=_env("HCS_SECRET_KEY") or secrets.token_urlsafe(32),
        broker_url=_env("HCS_BROKER_URL"),
        var_dir=Path(_env("HCS_VAR_DIR", "var")),
        email_provider=_env("HCS_EMAIL_PROVIDER", "outbox"),
        sms_provider=_env("HCS_SMS_PROVIDER", "outbox"),
        chat_provider=_env("HCS_CHAT_PROVIDER", "outbox"),
        letter_provider=_env("HCS_LETTER_PROVIDER", "outbox"),
        ai_provider=_env("HCS_AI_PROVIDER", "offline"),
        ai_base_url=_env("HCS_AI_BASE_URL"),
        ai_model=_env("HCS_AI_MODEL"),
        session_hours=float(_env("HCS_SESSION_HOURS", "8")),
        # For plain http beyond loopback: Chromium and Firefox keep Secure cookies on 127.0.0.1.
        insecure_cookies=_env("HCS_INSECURE_COOKIES") in ("1", "true", "yes"),
        ratelimit_storage_url=_env("HCS_RATELIMIT_STORAGE_URL", "memory://"),
    )
