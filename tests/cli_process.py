"""``smartsofar`` run as a separate process, as a user runs it: its exit code, standard output and error."""

from __future__ import annotations

import asyncio
import os
import sys


async def smartsofar(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None,
                     timeout_s: float = 60) -> tuple[int, str, str]:
    """Run ``python -m smartsofar.cli ARGS``; (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smartsofar.cli", *args, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**os.environ, **(env or {})})
    out, err = await asyncio.wait_for(proc.communicate(stdin), timeout_s)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()
