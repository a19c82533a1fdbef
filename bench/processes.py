"""What the benchmarks that run the service as its own process share: a free port, waiting for one to listen,
and the control lag as a table cell."""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout_s: float = 20.0) -> None:
    """Return once something listens on 127.0.0.1:``port``; RuntimeError after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def lag_cell(summary: Mapping[str, float]) -> str:
    """The service's control-lag summary (``/api/v1/diagnostics``) as ``median / p99 / max ms (N samples)``."""
    if not summary.get("samples"):
        return "no samples"
    return (f"{summary['p50_s'] * 1000:.1f} / {summary['p99_s'] * 1000:.1f} / {summary['max_s'] * 1000:.1f} ms "
            f"({summary['samples']:.0f} samples)")
