"""Writing files so that a crash or a power cut leaves either the old content or the new, never a mix.

The new content goes to a temporary file in the same directory, is flushed to disk, replaces the old file
with one ``rename`` (atomic on POSIX), and the directory entry is flushed too. A kill during a write leaves
that temporary file behind (``.NAME.XXXXXXXX.tmp``): ``remove_orphans`` clears them at the next start.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)
ORPHAN_AFTER_S = 60.0  # younger temporary files may be another process's write under way


def atomic_write(path: Path, data: bytes | str, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` atomically and durably. ``mode`` defaults to the old file's, or 0644."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o644
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)


def remove_orphans(path: Path, now: float | None = None) -> int:
    """Delete the temporary files an interrupted ``atomic_write`` of ``path`` left; how many there were."""
    now = time.time() if now is None else now
    removed = 0
    with contextlib.suppress(OSError):
        for orphan in path.parent.glob(f".{path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                if now - orphan.stat().st_mtime >= ORPHAN_AFTER_S:
                    orphan.unlink()
                    removed += 1
    if removed:
        log.info("removed %d unfinished write(s) of %s left by an interruption", removed, path.name)
    return removed


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - some filesystems refuse to open directories
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)
