"""Real Celery workers as subprocesses, and the broker clean-up after them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import redis
from kombu import Connection

from hcs.worker.lanes import LANES

# `hcs worker` itself, with the solo pool the tests want (one process to SIGKILL).
SOLO_WORKER = (
    "from hcs.infrastructure.config import load_settings; "
    "from hcs.worker.sweeping import run_celery_worker; "
    "run_celery_worker(load_settings(None), '--pool=solo')"
)


def worker_env(settings_env: Mapping[str, str]) -> dict[str, str]:
    """The test process's environment without its HCS_ settings, plus these."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HCS_", "CELERY"))}
    return {**env, **settings_env}


@contextmanager
def celery_worker(
    env: Mapping[str, str], log: Path, command: list[str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A worker process; stopped warmly (TERM) at the end unless it is already dead."""
    argv = command or [sys.executable, "-c", SOLO_WORKER]
    with log.open("ab") as out:
        process = subprocess.Popen(argv, env=dict(env), cwd=log.parent, stdout=out, stderr=out)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {seconds} s")
        time.sleep(0.1)


def lane_queues(queue: str) -> list[str]:
    """A test queue and its lanes' queues (`hcs.worker.lanes`)."""
    return [queue, *(f"{queue}.{lane}" for lane in LANES)]


def purge_redis_queue(url: str, queue: str) -> None:
    """Delete a test queue, its lanes' queues and the unacknowledged copies of their tasks a
    killed worker left."""
    client = redis.Redis.from_url(url)
    names = lane_queues(queue)
    try:
        for name in names:
            client.delete(name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")
            client.zrem("_kombu.binding_deadlines", f"{name}{name}")
        for tag, payload in client.hgetall("unacked").items():
            if json.loads(payload)[2] in names:
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)
    finally:
        client.close()


def delete_amqp_queue(url: str, queue: str) -> None:
    with Connection(url) as connection:
        channel = connection.default_channel
        for name in lane_queues(queue):
            channel.queue_delete(name)
            channel.exchange_delete(name)
