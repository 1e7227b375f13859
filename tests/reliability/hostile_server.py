"""A loopback HTTP server that misbehaves on purpose, for the hostile-server tests.

Each test gives a `behaviour(request, send)`: it sees the parsed request line and headers and
writes whatever raw bytes it likes, as slowly as it likes. The server runs in a daemon thread,
answers on 127.0.0.1 only, and every connection ends by itself after `max_seconds`, so a test
that fails can never leave a server running or hang the suite.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Received:
    """One request as the hostile server read it."""

    method: str
    target: str
    headers: dict[str, str]


@dataclass
class Sender:
    """Writes raw bytes to the client; stops quietly once the client has gone or time is up."""

    connection: socket.socket
    until: float

    def __call__(self, data: bytes) -> bool:
        if time.monotonic() > self.until:
            return False
        try:
            self.connection.sendall(data)
        except OSError:
            return False
        return True

    def trickle(self, data: bytes, every: float) -> None:
        """Send one byte at a time, `every` seconds apart."""
        for index in range(len(data)):
            if not self(data[index : index + 1]):
                return
            time.sleep(every)


Behaviour = Callable[[Received, Sender], None]


@dataclass
class HostileServer:
    """The running server: its URL and what it received."""

    url: str
    port: int
    received: list[Received] = field(default_factory=list)


def _read_request(connection: socket.socket) -> Received | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(rest) < length:
        chunk = connection.recv(65536)
        if not chunk:
            break
        rest += chunk
    return Received(method, target, headers)


@contextmanager
def hostile_server(behaviour: Behaviour, *, max_seconds: float = 20.0) -> Iterator[HostileServer]:
    """Serve `behaviour` on a free loopback port for the duration of the block."""
    state: dict[str, HostileServer] = {}

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            connection: socket.socket = self.request
            connection.settimeout(max_seconds)
            until = time.monotonic() + max_seconds
            try:
                while time.monotonic() < until:
                    received = _read_request(connection)
                    if received is None:
                        return
                    state["server"].received.append(received)
                    behaviour(received, Sender(connection, until))
                    if received.headers.get("connection", "").lower() == "close":
                        return
            except OSError:
                return

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    state["server"] = HostileServer(f"http://127.0.0.1:{port}", port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield state["server"]
    finally:
        server.shutdown()
        server.server_close()


def respond(
    status: int = 200,
    body: bytes = b"{}",
    headers: dict[str, str] | None = None,
) -> bytes:
    """A complete HTTP/1.1 response with a Content-Length."""
    lines = [f"HTTP/1.1 {status} X"]
    all_headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    all_headers.update(headers or {})
    lines += [f"{name}: {value}" for name, value in all_headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
