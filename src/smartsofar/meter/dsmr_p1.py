"""A smart meter's P1 port (the ``p1`` source): DSMR telegrams, parsed by dsmr_parser, over serial or TCP.

dsmr_parser is the library Home Assistant's DSMR integration uses: it knows the telegram formats of the
Netherlands (2.2, 4, 5), Belgium (5B), Luxembourg (5L), Sweden (5S) and others, and checks each telegram's
CRC. The bytes come through serialx (its own dependency): a serial device at the format's line settings, or
``socket://HOST:PORT`` for a P1-to-network bridge (ser2net, an ESPHome stream server, a P1 dongle).

Some meters encrypt their P1 port: Luxembourg's Smarty (``MSN``) and the Sagemcom T210-D-r (``T210``) send
DLMS general-global-cipher frames (AES-128-GCM) instead of text. dsmr_parser frames them by their length
field and decrypts them with the meter's encryption key (and the authentication key: MSN's is fixed by the
Luxmetering specification; without one the telegram's own CRC vouches for it). A wrong key refuses every
frame, and says so.

Powers are ``1.7.0`` (import) minus ``2.7.0`` (export) in kW, per phase ``21/22.7.0``, ``41/42.7.0``,
``61/62.7.0``; counters are the tariffs' sum (``1.8.1`` + ``1.8.2``) or the total (``1.8.0``), in kWh. A
telegram that fails its CRC or lacks the power is refused and logged, never used.

dsmr_parser (with the cryptography it loads for encrypted telegrams) costs some 13 MB of memory, so it is
imported only when a P1 meter is configured, not by every installation.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import serialx

from smartsofar.config_meters import DsmrVersion, P1MeterConfig
from smartsofar.errors import MeterReplyError, MeterUnavailableError
from smartsofar.meter.base import Meter, MeterOptions, MeterSample, PhaseSample
from smartsofar.meter.push import PushMeter, plausible_power
from smartsofar.meter.registry import register


@functools.cache
def specifications() -> dict[DsmrVersion, tuple[dict[str, Any], dict[str, Any]]]:
    """Each format's telegram specification and line settings (dsmr_parser is imported here, once)."""
    from dsmr_parser import telegram_specifications as spec
    from dsmr_parser.clients.settings import SERIAL_SETTINGS_V2_2, SERIAL_SETTINGS_V4, SERIAL_SETTINGS_V5
    return {"2.2": (spec.V2_2, SERIAL_SETTINGS_V2_2), "4": (spec.V4, SERIAL_SETTINGS_V4),
            "5": (spec.V5, SERIAL_SETTINGS_V5), "5B": (spec.BELGIUM_FLUVIUS, SERIAL_SETTINGS_V5),
            "5L": (spec.LUXEMBOURG_SMARTY, SERIAL_SETTINGS_V5), "5S": (spec.SWEDEN, SERIAL_SETTINGS_V5),
            "Q3D": (spec.Q3D, SERIAL_SETTINGS_V5), "MSN": (spec.MSN, SERIAL_SETTINGS_V5),
            "T210": (spec.SAGEMCOM_T210_D_R, SERIAL_SETTINGS_V5)}


MAX_BUFFER_CHARS = 64 * 1024  # a line with no telegram end in it for this long is noise


def _value(telegram: Any, name: str) -> Decimal | None:
    item = getattr(telegram, name, None)
    value = getattr(item, "value", None)
    return value if isinstance(value, Decimal) else None


def _kw(telegram: Any, plus: str, minus: str) -> float | None:
    imported, exported = _value(telegram, plus), _value(telegram, minus)
    if imported is None:
        return None
    return plausible_power(float(imported - (exported or Decimal(0))) * 1000, plus)


def _kwh(telegram: Any, *names: str) -> float | None:
    values = [_value(telegram, n) for n in names]
    if any(v is None for v in values):
        return None
    return float(sum(v for v in values if v is not None)) * 1000


