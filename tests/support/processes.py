"""Servers the tests start in a process group of their own, and how they are stopped."""

from __future__ import annotations

import os
import signal
import subprocess


def stop_group(process: subprocess.Popen[bytes], timeout: float) -> None:
    """Ask `process` to stop; after `timeout` seconds kill it and its whole group (workers)."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # its workers too: the group is its own
        process.wait()
