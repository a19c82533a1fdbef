"""Logging for the service: one line per record on stdout, and the recent records in memory for the web.

On a terminal each line carries a timestamp. Under systemd (``JOURNAL_STREAM`` set), each line starts with a
syslog priority (``<4>``) instead, which journald turns into the record's level, and journald adds the time.
``LogBuffer`` keeps the last records and hands new ones to subscribers (the web's live log) without ever
blocking the caller; records from other threads are handed over through the event loop. A line is cut at
``MAX_MESSAGE_CHARS``, on stdout and in the buffer, and the buffer holds at most ``MAX_BUFFER_CHARS`` in all,
so no input, however large, can make the log grow without bound.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from smartsofar.engine.hub import Topic

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MAX_MESSAGE_CHARS = 2000
MAX_BUFFER_CHARS = 2_000_000


def shorten(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"
_SYSLOG_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


@dataclass(frozen=True, slots=True)
class LogRecordView:
    """One log line as the web shows it."""

    seq: int
    at: float
    level: str
    logger: str
    message: str

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"seq": self.seq, "at": self.at, "level": self.level, "logger": self.logger, "message": self.message}


class LogBuffer(logging.Handler):
    """The last ``capacity`` records, and a stream of new ones."""

    def __init__(self, capacity: int = 2000, max_chars: int = MAX_BUFFER_CHARS) -> None:
        super().__init__(logging.DEBUG)
        self.records: deque[LogRecordView] = deque(maxlen=capacity)
        self.max_chars = max_chars
        self._chars = 0
        self.stream: Topic[LogRecordView] = Topic(maxsize=500)
        self._seq = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None

    def attach_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Records from other threads reach subscribers through this loop."""
        self._loop = loop
        self._loop_thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record and hand it on."""
        try:
            message = record.getMessage()
            if record.exc_info and record.exc_info[0] is not None:
                message += f" ({record.exc_info[0].__name__}: {record.exc_info[1]})"
        except Exception:  # a broken log call must never break the caller
            self.handleError(record)
            return
        self._seq += 1
        view = LogRecordView(self._seq, record.created, record.levelname, record.name, shorten(message))
        if len(self.records) == self.records.maxlen:
            self._chars -= len(self.records[0].message)
        self.records.append(view)
        self._chars += len(view.message)
        while self._chars > self.max_chars and len(self.records) > 1:
            self._chars -= len(self.records.popleft().message)
        if self._loop is None or threading.get_ident() == self._loop_thread:
            self.stream.publish(view)
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.stream.publish, view)

    def recent(self, level: str = "DEBUG", limit: int = 500) -> list[LogRecordView]:
        """The newest records at ``level`` or above, oldest first."""
        threshold = logging.getLevelName(level.upper())
        if not isinstance(threshold, int):
            threshold = logging.DEBUG
        chosen = [r for r in self.records if logging.getLevelName(r.level) >= threshold]
        return chosen[-limit:]


class _ShortFormatter(logging.Formatter):
    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        record.message = shorten(record.message)
        return super().formatMessage(record)


class _JournalFormatter(_ShortFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"<{_SYSLOG_PRIORITY.get(record.levelno, 6)}>" + super().format(record)


def setup_logging(verbose: bool = False) -> None:
    """Send the records to stdout, at INFO or DEBUG (the service adds its own ``LogBuffer``)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stdout)
    if os.environ.get("JOURNAL_STREAM"):
        handler.setFormatter(_JournalFormatter("%(name)s: %(message)s"))
    else:
        handler.setFormatter(_ShortFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("uvicorn.access", "httpx", "httpcore", "aiomqtt"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
