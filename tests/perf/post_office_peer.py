"""The Python peer: the same personalized emails through django-post-office, in its own process.

`python -m tests.perf.post_office_peer COUNT DB_PATH` configures Django in-process (SQLite in WAL
mode), renders each email with plain Jinja, queues them with `send_many` in chunks of 1,000,
delivers them with `send_queued` to a locmem backend that also serialises each message as an
SMTP backend would, and prints one JSON line: the seconds taken and how many were delivered.
Run as a subprocess so Django's global settings never leak into other benchmarks.
"""

from __future__ import annotations

import json
import sys
import time
from functools import cache
from typing import Any

import jinja2

from tests.perf.pipeline_world import HTML, SUBJECT, data

CHUNK = 1000
BACKEND = "tests.perf.post_office_peer.SerialisingBackend"


def _configure(db_path: str) -> None:
    import django
    from django.conf import settings

    settings.configure(
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": db_path,
                "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"},
            }
        },
        INSTALLED_APPS=["django.contrib.contenttypes", "post_office"],
        EMAIL_BACKEND=BACKEND,
        POST_OFFICE={"BACKENDS": {"default": BACKEND}, "DEFAULT_PRIORITY": "medium"},
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates"}],
        USE_TZ=True,
        LOGGING_CONFIG=None,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    )
    django.setup()


@cache
def _backend_class() -> Any:
    from django.core.mail.backends.locmem import EmailBackend

    class Serialising(EmailBackend):  # type: ignore[misc]
        """Locmem, plus the bytes an SMTP backend would put on the wire."""

        def send_messages(self, messages: Any) -> int:
            for message in messages:
                message.message().as_bytes(linesep="\r\n")
            return int(super().send_messages(messages))

    return Serialising


def _emails(start: int, stop: int) -> list[dict[str, Any]]:
    jinja = jinja2.Environment(autoescape=True)
    subject, html = jinja.from_string(SUBJECT), jinja.from_string(HTML)
    emails = []
    for n in range(start, stop):
        names = {**data(n), "unsubscribe_url": f"https://hcs.example/u/{n}"}
        emails.append(
            {
                "sender": "Acme <no-reply@acme.example>",
                "recipients": [f"Customer {n} <customer{n}@example.com>"],
                "subject": subject.render(names),
                "message": "",
                "html_message": html.render(names),
            }
        )
    return emails


def run(count: int, db_path: str) -> dict[str, float]:
    """Queue and deliver `count` emails; the seconds it took and how many arrived."""
    _configure(db_path)
    from django.core import mail
    from django.core.management import call_command
    from post_office import mail as post_office
    from post_office.models import STATUS, Email

    call_command("migrate", verbosity=0)
    start = time.perf_counter()
    for first in range(0, count, CHUNK):
        post_office.send_many(_emails(first, min(first + CHUNK, count)))
    while Email.objects.filter(status=STATUS.queued).exists():
        post_office.send_queued()
    seconds = time.perf_counter() - start
    sent = Email.objects.filter(status=STATUS.sent).count()
    return {"seconds": seconds, "sent": sent, "delivered": len(mail.outbox)}


def __getattr__(name: str) -> Any:
    # Django imports the backend by its dotted path once settings exist.
    if name == "SerialisingBackend":
        return _backend_class()
    raise AttributeError(name)


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]), sys.argv[2])))
