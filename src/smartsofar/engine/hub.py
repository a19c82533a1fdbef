"""Publish/subscribe between the engine and its adapters (web, MQTT, history).

The engine publishes and never waits: each subscriber has a bounded queue, and a subscriber that falls
behind loses its oldest items (it can always read ``Topic.latest``), so a slow web client or a stalled MQTT
broker can never hold up the control loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Subscription(Generic[T]):
    """One subscriber's queue."""

    def __init__(self, maxsize: int) -> None:
        self._queue: asyncio.Queue[T] = asyncio.Queue(maxsize)
        self.dropped = 0

    def put(self, item: T) -> None:
        """Add an item, dropping the oldest when full."""
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(item)

    async def get(self) -> T:
        """The next item (waits)."""
        return await self._queue.get()

    def get_nowait(self) -> T | None:
        """The next item, or None if there is none."""
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def __aiter__(self) -> AsyncIterator[T]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[T]:
        while True:
            yield await self._queue.get()


class Topic(Generic[T]):
    """A stream of items of one kind, with the latest one kept."""

    def __init__(self, maxsize: int = 100) -> None:
        self.maxsize = maxsize
        self.latest: T | None = None
        self._subscribers: list[Subscription[T]] = []

    def publish(self, item: T) -> None:
        """Hand ``item`` to every subscriber, without waiting."""
        self.latest = item
        for subscription in self._subscribers:
            subscription.put(item)

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[Subscription[T]]:
        """A subscription for the duration of a ``with`` block."""
        subscription: Subscription[T] = Subscription(self.maxsize)
        self._subscribers.append(subscription)
        try:
            yield subscription
        finally:
            self._subscribers.remove(subscription)

    @property
    def subscriber_count(self) -> int:
        """How many are listening."""
        return len(self._subscribers)
