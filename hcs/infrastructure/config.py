"""Settings from the environment (`HCS_` prefix; a `.env` file is read if present)."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from dotenv import load_dotenv

from hcs.infrastructure.delivery import Delivery, read_delivery
from hcs.infrastructure.destinations import ALLOW_VARIABLE, parse_allow

DEFAULT_DATABASE_URL = "sqlite:///var/hcs.db"
# What happens to a send of unknown outcome once its reconciliation window passed with no
# evidence, per template category; letters are always held (a second letter is paper).
UNKNOWN_POLICY = {
    "sensitive": "resend",
    "transactional": "resend",
    "marketing": "hold",
    "service": "hold",
}
UNKNOWN_CHOICES = ("resend", "hold")
# One per process, not per call: the app, the worker and the archive must agree on it.


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _seconds(text: str) -> float:
    """`30d`, `12h`, `90m`, `45s` or plain seconds, as seconds."""
    units = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
    unit = units.get(text.strip()[-1:].lower(), 0.0)
    number = text.strip()[:-1] if unit else text
    try:
        return float(number) * (unit or 1.0)
    except ValueError:
        raise ValueError(f"{text!r} is not a duration; use e.g. 30d, 12h, 90m or 45s") from None


def local_secret(var_dir: Path) -> str:
    """Without HCS_SECRET_KEY: a secret kept in `<var>/secret_key` (made once, mode 0600).

    Sessions, unsubscribe links and the archive's development key then survive a restart, and
    every process of one installation (web, workers) agrees on them.
    """
    path = var_dir / "secret_key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


@dataclass(frozen=True)
class Settings:
    """Everything HCS reads from its environment, resolved once."""

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = field(default="", repr=False)
    broker_url: str = ""
    # Celery: the queue dispatch tasks go to, and how long an unacknowledged task stays invisible
    # on Redis before it is handed out again (longer than the longest retry delay).
    celery_queue: str = "hcs"
    # The queue of AI text generation, apart so that a slow model never holds a send.
    celery_ai_queue: str = "ai"
    broker_visibility_timeout: float = 3600.0
    # How long a dispatcher holds an outbox entry, and how often the sweep re-queues due ones.
    dispatch_lease_seconds: float = 120.0
    # The connections each process keeps open to the database, and how many more it may open at
    # a peak: None is the process's own default (`pool`).
    database_pool_size: int | None = None
    database_max_overflow: int | None = None
    # How long a message whose provider is busy or unreachable keeps being retried (with capped
    # exponential backoff) before it fails for good: `HCS_SEND_RETRY_HORIZON`, e.g. 90m, 24h, 2d.
    send_retry_horizon: timedelta = timedelta(hours=24)
    sweep_seconds: float = 10.0
    # A send whose outcome is unknown waits this long for the provider's evidence
    # (`HCS_UNKNOWN_WINDOW`), then its category's policy decides: `resend` or `hold` for a person
    # (`HCS_UNKNOWN_POLICY`, e.g. `marketing=hold,transactional=resend`, over `UNKNOWN_POLICY`).
    unknown_window: timedelta = timedelta(minutes=10)
    unknown_policy: tuple[tuple[str, str], ...] = tuple(UNKNOWN_POLICY.items())
    # How many `unknown` sends the housekeeping worker asks their provider about per round
    # (`HCS_UNKNOWN_LOOKUPS`; 0: none, wait for reports only).
    unknown_lookups: int = 20
    # How many times finishing a message may raise an unexpected error before it fails.
    dispatch_finishing_attempts: int = 5
    var_dir: Path = Path("var")
    ai_provider: str = "offline"
    ai_base_url: str = ""
    ai_model: str = ""
    # Per request, and how often the SDK retries a transient error (timeouts, 429, 5xx).
    ai_timeout: float = 10.0
    ai_max_retries: int = 2
    ai_temperature: float = 0.3
    ai_api_key: str = field(default="", repr=False)
    # How many generations run at once beside the sending rounds (the in-process AI lane).
    ai_concurrency: int = 2
    # A second, optional model that judges each slot text against the written policy.
    ai_judge_base_url: str = ""
    ai_judge_model: str = ""
    session_hours: float = 8.0
    insecure_cookies: bool = False
    ratelimit_storage_url: str = ""  # empty: Redis when the broker is Redis, else memory
    api_rate_limit: str = "6000/minute"
    # How long a process trusts an API key it checked (revocation elsewhere: within this bound).
    api_key_cache_seconds: float = 2.0
    # Base64 of 32 bytes; unset, the archive derives a development key from secret_key.
    archive_master_key: str = field(default="", repr=False)
    # Earlier master keys, comma-separated and newest first: they only read, until
    # `hcs archive rotate-key` has re-wrapped everything under the current one.
    archive_previous_master_keys: str = field(default="", repr=False)
    # `category=days,...` over the archive's default retention periods.
    archive_retention: str = ""
    # The Ed25519 key file checkpoints are signed with (`hcs keys init`); unset: none signed.
    seal_signing_key: str = ""
    # A directory, an http(s) URL or a mailto: address that receives every signed checkpoint.
    checkpoint_witness: str = ""
    # Past this age, a send without a sealed archive entry makes /readyz 503; None: never.
    archive_lag_max: timedelta | None = timedelta(hours=1)
    public_url: str = "http://127.0.0.1:5000"
    # Internal addresses outbound calls may reach anyway (development and tests: `127.0.0.1`).
    allowed_private_destinations: tuple[str, ...] = ()
    # `/metrics` answers only a `Bearer` of this token when set (HCS_METRICS_TOKEN).
    metrics_token: str = field(default="", repr=False)
    # Sign-off: a batch approval's sample is the ISO 2859-1 level II size, never below this;
    # pending messages expire after `signoff_ttl_hours`.
    signoff_sample_min: int = 5
    signoff_ttl_hours: float = 72.0
    # Imports, exports and batch approvals of more items than this run as jobs in the background,
    # their progress on the page.
    jobs_inline_limit: int = 50
    # How far ahead a send's `send_at` may be (HCS_SEND_AT_HORIZON: 30d, 12h, 90m or seconds).
    send_at_horizon_seconds: float = 30 * 86400.0
    # Status callbacks: hosts exempt from the destination checks (development receivers, plain
    # http allowed), each request's timeout, the first retry's delay (doubling, capped at an
    # hour) and how long a delivery keeps being retried.
    webhook_allowed_hosts: tuple[str, ...] = ()
    webhook_timeout: float = 5.0
    webhook_backoff_seconds: float = 15.0
    webhook_retry_horizon: timedelta = timedelta(hours=24)
    # Which provider each channel sends through, and each provider's settings and credentials.
    delivery: Delivery = field(default_factory=Delivery, repr=False)

    @property
    def outbox_dir(self) -> Path:
        """Where the `outbox` providers write what they would have sent."""
        return self.var_dir / "outbox"


_DURATION = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """A whole number of seconds, minutes, hours or days (`90m`, `24h`, `2d`) as a timedelta."""
    found = _DURATION.fullmatch(text.strip())
    if found is None or int(found[1]) == 0:
        raise ValueError(f"a duration like 90m, 24h or 2d was expected, not {text!r}")
    return timedelta(**{_UNITS[found[2]]: int(found[1])})


def format_duration(duration: timedelta) -> str:
    """A timedelta as `parse_duration` reads it, in whole hours when it is some (`24h`)."""
    seconds = int(duration.total_seconds())
    if seconds % 60:
        return f"{seconds}s"
    minutes = seconds // 60
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def pool(settings: Settings, size: int, overflow: int, *, needed: int = 1) -> dict[str, int]:
    """The engine's pool options: `size` connections and `overflow` more at a peak, unless the
    operator set `HCS_DATABASE_POOL_SIZE` or `HCS_DATABASE_MAX_OVERFLOW`; never fewer than
    the `needed` connections the process holds at once."""
    if settings.database_pool_size is not None:
        size = max(settings.database_pool_size, needed)
    if settings.database_max_overflow is not None:
        overflow = settings.database_max_overflow
    return {"pool_size": size, "max_overflow": overflow}


def _count(name: str, minimum: int) -> int | None:
    """A whole-number setting of at least `minimum`, or None when unset."""
    text = _env(name)
    if not text:
        return None
    number = int(text) if re.fullmatch(r"\s*-?\d+\s*", text) else None
    if number is None or number < minimum:
        raise ValueError(f"{name}: {text!r} is not a whole number of at least {minimum}")
    return number


def _optional_duration(name: str, default: str) -> timedelta | None:
    """A duration setting that `off` turns off."""
    return None if _env(name, default).strip().lower() == "off" else _duration(name, default)


def _duration(name: str, default: str) -> timedelta:
    try:
        return parse_duration(_env(name, default))
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _unknown_policy(text: str) -> tuple[tuple[str, str], ...]:
    """`category=resend|hold,...` over the defaults."""
    policy = dict(UNKNOWN_POLICY)
    for part in filter(None, (item.strip() for item in text.split(","))):
        category, _, choice = part.partition("=")
        if choice.strip() not in UNKNOWN_CHOICES:
            raise ValueError(
                f"HCS_UNKNOWN_POLICY: {part!r} should be category=resend or category=hold"
            )
        policy[category.strip()] = choice.strip()
    return tuple(policy.items())


def load_settings(env_file: str | None = ".env") -> Settings:
    """Read settings from `HCS_*` variables, after loading `.env` when there is one."""
    if env_file and Path(env_file).is_file():
        load_dotenv(env_file, override=False)
    return Settings(
        database_url=_env("HCS_DATABASE_URL", DEFAULT_DATABASE_URL),
        secret_key=_env("HCS_SECRET_KEY") or local_secret(Path(_env("HCS_VAR_DIR", "var"))),
        broker_url=_env("HCS_BROKER_URL"),
        celery_queue=_env("HCS_CELERY_QUEUE", "hcs"),
        celery_ai_queue=_env("HCS_CELERY_AI_QUEUE", "ai"),
        broker_visibility_timeout=float(_env("HCS_BROKER_VISIBILITY_TIMEOUT", "3600")),
        dispatch_lease_seconds=float(_env("HCS_DISPATCH_LEASE_SECONDS", "120")),
        database_pool_size=_count("HCS_DATABASE_POOL_SIZE", 1),
        database_max_overflow=_count("HCS_DATABASE_MAX_OVERFLOW", 0),
        send_retry_horizon=_duration("HCS_SEND_RETRY_HORIZON", "24h"),
        sweep_seconds=float(_env("HCS_SWEEP_SECONDS", "10")),
        unknown_window=_duration("HCS_UNKNOWN_WINDOW", "10m"),
        unknown_policy=_unknown_policy(_env("HCS_UNKNOWN_POLICY")),
        unknown_lookups=int(_env("HCS_UNKNOWN_LOOKUPS", "20")),
        dispatch_finishing_attempts=int(_env("HCS_DISPATCH_FINISHING_ATTEMPTS", "5")),
        var_dir=Path(_env("HCS_VAR_DIR", "var")),
        ai_provider=_env("HCS_AI_PROVIDER", "offline"),
        ai_base_url=_env("HCS_AI_BASE_URL"),
        ai_model=_env("HCS_AI_MODEL"),
        ai_timeout=float(_env("HCS_AI_TIMEOUT", "10")),
        ai_max_retries=int(_env("HCS_AI_MAX_RETRIES", "2")),
        ai_temperature=float(_env("HCS_AI_TEMPERATURE", "0.3")),
        ai_api_key=_env("OPENAI_API_KEY"),
        ai_concurrency=int(_env("HCS_AI_CONCURRENCY", "2")),
        ai_judge_base_url=_env("HCS_AI_JUDGE_BASE_URL"),
        ai_judge_model=_env("HCS_AI_JUDGE_MODEL"),
        session_hours=float(_env("HCS_SESSION_HOURS", "8")),
        # For plain http beyond loopback: Chromium and Firefox keep Secure cookies on 127.0.0.1.
        insecure_cookies=_env("HCS_INSECURE_COOKIES") in ("1", "true", "yes"),
        ratelimit_storage_url=_env("HCS_RATELIMIT_STORAGE_URL"),
        api_rate_limit=_env("HCS_API_RATE_LIMIT", "6000/minute"),
        api_key_cache_seconds=float(_env("HCS_API_KEY_CACHE_SECONDS", "2")),
        archive_master_key=_env("HCS_ARCHIVE_MASTER_KEY"),
        archive_previous_master_keys=_env("HCS_ARCHIVE_PREVIOUS_MASTER_KEYS"),
        archive_retention=_env("HCS_ARCHIVE_RETENTION"),
        seal_signing_key=_env("HCS_SEAL_SIGNING_KEY"),
        checkpoint_witness=_env("HCS_CHECKPOINT_WITNESS"),
        archive_lag_max=_optional_duration("HCS_ARCHIVE_LAG_MAX", "1h"),
        public_url=_env("HCS_PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/"),
        allowed_private_destinations=parse_allow(_env(ALLOW_VARIABLE)),
        metrics_token=_env("HCS_METRICS_TOKEN"),
        signoff_sample_min=int(_env("HCS_SIGNOFF_SAMPLE_MIN", "5")),
        signoff_ttl_hours=float(_env("HCS_SIGNOFF_TTL_HOURS", "72")),
        jobs_inline_limit=int(_env("HCS_JOBS_INLINE_LIMIT", "50")),
        send_at_horizon_seconds=_seconds(_env("HCS_SEND_AT_HORIZON", "30d")),
        webhook_allowed_hosts=tuple(
            host.strip() for host in _env("HCS_WEBHOOK_ALLOWED_HOSTS").split(",") if host.strip()
        ),
        webhook_timeout=float(_env("HCS_WEBHOOK_TIMEOUT", "5")),
        webhook_backoff_seconds=float(_env("HCS_WEBHOOK_BACKOFF_SECONDS", "15")),
        webhook_retry_horizon=_duration("HCS_WEBHOOK_RETRY_HORIZON", "24h"),
        delivery=read_delivery(os.environ),
    )
