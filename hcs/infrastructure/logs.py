"""Structured logs: one JSON object a line, with named fields and never personal data.

Only the fields in `FIELDS` leave a record, besides its time, level, logger and message, and an
exception is reduced to its type and stack: exception texts (a provider's reason, a database
error quoting a row) may hold an address or customer data.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime

FIELDS = (
    "message_id",
    "entry_id",
    "channel",
    "provider",
    "outcome",
    "duration_ms",
    "error",
    "provider_status",
    "count",
)


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({name: getattr(record, name) for name in FIELDS if hasattr(record, name)})
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = record.exc_info[0].__name__
            line["stack"] = "".join(traceback.format_tb(record.exc_info[2]))
        return json.dumps(line, default=str)


def configure_logging(level: int = logging.INFO) -> None:
    """Send every log record to stderr as JSON lines."""
    root = logging.getLogger()
    root.setLevel(level)
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
