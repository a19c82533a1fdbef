"""Where prices come from: one fetch per source, over httpx, each returning a ``PriceCurve`` (day-ahead prices
per kWh before ``scale`` and ``adder``) or day colours.

- ``nordpool``: Nord Pool's public data portal, ``/api/DayAheadPrices`` (what Home Assistant's Nord Pool
  integration reads), for today and tomorrow, in the area's currency per MWh. 204 means "not published yet".
- ``octopus``: Octopus Energy's public REST API, the product's ``standard-unit-rates`` (p/kWh incl. VAT).
- ``entsoe``: the ENTSO-E Transparency Platform's day-ahead prices of a bidding zone, with the user's token
  (``entsoe``: the document and the zones' codes), per MWh.
- ``tibber``: Tibber's GraphQL API, the home's ``priceInfo`` at quarter-hour resolution, today and tomorrow
  (the ``total``: energy, taxes and Tibber's margin, in the home's currency), with the user's token.
- ``evcc``: a running evcc's ``/api/tariff/grid`` (its rates, whichever tariff evcc has).
- ``url``: any JSON list of ``{start, end?, price|value}`` or a ``start_utc,price`` CSV.
- ``file``: the same, from a file.
- Tempo colours: ``api-couleur-tempo`` (api-couleur-tempo.fr, today's and tomorrow's colour, no key), a
  ``date,colour`` CSV file, or a URL answering as that service does.

The libraries named for this (pynordpool, aiooctopusenergy, entsoe-py, pytibber) were weighed: pynordpool's
current releases need Python 3.12 and bring aiohttp, no aiooctopusenergy is published for this Python,
entsoe-py brings pandas, and pytibber brings aiohttp and a GraphQL client for one query; each source here is
one request through the httpx client the meters already use. Every answer is validated (``series_file``): a reply
that is not a plausible price list raises ``InvalidInputError`` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from smartsofar.config_tariff import TariffConfig
from smartsofar.errors import DeviceError, InvalidInputError
from smartsofar.redact import HIDDEN
from smartsofar.tariff import entsoe as entsoe_document
from smartsofar.tariff.clock import local_date, site_zone
from smartsofar.tariff.prices import PriceCurve
from smartsofar.tariff.series_file import curve_from_rows, parse_json, parse_text, parse_time, read_file
from smartsofar.tariff.tempo import TempoColours, colour_name

NORDPOOL_URL = "https://dataportal-api.nordpoolgroup.com"
OCTOPUS_URL = "https://api.octopus.energy"
TEMPO_URL = "https://www.api-couleur-tempo.fr"
TIBBER_URL = "https://api.tibber.com/v1-beta/gql"
TIBBER_QUERY = ("{ viewer { homes { id currentSubscription { priceInfo(resolution: QUARTER_HOURLY) { "
                "today { total startsAt } tomorrow { total startsAt } } } } } }")
TIMEOUT_S = 20.0
MAX_BYTES = 4_000_000


async def http_get(client: httpx.AsyncClient, url: str, params: Mapping[str, str] | None = None,
               token: str | None = None, *, json_body: object = None, accept: tuple[int, ...] = ()) \
        -> httpx.Response:
    """A GET (a POST with ``json_body``), refused when it fails, is refused or is too large (a status in
    ``accept`` is returned, for the caller to read)."""
    headers = {"Accept": "application/json, text/csv;q=0.9, */*;q=0.5"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        if json_body is not None:
            response = await client.post(url, json=json_body, headers=headers, timeout=TIMEOUT_S)
        else:
            response = await client.get(url, params=params, headers=headers, timeout=TIMEOUT_S)
    except httpx.HTTPError as exc:
        raise DeviceError(f"{url}: {type(exc).__name__}: {exc}") from None
    if response.status_code in (401, 403):
        raise DeviceError(f"{url}: refused (HTTP {response.status_code}): check the token")
    if response.status_code >= 400 and response.status_code not in accept:
        raise DeviceError(f"{url}: HTTP {response.status_code}")
    if len(response.content) > MAX_BYTES:
        raise InvalidInputError(f"{url}: the answer is larger than {MAX_BYTES // 1_000_000} MB")
    return response


def json_answer(response: httpx.Response, where: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise InvalidInputError(f"{where}: the answer is not JSON") from None


async def nordpool(config: TariffConfig, client: httpx.AsyncClient, now: float) -> PriceCurve:
    """Today's and tomorrow's day-ahead prices of ``config.area`` (per kWh)."""
    base = (config.url or NORDPOOL_URL).rstrip("/")
    area = config.area.upper()
    cet = site_zone("Europe/Oslo")  # the auction's delivery days are CET days
    today = local_date(now, cet)
    rows: list[tuple[float, float | None, float]] = []
    for day in (today, today + timedelta(days=1)):
        params = {"date": day.isoformat(), "market": "DayAhead", "deliveryArea": area,
                  "currency": config.currency.upper()}
        response = await http_get(client, f"{base}/api/DayAheadPrices", params)
        if response.status_code == 204 or not response.content:
            continue  # not published yet
        payload = json_answer(response, "nordpool")
        entries = payload.get("multiAreaEntries") if isinstance(payload, dict) else None
        if not isinstance(entries, list):
            raise InvalidInputError("nordpool: the answer has no multiAreaEntries")
        for i, entry in enumerate(entries):
            where = f"nordpool {day}, entry {i}"
            try:
                price = entry["entryPerArea"][area]
                start, end = parse_time(entry["deliveryStart"], where), parse_time(entry["deliveryEnd"], where)
            except (KeyError, TypeError):
                raise InvalidInputError(f"{where}: no price for area {area}") from None
            if not isinstance(price, int | float) or isinstance(price, bool):
                raise InvalidInputError(f"{where}: the price is not a number")
            rows.append((start, end, float(price) / 1000))
    if not rows:
        raise DeviceError(f"nordpool: no prices published for {area} on {today} yet")
    return curve_from_rows(rows, "nordpool")


async def octopus(config: TariffConfig, client: httpx.AsyncClient, now: float) -> PriceCurve:
    """The product's unit rates from yesterday to as far as they are published (per kWh, incl. VAT)."""
    base = (config.url or OCTOPUS_URL).rstrip("/")
    product, region = config.product.upper(), config.region.upper()
    tariff_code = f"E-1R-{product}-{region}"
    start = datetime.fromtimestamp(now - 86400, UTC).replace(minute=0, second=0, microsecond=0)
    params = {"period_from": start.isoformat().replace("+00:00", "Z"), "page_size": "1500"}
    url = f"{base}/v1/products/{product}/electricity-tariffs/{tariff_code}/standard-unit-rates/"
    payload = json_answer(await http_get(client, url, params), "octopus")
    if not isinstance(payload, dict) or not isinstance(payload.get("results"), list):
        raise InvalidInputError("octopus: the answer has no results")
    return parse_json(payload["results"], "octopus", divisor=100.0)


