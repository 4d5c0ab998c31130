"""Whether a port listens is read from the kernel's tables, never by connecting: a connect to a
port of the ephemeral range can pick that port as its own source and connect to itself."""

from __future__ import annotations

import socket

from deployflow.backends.services.sockets import listening


def _unused_ephemeral_port() -> int:
    with socket.socket() as sock:  # the kernel hands out a port of its ephemeral range
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_port_nobody_listens_on_never_reads_as_listening() -> None:
    port = _unused_ephemeral_port()
    assert 32768 <= port <= 60999 or port > 1024
    assert not any(listening(port) for _ in range(300))


def test_a_listener_is_seen_and_its_close_too() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]
        assert not listening(port)  # bound is not listening
        server.listen()
        assert listening(port)
    assert not listening(port)
