"""Bounded TCP probes: TensorFlow's own connects hang forever when nothing answers."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterable


def split_address(address: str) -> tuple[str, int]:
    """'grpc://host:port' or 'host:port' -> (host, port)."""
    addr = address.split("://", 1)[-1].rstrip("/")
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"{address!r} is not HOST:PORT")
    return host.strip("[]") or "localhost", int(port)


def reachable(address: str, timeout: float = 1.0) -> bool:
    """True if a TCP connection to `address` succeeds within `timeout` seconds."""
    host, port = split_address(address)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_reachable(addresses: Iterable[str], timeout: float, poll: float = 0.2) -> list[str]:
    """Poll until every address answers or `timeout` passes; returns those that never did."""
    missing = list(addresses)
    deadline = time.monotonic() + max(timeout, 0.0)
    while missing:
        missing = [a for a in missing if not reachable(a, timeout=min(1.0, poll * 5))]
        if not missing or time.monotonic() >= deadline:
            break
        time.sleep(poll)
    return missing


def hold_port(address: str) -> socket.socket:
    """Listen on our own port so peers can see us before TensorFlow's server starts.

    Peers only open their ports inside the strategy constructor, which then blocks forever
    if one never arrives; holding the port ourselves during the check breaks that circle.
    """
    _, port = split_address(address)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("", port))
    sock.listen(64)
    return sock
