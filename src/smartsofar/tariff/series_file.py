"""Price lists as text: ``start_utc,price_…_per_kwh`` CSV (the layout of ``data/prices``), and JSON lists of
``{start, end?, price | value}`` such as evcc's ``/api/tariff/grid`` and most price APIs return.

An interval's end is its own ``end`` where given, else the next row's start, capped at the list's native
step (the shortest gap between starts), so an omitted interval stays a gap rather than being stretched.
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from smartsofar.errors import InvalidInputError
from smartsofar.tariff.prices import PriceCurve, PriceSlot, checked_slot

MAX_ROWS = 200_000


def parse_time(value: object, where: str) -> float:
    """ISO 8601 with an offset or Z, or epoch seconds (or milliseconds) -> epoch seconds."""
    if isinstance(value, bool):
        raise InvalidInputError(f"{where}: {value!r} is not a time")
    if isinstance(value, int | float):
        return float(value) / 1000 if value > 1e11 else float(value)
    if not isinstance(value, str):
        raise InvalidInputError(f"{where}: {value!r} is not a time")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(f"{where}: {value[:40]!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise InvalidInputError(f"{where}: {value[:40]!r} has no UTC offset")
    return moment.timestamp()


def _ends(starts: Sequence[float], ends: Sequence[float | None]) -> list[float]:
    gaps = [b - a for a, b in itertools.pairwise(starts) if b > a]
    step = min(gaps) if gaps else 3600.0
    out = []
    for i, start in enumerate(starts):
        end = ends[i]
        if end is None:
            end = min(starts[i + 1], start + step) if i + 1 < len(starts) else start + step
        out.append(end)
    return out


def curve_from_rows(rows: Sequence[tuple[float, float | None, float]], where: str) -> PriceCurve:
    """(start, end or None, price) rows -> a curve; InvalidInputError when a row is implausible."""
    if len(rows) > MAX_ROWS:
        raise InvalidInputError(f"{where}: more than {MAX_ROWS} prices")
    ordered = sorted(rows, key=lambda r: r[0])
    ends = _ends([r[0] for r in ordered], [r[1] for r in ordered])
    slots: list[PriceSlot] = [checked_slot(r[0], end, r[2], f"{where}, row {i + 1}")
                              for i, (r, end) in enumerate(zip(ordered, ends, strict=True))]
    return PriceCurve(slots)


def parse_csv(text: str, where: str) -> PriceCurve:
    """``start_utc,price_<currency>_per_kwh`` (or ``start,end,price``) rows."""
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if not header or len(header) < 2 or not header[0].startswith("start"):
        raise InvalidInputError(f"{where}: header must be start_utc,price_..._per_kwh")
    has_end = len(header) >= 3 and header[1].startswith("end")
    rows: list[tuple[float, float | None, float]] = []
    for line_no, row in enumerate(reader, start=2):
        if not row:
            continue
        try:
            start = parse_time(row[0], f"{where}, line {line_no}")
            end = parse_time(row[1], f"{where}, line {line_no}") if has_end else None
            price = float(row[2] if has_end else row[1])
        except InvalidInputError:
            raise
        except (IndexError, ValueError):
            raise InvalidInputError(f"{where}: line {line_no} is not start,price") from None
        rows.append((start, end, price))
    return curve_from_rows(rows, where)


def _number(row: dict[str, Any], keys: Sequence[str], where: str) -> float:
    for key in keys:
        value = row.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    raise InvalidInputError(f"{where}: no price ({' or '.join(keys)})")


def parse_json(payload: object, where: str, *, divisor: float = 1.0) -> PriceCurve:
    """A list of ``{start, end?, price|value}`` (or ``{"rates": [...]}``, evcc's ``{"result": {"rates": …}}``)."""
    data = payload
    for key in ("result", "rates", "prices", "data"):
        if isinstance(data, dict) and key in data:
            data = data[key]
    if not isinstance(data, list):
        raise InvalidInputError(f"{where}: expected a list of prices")
    rows: list[tuple[float, float | None, float]] = []
    for i, row in enumerate(data):
        if not isinstance(row, dict):
            raise InvalidInputError(f"{where}: entry {i} is not an object")
        start_key = next((k for k in ("start", "startsAt", "valid_from", "start_utc", "deliveryStart") if k in row),
                         None)
        if start_key is None:
            raise InvalidInputError(f"{where}: entry {i} has no start")
        end_key = next((k for k in ("end", "endsAt", "valid_to", "deliveryEnd") if row.get(k) is not None), None)
        start = parse_time(row[start_key], f"{where}, entry {i}")
        end = parse_time(row[end_key], f"{where}, entry {i}") if end_key else None
        price = _number(row, ("price", "value", "value_inc_vat", "total"), f"{where}, entry {i}") / divisor
        rows.append((start, end, price))
    return curve_from_rows(rows, where)


def parse_text(text: str, where: str) -> PriceCurve:
    """JSON when it looks like JSON, else CSV."""
    stripped = text.lstrip()
    if stripped[:1] in ("[", "{"):
        try:
            return parse_json(json.loads(stripped), where)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{where}: not JSON: {exc.msg}") from None
    return parse_csv(text, where)


def read_file(path: Path) -> PriceCurve:
    """A price file (CSV or JSON); InvalidInputError when it cannot be read or is not one."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}: cannot read: {exc}") from None
    return parse_text(text, str(path))
