"""A Lambda container starts with the garbage collector paused: its imports and its first call
run without collections, what they made is frozen, and the collector runs again afterwards."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from agenthub.startup import collector_paused, first_call_with_collector_paused


@pytest.fixture(autouse=True)
def _collector_as_it_was() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    gc.unfreeze()  # the test process's objects go back to being collected
    if enabled:
        gc.enable()
    else:
        gc.disable()


def test_nothing_is_collected_inside_and_what_was_made_is_frozen_after() -> None:
    gc.enable()
    gc.unfreeze()

    with collector_paused():
        assert not gc.isenabled()
        made = [[] for _ in range(100)]

    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(made)


def test_a_collector_someone_disabled_stays_disabled() -> None:
    gc.disable()

    with collector_paused():
        pass

    assert not gc.isenabled()


def test_the_collector_runs_again_when_the_block_fails() -> None:
    gc.enable()

    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("import failed")

    assert gc.isenabled()


def test_only_the_first_call_runs_with_the_collector_paused() -> None:
    gc.enable()
    seen: list[bool] = []
    handler = first_call_with_collector_paused(lambda event: seen.append(gc.isenabled()))

    handler("first")
    handler("second")

    assert seen == [False, True]
    assert gc.isenabled()


def test_a_failing_first_call_leaves_the_collector_running() -> None:
    gc.enable()

    def fail(event: str) -> None:
        raise ValueError(event)

    handler = first_call_with_collector_paused(fail)

    with pytest.raises(ValueError):
        handler("first")
    assert gc.isenabled()


def test_concurrent_first_calls_pause_for_one_of_them_only() -> None:
    gc.enable()
    first_running, release_first = threading.Event(), threading.Event()
    paused: list[bool] = []

    def serve(event: str) -> None:
        paused.append(not gc.isenabled())
        if event == "first":
            first_running.set()
            release_first.wait(timeout=5)

    handler = first_call_with_collector_paused(serve)
    first = threading.Thread(target=handler, args=("first",))
    first.start()
    assert first_running.wait(timeout=5)

    handler("second")  # while the first call runs
    assert not gc.isenabled()
    release_first.set()
    first.join(timeout=5)

    # the second call ran inside the first one's pause, and did not end it: only the first call
    # owns the pause, and the collector runs again once it is done
    assert paused == [True, True]
    assert gc.isenabled()