def telegram_to_sample(telegram: Any, options: MeterOptions, taken_at: float) -> MeterSample:
    """The grid sample a parsed telegram holds; MeterReplyError when it has no power."""
    total = _kw(telegram, "CURRENT_ELECTRICITY_USAGE", "CURRENT_ELECTRICITY_DELIVERY")
    if total is None:
        raise MeterReplyError("the telegram has no present power (1-0:1.7.0)")
    phases = []
    for line in (1, 2, 3):
        power = _kw(telegram, f"INSTANTANEOUS_ACTIVE_POWER_L{line}_POSITIVE",
                    f"INSTANTANEOUS_ACTIVE_POWER_L{line}_NEGATIVE")
        if power is None:
            break
        voltage, current = (_value(telegram, f"INSTANTANEOUS_VOLTAGE_L{line}"),
                            _value(telegram, f"INSTANTANEOUS_CURRENT_L{line}"))
        phases.append(PhaseSample(power, None if voltage is None else float(voltage),
                                  None if current is None else float(current)))
    imported = (_kwh(telegram, "ELECTRICITY_USED_TARIFF_1", "ELECTRICITY_USED_TARIFF_2")
                or _kwh(telegram, "ELECTRICITY_IMPORTED_TOTAL"))
    exported = (_kwh(telegram, "ELECTRICITY_DELIVERED_TARIFF_1", "ELECTRICITY_DELIVERED_TARIFF_2")
                or _kwh(telegram, "ELECTRICITY_EXPORTED_TOTAL"))
    return options.sample(phases if len(phases) in (1, 3) else [], taken_at, total, None, imported, exported)


class P1Meter(PushMeter):
    """Reads telegrams as the meter sends them (every second for DSMR 5, every 10 s for DSMR 4)."""

    def __init__(self, config: P1MeterConfig, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(config.stale_after_s, clock)
        self.config = config
        self.model = config.label
        from dsmr_parser.parsers import TelegramParser
        specification, self.line_settings = specifications()[config.dsmr_version]
        self.parser = TelegramParser(specification)
        self.options = MeterOptions(invert=config.invert, phase=config.phase)
        self.keys: dict[str, str | None] = {}
        if config.encrypted:
            assert config.encryption_key is not None  # the configuration requires it
            given = config.authentication_key.get_secret_value() if config.authentication_key else None
            # "" lets dsmr_parser use the specification's own (MSN's fixed key); None: decrypt, then check the CRC
            fixed = "" if specification.get("authentication_key") else None
            self.keys = {"encryption_key": config.encryption_key.get_secret_value(),
                         "authentication_key": given or fixed}

    def decode(self, text: str, taken_at: float) -> MeterSample:
        """One sample from one whole telegram (``/`` to the CRC line, or an encrypted frame as hex);
        MeterReplyError if it is unusable."""
        from dsmr_parser.exceptions import DecryptionError, InvalidChecksumError, ParseError
        try:
            telegram = self.parser.parse(text, throw_ex=True, **self.keys)
        except InvalidChecksumError:
            raise MeterReplyError("a telegram failed its CRC (a noisy cable, or a wrong encryption key?)") from None
        except DecryptionError:
            raise MeterReplyError("a frame could not be decrypted: check encryption_key (and "
                                  "authentication_key)") from None
        except (ParseError, ValueError, ArithmeticError, TypeError, IndexError) as exc:
            raise MeterReplyError(f"a telegram could not be parsed: {exc}") from None
        return telegram_to_sample(telegram, self.options, taken_at)

    async def receive(self) -> None:
        """Open the port or the bridge, then deliver every good telegram."""
        from dsmr_parser.clients.telegram_buffer import EncryptedTelegramBuffer, TelegramBuffer
        settings = {k: v for k, v in self.line_settings.items() if k != "timeout"}
        try:
            reader, writer = await serialx.open_serial_connection(url=self.config.device, **settings)
        except (OSError, serialx.SerialException) as exc:
            raise MeterUnavailableError(f"{self.config.url}: cannot open ({exc})") from None
        new_buffer = EncryptedTelegramBuffer if self.config.encrypted else TelegramBuffer
        buffer = new_buffer()
        pending = 0
        try:
            while True:
                data = await reader.read(4096)
                if not data:
                    raise MeterUnavailableError(f"{self.config.url}: the connection closed")
                taken_at = self.clock()
                buffer.append(data if self.config.encrypted else data.decode("latin1"))
                pending += len(data)
                for text in buffer.get_all():
                    pending = 0
                    try:
                        sample = self.decode(text, taken_at)
                    except MeterReplyError as exc:
                        await self.refuse(exc)
                        continue
                    await self.deliver(sample)
                if pending > MAX_BUFFER_CHARS:
                    buffer = new_buffer()
                    pending = 0
                    await self.refuse(MeterReplyError("no telegram in 64 KiB of data (wrong dsmr_version or "
                                                      "line settings?)"))
        finally:
            writer.close()


@register("p1")
async def open_p1(config: P1MeterConfig) -> Meter:
    """The configured P1 port's reader (it opens the port on the first read)."""
    return P1Meter(config)
