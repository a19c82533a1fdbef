"""Publish/subscribe between the engine and its adapters (web, MQTT, history).

The engine publishes and never waits: each subscriber has a bounded queue, and a subscriber that falls
behind loses its oldest items (it can always read ``Topic.latest``), so a slow web client or a stalled MQTT
broker can never hold up the control loop. A subscriber is woken by the item itself, never by polling: it
awaits ``get()``, or, to follow several topics at once, passes one ``asyncio.Event`` to each ``subscribe``
and waits on that. ``Topic.close`` (at shutdown) ends every subscription: ``get()`` raises
``TopicClosedError`` and iteration stops.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class TopicClosedError(Exception):
    """The topic was closed: nothing more will come."""


class Subscription(Generic[T]):
    """One subscriber's queue."""

    def __init__(self, maxsize: int, signal: asyncio.Event | None = None) -> None:
        self._items: deque[T] = deque()
        self._maxsize = maxsize
        self._ready = asyncio.Event()
        self._signal = signal
        self.closed = False
        self.dropped = 0

    def put(self, item: T) -> None:
        """Add an item, dropping the oldest when full, and wake the subscriber."""
        if self.closed:
            return
        if len(self._items) >= self._maxsize:
            self._items.popleft()
            self.dropped += 1
        self._items.append(item)
        self._wake()

    def close(self) -> None:
        """No more items: what is queued can still be taken, then ``get`` raises ``TopicClosedError``."""
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        self._ready.set()
        if self._signal is not None:
            self._signal.set()

    async def get(self) -> T:
        """The next item (waits); ``TopicClosedError`` once the topic is closed and the queue is empty."""
        while not self._items:
            if self.closed:
                raise TopicClosedError
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()

    def get_nowait(self) -> T | None:
        """The next item, or None if there is none."""
        return self._items.popleft() if self._items else None

    def __aiter__(self) -> AsyncIterator[T]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[T]:
        while True:
            try:
                yield await self.get()
            except TopicClosedError:
                return


class Topic(Generic[T]):
    """A stream of items of one kind, with the latest one kept."""

    def __init__(self, maxsize: int = 100) -> None:
        self.maxsize = maxsize
        self.latest: T | None = None
        self.closed = False
        self._subscribers: list[Subscription[T]] = []

    def publish(self, item: T) -> None:
        """Hand ``item`` to every subscriber, without waiting."""
        self.latest = item
        for subscription in self._subscribers:
            subscription.put(item)

    @contextlib.contextmanager
    def subscribe(self, signal: asyncio.Event | None = None) -> Iterator[Subscription[T]]:
        """A subscription for the duration of a ``with`` block; ``signal`` is also set on each item."""
        subscription: Subscription[T] = Subscription(self.maxsize, signal)
        if self.closed:
            subscription.close()
        self._subscribers.append(subscription)
        try:
            yield subscription
        finally:
            self._subscribers.remove(subscription)

    def close(self) -> None:
        """End every subscription, now and later (at shutdown)."""
        self.closed = True
        for subscription in self._subscribers:
            subscription.close()

    @property
    def subscriber_count(self) -> int:
        """How many are listening."""
        return len(self._subscribers)

    def backlog(self) -> int:
        """The most items any subscriber has not taken yet."""
        return max((len(s._items) for s in self._subscribers), default=0)

    def dropped(self) -> int:
        """Items dropped so far, over the current subscribers, because one fell behind by ``maxsize``."""
        return sum(s.dropped for s in self._subscribers)
