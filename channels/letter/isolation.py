"""Letters render in a child process: a hard time bound, and a crash cannot take the worker down.

The child keeps one :class:`PdfEngine` (one FontConfiguration) for its whole life, so memory
stays flat; on a timeout or a crash it is killed and a fresh one starts with the next letter.
Children are started with ``spawn`` (safe with threads), which re-imports the program's main
module: a script that renders letters must keep its top level under ``if __name__ == "__main__"``.
"""

from __future__ import annotations

import multiprocessing
import threading
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import TracebackType

from channels.letter.engine import LetterRenderError, PdfEngine, RenderedPdf, check_settings
from channels.letter.layout import LetterSettings

_CONTEXT = multiprocessing.get_context("spawn")
_STARTUP_SECONDS = 60.0


def _serve(connection: Connection, settings: LetterSettings) -> None:
    """The child's loop: render each (html, css) it receives until told to stop."""
    engine = PdfEngine(settings)
    connection.send(("ready", None, ""))
    while (request := connection.recv()) is not None:
        try:
            reply: tuple[str, object, str] = ("ok", engine.render(*request), "")
        except LetterRenderError as exc:
            reply = ("error", exc.code, str(exc))
        except BaseException as exc:  # noqa: BLE001 - the parent must always get an answer
            reply = ("error", "layout_failed", f"layout failed: {exc!r}"[:300])
        connection.send(reply)


class LetterRenderer:
    """Renders composed letters in one long-lived child process, each within a time bound."""

    def __init__(self, settings: LetterSettings) -> None:
        self.settings = check_settings(settings)
        self._lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None
        self._rendered = 0

    @property
    def worker_pid(self) -> int | None:
        """The child's process id, while one runs."""
        return self._process.pid if self._process and self._process.is_alive() else None

    def _start(self) -> Connection:
        if self._connection is None or self._process is None or not self._process.is_alive():
            self._stop(kill=True)
            parent, child = _CONTEXT.Pipe()
            process = _CONTEXT.Process(target=_serve, args=(child, self.settings), daemon=True)
            process.start()
            child.close()
            self._process, self._connection, self._rendered = process, parent, 0
            # Start-up (imports, fonts) is not part of any letter's time bound.
            if not self._is_ready(parent):
                self._stop(kill=True)
                raise LetterRenderError("render_crashed", "the letter renderer did not start")
        return self._connection

    @staticmethod
    def _is_ready(connection: Connection) -> bool:
        try:
            return bool(connection.poll(_STARTUP_SECONDS) and connection.recv()[0] == "ready")
        except (EOFError, OSError):
            return False

    def _stop(self, *, kill: bool) -> None:
        process, connection = self._process, self._connection
        self._process = self._connection = None
        if connection is not None and not kill:
            try:
                connection.send(None)
            except OSError:
                kill = True
        if process is not None:
            if kill:
                process.kill()
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)
        if connection is not None:
            connection.close()

    def _exchange(self, document_html: str, author_css: str) -> tuple[str, object, str]:
        connection = self._start()
        try:
            connection.send((document_html, author_css))
        except OSError as exc:
            self._stop(kill=True)
            raise LetterRenderError("render_crashed", "the letter renderer is gone") from exc
        if not connection.poll(self.settings.timeout_seconds):
            self._stop(kill=True)
            message = f"the letter took over {self.settings.timeout_seconds:g} s to render"
            raise LetterRenderError("render_timeout", message)
        try:
            reply: tuple[str, object, str] = connection.recv()
        except (EOFError, OSError) as exc:
            self._stop(kill=True)
            raise LetterRenderError("render_crashed", "the letter renderer crashed") from exc
        return reply

    def render(self, document_html: str, author_css: str) -> RenderedPdf:
        """A complete PDF, or LetterRenderError (timeout, crash, refused resource, layout)."""
        with self._lock:
            try:
                status, value, message = self._exchange(document_html, author_css)
            except LetterRenderError as exc:
                if exc.code != "render_crashed":
                    raise
                # A worker that died (killed, out of memory) gets one fresh successor;
                # a letter that kills the renderer itself fails the second time too.
                status, value, message = self._exchange(document_html, author_css)
            self._rendered += 1
            # WeasyPrint's caches creep by a few hundred bytes a letter: start afresh now and then.
            if self._rendered >= self.settings.recycle_after:
                self._stop(kill=False)
        if status == "ok" and isinstance(value, RenderedPdf):
            return value
        raise LetterRenderError(str(value), message)

    def close(self) -> None:
        """Stop the child process."""
        with self._lock:
            self._stop(kill=False)

    def __enter__(self) -> LetterRenderer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
