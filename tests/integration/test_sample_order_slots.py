"""The count of each key's voice samples in flight in a real Redis, shared by every API process:
at most the limit per key, even when many take at once; given back or expired, a place is free
again; another key, or another queue's stack on the same Redis, counts on its own."""

import threading
import time
import uuid

from api.sample_slots import RedisSampleSlots

LIMIT = 3


def test_a_key_holds_at_most_its_limit_even_when_many_take_at_once(redis_url):
    queue = f"slots-{uuid.uuid4().hex[:8]}"
    processes = [RedisSampleSlots(redis_url, queue) for _ in range(4)]  # as four API processes
    taken: list[str] = []
    start = threading.Barrier(20)

    def take(number: int) -> None:
        order = f"order-{number}"
        start.wait()
        if processes[number % 4].take("alice", order, LIMIT, 60):
            taken.append(order)

    threads = [threading.Thread(target=take, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == LIMIT
    slots = processes[0]
    assert slots.take("bob", "bob-1", LIMIT, 60)  # another key counts on its own
    assert RedisSampleSlots(redis_url, queue + "-other").take("alice", "x", LIMIT, 60)
    assert not slots.take("alice", "one-more", LIMIT, 60)
    slots.give_back("alice", taken[0])
    assert slots.take("alice", "one-more", LIMIT, 60)


def test_an_order_left_behind_stops_counting_when_its_time_is_up(redis_url):
    slots = RedisSampleSlots(redis_url, f"slots-{uuid.uuid4().hex[:8]}")
    assert slots.take("alice", "left-behind", 1, 0.3)  # its API process died mid-wait
    assert not slots.take("alice", "next", 1, 60)
    time.sleep(0.5)
    assert slots.take("alice", "next", 1, 60)
