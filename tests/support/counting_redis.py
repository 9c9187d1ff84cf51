"""A real redis-py client that counts network round trips (each command or pipeline execute)."""

from __future__ import annotations

from typing import Any

import redis as redis_lib


class CountingRedis(redis_lib.Redis):  # type: ignore[type-arg]
    round_trips = 0

    def execute_command(self, *args: Any, **options: Any) -> Any:
        type(self).round_trips += 1
        return super().execute_command(*args, **options)

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Any:
        pipe = super().pipeline(transaction=transaction, shard_hint=shard_hint)
        original = pipe.execute

        def counted(*args: Any, **kwargs: Any) -> Any:
            type(self).round_trips += 1
            return original(*args, **kwargs)

        pipe.execute = counted  # type: ignore[method-assign]
        return pipe
