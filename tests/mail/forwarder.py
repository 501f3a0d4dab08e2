"""A TCP forwarder on a loopback port, to take a server "down" for one client (its port
closed) and bring it back, without touching the shared server itself."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading


class _Pipe(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        upstream = socket.create_connection(self.server.upstream, timeout=60)  # type: ignore[attr-defined]
        done = threading.Event()

        def pump(source: socket.socket, sink: socket.socket) -> None:
            with contextlib.suppress(OSError):
                while chunk := source.recv(65536):
                    sink.sendall(chunk)
            done.set()

        threads = [threading.Thread(target=pump, args=(self.request, upstream), daemon=True),
                   threading.Thread(target=pump, args=(upstream, self.request), daemon=True)]
        for thread in threads:
            thread.start()
        done.wait()
        for sock in (upstream, self.request):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class Forwarder:
    """`with Forwarder(port, (host, port)):` listens on 127.0.0.1:`port` meanwhile."""

    def __init__(self, port: int, upstream: tuple[str, int]) -> None:
        self.port, self.upstream = port, upstream
        self._server: _Server | None = None

    def __enter__(self) -> Forwarder:
        self._server = _Server(("127.0.0.1", self.port), _Pipe)
        self._server.upstream = self.upstream  # type: ignore[attr-defined]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
