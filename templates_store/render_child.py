"""The child side of isolated rendering: a fresh interpreter that renders under hard limits.

Started by templates_store.isolation as ``python -m templates_store.render_child FD BYTES``:
FD is its end of a socket pair, BYTES its address-space limit.
"""

from __future__ import annotations

import math
import resource
import sys
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

from templates_store import errors
from templates_store.isolation import PartJob, render_job
from templates_store.rendering import Limits


def allow_cpu(seconds: int) -> None:
    """Let this process use `seconds` more CPU time; SIGXCPU (fatal) once it has."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime) + seconds
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    limit = soft if hard == resource.RLIM_INFINITY else min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (limit, hard))


def render_batch(
    connection: Connection, jobs: Sequence[PartJob], limits: Limits, cpu_seconds: int
) -> tuple[Any, ...]:
    """Render parts one by one, telling the parent which part starts (its deadline starts too)."""
    outputs = []
    for index, job in enumerate(jobs):
        connection.send(("part", index))
        allow_cpu(cpu_seconds)
        try:
            outputs.append(render_job(job, limits))
        except errors.TemplateProblem as exc:
            return ("problem", type(exc).__name__, exc.part, exc.cause, exc.line)
        except MemoryError:
            return ("problem", "RenderLimit", job.part, "the template needs too much memory", None)
    return ("ok", outputs)


def serve(connection: Connection, memory_bytes: int) -> None:
    """Render each batch of parts the parent sends until it sends None or goes away."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    connection.send(("ready",))
    try:
        while (request := connection.recv()) is not None:
            jobs, limits, cpu_seconds = request
            connection.send(render_batch(connection, jobs, limits, cpu_seconds))
    except (EOFError, OSError):
        pass  # the parent is gone


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])), int(sys.argv[2]))
