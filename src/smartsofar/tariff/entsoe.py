"""Day-ahead prices from the ENTSO-E Transparency Platform: the bidding zones' codes, the request, and the
``Publication_MarketDocument`` (documentType A44) it answers with.

The platform needs the user's own security token (free, asked for by e-mail from one's Transparency Platform
account). An answer is XML: one or more ``TimeSeries``, each with ``Period``s of a ``timeInterval`` and a
``resolution`` (PT60M, PT30M or PT15M) holding ``Point``s (``position`` 1…N, ``price.amount`` per MWh). Curve
type A03 leaves out a point whose price equals the one before, so a missing position repeats the last price.
Where a zone publishes the same hours at two resolutions, the finer one is kept. "No data" is a 200 with an
``Acknowledgement_MarketDocument`` and a reason; a wrong token is a 401.

entsoe-py was weighed: it brings pandas and BeautifulSoup for what is one GET and forty lines of
ElementTree here. The answer is capped in size before it is parsed, and Python's expat refuses entity
expansion attacks.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from smartsofar.errors import DeviceError, InvalidInputError
from smartsofar.tariff.series_file import parse_time

ENTSOE_URL = "https://web-api.tp.entsoe.eu/api"

# The day-ahead bidding zones people ask for, by the short names Nord Pool and Home Assistant also use.
BIDDING_ZONES = {
    "AT": "10YAT-APG------L", "BE": "10YBE----------2", "BG": "10YCA-BULGARIA-R", "CH": "10YCH-SWISSGRIDZ",
    "CZ": "10YCZ-CEPS-----N", "DE-LU": "10Y1001A1001A82H", "DK1": "10YDK-1--------W", "DK2": "10YDK-2--------M",
    "EE": "10Y1001A1001A39I", "ES": "10YES-REE------0", "FI": "10YFI-1--------U", "FR": "10YFR-RTE------C",
    "GR": "10YGR-HTSO-----Y", "HR": "10YHR-HEP------M", "HU": "10YHU-MAVIR----U", "LT": "10YLT-1001A0008Q",
    "LV": "10YLV-1001A00074", "NL": "10YNL----------L", "NO1": "10YNO-1--------2", "NO2": "10YNO-2--------T",
    "NO3": "10YNO-3--------J", "NO4": "10YNO-4--------9", "NO5": "10Y1001A1001A48H", "PL": "10YPL-AREA-----S",
    "PT": "10YPT-REN------W", "RO": "10YRO-TEL------P", "RS": "10YCS-SERBIATSOV", "SE1": "10Y1001A1001A44P",
    "SE2": "10Y1001A1001A45N", "SE3": "10Y1001A1001A46L", "SE4": "10Y1001A1001A47J", "SI": "10YSI-ELES-----O",
    "SK": "10YSK-SEPS-----K",
}
RESOLUTIONS_S = {"PT15M": 900, "PT30M": 1800, "PT60M": 3600}
EIC_LENGTH = 16


def zone_code(area: str) -> str:
    """The zone's EIC code from its short name (DE-LU, SE3, ...) or the code itself; ValueError if neither."""
    name = area.strip().upper().replace("_", "-")
    if name in BIDDING_ZONES:
        return BIDDING_ZONES[name]
    if len(area.strip()) == EIC_LENGTH and area.strip()[2] == "Y":
        return area.strip()
    known = ", ".join(sorted(BIDDING_ZONES))
    raise ValueError(f"{area!r} is not a bidding zone ENTSO-E knows here ({known}, or a 16-character EIC code)")


def request_params(area: str, token: str, now: float) -> dict[str, str]:
    """The query for yesterday to the day after tomorrow (UTC), which holds today's and tomorrow's auction."""
    day = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    code = zone_code(area)
    return {"securityToken": token, "documentType": "A44", "in_Domain": code, "out_Domain": code,
            "periodStart": (day - timedelta(days=1)).strftime("%Y%m%d%H%M"),
            "periodEnd": (day + timedelta(days=2)).strftime("%Y%m%d%H%M")}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(element: ET.Element, name: str, where: str) -> str:
    found = element.find(f"{{*}}{name}")
    if found is None or not (found.text or "").strip():
        raise InvalidInputError(f"{where}: no {name}")
    return (found.text or "").strip()


def _period_rows(period: ET.Element, where: str) -> tuple[int, list[tuple[float, float, float]]]:
    interval = period.find("{*}timeInterval")
    if interval is None:
        raise InvalidInputError(f"{where}: a Period has no timeInterval")
    start = parse_time(_text(interval, "start", where), where)
    end = parse_time(_text(interval, "end", where), where)
    resolution = _text(period, "resolution", where)
    step = RESOLUTIONS_S.get(resolution)
    if step is None:
        raise InvalidInputError(f"{where}: resolution {resolution[:12]!r} is not PT15M, PT30M or PT60M")
    count = round((end - start) / step)
    if count <= 0 or count > 200:
        raise InvalidInputError(f"{where}: a Period of {end - start:.0f} s at {resolution}")
    prices: dict[int, float] = {}
    for point in period.findall("{*}Point"):
        try:
            position = int(_text(point, "position", where))
            price = float(_text(point, "price.amount", where))
        except ValueError:
            raise InvalidInputError(f"{where}: a Point's position or price is not a number") from None
        if not 1 <= position <= count:
            raise InvalidInputError(f"{where}: position {position} is outside the Period's {count}")
        prices[position] = price
    if 1 not in prices:
        raise InvalidInputError(f"{where}: the Period has no first Point")
    rows: list[tuple[float, float, float]] = []
    last = prices[1]
    for position in range(1, count + 1):
        last = prices.get(position, last)  # curve type A03: an absent point repeats the one before
        t0 = start + (position - 1) * step
        rows.append((t0, t0 + step, last / 1000))
    return step, rows


def parse_document(content: bytes, where: str = "entsoe") -> list[tuple[float, float | None, float]]:
    """The answer -> (start, end, price per kWh) rows; DeviceError for "no data", InvalidInputError if malformed."""
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        raise InvalidInputError(f"{where}: the answer is not XML ({exc})") from None
    name = _local(root.tag)
    if name == "Acknowledgement_MarketDocument":
        reason = root.findtext(".//{*}Reason/{*}text") or root.findtext(".//{*}Reason/{*}code") or "no reason"
        raise DeviceError(f"{where}: {reason.strip()[:200]}")
    if name != "Publication_MarketDocument":
        raise InvalidInputError(f"{where}: a {name[:60]} is not a price document")
    best: dict[float, tuple[int, float, float]] = {}  # start -> (step, end, price); the finest step wins
    for series in root.findall("{*}TimeSeries"):
        for period in series.findall("{*}Period"):
            step, rows = _period_rows(period, where)
            for t0, t1, price in rows:
                if t0 not in best or step < best[t0][0]:
                    best[t0] = (step, t1, price)
    if not best:
        raise DeviceError(f"{where}: the document has no prices")
    finest = min(step for step, _, _ in best.values())
    # a coarser series under a finer one would overlap it: keep the finest wherever it covers
    covered = [(t0, t1) for t0, (step, t1, _) in best.items() if step == finest]
    out: list[tuple[float, float | None, float]] = []
    for t0, (step, t1, price) in sorted(best.items()):
        if step != finest and any(a < t1 and t0 < b for a, b in covered):
            continue
        out.append((t0, t1, price))
    return out