async def entsoe(config: TariffConfig, client: httpx.AsyncClient, now: float) -> PriceCurve:
    """The zone's day-ahead prices from yesterday to tomorrow (per kWh)."""
    token = config.token.get_secret_value() if config.token else ""
    try:
        params = entsoe_document.request_params(config.area, token, now)
    except ValueError as exc:
        raise InvalidInputError(f"entsoe: {exc}") from None
    url = config.url or entsoe_document.ENTSOE_URL
    try:  # the platform answers a query it cannot serve with a 400 and a document giving the reason
        response = await http_get(client, url, params, accept=(400,))
    except DeviceError as exc:  # the token travels in the query: never in a message
        raise DeviceError(str(exc).replace(token, HIDDEN) if token else str(exc)) from None
    if response.status_code == 400 and b"Acknowledgement_MarketDocument" not in response.content[:1000]:
        raise DeviceError(f"{url}: HTTP 400")
    return curve_from_rows(entsoe_document.parse_document(response.content), "entsoe")


def _tibber_rows(home: dict[str, Any], where: str) -> list[tuple[float, float | None, float]]:
    info = ((home.get("currentSubscription") or {}).get("priceInfo") or {})
    rows: list[tuple[float, float | None, float]] = []
    for day in ("today", "tomorrow"):
        entries = info.get(day) or []
        if not isinstance(entries, list):
            raise InvalidInputError(f"{where}: {day} is not a list")
        for i, entry in enumerate(entries):
            at = f"{where}, {day} {i}"
            if not isinstance(entry, dict):
                raise InvalidInputError(f"{at}: not a price")
            price = entry.get("total")
            if not isinstance(price, int | float) or isinstance(price, bool):
                raise InvalidInputError(f"{at}: the total is not a number")
            rows.append((parse_time(entry.get("startsAt"), at), None, float(price)))
    return rows


