"""The log cannot be made to grow without bound: a long line is cut, and the buffer is bounded by size as
well as by lines (issue 17, finding 8)."""

from __future__ import annotations

import io
import logging

from smartsofar.logbuffer import MAX_MESSAGE_CHARS, LogBuffer, _ShortFormatter


def record(message: str) -> logging.LogRecord:
    return logging.LogRecord("smartsofar.test", logging.WARNING, __file__, 1, message, None, None)


def test_a_huge_line_is_cut_and_says_how_long_it_was() -> None:
    buffer = LogBuffer()
    buffer.emit(record("x" * 1_000_000))
    message = buffer.records[-1].message
    assert len(message) < MAX_MESSAGE_CHARS + 40 and message.endswith("(1000000 characters)")


def test_the_buffer_is_bounded_by_size_and_keeps_the_newest() -> None:
    buffer = LogBuffer(capacity=2000, max_chars=50_000)
    for index in range(200):
        buffer.emit(record(f"{index} " + "y" * 1990))
    assert sum(len(r.message) for r in buffer.records) <= 50_000
    assert buffer.records[-1].message.startswith("199 ") and len(buffer.records) < 30


def test_stdout_gets_the_cut_line_too() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(_ShortFormatter("%(levelname)s %(message)s"))
    handler.emit(record("z" * 100_000))
    assert len(out.getvalue()) < MAX_MESSAGE_CHARS + 60
