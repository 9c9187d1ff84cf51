"""Counting a psycopg connection's exchanges with PostgreSQL (round trips), for tests."""

from __future__ import annotations

from typing import Any

import psycopg


class TracedConnection(psycopg.Connection[Any]):
    """A connection that counts its exchanges with the server: every query, BEGIN or COMMIT
    goes through `wait(generator)`, and one that talks to the server waits on its socket at
    least once (a generator with nothing to send or read, such as setting autocommit, does not
    wait, and does not count)."""

    exchanges = 0

    def wait(self, gen: Any, *args: Any, **kwargs: Any) -> Any:
        return super().wait(self._counted(gen), *args, **kwargs)

    def _counted(self, gen: Any) -> Any:
        try:
            waiting_for = gen.send(None)
        except StopIteration as done:
            return done.value
        self.exchanges += 1
        while True:
            ready = yield waiting_for
            try:
                waiting_for = gen.send(ready)
            except StopIteration as done:
                return done.value
