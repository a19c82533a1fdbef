"""Shelly Gen2+ RPC meters: Pro 3EM (triphase EM, or monophase EM1 profile), Pro EM and EM Gen3 (EM1).

Polls ``EM.GetStatus?id=0`` (three phases) or ``EM1.GetStatus?id=N`` (one channel each) and, at most every
``energy_every_s``, the matching ``EMData`` / ``EM1Data`` energy counters (Wh), fetched beside the next
polls so that a sample never waits for them (a sample carries the counters last fetched). A reply that reports
``errors`` or per-phase ``*_errors`` is refused, never passed on.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from smartsofar.errors import MeterError, MeterReplyError
from smartsofar.meter.base import MeterOptions, MeterSample, PhaseSample, number, power
from smartsofar.meter.http import JsonHttp

ENERGY_EVERY_S = 10.0


def _check_errors(body: dict[str, Any], keys: Sequence[str]) -> None:
    for key in keys:
        if body.get(key):
            raise MeterReplyError(f"the meter reports {key}: {', '.join(map(str, body[key]))}")


def decode_em(body: dict[str, Any]) -> tuple[list[PhaseSample], float, float | None]:
    """Phases, total active power and frequency from an ``EM.GetStatus`` body."""
    _check_errors(body, ("errors", "a_errors", "b_errors", "c_errors"))
    phases = [PhaseSample(power(body, f"{p}_act_power"), number(body, f"{p}_voltage", required=False),
                          number(body, f"{p}_current", required=False), number(body, f"{p}_pf", required=False))
              for p in "abc"]
    return phases, power(body, "total_act_power"), number(body, "a_freq", required=False)


def decode_em1(body: dict[str, Any]) -> tuple[PhaseSample, float | None]:
    """One channel and its frequency from an ``EM1.GetStatus`` body."""
    _check_errors(body, ("errors",))
    return (PhaseSample(power(body, "act_power"), number(body, "voltage", required=False),
                        number(body, "current", required=False), number(body, "pf", required=False)),
            number(body, "freq", required=False))


class _EnergyCache:
    """Energy counters, refreshed at most every ``every_s`` in a task of their own: they move slowly and cost a
    request, which the power sample must not wait for."""

    def __init__(self, every_s: float, clock: Callable[[], float],
                 fetch: Callable[[], Awaitable[tuple[float | None, float | None]]]) -> None:
        self.every_s = every_s
        self.clock = clock
        self.fetch = fetch
        self.values: tuple[float | None, float | None] = (None, None)
        self._fetched_at: float | None = None
        self._task: asyncio.Task[None] | None = None

    async def refresh_if_due(self) -> None:
        """The first time, fetch now (a first sample has its counters); later, start a fetch in the
        background when the counters are due and none is running."""
        if self._fetched_at is None:
            self._fetched_at = self.clock()
            await self._refresh()
            return
        if self._task is not None and not self._task.done():
            return
        if self.clock() - self._fetched_at >= self.every_s:
            self._fetched_at = self.clock()
            self._task = asyncio.create_task(self._refresh())

    async def _refresh(self) -> None:
        with contextlib.suppress(MeterError):  # the next due fetch tries again; the powers are what matters
            self.values = await self.fetch()

    async def aclose(self) -> None:
        """Stop a fetch under way."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class ShellyEMMeter:
    """Shelly Pro 3EM in its default triphase profile (component ``em:0``)."""

    model = "Shelly Pro 3EM"

    def __init__(self, http: JsonHttp, options: MeterOptions | None = None,
                 energy_every_s: float = ENERGY_EVERY_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.http = http
        self.options = options or MeterOptions()
        self.clock = clock
        self._energy = _EnergyCache(energy_every_s, clock, self._counters)

    async def _counters(self) -> tuple[float | None, float | None]:
        data = await self.http.get_json("/rpc/EMData.GetStatus", {"id": 0})
        return number(data, "total_act", required=False), number(data, "total_act_ret", required=False)

    async def read(self) -> MeterSample:
        """One sample (phases and total)."""
        body = await self.http.get_json("/rpc/EM.GetStatus", {"id": 0})
        taken_at = self.clock()
        phases, total, freq = decode_em(body)
        await self._energy.refresh_if_due()
        return self.options.sample(phases, taken_at, total, freq, *self._energy.values)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._energy.aclose()
        await self.http.aclose()


class ShellyEM1Meter:
    """EM1 channels: Pro EM / EM Gen3 (one grid channel), or a Pro 3EM in monophase profile (three)."""

    def __init__(self, http: JsonHttp, channels: Sequence[int], options: MeterOptions | None = None,
                 model: str = "Shelly Pro EM", energy_every_s: float = ENERGY_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not channels:
            raise MeterReplyError("at least one EM1 channel is needed")
        self.http = http
        self.channels = tuple(channels)
        self.options = options or MeterOptions()
        self.model = model
        self.clock = clock
        self._energy = _EnergyCache(energy_every_s, clock, self._counters)

    async def _counters(self) -> tuple[float | None, float | None]:
        imported: float | None = 0.0
        exported: float | None = 0.0
        for channel in self.channels:
            data = await self.http.get_json("/rpc/EM1Data.GetStatus", {"id": channel})
            i, e = number(data, "total_act_energy", required=False), number(data, "total_act_ret_energy",
                                                                             required=False)
            imported = None if i is None or imported is None else imported + i
            exported = None if e is None or exported is None else exported + e
        return imported, exported

    async def read(self) -> MeterSample:
        """One sample: each channel is a phase."""
        phases: list[PhaseSample] = []
        freq: float | None = None
        for channel in self.channels:
            phase, channel_freq = decode_em1(await self.http.get_json("/rpc/EM1.GetStatus", {"id": channel}))
            phases.append(phase)
            freq = freq or channel_freq
        taken_at = self.clock()
        await self._energy.refresh_if_due()
        return self.options.sample(phases, taken_at, None, freq, *self._energy.values)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._energy.aclose()
        await self.http.aclose()
