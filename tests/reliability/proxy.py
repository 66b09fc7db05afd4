"""A TCP proxy on 127.0.0.1 that a test can cut, as a database host going away would."""

from __future__ import annotations

import socket
import threading


class Proxy:
    """Forwards connections to `target`; `cut()` drops them all and refuses new ones;
    `lose_answer_to(marker)` drops them when the answer to a request carrying `marker` comes."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.marker: bytes | None = None
        self.answer_lost = threading.Event()  # the request went through; its answer will not
        self.losing: set[socket.socket] = set()  # upstream sockets whose next answer is lost
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, upstream]
            for a, b, out in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pipe, args=(a, b, out), daemon=True).start()

    def lose_answer_to(self, marker: bytes) -> None:
        """The next request carrying `marker` reaches the server; its answer never comes back:
        that connection breaks as the answer arrives, as a link failing at that moment would."""
        self.marker = marker

    def _pipe(self, source: socket.socket, sink: socket.socket, outbound: bool) -> None:
        try:
            while data := source.recv(65536):
                if outbound and self.marker is not None and self.marker in data:
                    self.marker = None
                    self.losing.add(sink)
                elif not outbound and source in self.losing:
                    self.answer_lost.set()
                    return  # both ends are shut below, the answer unsent
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def cut(self) -> None:
        """Refuse new connections and break the open ones."""
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        except OSError:
            pass
        self.listener.close()
        self._break_open()

    def _break_open(self) -> None:
        with self.lock:
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self.sockets.clear()

    def restore(self) -> None:
        """Listen again on the same port."""
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.cut()
