"""A Lambda container's start, without Python's cyclic garbage collector getting in the way.

A cold start allocates on the order of a million objects that live as long as the container:
modules, classes, functions, pydantic schemas. While they pile up, the collector keeps walking
them (for the chat function's imports: ~300 collections, two of them full, finding almost
nothing to free), and it does so again on the first request, which imports the tenant's
provider SDK. Measured here (bench/cold_start.py's child, median of 5): the chat handler's
import 1.81 s -> 1.51 s for an offline tenant, and the first request of an OpenAI-compatible
tenant 1.23 s -> 0.97 s.

So an entry point imports with the collector paused (`collector_paused`) and serves its first
call the same way (`first_call_with_collector_paused`). After each, `gc.freeze()` moves every
object there is to the permanent generation, which later collections skip (every warm turn
gains too), and the collector runs again. Cyclic garbage made until then is kept for good: about
1,600 objects for the chat function, a few hundred kB.

Standard library only: an entry point imports this before everything else.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def collector_paused() -> Iterator[None]:
    """No collection inside; what exists at the end is frozen (never collected again)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def first_call_with_collector_paused(function: Callable[P, R]) -> Callable[P, R]:
    """`function`, whose first call (only the first, even among concurrent ones) runs inside
    `collector_paused()`."""
    pending = [True]
    lock = threading.Lock()

    @functools.wraps(function)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        with lock:
            first, pending[0] = pending[0], False
        if not first:
            return function(*args, **kwargs)
        with collector_paused():
            return function(*args, **kwargs)

    return call
