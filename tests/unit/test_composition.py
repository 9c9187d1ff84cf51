"""The composition root builds each client once per process, even under racing threads."""

from __future__ import annotations

import threading
import time

from agenthub.composition import component


def test_a_component_is_built_once_when_threads_race_for_it() -> None:
    built: list[int] = []

    @component
    def pool() -> object:
        built.append(1)
        time.sleep(0.05)  # a slow build: the other threads arrive meanwhile
        return object()

    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(pool())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(built) == 1
    assert len({id(r) for r in results}) == 1
    assert pool.built


def test_cache_clear_forgets_the_built_value() -> None:
    @component
    def counter() -> object:
        return object()

    first = counter()
    counter.cache_clear()

    assert not counter.built
    assert counter() is not first
