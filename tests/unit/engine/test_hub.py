"""The publish/subscribe hub: subscribers are woken by what arrives, a slow one loses its oldest items, and
closing the topic ends every subscription."""

from __future__ import annotations

import asyncio

import pytest

from smartsofar.engine.hub import Topic, TopicClosedError


async def test_a_waiting_subscriber_is_woken_by_the_item_itself() -> None:
    topic: Topic[int] = Topic()
    with topic.subscribe() as subscription:
        waiting = asyncio.create_task(subscription.get())
        await asyncio.sleep(0)
        assert not waiting.done()
        topic.publish(7)
        assert await asyncio.wait_for(waiting, 1.0) == 7


async def test_one_signal_follows_several_topics() -> None:
    numbers: Topic[int] = Topic()
    words: Topic[str] = Topic()
    arrived = asyncio.Event()
    with numbers.subscribe(arrived) as n, words.subscribe(arrived) as w:
        words.publish("on")
        assert arrived.is_set()
        arrived.clear()
        numbers.publish(1)
        assert arrived.is_set() and n.get_nowait() == 1 and w.get_nowait() == "on"
        assert n.get_nowait() is None


def test_a_slow_subscriber_loses_its_oldest_items_and_the_publisher_never_waits() -> None:
    topic: Topic[int] = Topic(maxsize=3)
    with topic.subscribe() as subscription:
        for i in range(10):
            topic.publish(i)
        assert [subscription.get_nowait() for _ in range(3)] == [7, 8, 9]
        assert subscription.dropped == 7 and topic.latest == 9


async def test_closing_ends_waiting_and_later_subscribers_after_what_was_queued() -> None:
    topic: Topic[int] = Topic()
    with topic.subscribe() as subscription:
        topic.publish(1)
        assert await anext(aiter(subscription)) == 1
        blocked = asyncio.create_task(subscription.get())
        await asyncio.sleep(0)
        topic.close()
        with pytest.raises(TopicClosedError):
            await asyncio.wait_for(blocked, 1.0)
    with topic.subscribe() as late:
        assert late.closed and [item async for item in late] == []
    assert topic.subscriber_count == 0


def test_the_backlog_and_what_a_slow_subscriber_lost_are_visible() -> None:
    topic: Topic[int] = Topic(maxsize=3)
    with topic.subscribe() as slow, topic.subscribe() as quick:
        for item in range(5):
            topic.publish(item)
            assert quick.get_nowait() == item
        assert (topic.backlog(), topic.dropped()) == (3, 2)  # the slow one holds 2, 3, 4; it lost 0 and 1
        assert slow.get_nowait() == 2
