"""The ENTSO-E day-ahead document: zones by name or code, the query it is asked with, and every malformed
answer refused with a reason (nothing of it used)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from smartsofar.config_tariff import TariffConfig
from smartsofar.errors import DeviceError, InvalidInputError
from smartsofar.tariff.entsoe import parse_document, request_params, zone_code

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "prices"
NS = "urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:3"


def document(period: str) -> bytes:
    return (f'<Publication_MarketDocument xmlns="{NS}"><TimeSeries><Period>{period}</Period></TimeSeries>'
            "</Publication_MarketDocument>").encode()


HOURS = "<timeInterval><start>2025-10-01T22:00Z</start><end>2025-10-02T00:00Z</end></timeInterval>"


def test_zones_by_their_short_name_or_their_code() -> None:
    assert zone_code("de-lu") == zone_code("DE_LU") == "10Y1001A1001A82H"
    assert zone_code("10YFR-RTE------C") == "10YFR-RTE------C"
    with pytest.raises(ValueError, match="not a bidding zone"):
        zone_code("Atlantis")


def test_the_query_spans_yesterday_to_the_day_after_tomorrow() -> None:
    now = datetime(2025, 10, 2, 9, 30, tzinfo=UTC).timestamp()
    params = request_params("SE3", "t", now)
    assert params["in_Domain"] == params["out_Domain"] == "10Y1001A1001A46L"
    assert (params["periodStart"], params["periodEnd"]) == ("202510010000", "202510040000")


def test_a_config_with_an_unknown_zone_or_no_token_is_refused_at_once() -> None:
    with pytest.raises(ValidationError, match="not a bidding zone"):
        TariffConfig(kind="dynamic", source="entsoe", area="XX", token="t")
    with pytest.raises(ValidationError, match="needs area and token"):
        TariffConfig(kind="dynamic", source="entsoe", area="FR")


def test_the_fixture_keeps_the_quarter_hours_over_the_hours() -> None:
    rows = parse_document((FIXTURES / "entsoe_A44_2025-10-02_DE-LU.xml").read_bytes())
    assert len(rows) == 96 and all(end is not None and end - start == 900 for start, end, _ in rows)


@pytest.mark.parametrize(("content", "reason"), [
    (b"<not xml", "not XML"),
    (b'<Something xmlns="x"/>', "is not a price document"),
    (document(HOURS + "<resolution>P1D</resolution><Point><position>1</position><price.amount>1"
              "</price.amount></Point>"), "is not PT15M, PT30M or PT60M"),
    (document(HOURS + "<resolution>PT60M</resolution><Point><position>3</position><price.amount>1"
              "</price.amount></Point>"), "position 3 is outside"),
    (document(HOURS + "<resolution>PT60M</resolution><Point><position>2</position><price.amount>1"
              "</price.amount></Point>"), "no first Point"),
    (document(HOURS + "<resolution>PT60M</resolution><Point><position>1</position><price.amount>cheap"
              "</price.amount></Point>"), "not a number"),
    (document("<resolution>PT60M</resolution>"), "no timeInterval"),
    (b'<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">' + b"".join(  # entities that expand a billion-fold
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(8))
     + b"]><l>&i;</l>", "not XML"),
])
def test_a_malformed_document_is_refused(content: bytes, reason: str) -> None:
    with pytest.raises(InvalidInputError, match=reason):
        parse_document(content)


def test_no_data_is_the_platforms_reason() -> None:
    with pytest.raises(DeviceError, match="No matching data found"):
        parse_document((FIXTURES / "entsoe_acknowledgement_no_data.xml").read_bytes())
    with pytest.raises(DeviceError, match="no prices"):
        parse_document(f'<Publication_MarketDocument xmlns="{NS}"/>'.encode())
