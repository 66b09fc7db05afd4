"""Loopback peers that never answer: one that never accepts, one that reads and stays silent."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# SMTP's side of a conversation up to the end of DATA; after that it says nothing.
_SMTP_REPLIES = {
    b"EHLO": b"250 stalling.example\r\n",
    b"HELO": b"250 stalling.example\r\n",
    b"MAIL": b"250 OK\r\n",
    b"RCPT": b"250 OK\r\n",
    b"RSET": b"250 OK\r\n",
    b"DATA": b"354 go on\r\n",
}


@contextmanager
def unaccepting_port() -> Iterator[int]:
    """A listening port whose backlog is full: a new connection never opens (it times out).

    With a backlog of 0 the kernel queues one completed connection, which the first filler
    takes (its handshake waited for); the SYNs of any later connection are dropped.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    first = socket.create_connection(("127.0.0.1", port), timeout=10)
    fillers = [first, *(_half_open(port) for _ in range(3))]
    try:
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def _half_open(port: int) -> socket.socket:
    client = socket.socket()
    client.setblocking(False)
    try:
        client.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    return client


class Silent:
    """Accepts connections, reads what is sent, and never answers (HTTP) or stalls after DATA."""

    def __init__(self, *, smtp: bool = False) -> None:
        self.smtp = smtp
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = int(self.listener.getsockname()[1])
        self.received = bytearray()
        self.stopping = threading.Event()
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(connection)
            threading.Thread(target=self._talk, args=(connection,), daemon=True).start()

    def _talk(self, connection: socket.socket) -> None:
        try:
            if self.smtp:
                connection.sendall(b"220 stalling.example ESMTP\r\n")
            in_data = False
            while chunk := connection.recv(65536):
                self.received += chunk
                if self.smtp and not in_data:
                    in_data = self._reply(connection, chunk)
        except OSError:
            return

    def _reply(self, connection: socket.socket, chunk: bytes) -> bool:
        for line in chunk.split(b"\r\n"):
            answer = _SMTP_REPLIES.get(line[:4].upper())
            if answer:
                connection.sendall(answer)
            if line[:4].upper() == b"DATA":
                return True
        return False

    def close(self) -> None:
        self.stopping.set()
        self.listener.close()
        for connection in self.connections:
            connection.close()


@contextmanager
def silent(*, smtp: bool = False) -> Iterator[Silent]:
    """A `Silent` peer on 127.0.0.1 for the block's duration."""
    peer = Silent(smtp=smtp)
    try:
        yield peer
    finally:
        peer.close()