async def tibber(config: TariffConfig, client: httpx.AsyncClient, now: float) -> PriceCurve:
    """The home's prices, today and tomorrow, per kWh incl. taxes (the first home with a subscription, or
    ``config.home``)."""
    token = config.token.get_secret_value() if config.token else None
    response = await http_get(client, config.url or TIBBER_URL, token=token, json_body={"query": TIBBER_QUERY})
    payload = json_answer(response, "tibber")
    if not isinstance(payload, dict):
        raise InvalidInputError("tibber: the answer is not an object")
    if payload.get("errors"):
        first = payload["errors"][0] if isinstance(payload["errors"], list) else payload["errors"]
        message = first.get("message", first) if isinstance(first, dict) else first
        raise DeviceError(f"tibber: {str(message)[:200]}")
    homes = ((payload.get("data") or {}).get("viewer") or {}).get("homes")
    if not isinstance(homes, list):
        raise InvalidInputError("tibber: the answer has no viewer.homes")
    chosen = [h for h in homes if isinstance(h, dict) and (not config.home or h.get("id") == config.home)
              and h.get("currentSubscription")]
    if not chosen:
        which = f"home {config.home}" if config.home else "a home with a subscription"
        raise DeviceError(f"tibber: the account has no {which}")
    rows = _tibber_rows(chosen[0], "tibber")
    if not rows:
        raise DeviceError("tibber: no prices published yet")
    return curve_from_rows(rows, "tibber")


async def evcc(config: TariffConfig, client: httpx.AsyncClient, now: float) -> PriceCurve:
    """evcc's grid tariff."""
    url = config.url.rstrip("/") + "/api/tariff/grid"
    return parse_json(json_answer(await http_get(client, url), "evcc"), "evcc")


async def from_url(config: TariffConfig, client: httpx.AsyncClient, now: float) -> PriceCurve:
    """A JSON or CSV price list at a URL."""
    token = config.token.get_secret_value() if config.token else None
    response = await http_get(client, config.url, token=token)
    return parse_text(response.text, "url")


async def from_file(config: TariffConfig, client: httpx.AsyncClient, now: float) -> PriceCurve:
    """A price file."""
    assert config.file is not None
    return read_file(config.file)


SPOT_SOURCES = {"nordpool": nordpool, "octopus": octopus, "entsoe": entsoe, "tibber": tibber, "evcc": evcc,
                "url": from_url, "file": from_file}


async def fetch_spot(config: TariffConfig, client: httpx.AsyncClient, now: float) -> PriceCurve:
    """The configured source's prices."""
    return await SPOT_SOURCES[config.source](config, client, now)


def _tempo_answer(payload: object, where: str) -> dict[date, str]:
    items = payload if isinstance(payload, list) else [payload]
    out: dict[date, str] = {}
    for item in items:
        if not isinstance(item, dict) or "dateJour" not in item:
            raise InvalidInputError(f"{where}: not a Tempo day (dateJour, codeJour)")
        try:
            day = date.fromisoformat(str(item["dateJour"]))
        except ValueError:
            raise InvalidInputError(f"{where}: {str(item['dateJour'])[:20]!r} is not a date") from None
        colour = colour_name(item.get("codeJour", item.get("couleur", "")))
        if colour:
            out[day] = colour
    return out


async def fetch_colours(config: TariffConfig, client: httpx.AsyncClient, now: float) -> dict[date, str]:
    """Tempo day colours: today's and tomorrow's from a service, or a whole calendar from a file."""
    source = config.colours
    if source == "api-couleur-tempo" or source.startswith(("http://", "https://")):
        base = TEMPO_URL if source == "api-couleur-tempo" else source.rstrip("/")
        out: dict[date, str] = {}
        for which in ("today", "tomorrow"):
            answer = await http_get(client, f"{base}/api/jourTempo/{which}")
            out.update(_tempo_answer(json_answer(answer, "tempo"), "tempo"))
        return out
    return TempoColours.from_csv(Path(source)).days
